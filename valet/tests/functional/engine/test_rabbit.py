"""The engine's RPC round trip over a real RabbitMQ.

Unlike the fake transport, RabbitMQ serialises every reply and every error:
these tests prove that plans, codes and explanations survive the trip.
Skipped (or failed, with CI=true) when no broker listens on 127.0.0.1:5672.
"""

import os
import uuid

from oslo_config import cfg
from oslo_messaging import conffixture
from oslotest import base

from valet.common import exception
from valet import conf as valet_conf
from valet.engine import rpcapi
from valet.engine import manager
from valet.inventory import static
from valet.storage import memory
from valet.tests.functional import services

URL = os.environ.get('VALET_TEST_TRANSPORT_URL',
                     'rabbit://guest:guest@127.0.0.1:5672/')


def server(flavor, groups=()):
    props = {'flavor': flavor}
    if groups:
        props['metadata'] = {'valet': {'groups': list(groups)}}
    return {'type': 'OS::Nova::Server', 'properties': props}


class RabbitRoundTripTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        services.require_port(5672, 'RabbitMQ', hint='Start rabbitmq-server '
                              '(guest/guest) or set VALET_TEST_TRANSPORT_URL.')
        self.conf = cfg.ConfigOpts()
        valet_conf.register_all(self.conf)
        self.useFixture(conffixture.ConfFixture(self.conf))
        self.conf([])
        # A private topic and exchange, deleted when unused: no other
        # engine on the broker (or parallel test) answers us, and nothing
        # is left behind.
        unique = uuid.uuid4().hex
        self.conf.set_override('topic', 'valet-engine-test-' + unique,
                               group='engine')
        self.conf.set_override('control_exchange', 'valet-test-' + unique)
        self.conf.set_override('amqp_auto_delete', True,
                               group='oslo_messaging_rabbit')
        self.conf.set_override('rpc_timeout', 15, group='engine')
        self.transport = rpcapi.get_transport(self.conf, url=URL)
        self.addCleanup(self.transport.cleanup)
        self.engine = manager.EngineService(
            self.conf, memory.MemoryStorage(), static.StaticInventory(self.conf),
            transport=self.transport)
        self.engine.start()
        self.addCleanup(self.engine.wait)
        self.addCleanup(self.engine.stop)
        self.api = rpcapi.EngineAPI(self.conf, transport=self.transport)
        self.ctxt = {'project_id': 'p1'}

    def test_round_trip(self):
        self.assertEqual('ok', self.api.ping(self.ctxt)['engine']['status'])
        groups = {'web': {'name': 'web', 'type': 'diversity',
                          'level': 'rack', 'parents': []}}
        plan = {'plan_name': 'web', 'stack_id': 'stack-rabbit',
                'project_id': 'p1', 'groups': groups, 'locations': None,
                'resources': {'a': server('m1.small', ['web']),
                              'b': server('m1.medium', ['web'])}}
        out = self.api.create_plan(self.ctxt, plan)
        hosts = {o: p['location'] for o, p in out['placements'].items()}
        self.assertEqual({'a', 'b'}, set(hosts))

        err = self.assertRaises(exception.Conflict, self.api.create_plan,
                                self.ctxt, plan)
        self.assertEqual('valet.plan.exists', err.code)
        self.assertEqual({'stack_id': 'stack-rabbit'}, err.details)

        reserved = self.api.reserve(self.ctxt, 'a', [hosts['a']], 'vm-a')
        self.assertTrue(reserved['reserved'])
        advice = self.api.migrate(self.ctxt, 'stack-rabbit', 'vm-a', [])
        self.assertNotEqual(hosts['a'], advice['placements']['a']['location'])
        self.assertIsNone(self.api.delete_plan(self.ctxt, 'stack-rabbit'))

    def test_errors_keep_code_and_explanation(self):
        resources = {'x%d' % i: server('m1.xlarge', ['one-per-rack'])
                     for i in range(5)}
        err = self.assertRaises(
            exception.NoPlacement, self.api.create_plan, self.ctxt,
            {'plan_name': 'p', 'stack_id': 'too-big', 'project_id': 'p1',
             'resources': resources, 'locations': None,
             'groups': {'one-per-rack': {'name': 'one-per-rack',
                                         'type': 'diversity',
                                         'level': 'rack'}}})
        self.assertEqual('valet.placement.none', err.code)
        self.assertIn('summary', err.details)
        err = self.assertRaises(
            exception.BadRequest, self.api.create_plan, self.ctxt,
            {'plan_name': 'p', 'stack_id': 's', 'locations': None,
             'resources': {'a': server('m9.huge')}, 'groups': {}})
        self.assertEqual('valet.plan.unknown_flavor', err.code)

    def test_no_engine_is_unavailable(self):
        self.engine.stop()
        self.engine.wait()
        self.conf.set_override('rpc_timeout', 1, group='engine')
        api = rpcapi.EngineAPI(self.conf, transport=self.transport)
        self.assertRaises(exception.EngineUnavailable, api.ping, self.ctxt)
