"""Pecan hooks: body size, request context, microversion, errors,
notifications (``valet.api.notify``).

The context is built from the headers keystonemiddleware sets (or, with
``auth_strategy = noauth``, from the caller's own headers); handlers ask
for it with ``context.get`` so public paths (the version document) work
without one.
"""

import logging

from pecan import hooks

from valet.api import context
from valet.api import errors
from valet.api import microversion
from valet.api import notify
from valet.api import request as api_request

LOG = logging.getLogger(__name__)

REQUEST_ID_HEADER = 'x-openstack-request-id'


class BodySizeHook(hooks.PecanHook):
    """413 before pecan or a handler reads an oversize body; 408 when the
    client stops sending it."""

    priority = 10

    def __init__(self, conf):
        self.conf = conf

    def on_route(self, state):
        api_request.check_size(state.request,
                               self.conf.api.max_request_body_size)
        # Read it before pecan does (form parameters), so a stalled
        # client is a 408 wherever the body would first be read.
        api_request.read_body(state.request)


class JSONOnlyHook(hooks.PecanHook):
    """The API speaks only JSON. Pecan would answer an ``Accept`` without
    JSON with a bare 406 before routing; answer in JSON instead."""

    priority = 5

    def on_route(self, state):
        state.request.environ['HTTP_ACCEPT'] = 'application/json'
        # Chosen here, pecan does not parse the Accept header set above
        # and match it against the route's types on every request.
        state.request.pecan['content_type'] = 'application/json'


class ContextHook(hooks.PecanHook):
    """Attach the request context (or None when anonymous)."""

    priority = 20

    def __init__(self, conf):
        self.conf = conf

    def on_route(self, state):
        environ = state.request.environ
        if environ.get(context.ENVIRON_KEY) is None:
            environ[context.ENVIRON_KEY] = context.from_environ(
                environ, self.conf.api.auth_strategy)


class MicroversionHook(hooks.PecanHook):
    """Parse ``OpenStack-API-Version`` and echo the version served."""

    priority = 30

    def on_route(self, state):
        environ = state.request.environ
        environ.pop(microversion.ENVIRON_KEY, None)
        environ[microversion.ENVIRON_KEY] = microversion.from_headers(
            state.request.headers)

    def after(self, state):
        version = state.request.environ.get(microversion.ENVIRON_KEY)
        if version is not None and state.response is not None:
            state.response.headers.update(
                microversion.response_headers(version))


class ErrorHook(hooks.PecanHook):
    """Every failure becomes one API-SIG error; every answer carries the
    request id."""

    priority = 40

    def on_error(self, state, exc):
        error = errors.from_exception(exc)
        rid = context.request_id(state.request.environ)
        if error.status >= 500:
            LOG.warning('%s %s failed: %s (%s)', state.request.method,
                        state.request.path, error.code, rid)
        return errors.error_response(rid, error.status, error.code,
                                     error.detail, extra=error.extra,
                                     headers=error.headers)

    def after(self, state):
        if state.response is not None:
            rid = context.request_id(state.request.environ)
            state.response.headers.setdefault(REQUEST_ID_HEADER, rid)


def default_hooks(conf):
    return [JSONOnlyHook(),
            BodySizeHook(conf),
            ContextHook(conf),
            MicroversionHook(),
            ErrorHook(),
            notify.NotificationHook(conf)]
