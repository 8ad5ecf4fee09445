"""Follow the cloud through Nova's versioned notifications.

Two parts: ``to_event`` turns one notification (event type and payload, as
Nova puts them on the wire) into one ``valet.inventory.events`` record, and
``NotificationListener`` receives notifications over oslo.messaging and
hands every record to a callback, in the order Nova sent them.

Mapping
-------

================================================  ===========================
Nova event type                                   record
================================================  ===========================
``instance.create.end``                           ``ServerUp``
``instance.resize_finish.end`` (resize and cold   ``ServerUp`` on the new
migrate, on the destination)                      host, with the new flavor
``instance.resize_confirm.end``                   ``ServerUp`` (unchanged)
``instance.resize_revert.end`` (on the source)    ``ServerUp``, old host and
                                                  flavor
``instance.live_migration_post_dest.end``         ``ServerUp`` on the new host
``instance.live_migration_rollback.end``          ``ServerUp`` (source host)
``instance.rebuild.end`` (rebuild, and evacuate:  ``ServerUp``
the rebuild on the new host)
``instance.unshelve.end``                         ``ServerUp``
``instance.restore.end`` (undo soft delete)       ``ServerUp``
``instance.delete.end``                           ``ServerGone``
``instance.shelve_offload.end``                   ``ServerGone``
``service.create`` (nova-compute)                 ``HostStatus(known=False)``
``service.update`` (nova-compute)                 ``HostStatus``
``service.delete`` (nova-compute)                 ``HostGone``
anything else                                     ``None``
================================================  ===========================

Why not the others:

* ``instance.live_migration_post.end`` is sent by the *source* compute with
  its stale copy of the instance (still naming the source host) and may
  arrive after ``live_migration_post_dest.end``: following it would move
  the server back.
* ``instance.soft_delete.end``: a soft-deleted server keeps its
  allocations until Nova reclaims it (``reclaim_instance_interval``), and
  the reclaim sends ``instance.delete.end``; until then it still occupies
  its host, so nothing changes.
* ``instance.shelve.end``: a shelved server holds its host until it is
  offloaded (``shelve_offload.end``).
* ``instance.evacuate`` is sent by the API before anything moved.
* ``*.start`` and ``*.error`` phases: nothing has settled yet, or the
  action failed and Nova's state is uncertain; the periodic resync repairs
  what a failed action leaves behind. Nova sends the ``.error`` phases at
  ERROR priority, which the listener does not even subscribe to.
* There is no versioned notification about compute-node capacity
  (``ComputeNode``/resource provider inventories) in Nova; capacity changes
  reach the model through the periodic resync.

Fields:

* ``ServerUp.host`` is the payload's ``node`` (the hypervisor hostname,
  which names the compute node's resource provider in Placement, as the
  model names hosts), falling back to ``host`` (the nova-compute service)
  when ``node`` is empty. ``instance.rebuild.end`` of an evacuation is the
  exception: the destination compute sends it before it records the
  instance as its own, so its payload still names the source; the
  sender's host (publisher ``nova-compute:<host>``) is where it runs.
  ``ServerGone.host`` follows the payload's ``node``/``host`` rule and may
  be None (``shelve_offload.end`` clears both before it is sent).
* ``demand`` follows Nova's translation of a flavor to Placement resources:
  ``VCPU`` = vcpus, ``MEMORY_MB`` = memory_mb, ``DISK_GB`` = root_gb +
  ephemeral_gb + swap MB rounded up to GB (root_gb is left out for a server
  booted from a volume, when the payload carries block devices, which Nova
  sends only with ``[notifications] bdms_in_notifications``);
  ``hw:cpu_policy=dedicated`` asks for ``PCPU`` instead of ``VCPU`` (one more
  with ``hw:emulator_threads_policy=isolate``); an extra spec
  ``resources:<CLASS>=N`` sets a class (0 removes it) and a granular
  ``resources<SUFFIX>:<CLASS>=N`` adds to it. ``hw:cpu_policy=mixed`` is not
  translated (the resync corrects it).
* ``name`` is ``display_name``, ``project`` is ``tenant_id``, ``flavor`` the
  flavor name, ``metadata`` the server's metadata.
* A server whose payload names no host, or whose state is ``error``,
  ``deleted`` or ``shelved_offloaded``, occupies no host (yet): ``None``.
* ``HostStatus.host`` and ``HostGone.host`` are the nova-compute service's
  host (Nova's ``[DEFAULT] host``); other services give ``None``.
  ``enabled`` is ``not disabled and not forced_down``.

A payload that does not have the shape Nova gives it (missing or mistyped
fields, another versioned object, another major version) raises
``MalformedNotification``.

Delivery
--------

The listener reads its own pool queue (``[nova_notifications] pool``) with
a single dispatch thread, so records reach ``on_event`` in the order Nova
sent them. Filtered-out event types are acknowledged unread; malformed
messages are logged (WARNING, one line; the payload only at DEBUG) and
acknowledged. When ``on_event`` raises:

* a transient error (``StorageUnavailable``, ``EngineUnavailable``,
  ``ConnectionError``, ``TimeoutError``, or what the caller names) is
  retried in place with exponential back-off (``retry_attempts``,
  ``retry_interval``, ``retry_max_interval``), which holds back the
  notifications behind it and so keeps the order; when the attempts are
  used up the message is requeued on the broker, at most ``requeue_limit``
  times, then dropped with an ERROR (the periodic resync repairs the
  model);
* any other error is a bug: logged with its traceback and dropped, since
  delivering it again would fail again.

Messages still waiting when the listener stops are requeued unread, so a
standby engine that takes over receives them.
"""

