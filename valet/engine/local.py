"""The engine's RPC interface called in the same process (all-in-one).

``LocalEngineAPI`` has every method of ``valet.engine.rpcapi.EngineAPI``
and calls the ``EngineEndpoint`` directly, in the caller's thread, instead
of through a message transport: oslo.messaging's in-memory ``fake://``
driver polls for messages every 50 ms, which made every all-in-one
request wait for the next poll. What a caller can observe stays as over
RPC:

- arguments, context and answers cross as JSON (the way the RPC drivers
  serialise them), so neither side shares objects with the other; plain
  data is copied as that trip would leave it, without the text. A plan
  decision's answer (``valet.engine.planning.result``) is built for the
  call alone and already in that state (new containers, JSON's types):
  it is handed over as it is, a copy would be the same data again. An
  argument the caller wraps in ``HandedOver`` is passed on the same way,
  only its top level made a plain dict (see there);
- an error the engine raises (a ``valet.common.exception`` class) comes
  back as a fresh instance of the same class, rebuilt from its message,
  ``code`` and ``details`` as oslo.messaging rebuilds it; any other error
  becomes ``oslo_messaging.RemoteError``;
- the endpoint's lock still serialises decisions (one at a time);
- a call that waits for the engine (a decision under way) longer than
  ``[engine] rpc_timeout`` seconds raises ``EngineUnavailable``, the way
  an RPC call times out. Unlike a message already sent, that call is then
  never run.
"""

import oslo_messaging as messaging
from oslo_messaging.rpc import dispatcher
from oslo_serialization import jsonutils

from valet.common import exception
from valet.engine import rpcapi

# Endpoint methods that run outside the engine's lock (rpc_method(locked=
# False) in valet.engine.service): status, and a Heat stack's read, which
# takes the lock itself only to decide.
UNLOCKED = frozenset({'ping', 'reserve_stack_server',
                      'placement_reserve_stack_server'})


# Endpoint methods that answer a ``planning.result`` (see its docstring).
FRESH_ANSWERS = frozenset({'plan_create', 'plan_update', 'plan_migrate'})


class HandedOver(dict):
    """An argument (a mapping) built for one engine call, of JSON's own
    types (a decoded JSON body, and values built for the call), that its
    caller neither reads nor changes afterwards: the local client passes
    it on without a copy of its own, as nothing could tell the copy from
    it (the engine changes no argument either). Over RPC it is any dict.
    """


class _NotPlain(Exception):
    """A value JSON would change (a tuple inside, a key not a string, a
    type of its own): it takes the JSON trip itself."""


_ATOMS = frozenset((str, int, float, bool, type(None)))


def _plain(value):
    # The copy JSON's trip makes of plain data (dicts with string keys,
    # lists, strings, numbers, booleans, None), without the text: half
    # the time of a plan's answer. Exact types only: a subclass may
    # serialise differently.
    kind = type(value)
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain()
            out[key] = item if type(item) in _ATOMS else _plain(item)
        return out
    if kind is list:
        return [item if type(item) in _ATOMS else _plain(item)
                for item in value]
    if kind in _ATOMS:
        return value
    raise _NotPlain()


def _wire(value):
    """``value`` after a trip through JSON, as an RPC message carries it."""
    try:
        return _plain(value)
    except _NotPlain:
        return jsonutils.loads(jsonutils.dumps(value))


def _rebuilt(exc):
    """The exception the caller sees for ``exc`` raised by the endpoint."""
    if isinstance(exc, dispatcher.ExpectedException):
        exc = exc.exc_info[1]
    if isinstance(exc, exception.ValetException):
        kwargs = _wire(getattr(exc, 'kwargs', {}) or {})
        return type(exc)(*_wire(list(exc.args)), **kwargs)
    return messaging.RemoteError(type(exc).__name__, str(exc), [])


class LocalEngineAPI(rpcapi.EngineAPI):
    """``EngineAPI`` over an ``EngineEndpoint`` of this process."""

    def __init__(self, conf, endpoint):
        # No transport: the parent's constructor is not called.
        self.conf = conf
        self.endpoint = endpoint

    def _call(self, ctxt, method, version=None, **kwargs):
        # The endpoint is this process's: it serves every version.
        func = getattr(self.endpoint, method)
        ctxt = _wire(ctxt)
        kwargs = {name: dict(value) if type(value) is HandedOver
                  else _wire(value) for name, value in kwargs.items()}
        lock = None if method in UNLOCKED else self.endpoint.lock
        # The endpoint's lock is re-entrant: taken here with a timeout, the
        # method takes it again at once.
        if lock is not None and not lock.acquire(
                timeout=self.conf.engine.rpc_timeout):
            raise exception.EngineUnavailable(
                'The placement engine did not answer within %s seconds; '
                'check that valet-engine is running.'
                % self.conf.engine.rpc_timeout)
        try:
            result = func(ctxt, **kwargs)
        except Exception as exc:
            # The engine's traceback stays in the engine's log, as over
            # RPC: the caller gets the rebuilt exception alone.
            raise _rebuilt(exc) from None
        finally:
            if lock is not None:
                lock.release()
        return result if method in FRESH_ANSWERS else _wire(result)

    def close(self):
        """Nothing to release; the engine service stops on its own."""
