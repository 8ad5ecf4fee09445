"""Errors raised by the engine model and solver.

They carry structured details so that the API can turn them into API-SIG
error documents without parsing messages.
"""


class EngineError(Exception):
    """Base class of the engine's errors."""

    code = 'valet.engine.error'

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self):
        return {'code': self.code, 'message': self.message,
                'details': dict(self.details)}


class InvalidRequest(EngineError):
    """A placement request that no search can satisfy by construction."""

    def __init__(self, message, code='valet.request.invalid', **details):
        super().__init__(message, **details)
        self.code = code


class ModelError(EngineError):
    """An inconsistent change to the data-centre model."""

    def __init__(self, message, code='valet.model.invalid', **details):
        super().__init__(message, **details)
        self.code = code
