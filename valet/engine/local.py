"""The engine's RPC interface called in the same process (all-in-one).

``LocalEngineAPI`` has every method of ``valet.engine.rpcapi.EngineAPI``
and calls the ``EngineEndpoint`` directly instead of through a message
transport: oslo.messaging's in-memory ``fake://`` driver polls for
messages every 50 ms, which made every all-in-one request wait for the
next poll. Everything a caller can observe stays as over RPC:

- arguments, context and answers cross as JSON (the way the RPC drivers
  serialise them), so neither side shares objects with the other;
- an error the engine raises (a ``valet.common.exception`` class) comes
  back as a fresh instance of the same class, rebuilt from its message,
  ``code`` and ``details`` as oslo.messaging rebuilds it; any other error
  becomes ``oslo_messaging.RemoteError``;
- the endpoint's own lock still serialises decisions (one at a time);
- a call that does not finish within ``[engine] rpc_timeout`` seconds
  raises ``EngineUnavailable``, the way an RPC call times out. Like an RPC
  call, the engine finishes the abandoned call on its own.
"""

from concurrent import futures

import oslo_messaging as messaging
from oslo_messaging.rpc import dispatcher
from oslo_serialization import jsonutils

from valet.common import exception
from valet.engine import rpcapi

# oslo.messaging's default executor_thread_pool_size: as many calls may
# wait on the engine at once as an RPC server would take.
MAX_WORKERS = 64


def _wire(value):
    """``value`` after a trip through JSON, as an RPC message carries it."""
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

    def __init__(self, conf, endpoint, max_workers=None):
        # No transport: the parent's constructor is not called.
        self.conf = conf
        self.endpoint = endpoint
        # Calls run on the pool's threads so that the caller can stop
        # waiting after rpc_timeout, as an RPC client does.
        self._pool = futures.ThreadPoolExecutor(
            max_workers=max_workers or MAX_WORKERS,
            thread_name_prefix='valet-engine-local')

    def _call(self, ctxt, method, **kwargs):
        func = getattr(self.endpoint, method)
        ctxt, kwargs = _wire(ctxt), _wire(kwargs)
        future = self._pool.submit(func, ctxt, **kwargs)
        try:
            result = future.result(timeout=self.conf.engine.rpc_timeout)
        except futures.TimeoutError:
            raise exception.EngineUnavailable(
                'The placement engine did not answer within %s seconds; '
                'check that valet-engine is running.'
                % self.conf.engine.rpc_timeout)
        except Exception as exc:
            # The engine's traceback stays in the engine's log, as over
            # RPC: the caller gets the rebuilt exception alone.
            raise _rebuilt(exc) from None
        return _wire(result)

    def close(self):
        self._pool.shutdown(wait=False)
