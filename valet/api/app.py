"""Building the valet-api WSGI application.

``setup_app`` makes the pecan app from explicit collaborators (tests,
all-in-one). The paste factories below are what ``etc/valet/api-paste.ini``
names: ``/`` is the version document (no auth) and ``/v1`` a pipeline
chosen by ``[api] auth_strategy``. Configuration is parsed before paste
loads anything (``load_app``); factories read it from there.
"""

import inspect
import os
import threading
import weakref

from oslo_config import cfg
from oslo_log import log as logging
from oslo_middleware import base as middleware_base
from oslo_policy import _checks as policy_checks
from paste import deploy
import pecan
from pecan import core as pecan_core
from pecan import routing as pecan_routing
from pecan import util as pecan_util

from valet.api.controllers import root
from valet.api.controllers import v1
from valet.api import hooks
from valet.api import router
from valet import policy

LOG = logging.getLogger(__name__)

_LOAD = threading.local()


# ------------------------------------------------------------------ pecan
class _Request(pecan.Request):
    """Pecan's request without pecan's own decoding of a JSON body.

    Pecan decodes a JSON body into keyword arguments for the controller;
    the router's ``dispatch`` ignores them and handlers decode the body
    themselves, once, bounded and strictly (``valet.api.request``). Pecan
    is the only reader of ``json``; ``json_body`` is left as WebOb has it.
    """

    # Pecan's request catches a UnicodeDecodeError on every attribute
    # access (over a hundred per request) to answer 400; the error hook
    # answers it the same way (valet.api.errors.from_exception), so the
    # plain attribute access is kept.
    __getattribute__ = object.__getattribute__

    @property
    def json(self):
        return {}


def _per_function(argspec):
    """``argspec`` (a function of a callable) computed once per function.

    Pecan asks for the argspec of the root's ``_route`` and of the
    controller on every request, and each answer builds a new namedtuple
    class (``pecan.compat.getargspec``); oslo.middleware asks for its
    filters' ``process_response`` on every request, oslo.policy for every
    rule's ``__call__`` on every check. Together that was more than a
    tenth of a plan create. A function's signature does not
    change, so the answer is kept per function (a bound method's is its
    function's: both list ``self``).
    """
    cache = weakref.WeakKeyDictionary()

    def cached(method):
        func = getattr(method, '__func__', method)
        try:
            return cache[func]
        except KeyError:
            spec = cache[func] = argspec(method)
            return spec
        except TypeError:       # not weakly referenceable: not cached
            return argspec(method)
    cached.uncached = argspec
    return cached


class _CachedInspect:
    """The ``inspect`` module as oslo.policy's checks see it: the same,
    but ``getfullargspec`` (asked of every rule's ``__call__`` on every
    policy check) answered once per function."""

    def __init__(self):
        self.getfullargspec = _per_function(inspect.getfullargspec)

    def __getattr__(self, name):
        return getattr(inspect, name)


def _speed_up_libraries():
    """Install the argspec caches where pecan, oslo.middleware and
    oslo.policy look argspecs up per request; idempotent."""
    if not hasattr(pecan_core.getargspec, 'uncached'):
        cached = _per_function(pecan_util.getargspec)
        pecan_core.getargspec = pecan_routing.getargspec = cached
    if not hasattr(middleware_base.getfullargspec, 'uncached'):
        middleware_base.getfullargspec = _per_function(
            middleware_base.getfullargspec)
    if policy_checks.inspect is inspect:
        policy_checks.inspect = _CachedInspect()


def _routes(conf, storage, engine, mount):
    versions = root.RootController(conf, storage, engine)
    version1 = v1.V1Controller(conf, storage, engine)
    if mount == 'versions':
        return versions.routes()
    if mount == 'v1':
        return version1.routes()
    return versions.routes() + router.prefixed(('v1',), version1.routes())


def setup_app(conf, engine_api, storage, mount='all'):
    """The pecan app.

    ``mount`` is ``all`` (``/`` and ``/v1`` in one app), ``versions``
    (only ``/``) or ``v1`` (the v1 resources at the app's root, for a
    paste ``urlmap`` that mounts it at ``/v1``).
    """
    policy.init(conf)
    _speed_up_libraries()
    return pecan.make_app(
        router.Router(_routes(conf, storage, engine_api, mount)),
        request_cls=_Request,
        hooks=hooks.default_hooks(conf),
        force_canonical=False,
        guess_content_type_from_ext=False,
        debug=False)


# ------------------------------------------------------------------ paste
def loading_conf():
    """The configuration paste factories use (``load_app``'s, else the
    global one)."""
    return getattr(_LOAD, 'conf', None) or cfg.CONF


def load_app(conf, paste_file=None, engine_api=None, storage=None):
    """Load the paste pipeline with ``conf`` already parsed.

    ``engine_api`` and ``storage`` override what the factory would build
    (all-in-one passes the in-process engine's transport this way).
    """
    from valet.api import middleware

    path = os.path.abspath(paste_file or conf.api.api_paste_config)
    if conf.api.auth_strategy == 'noauth':
        LOG.warning('valet-api runs with [api] auth_strategy = noauth: '
                    'NO AUTHENTICATION. Anyone who can reach it acts as '
                    'whatever project and roles they claim in X-Project-Id '
                    'and X-Roles. Use it for tests and development only.')
    _LOAD.conf, _LOAD.engine_api, _LOAD.storage = conf, engine_api, storage
    try:
        app = deploy.loadapp('config:' + path, name='main')
    finally:
        _LOAD.conf = _LOAD.engine_api = _LOAD.storage = None
    # Around the urlmap too: a request it cannot route still gets JSON.
    return middleware.outermost(app)


def _collaborators(conf):
    storage = getattr(_LOAD, 'storage', None)
    engine_api = getattr(_LOAD, 'engine_api', None)
    if storage is None:
        from valet import storage as storage_drivers
        storage = storage_drivers.get_storage(conf)
    if engine_api is None:
        from valet.engine import rpcapi
        engine_api = rpcapi.EngineAPI(conf, rpcapi.get_transport(conf))
    return engine_api, storage


def app_factory(global_conf, **local_conf):
    """The v1 application (``[app:valet]``)."""
    conf = loading_conf()
    engine_api, storage = _collaborators(conf)
    return setup_app(conf, engine_api, storage, mount='v1')


def versions_app_factory(global_conf, **local_conf):
    """The version document at ``/`` (``[app:versions]``); it needs no
    storage and no engine."""
    return setup_app(loading_conf(), None, None, mount='versions')


def pipeline_factory(loader, global_conf, **local_conf):
    """A composite whose keys are auth strategies, each a pipeline."""
    conf = loading_conf()
    names = local_conf[conf.api.auth_strategy].split()
    app = loader.get_app(names[-1])
    for name in reversed(names[:-1]):
        app = loader.get_filter(name)(app)
    return app
