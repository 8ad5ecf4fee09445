"""Errors of the Valet client.

Every error Valet answers carries its API-SIG body
(``{"errors": [{"status", "title", "detail", "code", "request_id"}]}``);
the client raises the subclass that matches the HTTP status, with the
error's stable ``code`` (``valet.<area>.<condition>``) so callers can act on
the condition rather than on the text.
"""


class ValetClientError(Exception):
    """Any failure to get an answer from Valet, or an error answer.

    ``status`` is the HTTP status (None when no answer came), ``code`` the
    API-SIG code, ``detail`` the human explanation, ``request_id`` Valet's
    request id when it answered.
    """

    status = None
    default_code = 'valet.client.error'

    def __init__(self, detail, status=None, code=None, title=None,
                 request_id=None, errors=None):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        self.code = code or self.default_code
        self.title = title
        self.request_id = request_id
        self.errors = errors or []

    def __str__(self):
        where = ' (HTTP %s)' % self.status if self.status else ''
        return '%s%s: %s' % (self.code, where, self.detail)

    @property
    def is_outage(self):
        """True when Valet could not decide (not a decision it made)."""
        return True


class ConnectionFailure(ValetClientError):
    """Valet could not be reached (refused, DNS, TLS, ...)."""

    default_code = 'valet.client.connection_failed'


class Timeout(ConnectionFailure):
    """No answer within the request's time budget."""

    default_code = 'valet.client.timeout'


class EndpointNotFound(ValetClientError):
    """No Valet endpoint in the service catalog, and none configured."""

    default_code = 'valet.client.no_endpoint'


class HTTPError(ValetClientError):
    """An error answer from Valet."""

    status = 500
    default_code = 'valet.error'

    @property
    def is_outage(self):
        # A 4xx is Valet's answer to what was asked; 401/403 mean the
        # caller's credentials or policy are wrong, which is an outage
        # for the caller, not a decision.
        return self.status >= 500 or self.status in (401, 403)


class BadRequest(HTTPError):
    status = 400
    default_code = 'valet.request.invalid'


class Unauthorized(HTTPError):
    status = 401
    default_code = 'valet.unauthorized'


class Forbidden(HTTPError):
    status = 403
    default_code = 'valet.forbidden'


class NotFound(HTTPError):
    status = 404
    default_code = 'valet.not_found'


class NotAcceptable(HTTPError):
    status = 406
    default_code = 'valet.microversion.unsupported'


class Conflict(HTTPError):
    status = 409
    default_code = 'valet.conflict'


class NoPlacement(Conflict):
    """Valet found no host that honours every rule (code
    ``valet.placement.none``)."""

    default_code = 'valet.placement.none'


class RequestTooLarge(HTTPError):
    status = 413
    default_code = 'valet.request.too_large'


class ServerError(HTTPError):
    status = 500
    default_code = 'valet.error'


class ServiceUnavailable(ServerError):
    """Valet is up but cannot decide now (engine down, starting, ...)."""

    status = 503
    default_code = 'valet.engine.unavailable'


_BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Forbidden,
              404: NotFound, 406: NotAcceptable, 409: Conflict,
              413: RequestTooLarge, 503: ServiceUnavailable}


def from_response(status, body, request_id=None):
    """The exception for an error answer; ``body`` is its decoded JSON
    (or None when it was not JSON)."""
    errors = []
    if isinstance(body, dict) and isinstance(body.get('errors'), list):
        errors = [e for e in body['errors'] if isinstance(e, dict)]
    first = errors[0] if errors else {}
    code = first.get('code')
    detail = first.get('detail') or first.get('title') or (
        'Valet answered HTTP %d' % status)
    if status == 409 and code == NoPlacement.default_code:
        cls = NoPlacement
    elif status in _BY_STATUS:
        cls = _BY_STATUS[status]
    elif status >= 500:
        cls = ServerError
    else:
        cls = HTTPError
    return cls(detail, status=status, code=code, title=first.get('title'),
               request_id=first.get('request_id') or request_id,
               errors=errors)
