"""Paste filter factories of the /v1 pipeline.

Each wraps its oslo.middleware or keystonemiddleware class around the
configuration ``valet.api.app.load_app`` parsed, so every filter reads
valet.conf (not a second copy found by ``oslo_config_project``).
"""

import re

from keystonemiddleware import auth_token
from oslo_middleware import cors
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id
from oslo_middleware import sizelimit

from oslo_context import context as oslo_context
from oslo_log import log as logging

from valet.api import app as api_app
from valet.api import context
from valet.api import errors
from valet.api import router

LOG = logging.getLogger(__name__)


def _filter(build):
    def factory(global_conf, **local_conf):
        conf = api_app.loading_conf()

        def wrap(app):
            return build(app, conf, local_conf)
        return wrap
    return factory


class FaultFilter:
    """The outermost filter: whatever escapes is an API-SIG JSON error.

    Errors inside other filters (keystonemiddleware failing to reach
    Keystone, say) would otherwise end the connection with no answer.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        except Exception as exc:  # anything: the client gets JSON
            LOG.exception('Unhandled error serving %s %s',
                          environ.get('REQUEST_METHOD'),
                          environ.get('PATH_INFO'))
            status = 503 if _is_unavailable(exc) else 500
            environ.setdefault('REQUEST_METHOD', 'GET')
            resp = errors.error_response(
                context.request_id(environ), status,
                errors.SERVICE_UNAVAILABLE if status == 503 else
                errors.INTERNAL,
                'A service Valet depends on is unavailable; try again '
                'later.' if status == 503 else
                'An unexpected error occurred; the operator can find it in '
                'the logs by its request id.')
            return resp(environ, start_response)


def _is_unavailable(exc):
    # keystoneauth failures (catalog, connection) mean Keystone is not
    # usable from here: a 503 tells clients to retry.
    return type(exc).__module__.startswith('keystoneauth1')


def fault_factory(global_conf, **local_conf):
    return FaultFilter


_PROTOCOL = re.compile(r'^HTTP/[0-9](\.[0-9])?\Z')
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
# RFC 9112 absolute-form ("GET http://host/v1 HTTP/1.1"), which servers
# must accept; the path part is what is asked for.
_ABSOLUTE = re.compile(r'^https?://[^/]*(/.*)?\Z', re.IGNORECASE | re.DOTALL)


class RequestTargetFilter:
    """Refuse request targets that are not a path, before the urlmap.

    ``OPTIONS *`` or ``GET v1/groups`` reach the WSGI app with a
    ``PATH_INFO`` that does not start with ``/``; paste's urlmap would
    fail on them outside every other filter. They get a JSON 400. A target
    in absolute form (``http://host/v1/groups``) is served by its path.

    Paths with an empty segment get a JSON 404 here too, because the
    urlmap collapses ``//`` before the API's router could see it (see
    ``valet.api.router``): ``/v1//groups/g/members`` must not become
    ``/v1/groups/g/members``.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if not environ.get('REQUEST_METHOD') or 'PATH_INFO' not in environ:
            # A request line the server could not parse (uwsgi passes
            # "GARBAGE" on without a method or a path).
            environ['REQUEST_METHOD'] = environ.get('REQUEST_METHOD') or 'GET'
            return _refuse(environ, start_response, 400, errors.MALFORMED,
                           'The HTTP request line could not be parsed; '
                           'send "METHOD /path HTTP/1.1".')
        path = environ['PATH_INFO']
        protocol = environ.get('SERVER_PROTOCOL')
        if ((protocol is not None and not _PROTOCOL.match(protocol))
                or _CONTROL.search(path)):
            # A request line without a version, which a lenient server
            # read past the end of the line into the headers.
            return _refuse(environ, start_response, 400, errors.MALFORMED,
                           'The HTTP request line could not be parsed; '
                           'send "METHOD /path HTTP/1.1" (a path without '
                           'control characters).')
        absolute = _ABSOLUTE.match(path)
        if absolute:
            path = environ['PATH_INFO'] = absolute.group(1) or '/'
        if path and not path.startswith('/'):
            return _refuse(environ, start_response, 400, errors.BAD_TARGET,
                           'The request target %r is not a path: send a '
                           'target that starts with "/", such as '
                           '"/v1/groups".' % path[:80])
        if router.has_empty_segment(path, environ.get('REQUEST_METHOD')):
            return _refuse(environ, start_response, 404, errors.NOT_FOUND,
                           'There is no resource at %s: the path has an '
                           'empty segment; remove the extra or trailing '
                           'slash.' % path[:200])
        return self.app(environ, start_response)


def _refuse(environ, start_response, status, code, detail):
    rid = context.request_id(environ)
    resp = errors.error_response(rid, status, code, detail,
                                 headers={'x-openstack-request-id': rid})
    return resp(environ, start_response)