import collections
import re
import threading

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_messaging.notify import dispatcher as notify_dispatcher
from oslo_messaging.notify import listener as notify_listener

from valet.common import exception
from valet.inventory import events
from valet.objects import flavor as flavor_rule

LOG = logging.getLogger(__name__)

# Instance events after which the payload tells where the server runs.
SERVER_UP = frozenset((
    'instance.create.end',
    'instance.resize_finish.end',
    'instance.resize_confirm.end',
    'instance.resize_revert.end',
    'instance.live_migration_post_dest.end',
    'instance.live_migration_rollback.end',
    'instance.rebuild.end',
    'instance.unshelve.end',
    'instance.restore.end',
))
# Sent by the compute that rebuilt the server; see _server_up.
EVACUATED_END = 'instance.rebuild.end'
SERVER_GONE = frozenset((
    'instance.delete.end',
    'instance.shelve_offload.end',
))
SERVICE = frozenset(('service.create', 'service.update', 'service.delete'))
# Host aggregates carry availability zones and topology metadata.
AGGREGATE = frozenset(('aggregate.add_host.end', 'aggregate.remove_host.end',
                       'aggregate.update_metadata.end',
                       'aggregate.update_prop.end', 'aggregate.delete.end'))
EVENT_TYPES = SERVER_UP | SERVER_GONE | SERVICE | AGGREGATE

COMPUTE_BINARY = 'nova-compute'
# vm_states in which a server holds no host even if the payload names one.
_NOT_ON_HOST = frozenset(('error', 'deleted', 'shelved_offloaded'))
_SUPPORTED_MAJOR = '1'
# Nova's own pattern for resource extra specs (scheduler/utils.py).

TRANSIENT_ERRORS = (exception.StorageUnavailable,
                    exception.EngineUnavailable,
                    ConnectionError, TimeoutError)


class MalformedNotification(ValueError):
    """A notification of a known type without the shape Nova gives it."""


class Stopping(Exception):
    """The listener stopped while a delivery waited to be retried."""


def retry_transient(call, opts, stopping, transient_errors, on_retry):
    """``call()``, with ``transient_errors`` retried in place.

    Back-off is exponential (``opts.retry_attempts``, ``retry_interval``,
    ``retry_max_interval``); ``on_retry(exc, attempt, delay)`` is told of
    each retry. Raises :class:`Stopping` when ``stopping`` is set, and the
    last transient error when the attempts are used up.
    """
    attempt = 0
    while True:
        try:
            return call()
        except transient_errors as exc:
            if stopping.is_set():
                raise Stopping() from exc
            if attempt >= opts.retry_attempts:
                raise
            delay = min(opts.retry_interval * 2 ** attempt,
                        opts.retry_max_interval)
            attempt += 1
            on_retry(exc, attempt, delay)
            if stopping.wait(delay):
                raise Stopping() from exc


# ---------------------------------------------------------------- parsing
def _nova_object(value, what, accept):
    """The ``nova_object.data`` of a serialised Nova versioned object."""
    if not isinstance(value, dict):
        raise MalformedNotification(
            '%s is %s, not a versioned object' % (what, type(value).__name__))
    name = value.get('nova_object.name')
    if not isinstance(name, str) or not accept(name):
        raise MalformedNotification('%s is a %r object' % (what, name))
    namespace = value.get('nova_object.namespace')
    if namespace != 'nova':
        raise MalformedNotification('%s has namespace %r, not "nova"'
                                    % (what, namespace))
    version = value.get('nova_object.version')
    if (not isinstance(version, str)
            or version.split('.')[0] != _SUPPORTED_MAJOR):
        raise MalformedNotification('%s %s has unsupported version %r'
                                    % (what, name, version))
    data = value.get('nova_object.data')
    if not isinstance(data, dict):
        raise MalformedNotification('%s %s has no data' % (what, name))
    return data


