"""Exceptions that cross process boundaries (API <-> engine over RPC).

oslo.messaging re-raises these on the caller's side when this module is in
``allowed_remote_exmods``, so each carries what the API needs to build an
API-SIG error: an HTTP status, a stable code and a message. ``details`` is
JSON-serialisable (for example an engine explanation).
"""


class ValetException(Exception):
    status = 500
    code = 'valet.error'
    message = 'An unexpected error occurred.'

    def __init__(self, message=None, code=None, details=None, **kwargs):
        self.message = message or self.message
        if code:
            self.code = code
        self.details = details or {}
        # oslo.messaging rebuilds a remote exception from args and kwargs:
        # keep code and details there so they survive the trip.
        self.kwargs = {'code': self.code, 'details': self.details}
        super().__init__(self.message)

    def to_dict(self):
        return {'status': self.status, 'code': self.code,
                'message': self.message, 'details': self.details}


class BadRequest(ValetException):
    status = 400
    code = 'valet.request.invalid'


class NotFound(ValetException):
    status = 404
    code = 'valet.not_found'


class Conflict(ValetException):
    status = 409
    code = 'valet.conflict'


class NoPlacement(ValetException):
    """The engine found no placement; ``details`` holds its explanation."""

    status = 409
    code = 'valet.placement.none'


class EngineUnavailable(ValetException):
    status = 503
    code = 'valet.engine.unavailable'
    message = 'The placement engine did not answer in time.'


class StorageUnavailable(ValetException):
    status = 503
    code = 'valet.storage.unavailable'


class EngineNotLeader(EngineUnavailable):
    """A standby engine, or a leader whose lease ran out, must not decide."""

    code = 'valet.engine.not_leader'
    message = ('This placement engine is not the leader (another engine '
               'leads, or an election is in progress); retry shortly.')
