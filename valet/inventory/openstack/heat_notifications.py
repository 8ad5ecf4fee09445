"""Follow Heat's stack deletions through its notifications.

Heat's default (convergence) engine calls no lifecycle plugin, so nothing
tells Valet a stack went away: its servers' placements are released as
Nova reports them deleted, but the plan would stay. Heat emits
``orchestration.stack.delete.start`` when it starts deleting a stack
(root or nested) and ``orchestration.stack.delete.end`` when it is gone
(``[oslo_messaging_notifications] driver = messagingv2`` in heat.conf).
The engine drops the stack's plan at the start, as the lifecycle plugin
does on the legacy engine before any resource goes: the groups the stack
declares (``OS::Valet::Group``) are deleted after its servers, and a
plan still holding a server that never booted would keep them in use.
The end is acted on too, in case the start was missed. Nested stacks
have no plan of their own, so their deletions change nothing.

The payload is Heat's ``format_notification_body``: ``stack_identity``
(the stack id), ``stack_name``, ``tenant_id``, ``state``. A message
without a stack id is logged and acknowledged.

Delivery follows the Nova listener's rules (one dispatch thread, own
pool queue, transient errors retried in place with back-off then
requeued, anything else logged and dropped), with the retry options of
``[nova_notifications]``.
"""

import re
import threading

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_messaging.notify import listener as notify_listener

from valet.inventory.openstack import notifications

LOG = logging.getLogger(__name__)

# Event type -> the stack state Heat sends with it.
STACK_DELETES = {'orchestration.stack.delete.start': 'DELETE_IN_PROGRESS',
                 'orchestration.stack.delete.end': 'DELETE_COMPLETE'}


class MalformedNotification(ValueError):
    """A stack notification without the shape Heat gives it."""


def deleted_stack(event_type, payload):
    """The id of the stack a notification says is being deleted (or is
    gone), else None."""
    if event_type not in STACK_DELETES:
        return None
    if not isinstance(payload, dict):
        raise MalformedNotification('payload is %s, not a dict'
                                    % type(payload).__name__)
    stack_id = payload.get('stack_identity')
    if not isinstance(stack_id, str) or not stack_id:
        raise MalformedNotification('payload has no stack_identity')
    state = payload.get('state')
    if state not in (None, STACK_DELETES[event_type]):
        raise MalformedNotification('%s with state %r' % (event_type, state))
    return stack_id


class _Endpoint:

    def __init__(self, listener):
        self.listener = listener
        self.filter_rule = messaging.NotificationFilter(
            event_type='^(%s)$' % '|'.join(
                re.escape(t) for t in sorted(STACK_DELETES)))

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        try:
            return self.listener._handle(event_type, payload, metadata)
        except Exception:
            LOG.exception('Dropped Heat notification %s: unexpected error '
                          'while handling it', event_type)
            return messaging.NotificationResult.HANDLED


class StackNotificationListener:
    """Calls ``on_stack_deleted(stack_id)`` for every stack Heat deletes
    (at the start of the deletion and at its end).

    One dispatch thread; ``transient_errors`` raised by the callback are
    retried, the rest logged and dropped. ``transport`` defaults to one
    for ``[heat_notifications] transport_url`` (cleaned up by ``wait``).
    """

    def __init__(self, conf, on_stack_deleted, transport=None,
                 transient_errors=()):
        self.conf = conf
        self.on_stack_deleted = on_stack_deleted
        self.transient_errors = tuple(transient_errors)
        opts = conf.heat_notifications
        if opts.pool in (conf.engine.topic, conf.nova_notifications.pool):
            # One queue would then carry two kinds of messages.
            raise ValueError('[heat_notifications] pool must differ from '
                             '[engine] topic and [nova_notifications] pool '
                             '(%r)' % opts.pool)
        self._own_transport = transport is None
        self.transport = transport or messaging.get_notification_transport(
            conf, url=transport_url(conf))
        self.targets = [messaging.Target(topic=topic, exchange=opts.exchange)
                        for topic in opts.topics]
        self._stopping = threading.Event()
        self._server = notify_listener.get_notification_listener(
            self.transport, self.targets, [_Endpoint(self)],
            executor='threading', allow_requeue=True, pool=opts.pool)
        self.deleted = 0

    def start(self):
        self._stopping.clear()
        self._server.start(override_pool_size=1)
        LOG.info('Listening to Heat stack notifications on exchange %s, '
                 'topics %s, pool %s', self.targets[0].exchange,
                 ','.join(t.topic for t in self.targets),
                 self.conf.heat_notifications.pool)

    def stop(self):
        self._stopping.set()
        self._server.stop()

    def wait(self):
        self._server.wait()
        if self._own_transport and self.transport is not None:
            self.transport.cleanup()
            self.transport = None

    def _handle(self, event_type, payload, metadata):
        if self._stopping.is_set():
            return messaging.NotificationResult.REQUEUE
        try:
            stack_id = deleted_stack(event_type, payload)
        except MalformedNotification as exc:
            LOG.warning('Dropped malformed Heat notification %s (message '
                        '%s): %s', event_type,
                        (metadata or {}).get('message_id'), exc)
            return messaging.NotificationResult.HANDLED
        if stack_id is None:
            return messaging.NotificationResult.HANDLED

        def retrying(exc, attempt, delay):
            LOG.warning('Could not drop the plan of deleted Heat stack '
                        '%s (%s); attempt %d in %.1f s', stack_id, exc,
                        attempt, delay)

        try:
            if notifications.retry_transient(
                    lambda: self.on_stack_deleted(stack_id),
                    self.conf.nova_notifications, self._stopping,
                    self.transient_errors, retrying):
                self.deleted += 1
        except notifications.Stopping:
            return messaging.NotificationResult.REQUEUE
        except self.transient_errors as exc:
            LOG.warning('Requeued the deletion of Heat stack %s: %s',
                        stack_id, exc)
            return messaging.NotificationResult.REQUEUE
        except Exception:
            LOG.exception('Dropped the deletion of Heat stack %s', stack_id)
        return messaging.NotificationResult.HANDLED


def transport_url(conf):
    """Where Heat's notifications are: ours, else Nova's, else Valet's."""
    return (conf.heat_notifications.transport_url
            or conf.nova_notifications.transport_url or None)
