"""Nova's own notifications over a real RabbitMQ to the real listener.

``nova_notify.py`` runs in the OpenStack venv (``$VALET_OPENSTACK_VENV``,
default ``.tox/openstack``, made by ``tools/install-openstack.sh``) and
emits with Nova's notification code; the ``NotificationListener`` runs in
this process. Every test has its own exchange, topic and pool, deleted
afterwards. Skipped (or failed, with CI=true) without RabbitMQ on
127.0.0.1:5672 or without nova in the venv.
"""

import functools
import json
import os
import subprocess
import threading
import uuid

import kombu
from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging import conffixture
from oslotest import base

from valet.common import exception
from valet import conf as valet_conf
from valet.inventory import events
from valet.inventory.openstack import notifications
from valet.tests.functional import services

URL = os.environ.get('VALET_TEST_TRANSPORT_URL',
                     'rabbit://guest:guest@127.0.0.1:5672/')
_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.abspath(os.path.join(_HERE, '..', '..', '..', '..'))
NOVA_NOTIFY = os.path.join(_HERE, '..', 'nova_notify.py')
WAIT = 30


@functools.lru_cache()
def _nova_python(venv):
    python = os.path.join(venv, 'bin', 'python')
    if not os.path.exists(python):
        return None
    found = subprocess.call([python, '-c', 'import nova.notifications'],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return python if found == 0 else None


def nova_python():
    """The OpenStack venv's python; skip (fail in CI) without nova."""
    venv = os.environ.get('VALET_OPENSTACK_VENV',
                          os.path.join(_REPO, '.tox', 'openstack'))
    python = _nova_python(venv)
    if python is None:
        services.unavailable(
            'nova is not installed in %s: run tools/install-openstack.sh '
            '%s (or set VALET_OPENSTACK_VENV)' % (venv, venv))
    return python


def kombu_url(url):
    # kombu spells oslo.messaging's rabbit:// as amqp://.
    return 'amqp://' + url.split('://', 1)[1]


def flavor(name, vcpus, memory_mb, root_gb):
    return {'name': name, 'vcpus': vcpus, 'memory_mb': memory_mb,
            'root_gb': root_gb}


SMALL = flavor('m1.small', 1, 2048, 20)
LARGE = flavor('m1.large', 4, 8192, 80)


class Recorder:
    """on_event: records events; can fail the first calls on purpose."""

    def __init__(self):
        self.events = []
        self.calls = 0
        self.failures = []
        self.changed = threading.Condition()

    def __call__(self, event):
        with self.changed:
            self.calls += 1
            if self.failures:
                raise self.failures.pop(0)
            self.events.append(event)
            self.changed.notify_all()

    def wait_for(self, count, timeout=WAIT):
        with self.changed:
            self.changed.wait_for(lambda: len(self.events) >= count,
                                  timeout)
            return list(self.events)


class NovaNotificationsTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        services.require_port(5672, 'RabbitMQ', hint='Start rabbitmq-server '
                              '(guest/guest) or set VALET_TEST_TRANSPORT_URL.')
        self.python = nova_python()
        self.conf = cfg.ConfigOpts()
        valet_conf.register_all(self.conf)
        self.useFixture(conffixture.ConfFixture(self.conf))
        self.conf([])
        unique = uuid.uuid4().hex[:12]
        self.exchange = 'valet-test-nova-' + unique
        self.topic = 'valet-test-versioned-' + unique
        self.pool = 'valet-test-pool-' + unique
        for name, value in (('exchange', self.exchange),
                            ('topics', [self.topic]), ('pool', self.pool),
                            ('retry_attempts', 3), ('retry_interval', 0.05),
                            ('retry_max_interval', 0.2)):
            self.conf.set_override(name, value, group='nova_notifications')
        # Valet's own notifier (send_raw) publishes on the control
        # exchange.
        self.conf.set_override('control_exchange', self.exchange)
        self.addCleanup(self.delete_broker_objects)
        self.transport = messaging.get_notification_transport(self.conf,
                                                              url=URL)
        self.addCleanup(self.transport.cleanup)
        self.recorder = Recorder()
        self.listener = self.start_listener()

    def start_listener(self):
        listener = notifications.NotificationListener(
            self.conf, self.recorder, transport=self.transport)
        listener.start()
        self.addCleanup(listener.wait)
        self.addCleanup(listener.stop)
        return listener

    def delete_broker_objects(self):
        # The pool queue outlives its listener (so that an engine restart
        # loses nothing), and oslo.messaging's publisher declares a
        # default queue per topic and priority: remove them all.
        with kombu.Connection(kombu_url(URL)) as connection:
            channel = connection.channel()
            for queue in (self.pool, self.topic + '.info',
                          self.topic + '.error'):
                channel.queue_delete(queue)
            channel.exchange_delete(self.exchange)

    def emit(self, specs):
        """Nova's own emit path, in the OpenStack venv."""
        result = subprocess.run(
            [self.python, NOVA_NOTIFY, '--url', URL, '--exchange',
             self.exchange, '--topic', self.topic],
            input=json.dumps(specs), capture_output=True, text=True,
            timeout=120)
        self.assertEqual(0, result.returncode, result.stderr[-3000:])
        self.assertEqual(len(specs), json.loads(result.stdout)['emitted'])

    def send_raw(self, event_type, payload):
        """Any payload at all, as any oslo.messaging publisher sends it."""
        notifier = messaging.Notifier(
            self.transport, publisher_id='nova-compute:rogue',
            driver='messagingv2', topics=[self.topic])
        notifier.info({}, event_type, payload)

    def send_envelope(self, body):
        """A message body as it is on the wire, whatever it holds."""
        with kombu.Connection(kombu_url(URL)) as connection:
            producer = connection.Producer(exchange=kombu.Exchange(
                self.exchange, type='topic', durable=False))
            for item in body:
                producer.publish(item, routing_key=self.topic + '.info',
                                 serializer='json')

    def instance(self, event_type, host, size=SMALL, **kw):
        spec = {'event_type': event_type, 'uuid': self.server,
                'host': host, 'node': host and host + '.example.org',
                'name': 'web-1', 'project': 'p1', 'flavor': size,
                'metadata': {'valet_groups': 'web'}}
        spec.update(kw)
        return spec

    def up(self, event_type, host, size=SMALL):
        demand = {'VCPU': size['vcpus'], 'MEMORY_MB': size['memory_mb'],
                  'DISK_GB': size['root_gb']}
        return events.ServerUp(
            uuid=self.server, host=host + '.example.org', demand=demand,
            event_type=event_type, name='web-1', project='p1',
            flavor=size['name'], metadata={'valet_groups': 'web'})

    def test_server_life_follows_nova(self):
        self.server = str(uuid.uuid4())
        self.emit([
            self.instance('instance.create.start', 'cmp1',
                          state='building'),
            self.instance('instance.create.end', 'cmp1'),
            # Resize to a bigger flavor on another host, confirmed.
            self.instance('instance.resize_prep.end', 'cmp1',
                          new_flavor=LARGE),
            self.instance('instance.resize_finish.end', 'cmp2', LARGE,
                          state='resized'),
            self.instance('instance.resize_confirm.end', 'cmp2', LARGE,
                          publisher='cmp1'),
            # Cold migration: same flavor, new host.
            self.instance('instance.resize_finish.end', 'cmp3', LARGE,
                          state='resized'),
            self.instance('instance.resize_confirm.end', 'cmp3', LARGE,
                          publisher='cmp2'),
            # Live migration: the source's report is stale, the
            # destination's counts.
            self.instance('instance.live_migration_post_dest.end', 'cmp4',
                          LARGE),
            self.instance('instance.live_migration_post.end', 'cmp3',
                          LARGE),
            self.instance('instance.update', 'cmp4', LARGE),
            self.instance('instance.delete.end', 'cmp4', LARGE,
                          state='deleted'),
        ])
        got = self.recorder.wait_for(7)
        self.assertEqual([
            self.up('instance.create.end', 'cmp1'),
            self.up('instance.resize_finish.end', 'cmp2', LARGE),
            self.up('instance.resize_confirm.end', 'cmp2', LARGE),
            self.up('instance.resize_finish.end', 'cmp3', LARGE),
            self.up('instance.resize_confirm.end', 'cmp3', LARGE),
            self.up('instance.live_migration_post_dest.end', 'cmp4', LARGE),
            events.ServerGone(self.server, 'instance.delete.end',
                              host='cmp4.example.org'),
        ], got)
        self.assertEqual(7, self.listener.stats['delivered'])

    def test_evacuate_and_shelve(self):
        self.server = str(uuid.uuid4())
        self.emit([
            self.instance('instance.create.end', 'cmp1'),
            self.instance('instance.evacuate', 'cmp1', source='nova-api',
                          publisher='api'),
            self.instance('instance.rebuild.end', 'cmp2'),
            self.instance('instance.shelve_offload.end', None,
                          state='shelved_offloaded', publisher='cmp2'),
            self.instance('instance.unshelve.end', 'cmp3'),
            self.instance('instance.soft_delete.end', 'cmp3',
                          state='soft-delete'),
            self.instance('instance.restore.end', 'cmp3'),
        ])
        got = self.recorder.wait_for(5)
        self.assertEqual([
            self.up('instance.create.end', 'cmp1'),
            self.up('instance.rebuild.end', 'cmp2'),
            events.ServerGone(self.server, 'instance.shelve_offload.end'),
            self.up('instance.unshelve.end', 'cmp3'),
            self.up('instance.restore.end', 'cmp3'),
        ], got)

    def test_compute_services(self):
        self.emit([
            {'event_type': 'service.create', 'host': 'cmp9'},
            {'event_type': 'service.update', 'host': 'cmp9',
             'disabled': True, 'disabled_reason': 'maintenance'},
            {'event_type': 'service.update', 'host': 'cmp9'},
            {'event_type': 'service.update', 'host': 'cmp9',
             'forced_down': True},
            {'event_type': 'service.update', 'host': 'ctl1',
             'binary': 'nova-conductor', 'disabled': True},
            {'event_type': 'service.delete', 'host': 'ctl1',
             'binary': 'nova-conductor'},
            {'event_type': 'service.delete', 'host': 'cmp9'},
        ])
        got = self.recorder.wait_for(5)
        self.assertEqual([
            events.HostStatus('cmp9', True, 'service.create', known=False),
            events.HostStatus('cmp9', False, 'service.update'),
            events.HostStatus('cmp9', True, 'service.update'),
            events.HostStatus('cmp9', False, 'service.update'),
            events.HostGone('cmp9', 'service.delete'),
        ], got)
        self.assertEqual(2, self.listener.stats['ignored'])

    def test_malformed_is_dropped_and_listening_goes_on(self):
        server = str(uuid.uuid4())
        self.send_raw('instance.create.end', 'garbage')
        self.send_raw('instance.delete.end', {'uuid': server})
        self.send_raw('service.update', {
            'nova_object.name': 'ServiceStatusPayload',
            'nova_object.namespace': 'nova', 'nova_object.version': '1.1',
            'nova_object.data': {'host': 'cmp1', 'binary': 'nova-compute',
                                 'disabled': 'no', 'forced_down': False}})
        # Not even a readable envelope: oslo.messaging rejects these.
        self.send_envelope(['not an envelope', [1, 2],
                            {'oslo.version': '2.0', 'oslo.message': '{'}])
        self.server = server
        self.emit([self.instance('instance.delete.end', 'cmp1',
                                 state='deleted')])
        got = self.recorder.wait_for(1)
        self.assertEqual([events.ServerGone(server, 'instance.delete.end',
                                            host='cmp1.example.org')], got)
        self.assertEqual(3, self.listener.stats['malformed'])

    def test_unreadable_envelope_is_not_requeued_for_ever(self):
        # A priority that is not a string breaks oslo.messaging's own
        # dispatcher, which would requeue the message again and again.
        self.send_envelope([{'oslo.version': '2.0',
                             'oslo.message': json.dumps({
                                 'message_id': 'm-1', 'priority': None,
                                 'event_type': 'service.delete',
                                 'publisher_id': 'nova-compute:rogue',
                                 'payload': None})}])
        self.emit([{'event_type': 'service.delete', 'host': 'cmp9'}])
        got = self.recorder.wait_for(1)
        self.assertEqual([events.HostGone('cmp9', 'service.delete')], got)
        self.assertEqual(1, self.listener.stats['unreadable'])

    def test_transient_failure_is_retried_in_order(self):
        self.recorder.failures = [exception.StorageUnavailable('db down'),
                                  exception.StorageUnavailable('db down')]
        self.server = str(uuid.uuid4())
        self.emit([self.instance('instance.create.end', 'cmp1'),
                   self.instance('instance.delete.end', 'cmp1',
                                 state='deleted')])
        got = self.recorder.wait_for(2)
        self.assertEqual(['instance.create.end', 'instance.delete.end'],
                         [e.event_type for e in got])
        self.assertEqual(2, self.listener.stats['retried'])
        self.assertEqual(4, self.recorder.calls)

    def test_requeued_through_the_broker(self):
        self.conf.set_override('retry_attempts', 0,
                               group='nova_notifications')
        self.conf.set_override('requeue_limit', 2,
                               group='nova_notifications')
        self.recorder.failures = [exception.StorageUnavailable()] * 2
        self.emit([{'event_type': 'service.update', 'host': 'cmp7'}])
        got = self.recorder.wait_for(1)
        self.assertEqual([events.HostStatus('cmp7', True,
                                            'service.update')], got)
        self.assertEqual(2, self.listener.stats['requeued'])

    def test_a_bug_drops_the_message(self):
        self.recorder.failures = [KeyError('bug')]
        self.emit([{'event_type': 'service.update', 'host': 'cmp7'},
                   {'event_type': 'service.delete', 'host': 'cmp7'}])
        got = self.recorder.wait_for(1)
        self.assertEqual([events.HostGone('cmp7', 'service.delete')], got)
        self.assertEqual(1, self.listener.stats['failed'])

    def test_nothing_is_lost_while_the_listener_is_down(self):
        self.listener.stop()
        self.listener.wait()
        self.emit([{'event_type': 'service.update', 'host': 'cmp8',
                    'disabled': True}])
        self.listener.start()
        got = self.recorder.wait_for(1)
        self.assertEqual([events.HostStatus('cmp8', False,
                                            'service.update')], got)