def _string(data, key, what, required=False):
    value = data.get(key)
    if value is None or value == '':
        if required:
            raise MalformedNotification('%s has no %s' % (what, key))
        return None
    if not isinstance(value, str):
        raise MalformedNotification('%s.%s is %s, not a string'
                                    % (what, key, type(value).__name__))
    return value


def _count(data, key, what, required=True):
    """A non-negative integer field; an absent nullable one counts 0."""
    value = data.get(key)
    if value is None and not required:
        return 0
    # bool is an int subclass, but never a count.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedNotification('%s.%s is %r, not a count'
                                    % (what, key, value))
    return value


def _flag(data, key, what):
    value = data.get(key)
    if not isinstance(value, bool):
        raise MalformedNotification('%s.%s is %r, not a boolean'
                                    % (what, key, value))
    return value


def _string_dict(data, key, what):
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str)
            for k, v in value.items()):
        raise MalformedNotification('%s.%s is not a dict of strings'
                                    % (what, key))
    return dict(value)


def _boots_from_volume(block_devices):
    # Only known when Nova sends block devices; a root volume has index 0.
    if not isinstance(block_devices, list):
        return False
    for bdm in block_devices:
        data = bdm.get('nova_object.data') if isinstance(bdm, dict) else None
        if isinstance(data, dict) and data.get('boot_index') == 0:
            return True
    return False


def flavor_demand(flavor, boot_from_volume=False):
    """Placement resources a flavor payload's data asks for (the one rule
    of ``valet.objects.flavor``, also used for planning)."""
    specs = _string_dict(flavor, 'extra_specs', 'flavor')
    try:
        return flavor_rule.demand(
            vcpus=_count(flavor, 'vcpus', 'flavor'),
            memory_mb=_count(flavor, 'memory_mb', 'flavor'),
            root_gb=_count(flavor, 'root_gb', 'flavor', required=False),
            ephemeral_gb=_count(flavor, 'ephemeral_gb', 'flavor',
                                required=False),
            swap_mb=_count(flavor, 'swap', 'flavor', required=False),
            extra_specs=specs, boot_from_volume=boot_from_volume)
    except flavor_rule.FlavorError as exc:
        raise MalformedNotification(str(exc))


def _instance_host(data):
    return (_string(data, 'node', 'payload')
            or _string(data, 'host', 'payload'))


def _publisher_host(publisher_id):
    """The host of a nova-compute publisher (``nova-compute:<host>``)."""
    service, _, host = str(publisher_id or '').partition(':')
    return host if service == COMPUTE_BINARY and host else None


def _server_up(event_type, data, publisher_id=None):
    uuid = _string(data, 'uuid', 'payload', required=True)
    host = _instance_host(data)
    sender = _publisher_host(publisher_id)
    if (event_type == EVACUATED_END and sender
            and sender not in (host, _string(data, 'host', 'payload'))):
        # An evacuation: the destination sends it before it records the
        # instance as its own, so the payload still names the source.
        LOG.debug('%s: server %s rebuilt on %s (payload: %s), evacuated',
                  event_type, uuid, sender, host)
        host = sender
    state = _string(data, 'state', 'payload')
    flavor = _nova_object(data.get('flavor'), 'payload.flavor',
                          lambda name: name == 'FlavorPayload')
    demand = flavor_demand(flavor,
                           _boots_from_volume(data.get('block_devices')))
    metadata = _string_dict(data, 'metadata', 'payload')
    name = _string(data, 'display_name', 'payload')
    project = _string(data, 'tenant_id', 'payload')
    flavor_name = _string(flavor, 'name', 'flavor')
    if host is None or state in _NOT_ON_HOST:
        LOG.debug('%s: server %s (state %s, host %s) occupies no host',
                  event_type, uuid, state, host)
        return None
    return events.ServerUp(uuid=uuid, host=host, demand=demand,
                           event_type=event_type, name=name,
                           project=project, flavor=flavor_name,
                           metadata=metadata)


def _server_gone(event_type, data):
    return events.ServerGone(
        uuid=_string(data, 'uuid', 'payload', required=True),
        event_type=event_type, host=_instance_host(data))