def outermost(app):
    """What wraps the whole paste application (the urlmap included)."""
    return FaultFilter(RequestTargetFilter(app))


class SizeLimitFilter:
    """Refuse bodies over [api] max_request_body_size with a JSON 413.

    oslo.middleware's limiter answers in HTML; this one answers like every
    other Valet error. Bodies without a length are read through oslo's
    limiting reader, whose error the app turns into the same 413.
    """

    def __init__(self, app, limit):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        length = environ.get('CONTENT_LENGTH') or ''
        if length.isdigit() and int(length) > self.limit:
            resp = errors.error_response(
                context.request_id(environ), 413, errors.TOO_LARGE,
                'The request body is %s bytes; at most %d are accepted.'
                % (length, self.limit))
            return resp(environ, start_response)
        if not length and 'wsgi.input' in environ:
            environ['wsgi.input'] = sizelimit.LimitingReader(
                environ['wsgi.input'], self.limit)
        return self.app(environ, start_response)


def _sizelimit(app, conf, local_conf):
    return SizeLimitFilter(app, conf.api.max_request_body_size)


class HealthcheckFilter:
    """Answer ``<mount>/healthcheck`` before authentication.

    oslo.middleware's Healthcheck is an app only; this puts it in the
    pipeline at the place the design names.
    """

    PATH = '/healthcheck'

    def __init__(self, app, conf):
        self.app = app
        self.check = healthcheck.Healthcheck(None, conf)

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '').rstrip('/') == self.PATH:
            return self.check(environ, start_response)
        return self.app(environ, start_response)


def _authtoken(app, conf, local_conf):
    options = dict(local_conf, oslo_config_config=conf)
    return auth_token.AuthProtocol(app, options)


# oslo.middleware's filters each make a webob request and response of
# every request (about 35 us apiece). Where one cannot change a request,
# it is stepped over; the request id is set without them.


class OriginOnly:
    """oslo.middleware's CORS filter, for requests with an ``Origin``.

    CORS answers and decorates only requests that carry one (a preflight
    without one is left to the app, as is every other request).
    """

    def __init__(self, app, conf):
        self.app = app
        self.cors = cors.CORS(app, conf)

    def __call__(self, environ, start_response):
        if 'HTTP_ORIGIN' in environ:
            return self.cors(environ, start_response)
        return self.app(environ, start_response)


class ProxyHeadersWhenEnabled:
    """oslo.middleware's HTTPProxyToWSGI, asked only while
    ``[oslo_middleware] enable_proxy_headers_parsing`` is on (it changes
    nothing otherwise)."""

    def __init__(self, app, conf):
        self.app = app
        self.proxy = http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf)

    def __call__(self, environ, start_response):
        if self.proxy._conf_get('enable_proxy_headers_parsing'):
            return self.proxy(environ, start_response)
        return self.app(environ, start_response)


class RequestIdFilter(request_id.RequestId):
    """oslo.middleware's RequestId as a plain WSGI filter: the same
    request id in the environ (and a valid inbound global one), the same
    response headers, without webob's objects."""

    _INBOUND = 'HTTP_' + request_id.INBOUND_HEADER.upper().replace('-', '_')

    def __call__(self, environ, start_response):
        inbound = environ.get(self._INBOUND, '')
        if re.match(request_id.ID_FORMAT, inbound):
            environ[request_id.GLOBAL_REQ_ID] = inbound
        rid = oslo_context.generate_request_id()
        environ[request_id.ENV_REQUEST_ID] = rid
        names = [request_id.HTTP_RESP_HEADER_REQUEST_ID]
        names.extend(self.compat_headers)

        def starting(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers = list(headers) + [(name, rid) for name in names
                                       if name.lower() not in present]
            return start_response(status, headers, exc_info)
        return self.application(environ, starting)


cors_factory = _filter(lambda app, conf, lc: OriginOnly(app, conf))
http_proxy_to_wsgi_factory = _filter(
    lambda app, conf, lc: ProxyHeadersWhenEnabled(app, conf))
request_id_factory = _filter(
    lambda app, conf, lc: RequestIdFilter(app, conf))
sizelimit_factory = _filter(_sizelimit)
healthcheck_factory = _filter(
    lambda app, conf, lc: HealthcheckFilter(app, conf))
authtoken_factory = _filter(_authtoken)
context_factory = _filter(
    lambda app, conf, lc: context.ContextMiddleware(
        app, conf.api.auth_strategy))


def healthcheck_app_factory(global_conf, **local_conf):
    """``/healthcheck`` at the root of the urlmap."""
    return healthcheck.Healthcheck(None, api_app.loading_conf())
