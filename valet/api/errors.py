"""API-SIG errors: ``{"errors": [{status, title, detail, code, request_id}]}``.

Codes are stable strings ``valet.<area>.<condition>`` (documented in
api-ref); once released they never change meaning. Everything that fails
while serving a request ends up here as one JSON error, so a client never
sees an HTML page or a traceback.
"""

import json
import logging
import math

import oslo_messaging as messaging
import webob
from webob import exc as webob_exc

from valet.common import exception
from valet.storage import base as storage_base

LOG = logging.getLogger(__name__)

# Request-level problems.
MALFORMED = 'valet.request.malformed'
INVALID = 'valet.request.invalid'
TOO_LARGE = 'valet.request.too_large'
UNSUPPORTED_MEDIA = 'valet.request.unsupported_media_type'
NOT_ACCEPTABLE = 'valet.request.not_acceptable'
NOT_FOUND = 'valet.request.not_found'
METHOD_NOT_ALLOWED = 'valet.request.method_not_allowed'
BAD_TARGET = 'valet.request.bad_target'
TIMEOUT = 'valet.request.timeout'
MARKER_NOT_FOUND = 'valet.request.marker_not_found'
VERSION_INVALID = 'valet.microversion.invalid'
VERSION_UNSUPPORTED = 'valet.microversion.unsupported'
AUTH_REQUIRED = 'valet.auth.required'
FORBIDDEN = 'valet.policy.forbidden'
INTERNAL = 'valet.internal'
SERVICE_UNAVAILABLE = 'valet.service.unavailable'

# Groups.
GROUP_NOT_FOUND = 'valet.group.not_found'
GROUP_DUPLICATE = 'valet.group.duplicate'
GROUP_HAS_MEMBERS = 'valet.group.has_members'
GROUP_NOT_MEMBER = 'valet.group.not_member'
GROUP_MEMBER_NOT_FOUND = 'valet.group.member_not_found'
GROUP_MEMBER_IN_USE = 'valet.group.member_in_use'
GROUP_MEMBERS_INVALID = 'valet.group.members_invalid'
GROUP_METADATA_INVALID = 'valet.group.metadata_invalid'

# Plans and placements.
PLAN_NOT_FOUND = 'valet.plan.not_found'
PLAN_EXISTS = 'valet.plan.exists'
PLAN_RESOURCE_UNKNOWN = 'valet.plan.resource_unknown'
PLACEMENT_NOT_FOUND = 'valet.placement.not_found'

# Back ends.
STORAGE_CONFLICT = 'valet.storage.conflict'
STORAGE_UNAVAILABLE = 'valet.storage.unavailable'
ENGINE_UNAVAILABLE = 'valet.engine.unavailable'
ENGINE_ERROR = 'valet.engine.error'

_MAX_DETAIL = 1000


class APIError(Exception):
    """An error answer; raise it anywhere while serving a request.

    ``extra`` adds keys to the error object (for example ``explanation``);
    ``headers`` are set on the response (for example ``Allow``).
    """

    def __init__(self, status, code, detail, extra=None, headers=None):
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(detail)


def title_of(status):
    cls = webob_exc.status_map.get(status)
    return cls.title if cls is not None else 'Error'


def _finite(value):
    """``value`` with every NaN or infinity replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def strict_dumps(body):
    """JSON text of an error body, never with NaN or Infinity (which no
    strict parser reads): such a number in an explanation becomes null."""
    try:
        return json.dumps(body, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(body), allow_nan=False)


def error_response(request_id, status, code, detail, extra=None,
                   headers=None):
    """A webob response carrying one API-SIG error."""
    if len(detail) > _MAX_DETAIL:
        # Details may quote client input; keep answers bounded.
        detail = detail[:_MAX_DETAIL] + '...'
    error = {'status': status, 'title': title_of(status), 'detail': detail,
             'code': code, 'request_id': request_id}
    for key, value in (extra or {}).items():
        error.setdefault(key, value)
    resp = webob.Response(status=status, charset='utf-8',
                          content_type='application/json')
    resp.text = strict_dumps({'errors': [error]})
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def from_exception(exc):
    """Turn any exception raised while serving a request into an APIError."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, exception.ValetException):
        extra = {}
        if isinstance(exc, exception.NoPlacement) and exc.details:
            extra['explanation'] = exc.details
        status = exc.status if 400 <= exc.status < 600 else 500
        return APIError(status, exc.code, exc.message, extra=extra)
    if isinstance(exc, storage_base.Unavailable):
        return APIError(503, STORAGE_UNAVAILABLE,
                        'The Valet database cannot be reached right now; '
                        'retry later.')
    if isinstance(exc, storage_base.Conflict):
        return APIError(409, STORAGE_CONFLICT,
                        'The object changed while this request was being '
                        'served (%s); read it again and retry.' % exc)
    if isinstance(exc, storage_base.MarkerNotFound):
        return APIError(400, MARKER_NOT_FOUND,
                        'The marker %s; use the id of the last object of '
                        'the previous page (the "next" link gives it).'
                        % exc)
    if isinstance(exc, storage_base.NotFound):
        return APIError(404, NOT_FOUND, 'Not found: %s' % exc)
    if isinstance(exc, messaging.RemoteError):
        # The engine raised something it should not have: a server bug.
        LOG.error('Engine error %s: %s', exc.exc_type, exc.value)
        return APIError(500, ENGINE_ERROR,
                        'The placement engine failed (%s); see its log.'
                        % exc.exc_type)
    if isinstance(exc, messaging.MessagingException):
        return APIError(503, ENGINE_UNAVAILABLE,
                        'The placement engine cannot be reached: %s' % exc)
    if isinstance(exc, webob_exc.HTTPException):
        return _from_http(exc)
    if isinstance(exc, UnicodeDecodeError):
        # A path or query string that is not UTF-8 once percent-decoded.
        return APIError(400, MALFORMED,
                        'The request target is not valid UTF-8 once '
                        'percent-decoded.')
    if isinstance(exc, TimeoutError):
        # The client stopped sending its request body.
        return APIError(408, TIMEOUT,
                        'The request was not received in time; send the '
                        'whole request at once.')
    if isinstance(exc, (UnicodeError, RecursionError)):
        return APIError(400, MALFORMED,
                        'The request could not be decoded: URLs, query '
                        'strings and bodies must be UTF-8 and JSON bodies '
                        'nested at most a few levels.')
    LOG.exception('Unexpected error serving a request')
    return APIError(500, INTERNAL, 'An unexpected error occurred; the '
                    'request id in this error locates it in the log.')


def _from_http(exc):
    status = exc.status_int
    headers = {}
    if status == 405 and exc.headers.get('Allow'):
        headers['Allow'] = exc.headers['Allow']
    code = {400: MALFORMED, 404: NOT_FOUND, 405: METHOD_NOT_ALLOWED,
            408: TIMEOUT,
            406: NOT_ACCEPTABLE, 413: TOO_LARGE,
            415: UNSUPPORTED_MEDIA}.get(status, 'valet.http.%d' % status)
    detail = exc.detail or exc.explanation or title_of(status)
    return APIError(status, code, str(detail), headers=headers)