def _service(event_type, data):
    host = _string(data, 'host', 'payload', required=True)
    binary = _string(data, 'binary', 'payload')
    if event_type == 'service.delete':
        if binary != COMPUTE_BINARY:
            return None
        return events.HostGone(host=host, event_type=event_type)
    disabled = _flag(data, 'disabled', 'payload')
    forced_down = _flag(data, 'forced_down', 'payload')
    if binary != COMPUTE_BINARY:
        return None
    return events.HostStatus(host=host,
                             enabled=not (disabled or forced_down),
                             event_type=event_type,
                             known=event_type != 'service.create')


def to_event(event_type, payload, publisher_id=None):
    """The ``valet.inventory.events`` record for one Nova notification.

    ``payload`` is the notification's payload as it arrives (a serialised
    versioned object); ``publisher_id`` the sender (``nova-compute:<host>``
    for a compute). Returns None for event types and states that change
    nothing Valet follows; raises ``MalformedNotification`` for a payload
    that is not what Nova sends for ``event_type``.
    """
    if event_type not in EVENT_TYPES:
        return None
    if event_type in SERVICE:
        data = _nova_object(payload, 'payload',
                            lambda name: name == 'ServiceStatusPayload')
        return _service(event_type, data)
    if event_type in AGGREGATE:
        data = _nova_object(payload, 'payload',
                            lambda name: name == 'AggregatePayload')
        name = _string(data, 'name', 'payload') or _string(
            data, 'uuid', 'payload') or '?'
        return events.InventoryChanged(
            event_type=event_type, reason='host aggregate %s changed' % name)
    # Instance payloads are InstanceActionPayload and its subclasses
    # (InstanceCreatePayload, InstanceActionRebuildPayload, ...).
    data = _nova_object(payload, 'payload',
                        lambda name: (name.startswith('Instance')
                                      and name.endswith('Payload')))
    if event_type in SERVER_GONE:
        return _server_gone(event_type, data)
    return _server_up(event_type, data, publisher_id)


# --------------------------------------------------------------- delivery
def _describe(event):
    if isinstance(event, (events.ServerUp, events.ServerGone)):
        return 'server %s' % event.uuid
    if isinstance(event, events.InventoryChanged):
        return event.reason
    return 'host %s' % event.host


class _Endpoint:
    """Parses and delivers; never lets an exception reach oslo.messaging,
    which would requeue the message (for ever, if it is malformed)."""

    def __init__(self, listener):
        self.listener = listener
        pattern = '^(%s)$' % '|'.join(
            re.escape(t) for t in sorted(EVENT_TYPES))
        self.filter_rule = messaging.NotificationFilter(event_type=pattern)

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        try:
            return self.listener._handle(publisher_id, event_type, payload,
                                         metadata)
        except Exception:
            LOG.exception('Dropped Nova notification %s (message %s): '
                          'unexpected error while handling it', event_type,
                          (metadata or {}).get('message_id'))
            self.listener._count('failed')
            return messaging.NotificationResult.HANDLED


class _GuardedDispatcher(notify_dispatcher.NotificationDispatcher):
    # oslo.messaging requeues a message whose envelope it cannot read
    # (say, a priority that is not a string): with requeueing allowed that
    # loops for ever, so such a message is logged and acknowledged instead.
    def __init__(self, listener, endpoints):
        super().__init__(endpoints, None)
        self.listener = listener

    def dispatch(self, incoming):
        try:
            return super().dispatch(incoming)
        except Exception as exc:
            LOG.warning('Dropped an unreadable message on the Nova '
                        'notification queue: %s', exc)
            LOG.debug('Unreadable message: %r',
                      getattr(incoming, 'message', None))
            self.listener._count('unreadable')
            return notify_dispatcher.NotificationResult.HANDLED


