"""HTTP transport of the Valet client: one keystoneauth session, bounded
retries with back-off, one time budget per call.

A call gets ``timeout`` seconds in total, retries and back-off included,
so a Valet outage costs a caller at most that long. Only failures that say
Valet did not act are retried: a connection that could not be made, and
the gateway/unavailable answers 502, 503 and 504. A request that timed out
after it was sent is retried only when repeating it is harmless (GET,
HEAD, PUT, DELETE).

The session also talks to Keystone on its own (version discovery, a token,
the catalog) before it can send a call; those requests set no timeout of
their own. A session made over a ``DeadlineTransport`` (``session()``)
bounds them by what is left of the call's budget too, so a Keystone that
hangs costs no more than Valet hanging would.
"""

import contextlib
import logging
import threading
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
import requests

from valet.client import exceptions as exc

LOG = logging.getLogger(__name__)

SERVICE_TYPE = 'workload-placement'
API_VERSION_HEADER = 'OpenStack-API-Version'
REQUEST_ID_HEADER = 'x-openstack-request-id'
DEFAULT_MICROVERSION = '1.0'
RETRY_STATUSES = frozenset((502, 503, 504))
IDEMPOTENT = frozenset(('GET', 'HEAD', 'PUT', 'DELETE'))


_CALL = threading.local()


@contextlib.contextmanager
def deadline(at, clock=time.monotonic):
    """Bound every request a ``DeadlineTransport`` sends in this thread
    (or green thread) by the monotonic time ``at``; an outer, earlier
    deadline stays in force."""
    outer = getattr(_CALL, 'deadline', None)
    _CALL.deadline = (min(at, outer[0]) if outer else at, clock)
    try:
        yield
    finally:
        _CALL.deadline = outer


class DeadlineTransport(requests.Session):
    """requests' session whose every request ends by the deadline of the
    call in progress (``deadline``): its timeout is cut to what is left,
    and a request after the deadline fails at once, unsent."""

    def request(self, method, url, **kwargs):
        bound = getattr(_CALL, 'deadline', None)
        if bound is not None:
            at, clock = bound
            left = at - clock()
            if left <= 0:
                raise requests.exceptions.ConnectTimeout(
                    'the time budget of the Valet call is spent; %s %s not '
                    'sent' % (method, url))
            kwargs['timeout'] = _cut(kwargs.get('timeout'), left)
        return super().request(method, url, **kwargs)


def _cut(timeout, left):
    if timeout is None:
        return left
    if isinstance(timeout, (tuple, list)):
        return tuple(left if t is None else min(float(t), left)
                     for t in timeout)
    return min(float(timeout), left)


def session(auth=None, **kwargs):
    """A keystoneauth session over a ``DeadlineTransport``: its requests
    to Keystone are bounded by the budget of the Valet call needing them.
    ``kwargs`` are keystoneauth ``Session``'s."""
    return ks_session.Session(auth=auth, session=DeadlineTransport(),
                              **kwargs)


class HTTPClient:
    """Sends requests to one Valet endpoint through a keystoneauth session.

    The endpoint is ``endpoint_override`` when given, else the catalog's
    ``workload-placement`` endpoint (``interface``, ``region_name``); a
    catalog URL that already ends in ``/v1`` is accepted too.
    """

    def __init__(self, session, endpoint_override=None,
                 service_type=SERVICE_TYPE, interface=None, region_name=None,
                 timeout=10.0, retries=2, retry_delay=0.5,
                 microversion=DEFAULT_MICROVERSION, clock=time.monotonic,
                 sleep=time.sleep):
        self.session = session
        self.endpoint_override = endpoint_override
        self.service_type = service_type
        self.interface = interface
        self.region_name = region_name
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.retry_delay = max(0.0, float(retry_delay))
        self.microversion = microversion
        self.clock = clock
        self.sleep = sleep
        self._endpoint = None

    # ---------------------------------------------------------- endpoint
    def endpoint(self):
        if self._endpoint is None:
            url = self.endpoint_override
            if not url:
                try:
                    url = self.session.get_endpoint(
                        service_type=self.service_type,
                        interface=self.interface,
                        region_name=self.region_name)
                except ks_exc.ClientException as e:
                    raise _wrapped(e)
                if not url:
                    raise exc.EndpointNotFound(
                        'No %s endpoint in the service catalog; set the '
                        'endpoint explicitly' % self.service_type)
            url = url.rstrip('/')
            if url.endswith('/v1'):
                url = url[:-len('/v1')]
            self._endpoint = url
        return self._endpoint

    # ----------------------------------------------------------- request
    def request(self, method, path, body=None, query=None, timeout=None,
                microversion=None):
        """``(status, decoded JSON or None)`` of a 2xx answer; raises a
        ``ValetClientError`` for everything else. ``microversion``
        overrides the client's for this request."""
        method = method.upper()
        budget = self.timeout if timeout is None else float(timeout)
        deadline_at = self.clock() + budget
        delay = self.retry_delay
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline_at - self.clock()
            if remaining <= 0:
                raise exc.Timeout('No answer from Valet within %.1f s (%s %s)'
                                  % (budget, method, path))
            try:
                with deadline(deadline_at, self.clock):
                    return self._send(method, path, body, query, remaining,
                                      microversion or self.microversion)
            except exc.ValetClientError as error:
                if not self._retryable(method, error) or \
                        attempt > self.retries:
                    raise
                wait = min(delay, deadline_at - self.clock())
                if wait < 0 or deadline_at - self.clock() - wait <= 0:
                    raise
                LOG.warning('Valet %s %s failed (%s); retrying in %.2f s',
                            method, path, error.code, wait)
                self.sleep(wait)
                delay *= 2

    @staticmethod
    def _retryable(method, error):
        if isinstance(error, exc.Timeout):
            return method in IDEMPOTENT
        if isinstance(error, exc.ConnectionFailure):
            return True
        return error.status in RETRY_STATUSES

    def _send(self, method, path, body, query, timeout, microversion):
        headers = {'Accept': 'application/json',
                   API_VERSION_HEADER: '%s %s' % (SERVICE_TYPE,
                                                  microversion)}
        kwargs = {}
        if body is not None:
            kwargs['json'] = body
        if query:
            kwargs['params'] = query
        try:
            url = self.endpoint() + path
            resp = self.session.request(
                url, method, headers=headers, raise_exc=False,
                connect_retries=0, timeout=timeout, **kwargs)
        except ks_exc.ClientException as e:
            raise _wrapped(e)
        data = None
        if resp.content:
            try:
                data = resp.json()
            except ValueError:
                data = None
        if resp.status_code >= 400:
            raise exc.from_response(resp.status_code, data,
                                    resp.headers.get(REQUEST_ID_HEADER))
        return resp.status_code, data


def _wrapped(error):
    """A client exception for a keystoneauth failure (not an answer)."""
    if isinstance(error, ks_exc.ConnectTimeout):
        return exc.Timeout(str(error))
    if isinstance(error, (ks_exc.ConnectionError,
                          ks_exc.DiscoveryFailure)):
        return exc.ConnectionFailure(str(error))
    if isinstance(error, ks_exc.EndpointNotFound):
        return exc.EndpointNotFound(str(error))
    if isinstance(error, ks_exc.HttpError):
        # Keystone itself refused the service credentials.
        return exc.from_response(error.http_status or 500, None)
    return exc.ValetClientError(str(error) or type(error).__name__)
