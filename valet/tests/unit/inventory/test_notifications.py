"""Nova's versioned notifications: the parser and the listener's endpoint.

The payloads in ``data/nova_notifications.json`` were built and serialised
by the real nova package (see the file's ``_comment``); the listener runs
here on oslo.messaging's fake driver, which keeps queues and pools in
memory.
"""

import copy
import json
import logging
import os
import threading
import time

import fixtures
from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging import conffixture
from oslotest import base

from valet.common import exception
from valet import conf as valet_conf
from valet.conf import notifications as notifications_conf
from valet.inventory import events
from valet.inventory.openstack import notifications

DATA = os.path.join(os.path.dirname(__file__), 'data',
                    'nova_notifications.json')
HANDLED = messaging.NotificationResult.HANDLED
REQUEUE = messaging.NotificationResult.REQUEUE
UUID1 = '0c9f8a1e-2f6b-4f57-9d31-7d3a3c1b0001'
UUID2 = '0c9f8a1e-2f6b-4f57-9d31-7d3a3c1b0002'
UUID4 = '0c9f8a1e-2f6b-4f57-9d31-7d3a3c1b0004'
SMALL = {'VCPU': 1, 'MEMORY_MB': 2048, 'DISK_GB': 20}
MEDIUM = {'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 40}


def load_messages():
    with open(DATA) as handle:
        return json.load(handle)['messages']


MESSAGES = load_messages()


def message(event_type, index=0):
    """A deep copy of the ``index``-th stored message of ``event_type``."""
    found = [m for m in MESSAGES if m['event_type'] == event_type]
    return copy.deepcopy(found[index])


def up(uuid, host, demand, event_type, **kw):
    kw.setdefault('name', 'server')
    kw.setdefault('project', 'project')
    kw.setdefault('flavor', 'm1.small')
    kw.setdefault('metadata', {})
    return events.ServerUp(uuid=uuid, host=host, demand=demand,
                           event_type=event_type, **kw)


class ParseNovaPayloadsTest(base.BaseTestCase):
    """Every stored message, in order, to its record."""

    def test_every_stored_message(self):
        web = dict(name='web-1', project='p1')
        expected = [
            up(UUID1, 'cmp1.example.org', SMALL, 'instance.create.end',
               metadata={'valet_groups': 'web-diverse',
                         'valet_orchestration_id': 'web1'}, **web),
            up(UUID2, 'cmp2.example.org',
               {'VCPU': 0, 'PCPU': 9, 'MEMORY_MB': 16384, 'DISK_GB': 12,
                'CUSTOM_GPU': 2, 'SRIOV_NET_VF': 1},
               'instance.create.end', name='gpu-1', project='p1',
               flavor='g1.large'),
            None,                                   # create.error
            up(UUID1, 'cmp3.example.org', MEDIUM,
               'instance.resize_finish.end', flavor='m1.medium', **web),
            up(UUID1, 'cmp3.example.org', MEDIUM,
               'instance.resize_confirm.end', flavor='m1.medium', **web),
            up(UUID1, 'cmp1.example.org', SMALL,
               'instance.resize_revert.end', **web),
            None,                                   # live_migration_post
            up(UUID1, 'cmp4.example.org', SMALL,
               'instance.live_migration_post_dest.end'),
            up(UUID1, 'cmp4.example.org', SMALL,
               'instance.live_migration_rollback.end'),
            None,                                   # evacuate (API)
            up(UUID1, 'cmp5.example.org', SMALL, 'instance.rebuild.end'),
            None,                                   # shelve
            events.ServerGone(UUID1, 'instance.shelve_offload.end'),
            up(UUID1, 'cmp2.example.org', SMALL, 'instance.unshelve.end'),
            None,                                   # soft_delete
            up(UUID1, 'cmp2.example.org', SMALL, 'instance.restore.end'),
            events.ServerGone(UUID1, 'instance.delete.end',
                              host='cmp2.example.org'),
            events.ServerGone(UUID4, 'instance.delete.end'),
            events.HostStatus('cmp6', True, 'service.create', known=False),
            events.HostStatus('cmp1', False, 'service.update'),  # disabled
            events.HostStatus('cmp1', False, 'service.update'),  # forced
            events.HostStatus('cmp1', True, 'service.update'),
            None,                                   # nova-conductor
            events.HostGone('cmp6', 'service.delete'),
            None,                                   # nova-scheduler
        ]
        self.assertEqual(len(expected), len(MESSAGES))
        for msg, want in zip(MESSAGES, expected):
            got = notifications.to_event(msg['event_type'], msg['payload'])
            self.assertEqual(want, got, msg['event_type'])

    def test_evacuation_runs_where_its_rebuild_was_sent_from(self):
        # The destination sends instance.rebuild.end of an evacuation
        # before it records the instance as its own: the payload still
        # names the source (cmp5), the publisher the destination.
        msg = message('instance.rebuild.end')
        event = notifications.to_event(msg['event_type'], msg['payload'],
                                       'nova-compute:cmp2')
        self.assertEqual('cmp2', event.host)
        # A rebuild in place is sent by the host the payload names.
        for sender in (msg['publisher_id'], None, 'nova-api:api1'):
            event = notifications.to_event(msg['event_type'],
                                           msg['payload'], sender)
            self.assertEqual('cmp5.example.org', event.host, sender)
        # Other events keep the payload's host whoever sends them.
        msg = message('instance.create.end')
        event = notifications.to_event(msg['event_type'], msg['payload'],
                                       'nova-compute:cmp2')
        self.assertEqual('cmp1.example.org', event.host)

    def test_node_falls_back_to_host(self):
        msg = message('instance.create.end')
        msg['payload']['nova_object.data']['node'] = None
        event = notifications.to_event(msg['event_type'], msg['payload'])
        self.assertEqual('cmp1', event.host)

    def test_no_host_or_not_running_is_none(self):
        for field, value in (('host', None), ('state', 'error'),
                             ('state', 'deleted'),
                             ('state', 'shelved_offloaded')):
            msg = message('instance.unshelve.end')
            data = msg['payload']['nova_object.data']
            data[field] = value
            if field == 'host':
                data['node'] = None
            self.assertIsNone(
                notifications.to_event(msg['event_type'], msg['payload']),
                '%s=%s' % (field, value))

    def test_stopped_server_still_occupies_its_host(self):
        msg = message('instance.resize_revert.end')
        msg['payload']['nova_object.data']['state'] = 'stopped'
        self.assertIsNotNone(
            notifications.to_event(msg['event_type'], msg['payload']))

    def test_unknown_event_types_are_none(self):
        for event_type in ('instance.update', 'instance.power_off.end',
                           'instance.create.start', 'aggregate.create.end',
                           'compute.exception', 'nonsense', None):
            self.assertIsNone(notifications.to_event(event_type, 'garbage'))

    def test_aggregate_changes_ask_for_a_resync(self):
        payload = {'nova_object.name': 'AggregatePayload',
                   'nova_object.namespace': 'nova',
                   'nova_object.version': '1.1',
                   'nova_object.data': {'uuid': 'a1b2', 'name': 'rack-7',
                                        'hosts': ['h1'], 'metadata': {}}}
        for event_type in sorted(notifications.AGGREGATE):
            event = notifications.to_event(event_type, payload)
            self.assertIsInstance(event, events.InventoryChanged)
            self.assertIn('rack-7', event.reason)
        self.assertRaises(notifications.MalformedNotification,
                          notifications.to_event, 'aggregate.add_host.end',
                          'garbage')


class FlavorDemandTest(base.BaseTestCase):

    def demand(self, boot_from_volume=False, **flavor):
        data = {'vcpus': 4, 'memory_mb': 8192, 'root_gb': 40,
                'ephemeral_gb': 0, 'swap': 0, 'extra_specs': {}}
        data.update(flavor)
        return notifications.flavor_demand(data, boot_from_volume)

    def test_standard_classes(self):
        self.assertEqual({'VCPU': 4, 'MEMORY_MB': 8192, 'DISK_GB': 47},
                         self.demand(ephemeral_gb=5, swap=1025))
        self.assertEqual({'VCPU': 4, 'MEMORY_MB': 8192, 'DISK_GB': 41},
                         self.demand(swap=1024))

    def test_nullable_disk_fields_count_zero(self):
        self.assertEqual({'VCPU': 4, 'MEMORY_MB': 8192, 'DISK_GB': 0},
                         self.demand(root_gb=None, ephemeral_gb=None,
                                     swap=None, extra_specs=None))

    def test_boot_from_volume_leaves_out_root_disk(self):
        self.assertEqual(3, self.demand(True, ephemeral_gb=2,
                                        swap=512)['DISK_GB'])

    def test_resources_extra_specs(self):
        specs = {'resources:CUSTOM_FPGA': '1', 'resources:DISK_GB': '0',
                 'resources_net:NET_BW_EGR_KILOBIT_PER_SEC': '1000',
                 'resources2:CUSTOM_FPGA': '2', 'trait:HW_CPU_X86_AVX': 'x',
                 'hw:mem_page_size': 'large'}
        self.assertEqual(
            {'VCPU': 4, 'MEMORY_MB': 8192, 'DISK_GB': 0, 'CUSTOM_FPGA': 3,
             'NET_BW_EGR_KILOBIT_PER_SEC': 1000},
            self.demand(extra_specs=specs))

    def test_dedicated_cpus_are_pcpus(self):
        self.assertEqual(
            {'VCPU': 0, 'PCPU': 4, 'MEMORY_MB': 8192, 'DISK_GB': 40},
            self.demand(extra_specs={'hw:cpu_policy': 'dedicated'}))
        # An explicit request wins over the pinning policy, as in Nova.
        self.assertEqual(
            {'VCPU': 0, 'PCPU': 2, 'MEMORY_MB': 8192, 'DISK_GB': 40},
            self.demand(extra_specs={'hw:cpu_policy': 'dedicated',
                                     'resources:PCPU': '2',
                                     'resources:VCPU': '0'}))


class MalformedPayloadTest(base.BaseTestCase):
    """Payloads that are not what Nova sends raise MalformedNotification."""

    def assertMalformed(self, event_type, payload, reason):
        err = self.assertRaises(notifications.MalformedNotification,
                                notifications.to_event, event_type, payload)
        self.assertIn(reason, str(err))

    def instance(self, event_type='instance.create.end', **changes):
        msg = message(event_type)
        data = msg['payload']['nova_object.data']
        for key, value in changes.items():
            if key.startswith('flavor_'):
                data['flavor']['nova_object.data'][key[7:]] = value
            else:
                data[key] = value
        return msg['payload']

    def test_not_a_versioned_object(self):
        for payload in (None, 'garbage', 42, ['a'], {'uuid': UUID1}):
            self.assertRaises(notifications.MalformedNotification,
                              notifications.to_event,
                              'instance.delete.end', payload)

    def test_wrong_object(self):
        self.assertMalformed('instance.create.end',
                             message('service.update')['payload'],
                             "'ServiceStatusPayload' object")
        self.assertMalformed('service.update',
                             message('instance.delete.end')['payload'],
                             "'InstanceActionPayload' object")
        payload = self.instance()
        payload['nova_object.data']['flavor']['nova_object.name'] = 'Flavor'
        self.assertMalformed('instance.create.end', payload,
                             "payload.flavor is a 'Flavor' object")

    def test_wrong_namespace_version_or_data(self):
        for key, value, reason in (
                ('nova_object.namespace', 'cinder', 'namespace'),
                ('nova_object.version', '2.0', 'unsupported version'),
                ('nova_object.version', None, 'unsupported version'),
                ('nova_object.data', None, 'has no data'),
                ('nova_object.data', ['x'], 'has no data')):
            payload = self.instance()
            payload[key] = value
            self.assertMalformed('instance.create.end', payload, reason)

    def test_missing_or_mistyped_instance_fields(self):
        for changes, reason in (
                ({'uuid': None}, 'has no uuid'),
                ({'uuid': 7}, 'payload.uuid is int'),
                ({'node': ['cmp1']}, 'payload.node is list'),
                ({'node': None, 'host': 3}, 'payload.host is int'),
                ({'flavor': None}, 'payload.flavor is NoneType'),
                ({'metadata': 'a=b'}, 'metadata is not a dict'),
                ({'metadata': {'a': 1}}, 'metadata is not a dict'),
                ({'flavor_vcpus': '2'}, "flavor.vcpus is '2'"),
                ({'flavor_vcpus': None}, 'flavor.vcpus is None'),
                ({'flavor_vcpus': True}, 'flavor.vcpus is True'),
                ({'flavor_memory_mb': -1}, 'flavor.memory_mb is -1'),
                ({'flavor_swap': 1.5}, 'flavor.swap is 1.5'),
                ({'flavor_extra_specs': {'resources:VCPU': 'many'}},
                 'not a count'),
                ({'flavor_extra_specs': {'resources:VCPU': '-1'}},
                 'not a count'),
                ({'flavor_extra_specs': {'resources:vcpu': '1'}},
                 'names no resource class')):
            self.assertMalformed('instance.create.end',
                                 self.instance(**changes), reason)

    def test_gone_needs_only_a_uuid(self):
        payload = self.instance('instance.delete.end', uuid=None)
        self.assertMalformed('instance.delete.end', payload, 'has no uuid')

    def test_missing_or_mistyped_service_fields(self):
        for key, value, reason in (('host', None, 'has no host'),
                                   ('disabled', 'yes', 'payload.disabled'),
                                   ('forced_down', None,
                                    'payload.forced_down')):
            payload = message('service.update')['payload']
            payload['nova_object.data'][key] = value
            self.assertMalformed('service.update', payload, reason)


class ListenerFixture(fixtures.Fixture):
    """A NotificationListener on the fake driver."""

    def __init__(self, on_event, **overrides):
        self.on_event = on_event
        self.overrides = overrides

    def _setUp(self):
        self.conf = cfg.ConfigOpts()
        valet_conf.register_all(self.conf)
        self.useFixture(conffixture.ConfFixture(self.conf))
        self.conf([])
        opts = dict(retry_interval=0.0, retry_max_interval=0.0)
        opts.update(self.overrides)
        for name, value in opts.items():
            self.conf.set_override(name, value, group='nova_notifications')
        self.transport = messaging.get_notification_transport(
            self.conf, url='fake:/')
        self.addCleanup(self.transport.cleanup)
        self.listener = notifications.NotificationListener(
            self.conf, self.on_event, transport=self.transport)
        self.endpoint = self.listener._server.dispatcher.endpoints[0]

    def info(self, msg, message_id='m-1'):
        return self.endpoint.info({}, msg['publisher_id'], msg['event_type'],
                                  msg['payload'],
                                  {'message_id': message_id,
                                   'timestamp': msg['timestamp']})


class EndpointTest(base.BaseTestCase):
    """What the endpoint answers oslo.messaging, and what it logs."""

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format='%(levelname)s %(message)s'))
        self.delivered = []
        self.failures = []

    def on_event(self, event):
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(event)

    def listener(self, **overrides):
        return self.useFixture(ListenerFixture(self.on_event, **overrides))

    def test_delivers_and_acknowledges(self):
        fix = self.listener()
        self.assertEqual(HANDLED, fix.info(message('instance.create.end')))
        self.assertEqual(['instance.create.end'],
                         [e.event_type for e in self.delivered])
        self.assertEqual(1, fix.listener.stats['delivered'])

    def test_the_publisher_reaches_the_parser(self):
        # An evacuation's rebuild, sent by its destination cmp2.
        fix = self.listener()
        msg = message('instance.rebuild.end')
        msg['publisher_id'] = 'nova-compute:cmp2'
        self.assertEqual(HANDLED, fix.info(msg))
        self.assertEqual(['cmp2'], [e.host for e in self.delivered])

    def test_nothing_to_follow_is_acknowledged(self):
        fix = self.listener()
        self.assertEqual(HANDLED, fix.info(message('service.update', 3)))
        self.assertEqual([], self.delivered)
        self.assertEqual(1, fix.listener.stats['ignored'])

    def test_malformed_is_dropped_with_one_warning(self):
        fix = self.listener()
        msg = message('instance.create.end')
        msg['payload']['nova_object.data']['uuid'] = None
        msg['payload']['nova_object.data']['display_name'] = 'SECRET-NAME'
        self.assertEqual(HANDLED, fix.info(msg, message_id='m-42'))
        self.assertEqual([], self.delivered)
        warnings = [line for line in self.log.output.splitlines()
                    if line.startswith('WARNING')]
        self.assertEqual(1, len(warnings))
        self.assertIn('instance.create.end', warnings[0])
        self.assertIn('m-42', warnings[0])
        self.assertIn('nova-compute:cmp1', warnings[0])
        self.assertIn('has no uuid', warnings[0])
        self.assertNotIn('SECRET-NAME', warnings[0])
        # The payload is there for whoever turns on debugging.
        self.assertIn('SECRET-NAME', self.log.output)
        self.assertEqual(1, fix.listener.stats['malformed'])

    def test_garbage_never_escapes(self):
        fix = self.listener()
        for payload in (None, 'x', 12, [], {'nova_object.data': 'x'}):
            msg = message('instance.delete.end')
            msg['payload'] = payload
            self.assertEqual(HANDLED, fix.info(msg))
        self.assertEqual(5, fix.listener.stats['malformed'])

    def test_unreadable_envelope_is_acknowledged(self):
        # oslo.messaging's dispatcher fails on it; left alone, the message
        # would be requeued for ever.
        fix = self.listener()
        incoming = FakeIncoming({'priority': None, 'payload': 'x',
                                 'event_type': 'service.delete'})
        self.assertEqual(HANDLED,
                         fix.listener._server.dispatcher.dispatch(incoming))
        self.assertIn('WARNING Dropped an unreadable message',
                      self.log.output)
        self.assertEqual(1, fix.listener.stats['unreadable'])

    def test_unexpected_parser_error_is_dropped(self):
        fix = self.listener()
        self.useFixture(fixtures.MockPatchObject(
            notifications, 'to_event', side_effect=KeyError('boom')))
        self.assertEqual(HANDLED, fix.info(message('instance.create.end')))
        self.assertIn('unexpected error', self.log.output)
        self.assertEqual(1, fix.listener.stats['failed'])

    def test_transient_failure_is_retried_in_place(self):
        fix = self.listener(retry_attempts=3)
        self.failures = [exception.StorageUnavailable('db down'),
                         ConnectionError('reset')]
        self.assertEqual(HANDLED, fix.info(message('instance.create.end')))
        self.assertEqual(1, len(self.delivered))
        self.assertEqual(2, fix.listener.stats['retried'])
        self.assertIn('attempt 1 of 3', self.log.output)

    def test_back_off_doubles_up_to_the_cap(self):
        fix = self.listener(retry_attempts=4, retry_interval=1.0,
                            retry_max_interval=3.0)
        waits = []
        fix.listener._stopping = WaitRecorder(waits)
        self.failures = [exception.StorageUnavailable()] * 4
        self.assertEqual(HANDLED, fix.info(message('instance.create.end')))
        self.assertEqual([1.0, 2.0, 3.0, 3.0], waits)

    def test_requeued_a_bounded_number_of_times(self):
        fix = self.listener(retry_attempts=1, requeue_limit=2)
        msg = message('instance.delete.end')
        self.failures = [exception.StorageUnavailable()] * 100
        results = [fix.info(msg, message_id='m-7') for _ in range(3)]
        self.assertEqual([REQUEUE, REQUEUE, HANDLED], results)
        self.assertEqual(2, fix.listener.stats['requeued'])
        self.assertEqual(1, fix.listener.stats['failed'])
        self.assertIn('after 2 requeues', self.log.output)
        # A later success forgets the count.
        self.failures = [exception.StorageUnavailable()] * 2
        self.assertEqual(REQUEUE, fix.info(msg, message_id='m-8'))
        self.assertEqual(HANDLED, fix.info(msg, message_id='m-8'))
        self.assertEqual({}, dict(fix.listener._requeues))

    def test_bug_in_on_event_is_dropped(self):
        fix = self.listener()
        self.failures = [ValueError('bug')]
        self.assertEqual(HANDLED, fix.info(message('instance.create.end')))
        self.assertEqual([], self.delivered)
        self.assertIn('ValueError: bug', self.log.output)
        self.assertEqual(1, fix.listener.stats['failed'])

    def test_stopping_requeues(self):
        fix = self.listener(retry_attempts=5, retry_interval=30.0,
                            retry_max_interval=30.0)
        self.failures = [exception.StorageUnavailable()] * 100
        timer = threading.Timer(0.2, fix.listener._stopping.set)
        timer.start()
        self.addCleanup(timer.cancel)
        started = time.monotonic()
        self.assertEqual(REQUEUE, fix.info(message('instance.create.end')))
        self.assertLess(time.monotonic() - started, 10)
        # Once stopping, nothing more is applied.
        self.assertEqual(REQUEUE, fix.info(message('instance.delete.end')))
        self.assertEqual([], self.delivered)

    def test_custom_transient_errors(self):
        fix = self.useFixture(ListenerFixture(self.on_event))
        listener = notifications.NotificationListener(
            fix.conf, self.on_event, transport=fix.transport,
            transient_errors=(KeyError,))
        self.failures = [KeyError('later')]
        self.assertEqual(HANDLED, listener._server.dispatcher.endpoints[0]
                         .info({}, 'nova-compute:cmp1', 'service.delete',
                               message('service.delete')['payload'],
                               {'message_id': 'x'}))
        self.assertEqual(1, len(self.delivered))

    def test_pool_must_not_be_the_engine_queue(self):
        fix = self.listener()
        fix.conf.set_override('pool', fix.conf.engine.topic,
                              group='nova_notifications')
        self.assertRaises(ValueError, notifications.NotificationListener,
                          fix.conf, self.on_event, transport=fix.transport)


