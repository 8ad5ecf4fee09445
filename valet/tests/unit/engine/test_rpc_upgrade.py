"""An API upgraded before its engine: the engine still serves RPC 1.0.

A real RPC server (oslo.messaging's fake transport) serves an endpoint
whose target is 1.0, as a not yet upgraded ``valet-engine``'s was; the
API's 1.1 calls must come back as a clean 503 saying to upgrade the
engine first, while the 1.0 calls keep working.
"""

from unittest import mock

import fixtures
from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging import conffixture

from valet.common import exception
from valet import conf as valet_conf
from valet.engine import rpcapi
from valet.tests.unit.api import base as api_base


class OldEndpoint:
    """The 1.0 engine: no plan_create, plan_update or capacity."""

    target = messaging.Target(version='1.0')

    def ping(self, ctxt):
        return {'engine': {'status': 'ok'}, 'storage': {'ok': True}}

    def create_plan(self, ctxt, plan):
        return {'id': 'old', 'name': plan['plan_name'],
                'stack_id': plan['stack_id'], 'placements': {}}


class OldEngineMixin:

    def start_old_engine(self, conf):
        # oslo.messaging registers some of its options on the global CONF
        # only; the fixture registers them all on ours.
        self.useFixture(conffixture.ConfFixture(conf))
        conf.set_override('rpc_timeout', 20, group='engine')
        # The fake driver's exchanges are process-wide: one per test.
        conf.set_override('control_exchange', 'valet-' + self.id())
        transport = rpcapi.get_transport(conf, url='fake://')
        self.addCleanup(transport.cleanup)
        server = messaging.get_rpc_server(
            transport, messaging.Target(topic=conf.engine.topic,
                                        server='old-engine'),
            [OldEndpoint()], executor='threading',
            access_policy=messaging.DefaultRPCAccessPolicy)
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        return rpcapi.EngineAPI(conf, transport=transport)


class OldEngineRPCTest(OldEngineMixin, api_base.testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf([], default_config_files=[])
        self.api = self.start_old_engine(conf)

    def assertUpgradeFirst(self, func, *args, **kwargs):
        error = self.assertRaises(exception.EngineUnavailable, func,
                                  *args, **kwargs)
        self.assertEqual(503, error.status)
        self.assertIn('Upgrade valet-engine first', str(error))
        self.assertIn('RPC 1.1', str(error))
        return error

    def test_1_1_calls_ask_for_the_engine_upgrade(self):
        self.assertUpgradeFirst(self.api.plan_create, {}, {
            'plan_name': 'p', 'stack_id': 's'}, dry_run=True)
        self.assertUpgradeFirst(self.api.capacity, {}, {'flavor': 'x'})

    def test_1_0_calls_still_work(self):
        self.assertEqual('ok', self.api.ping({})['engine']['status'])
        self.assertEqual('old', self.api.create_plan({}, {
            'plan_name': 'p', 'stack_id': 's'})['id'])

    def test_real_drivers_remote_error_is_recognised(self):
        # Over RabbitMQ the dispatcher's error arrives as a RemoteError
        # naming its class (oslo.messaging is not an allowed module).
        for exc_type in ('UnsupportedVersion', 'NoSuchMethod'):
            with mock.patch.object(
                    self.api.client, 'prepare') as prepare:
                prepare.return_value.call.side_effect = \
                    messaging.RemoteError(exc_type, 'no', [])
                self.assertUpgradeFirst(self.api.plan_update, {}, 'p', {},
                                        {})

    def test_other_errors_are_not_mistaken_for_an_old_engine(self):
        with mock.patch.object(self.api.client, 'prepare') as prepare:
            prepare.return_value.call.side_effect = messaging.RemoteError(
                'KeyError', 'boom', [])
            self.assertRaises(messaging.RemoteError, self.api.plan_create,
                              {}, {})
        # A 1.0 call to a method the engine lacks is not an upgrade issue.
        self.assertRaises((messaging.RemoteError,
                           messaging.MessagingException),
                          self.api.delete_plan, {}, 'p')


class OldEngineAPITest(OldEngineMixin, api_base.APITestCase):
    """Through the REST API: an API-SIG 503, never a 500."""

    def build_app(self):
        super().build_app()
        self.engine = self.start_old_engine(self.conf)
        self.app = api_base.webtest.TestApp(api_base.api_app.setup_app(
            self.conf, self.engine, self.storage))

    def test_plan_create_and_capacity_answer_503(self):
        resp = self.post('/v1/plans', {
            'plan_name': 'p', 'stack_id': 's', 'resources': {
                'o1': api_base.server('a')}}, headers=api_base.MEMBER)
        error = self.assertError(resp, 503, 'valet.engine.unavailable')
        self.assertIn('Upgrade valet-engine first', error['detail'])
        headers = dict(api_base.MEMBER)
        headers['OpenStack-API-Version'] = 'workload-placement 1.8'
        resp = self.get('/v1/capacity?flavor=m1.small', headers=headers)
        error = self.assertError(resp, 503, 'valet.engine.unavailable')
        self.assertIn('Upgrade valet-engine first', error['detail'])

    def test_real_drivers_remote_error_is_a_503_not_a_500(self):
        with mock.patch.object(self.engine.client, 'prepare') as prepare:
            prepare.return_value.call.side_effect = messaging.RemoteError(
                'UnsupportedVersion', 'Endpoint does not support RPC '
                'version 1.1', [])
            resp = self.post('/v1/plans', {
                'plan_name': 'p', 'stack_id': 's', 'resources': {
                    'o1': api_base.server('a')}}, headers=api_base.MEMBER)
        error = self.assertError(resp, 503, 'valet.engine.unavailable')
        self.assertIn('Upgrade valet-engine first', error['detail'])
