"""The valet-engine process: leadership, RPC server, notifications, resync.

``EngineService`` runs one ``EngineEndpoint`` (the model and its decisions)
and everything around it:

- **Leadership.** With ``[coordination] backend_url`` set, several engines
  run and only the elected one serves: it rebuilds its model, then
  consumes the RPC topic and Nova's notifications and resyncs
  periodically. A standby consumes nothing, so requests wait in RabbitMQ
  for the leader (or time out into a 503 at the API). When leadership is
  lost everything stops at once and the model is dropped; the endpoint
  also checks the lease before every decision and every write, so a
  stalled leader cannot decide after its lease ran out. Without a backend
  the one engine is always the leader.
- **Faults.** Storage, Placement or Nova unreachable: the rebuild or resync
  is retried with exponential back-off, the engine keeps serving with the
  model it has (or answers 503 while it has none), and ``GET /v1/status``
  shows what is degraded and since when.
"""

import datetime
import threading
import time

from oslo_log import log as logging
import oslo_messaging as messaging

from valet.common import exception
from valet.conf import heat as conf_heat
from valet.conf import notifications as conf_notifications
from valet.engine import leader
from valet.engine import rpcapi
from valet.engine import service
from valet.inventory import base as inventory_base

LOG = logging.getLogger(__name__)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class Backoff:
    """Exponential back-off from ``first`` seconds up to ``limit``."""

    def __init__(self, limit, first=1.0):
        self.limit, self.first, self.failures = limit, first, 0

    def next_delay(self):
        self.failures += 1
        return min(self.limit, self.first * 2 ** (self.failures - 1))

    def reset(self):
        self.failures = 0


