"""The request context: who is calling, for which project, with what roles.

With ``[api] auth_strategy = keystone`` the identity comes from the headers
keystonemiddleware's auth_token sets after validating the token (it strips
any the client sent). With ``noauth`` the client's own ``X-Project-Id``,
``X-User-Id`` and ``X-Roles`` headers are trusted: for tests and the
all-in-one developer mode only. A noauth caller who sends no roles is a
member (not an administrator) of project ``noauth-project``; send
``X-Roles: admin`` to act as one.
"""

import uuid

from oslo_context import context as oslo_context

from valet.api import errors

ENVIRON_KEY = 'valet.context'
REQUEST_ID_KEY = 'openstack.request_id'

NOAUTH_PROJECT = 'noauth-project'
NOAUTH_USER = 'noauth-user'
# Keystone's default role implications; tokens carry the implied roles,
# and noauth callers get the same so one policy file serves both.
_IMPLIED = {'admin': ('member', 'reader'), 'member': ('reader',)}


class RequestContext(oslo_context.RequestContext):
    """oslo.context's context; Valet adds nothing yet."""


def request_id(environ):
    """The request id (set by oslo.middleware's request_id filter, or here
    when the app runs without it)."""
    rid = environ.get(REQUEST_ID_KEY)
    if not rid:
        rid = 'req-%s' % uuid.uuid4()
        environ[REQUEST_ID_KEY] = rid
    return rid


def _with_implied(roles):
    out = []
    for role in roles:
        for name in (role,) + _IMPLIED.get(role.lower(), ()):
            if name not in out:
                out.append(name)
    return out


def from_environ(environ, auth_strategy):
    """A RequestContext, or None when the caller is not authenticated."""
    request_id(environ)
    if auth_strategy == 'keystone':
        if environ.get('HTTP_X_IDENTITY_STATUS') != 'Confirmed':
            return None
        return RequestContext.from_environ(environ)
    ctx = RequestContext.from_environ(environ)
    ctx.roles = _with_implied(ctx.roles or ['member'])
    ctx.project_id = ctx.project_id or NOAUTH_PROJECT
    ctx.user_id = ctx.user_id or NOAUTH_USER
    return ctx


def get(environ, auth_strategy):
    """The request's context, built once; APIError 401 when anonymous."""
    if ENVIRON_KEY not in environ:
        environ[ENVIRON_KEY] = from_environ(environ, auth_strategy)
    ctx = environ[ENVIRON_KEY]
    if ctx is None:
        raise errors.APIError(
            401, errors.AUTH_REQUIRED,
            'Authentication required: send a valid Keystone token in '
            'X-Auth-Token.')
    return ctx


class ContextMiddleware:
    """The ``context`` filter of api-paste.ini."""

    def __init__(self, app, auth_strategy):
        self.app = app
        self.auth_strategy = auth_strategy

    def __call__(self, environ, start_response):
        environ[ENVIRON_KEY] = from_environ(environ, self.auth_strategy)
        return self.app(environ, start_response)