class NotificationListener:
    """Delivers the records of Nova's notifications to ``on_event``.

    ``on_event(event)`` is called from one listener thread, one record at a
    time, in arrival order. ``transport`` defaults to a notification
    transport for ``[nova_notifications] transport_url``, cleaned up by
    ``wait()``; one passed in is the caller's to clean up.
    ``transient_errors`` are the exceptions of ``on_event`` that are
    retried (see the module docstring). ``stats`` counts what happened to
    the messages (delivered, ignored, malformed, unreadable, retried,
    requeued, failed). After ``stop()`` and ``wait()``, ``start()`` listens
    again.
    """

    def __init__(self, conf, on_event, transport=None,
                 transient_errors=TRANSIENT_ERRORS):
        self.conf = conf
        self.on_event = on_event
        self.transient_errors = tuple(transient_errors)
        opts = conf.nova_notifications
        if opts.pool == conf.engine.topic:
            # One queue would then carry RPC calls and notifications.
            raise ValueError('[nova_notifications] pool must differ from '
                             '[engine] topic (both are %r)' % opts.pool)
        self._own_transport = transport is None
        self.transport = transport
        self.targets = [messaging.Target(topic=topic, exchange=opts.exchange)
                        for topic in opts.topics]
        self.pool = opts.pool
        self._stopping = threading.Event()
        self._requeues = collections.OrderedDict()
        self.stats = collections.Counter()
        self._server = self._make_server()
        self._finished = False

    def _make_server(self):
        if self.transport is None:
            self.transport = messaging.get_notification_transport(
                self.conf, url=self.conf.nova_notifications.transport_url)
        dispatcher = _GuardedDispatcher(self, [_Endpoint(self)])
        return notify_listener.NotificationServer(
            self.transport, self.targets, dispatcher, executor='threading',
            allow_requeue=True, pool=self.pool)

    def start(self):
        # Listening again after wait() (an engine that regains the
        # leadership) takes a new server, and transport if it is ours.
        if self._finished:
            self._server = self._make_server()
            self._finished = False
        self._stopping.clear()
        # One dispatch thread: records must reach on_event in order.
        self._server.start(override_pool_size=1)
        LOG.info('Listening to Nova notifications on exchange %s, topics '
                 '%s, pool %s', self.targets[0].exchange,
                 ','.join(t.topic for t in self.targets), self.pool)

    def stop(self):
        # Cut short any back-off: waiting messages are requeued, not lost.
        self._stopping.set()
        self._server.stop()

    def wait(self):
        self._server.wait()
        self._finished = True
        if self._own_transport and self.transport is not None:
            self.transport.cleanup()
            self.transport = None

    def _count(self, key):
        self.stats[key] += 1

    # Runs in the dispatch thread only.
    def _handle(self, publisher_id, event_type, payload, metadata):
        message_id = (metadata or {}).get('message_id')
        if self._stopping.is_set():
            self._count('requeued')
            return messaging.NotificationResult.REQUEUE
        try:
            event = to_event(event_type, payload, publisher_id)
        except MalformedNotification as exc:
            LOG.warning('Dropped malformed Nova notification %s (message '
                        '%s from %s): %s', event_type, message_id,
                        publisher_id, exc)
            LOG.debug('Malformed payload of message %s: %r', message_id,
                      payload)
            self._count('malformed')
            return messaging.NotificationResult.HANDLED
        if event is None:
            LOG.debug('Nova notification %s (message %s) changes nothing',
                      event_type, message_id)
            self._count('ignored')
            return messaging.NotificationResult.HANDLED
        return self._deliver(event, message_id)

    def _deliver(self, event, message_id):
        opts = self.conf.nova_notifications

        def retrying(exc, attempt, delay):
            LOG.warning('Could not apply %s for %s (%s); attempt %d of '
                        '%d in %.1f s', event.event_type,
                        _describe(event), exc, attempt,
                        opts.retry_attempts, delay)
            self._count('retried')

        try:
            retry_transient(lambda: self.on_event(event), opts,
                            self._stopping, self.transient_errors, retrying)
        except Stopping:
            self._count('requeued')
            return messaging.NotificationResult.REQUEUE
        except self.transient_errors as exc:
            return self._give_up(event, message_id, exc)
        except Exception:
            LOG.exception('Dropped %s for %s: applying it failed',
                          event.event_type, _describe(event))
            self._count('failed')
            return messaging.NotificationResult.HANDLED
        self._requeues.pop(message_id, None)
        self._count('delivered')
        return messaging.NotificationResult.HANDLED

    def _give_up(self, event, message_id, exc):
        requeued = self._requeues.pop(message_id, 0)
        # Without a message id a redelivery cannot be counted: drop.
        if message_id is None or requeued >= self.conf.nova_notifications\
                .requeue_limit:
            LOG.error('Dropped %s for %s after %d requeues: %s; the '
                      'periodic resync will repair the model',
                      event.event_type, _describe(event), requeued, exc)
            self._count('failed')
            return messaging.NotificationResult.HANDLED
        self._requeues[message_id] = requeued + 1
        # Bounded memory: forget the oldest counts first.
        while len(self._requeues) > 1024:
            self._requeues.popitem(last=False)
        LOG.warning('Requeued %s for %s (requeue %d of %d): %s',
                    event.event_type, _describe(event), requeued + 1,
                    self.conf.nova_notifications.requeue_limit, exc)
        self._count('requeued')
        return messaging.NotificationResult.REQUEUE