class FakeIncoming:
    ctxt = {}

    def __init__(self, message):
        self.message = message


class WaitRecorder:
    """Stands in for the listener's stop event: records back-off waits."""

    def __init__(self, waits):
        self.waits = waits

    def is_set(self):
        return False

    def wait(self, delay):
        self.waits.append(delay)
        return False


class FakeBusTest(base.BaseTestCase):
    """The whole listener on the fake driver: filter, order, requeue."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        self.got = []
        self.done = threading.Event()
        self.fail_once = set()
        # The fake driver publishes on the default control exchange.
        self.fix = self.useFixture(ListenerFixture(self.on_event,
                                                   exchange='openstack'))
        self.notifier = messaging.Notifier(
            self.fix.transport, driver='messagingv2',
            topics=self.fix.conf.nova_notifications.topics)
        self.listener = self.fix.listener
        self.listener.start()
        self.addCleanup(self.listener.wait)
        self.addCleanup(self.listener.stop)

    def on_event(self, event):
        key = (event.event_type, getattr(event, 'host', None))
        if key in self.fail_once:
            self.fail_once.discard(key)
            raise exception.StorageUnavailable()
        self.got.append(event)
        if isinstance(event, events.HostGone) and event.host == 'last':
            self.done.set()

    def send(self, msg, priority='info'):
        notifier = self.notifier.prepare(publisher_id=msg['publisher_id'])
        getattr(notifier, priority)({}, msg['event_type'], msg['payload'])

    def test_order_filter_and_garbage(self):
        self.fail_once.add(('service.update', 'cmp1'))
        for msg in MESSAGES:
            self.send(msg, msg['priority'].lower())
        self.send({'publisher_id': 'x', 'event_type': 'service.update',
                   'payload': 'garbage'})
        last = message('service.delete')
        last['payload']['nova_object.data']['host'] = 'last'
        self.send(last)
        self.assertTrue(self.done.wait(10))
        want = [notifications.to_event(m['event_type'], m['payload'])
                for m in MESSAGES + [last]]
        self.assertEqual([e for e in want if e is not None], self.got)
        self.assertEqual(1, self.listener.stats['retried'])
        self.assertEqual(1, self.listener.stats['malformed'])

    def test_listens_again_after_a_stop(self):
        self.listener.stop()
        self.listener.wait()
        self.listener.start()
        last = message('service.delete')
        last['payload']['nova_object.data']['host'] = 'last'
        self.send(last)
        self.assertTrue(self.done.wait(10))

    def test_own_transport_is_cleaned_up(self):
        conf = self.fix.conf
        conf.set_override('transport_url', 'fake:/',
                          group='nova_notifications')
        listener = notifications.NotificationListener(conf, self.on_event)
        listener.start()
        transport = listener.transport
        self.assertIsNotNone(transport)
        listener.stop()
        cleanup = self.useFixture(
            fixtures.MockPatchObject(transport, 'cleanup')).mock
        listener.wait()
        cleanup.assert_called_once_with()
        self.assertIsNone(listener.transport)


class OptionsTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        valet_conf.register_all(self.conf)
        self.conf([])

    def test_defaults(self):
        opts = self.conf.nova_notifications
        self.assertEqual('nova', opts.exchange)
        self.assertEqual(['versioned_notifications'], opts.topics)
        self.assertNotEqual(self.conf.engine.topic, opts.pool)
        self.assertIsNone(opts.transport_url)

    def test_enabled_follows_the_inventory_driver(self):
        self.assertFalse(notifications_conf.listener_enabled(self.conf))
        self.conf.set_override('driver', 'openstack', group='inventory')
        self.assertTrue(notifications_conf.listener_enabled(self.conf))
        self.conf.set_override('enabled', False, group='nova_notifications')
        self.assertFalse(notifications_conf.listener_enabled(self.conf))
        self.conf.clear_override('driver', group='inventory')
        self.conf.set_override('enabled', True, group='nova_notifications')
        self.assertTrue(notifications_conf.listener_enabled(self.conf))

    def test_listed_for_the_sample_config(self):
        groups = {group.name: opts
                  for group, opts in notifications_conf.list_opts()}
        self.assertIn('transport_url',
                      [o.name for o in groups['nova_notifications']])
        secret = [o for o in groups['nova_notifications']
                  if o.name == 'transport_url'][0]
        self.assertTrue(secret.secret)