class EngineService:
    """One engine process; see the module docstring."""

    def __init__(self, conf, storage, inventory, transport=None,
                 listener_factory=None):
        self.conf = conf
        self._own_transport = transport is None
        self.transport = transport or rpcapi.get_transport(conf)
        self.endpoint = service.EngineEndpoint(conf, storage, inventory)
        self.endpoint.status_extra = self._status
        self._listener_factory = listener_factory
        self._state = threading.Lock()     # guards the fields below
        self._term = 0                     # bumped on every election/loss
        self._server = None
        self._listener = None
        self._heat_listener = None         # Heat's stack deletions
        self._resync_wake = threading.Event()
        self._stopping = threading.Event()
        self._threads = []
        self.leadership = leader.Leadership(
            conf, on_elected=self._on_elected, on_lost=self._on_lost)
        self.endpoint.leadership = self.leadership

    # ------------------------------------------------------------ lifecycle
    def rebuild(self):
        return self.endpoint.rebuild()

    def start(self):
        """Start competing for leadership (or serve, with no backend).

        In single-engine mode the first rebuild runs here, so that a
        broken static inventory stops the process with a clear error;
        an unreachable storage or cloud is retried in the background.
        """
        self.leadership.start()
        if not self.leadership.single:
            return
        with self._state:
            self._term += 1
            term = self._term
        try:
            if self.endpoint.dc is None:
                self.rebuild()
        except Exception as exc:
            if not self._transient(exc):
                self.leadership.stop()
                raise
            self._rebuild_failed(exc)
        # Serving before start() returns: callers may call at once. Without
        # a model, calls get a clear 503 and the status says why.
        self._start_serving(term)

    def _transient(self, exc):
        if isinstance(exc, inventory_base.InventoryError):
            # A static file that does not parse needs an operator.
            return self.conf.inventory.driver != 'static'
        return isinstance(exc, service.RETRYABLE)

    def stop(self):
        self._stopping.set()
        self._resync_wake.set()
        self.leadership.stop()
        self._stop_serving()

    def wait(self):
        for thread in list(self._threads):
            thread.join(timeout=30)
        self._threads = []
        if self._own_transport:
            self.transport.cleanup()

    # ----------------------------------------------------------- leadership
    def _on_elected(self):
        # Leadership runs this in its callback thread, renewing the lease
        # meanwhile; single-engine mode is handled by start().
        if self.leadership.single:
            return
        with self._state:
            self._term += 1
            term = self._term
        LOG.info('valet-engine %s elected leader: rebuilding its model',
                 self.conf.engine.host)
        self._take_over(term)

    def _on_lost(self):
        if self.leadership.single:
            return
        with self._state:
            self._term += 1
        LOG.warning('valet-engine %s is no longer the leader: it stops '
                    'serving and drops its model', self.conf.engine.host)
        self._step_down()

    def _current(self, term):
        with self._state:
            current = term == self._term
        return (current and not self._stopping.is_set()
                and self.leadership.is_leader)

    def _take_over(self, term):
        # One attempt here; the resync loop retries with back-off while the
        # engine serves (503 to decisions, "degraded" to status).
        if not self._current(term):
            return
        try:
            self.rebuild()
            self._healthy('model')
        except Exception as exc:
            self._rebuild_failed(exc)
        if self._current(term):
            self._start_serving(term)

    def _rebuild_failed(self, exc):
        self._degraded('model', exc)
        LOG.warning('Model rebuild failed (%s); retrying in the background',
                    exc)

    def _step_down(self):
        self._stop_serving()
        with self.endpoint.lock:
            if not self.leadership.is_leader:
                self.endpoint.dc = None

    # -------------------------------------------------------------- serving
    def _start_serving(self, term):
        with self._state:
            if term != self._term or self._server is not None:
                return
            target = messaging.Target(topic=self.conf.engine.topic,
                                      server=self.conf.engine.host)
            self._server = messaging.get_rpc_server(
                self.transport, target, [self.endpoint],
                executor='threading',
                access_policy=messaging.DefaultRPCAccessPolicy)
            self._server.start()
        # Events need a model to apply to; the listener starts with it.
        if self.endpoint.dc is not None:
            self._ensure_listener(term)
        LOG.info('valet-engine %s serving topic %s', self.conf.engine.host,
                 self.conf.engine.topic)
        self._spawn(self._resync_loop, term, name='valet-resync')

    def _ensure_listener(self, term):
        with self._state:
            if term == self._term and self._server is not None \
                    and self._heat_listener is None:
                try:
                    self._heat_listener = self._make_heat_listener()
                    if self._heat_listener is not None:
                        self._heat_listener.start()
                except Exception as exc:
                    # Tried again after the next resync.
                    LOG.error('Cannot listen to Heat notifications: %s', exc)
                    self._heat_listener = None
            if term != self._term or self._listener is not None \
                    or self._server is None:
                return
            self._listener = self._make_listener()
            if self._listener is not None:
                self._listener.start()

    def _make_listener(self):
        if self._listener_factory is not None:
            return self._listener_factory(self._on_event)
        if not conf_notifications.listener_enabled(self.conf):
            return None
        from valet.inventory.openstack import notifications
        # Storage or leadership trouble: the event is retried or handed
        # back to RabbitMQ (and to the next leader), never dropped.
        transient = (notifications.TRANSIENT_ERRORS + service.RETRYABLE
                     + (exception.EngineUnavailable, leader.NotLeader))
        return notifications.NotificationListener(
            self.conf, self._on_event, transient_errors=transient)

    def _make_heat_listener(self):
        if self._listener_factory is not None or \
                not conf_heat.notifications_enabled(self.conf):
            return None
        from valet.engine import stacks
        from valet.inventory.openstack import heat_notifications
        return heat_notifications.StackNotificationListener(
            self.conf,
            lambda stack_id: stacks.planner(self.endpoint).forget(
                {}, stack_id),
            transient_errors=service.RETRYABLE + (
                exception.EngineUnavailable, leader.NotLeader))

    def _stop_serving(self):
        with self._state:
            server, self._server = self._server, None
            listener, self._listener = self._listener, None
            heat_listener, self._heat_listener = self._heat_listener, None
        self._resync_wake.set()
        for part in (heat_listener, listener, server):
            if part is None:
                continue
            try:
                part.stop()
                part.wait()
            except Exception as exc:   # shutting down: report, go on
                LOG.warning('Stopping %s failed: %s', type(part).__name__,
                            exc)

    # ---------------------------------------------------------------- events
    def _on_event(self, event):
        if self.endpoint.handle_event(event):
            self.request_resync()

    def request_resync(self):
        self._resync_wake.set()

    def _resync_loop(self, term):
        interval = self.conf.reconcile.resync_interval or None
        floor = self.conf.reconcile.resync_min_interval
        backoff = Backoff(self.conf.reconcile.retry_max_delay)
        last = time.monotonic()
        delay = interval if self.endpoint.dc is not None else \
            backoff.next_delay()
        while True:
            woken = self._resync_wake.wait(delay)
            self._resync_wake.clear()
            if not self._current(term) or self._server is None:
                return
            # Asked-for resyncs keep a minimum spacing, so that a burst of
            # events needing one causes one.
            pause = last + floor - time.monotonic() if woken else 0
            if pause > 0 and self._stopping.wait(pause):
                return
            self._resync_wake.clear()
            if not self._current(term):
                return
            last = time.monotonic()
            try:
                self.endpoint.rebuild()
            except Exception as exc:
                self._degraded('model', exc)
                delay = backoff.next_delay()
                LOG.warning('Resync failed (%s); retrying in %.1f s', exc,
                            delay)
                continue
            self._healthy('model')
            backoff.reset()
            delay = interval
            self._ensure_listener(term)

    # ---------------------------------------------------------------- health
    def _degraded(self, part, exc):
        with self._state:
            entry = self.endpoint.health.get(part)
            if entry is None:
                LOG.error('valet-engine degraded (%s): %s', part, exc)
                entry = {'since': _now(), 'failures': 0}
            entry = dict(entry, error=str(exc),
                         failures=entry['failures'] + 1)
            self.endpoint.health[part] = entry

    def _healthy(self, part):
        with self._state:
            if self.endpoint.health.pop(part, None) is not None:
                LOG.info('valet-engine recovered (%s)', part)

    def _status(self):
        return {'leadership': self.leadership.status(),
                'degraded': dict(self.endpoint.health)}

    def _spawn(self, target, *args, name=None):
        thread = threading.Thread(target=target, args=args, name=name,
                                  daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()
        return thread
