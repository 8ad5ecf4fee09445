"""Heat's stack notifications: parsing and delivery.

Heat cannot run in unit tests: the messages are shaped as Heat's
``format_notification_body`` sends them and carried by oslo.messaging's
fake driver (the functional Heat tests use real Heat and RabbitMQ).
"""

import threading

import fixtures
from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging import conffixture
from oslotest import base

from valet.common import exception
from valet import conf as valet_conf
from valet.conf import heat as conf_heat
from valet.inventory.openstack import heat_notifications

STACK = '2b3f1c1e-7d5a-4f7e-9a53-0a7a1f4d5c11'


def body(stack_id=STACK, state='DELETE_COMPLETE'):
    return {'tenant_id': 'p1', 'user_id': 'alice', 'user_identity': 'u1',
            'username': 'alice', 'stack_identity': stack_id,
            'stack_name': 'shop', 'state': state, 'state_reason':
            'Stack DELETE completed successfully', 'create_at':
            '2026-12-03T09:00:00Z', 'tags': None, 'updated_at': None,
            'description': 'shop'}


class ParseTest(base.BaseTestCase):

    def test_delete_start_and_end_name_the_stack(self):
        self.assertEqual(STACK, heat_notifications.deleted_stack(
            'orchestration.stack.delete.end', body()))
        self.assertEqual(STACK, heat_notifications.deleted_stack(
            'orchestration.stack.delete.start',
            body(state='DELETE_IN_PROGRESS')))

    def test_other_events_name_nothing(self):
        for event_type in ('orchestration.stack.delete.error',
                           'orchestration.stack.create.end',
                           'orchestration.autoscaling.end'):
            self.assertIsNone(heat_notifications.deleted_stack(
                event_type, body()))

    def test_malformed(self):
        for payload in ('x', {}, body(stack_id=7),
                        body(state='DELETE_FAILED')):
            self.assertRaises(heat_notifications.MalformedNotification,
                              heat_notifications.deleted_stack,
                              'orchestration.stack.delete.end', payload)


class ConfigTest(base.BaseTestCase):

    def conf(self, **heat):
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        self.useFixture(conffixture.ConfFixture(conf))
        conf([])
        for name, value in heat.items():
            conf.set_override(name, value, group='heat')
        return conf

    def test_enabled_with_the_stack_reader(self):
        self.assertFalse(conf_heat.notifications_enabled(self.conf()))
        conf = self.conf(auth_type='password')
        self.assertTrue(conf_heat.notifications_enabled(conf))
        conf.set_override('enabled', False, group='heat_notifications')
        self.assertFalse(conf_heat.notifications_enabled(conf))

    def test_transport_falls_back_to_novas(self):
        conf = self.conf()
        conf.set_override('transport_url', 'rabbit://n/',
                          group='nova_notifications')
        self.assertEqual('rabbit://n/',
                         heat_notifications.transport_url(conf))
        conf.set_override('transport_url', 'rabbit://h/',
                          group='heat_notifications')
        self.assertEqual('rabbit://h/',
                         heat_notifications.transport_url(conf))

    def test_pool_must_be_its_own(self):
        conf = self.conf()
        conf.set_override('pool', conf.nova_notifications.pool,
                          group='heat_notifications')
        transport = messaging.get_notification_transport(conf, url='fake:/')
        self.addCleanup(transport.cleanup)
        self.assertRaises(ValueError,
                          heat_notifications.StackNotificationListener,
                          conf, lambda stack_id: True, transport=transport)


class DeliveryTest(base.BaseTestCase):
    """Through oslo.messaging's fake driver, as Heat's Notifier sends."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        self.useFixture(conffixture.ConfFixture(conf))
        conf([])
        conf.set_override('retry_interval', 0.0, group='nova_notifications')
        # The fake driver publishes on the default control exchange.
        conf.set_override('exchange', 'openstack',
                          group='heat_notifications')
        transport = messaging.get_notification_transport(conf, url='fake:/')
        self.addCleanup(transport.cleanup)
        self.deleted, self.failures = [], []
        self.done = threading.Event()
        self.listener = heat_notifications.StackNotificationListener(
            conf, self.forget, transport=transport,
            transient_errors=(exception.StorageUnavailable,))
        self.notifier = messaging.Notifier(
            transport, driver='messagingv2', topics=['notifications'],
            publisher_id='orchestration.heat-host')
        self.listener.start()
        self.addCleanup(self.listener.wait)
        self.addCleanup(self.listener.stop)

    def forget(self, stack_id):
        if self.failures:
            raise self.failures.pop(0)
        self.deleted.append(stack_id)
        if stack_id == 'last':
            self.done.set()
        return True

    def test_deleted_stacks_are_delivered_and_the_rest_skipped(self):
        self.failures.append(exception.StorageUnavailable())
        self.notifier.info({}, 'orchestration.stack.create.end', body('c'))
        self.notifier.info({}, 'orchestration.stack.delete.start',
                           body(state='DELETE_IN_PROGRESS'))
        self.notifier.info({}, 'orchestration.stack.delete.end', 'junk')
        self.notifier.info({}, 'orchestration.stack.delete.end',
                           body('last'))
        self.assertTrue(self.done.wait(10))
        # The transient failure was retried in place: order kept.
        self.assertEqual([STACK, 'last'], self.deleted)
        self.assertEqual(2, self.listener.deleted)
