"""``valet.engine.local``: the engine called in-process, as over RPC.

Every case asks the same engine the same thing twice: through
``rpcapi.EngineAPI`` over oslo.messaging's ``fake://`` transport (a real
RPC server thread) and through ``LocalEngineAPI``; answers and errors
must be the same.
"""

import inspect
import re
import threading

import fixtures
from oslo_config import cfg
from oslo_messaging import conffixture
from oslo_serialization import jsonutils

from valet.cmd import api as cmd_api
from valet.common import exception
from valet import conf as valet_conf
from valet.engine import local
from valet.engine import service
from valet.storage import memory
from valet.tests.unit.engine import test_service as base

server, plan, group = base.server, base.plan, base.group


class BrokenStorage(memory.MemoryStorage):
    """Storage failing with an error no part of Valet expects."""

    def get_plan(self, id_or_stack_id, project_id=None):
        raise RuntimeError('disk on fire at /var/lib/secret')

    def insert_plan(self, plan, placements):
        raise RuntimeError('disk on fire at /var/lib/secret')


class LocalClientTest(base.EngineServiceTestBase):

    def setUp(self):
        super().setUp()
        self.local = local.LocalEngineAPI(self.conf, self.engine.endpoint)
        self.addCleanup(self.local.close)

    def both(self, method, *args, **kwargs):
        """(RPC outcome, local outcome): an answer or the raised error."""
        out = []
        for api in (self.api, self.local):
            try:
                out.append(getattr(api, method)(self.ctxt, *args, **kwargs))
            except Exception as exc:
                out.append(exc)
        return out

    def assertSameError(self, cls, remote, here):
        # A broker-backed RPC client sees a subclass made for the trip
        # (<name>_Remote); the class itself is what counts.
        remote_cls = type(remote)
        if remote_cls.__name__.endswith('_Remote'):
            remote_cls = remote_cls.__mro__[1]
        self.assertIs(cls, remote_cls)
        self.assertIs(cls, type(here))
        self.assertEqual((remote.code, remote.message, remote.details,
                          remote.status),
                         (here.code, here.message, here.details, here.status))
        # Rebuilt, never the engine's own object with its traceback.
        self.assertIsNot(remote, here)
        self.assertIsNone(here.__cause__)
        self.assertTrue(here.__suppress_context__)

    def test_ping_answers_alike(self):
        remote, here = self.both('ping')
        remote['engine'].pop('started_at')
        here['engine'].pop('started_at')
        self.assertEqual(remote, here)

    def test_plans_answer_alike(self):
        created = self.local.create_plan(self.ctxt, plan('s1', {
            'o1': server(groups=['spread'], name='a'),
            'o2': server(groups=['spread'], name='b')},
            groups=group('spread', 'diversity')))
        hosts = {p['location'] for p in created['placements'].values()}
        self.assertEqual(2, len(hosts))
        remote, here = self.both('migrate', created['id'], 'o1', [])
        self.assertEqual(remote, here)
        remote, here = self.both('group_members', 'spread')
        self.assertEqual(remote, here)
        self.assertEqual(2, len(here))
        self.assertIsNone(self.local.delete_plan(self.ctxt, created['id']))
        self.assertEqual([], self.api.group_members(self.ctxt, 'spread'))

    def test_errors_map_alike(self):
        self.local.create_plan(self.ctxt, plan('s1', {'o1': server()}))
        cases = [
            (exception.Conflict, 'create_plan',
             (plan('s1', {'o9': server()}),)),
            (exception.BadRequest, 'create_plan', ('not a plan',)),
            (exception.NotFound, 'delete_plan', ('no-such-plan',)),
            (exception.NotFound, 'group_members', ('no-such-group',)),
            # Three servers in rack diversity on two racks: the engine's
            # explanation travels in details.
            (exception.NoPlacement, 'create_plan',
             (plan('s2', {'x%d' % i: server('large', groups=['spread'])
                          for i in range(3)},
                   group('spread', 'diversity', 'rack')),)),
        ]
        for cls, method, args in cases:
            remote, here = self.both(method, *args)
            self.assertSameError(cls, remote, here)
        self.assertIn('summary', here.details)

    def test_unexpected_errors_map_alike(self):
        self.engine.endpoint.storage = BrokenStorage()
        remote, here = self.both('create_plan', plan('s1', {'o1': server()}))
        self.assertSameError(exception.ValetException, remote, here)
        self.assertEqual('valet.engine.error', here.code)
        self.assertNotIn('secret', here.message)

    def test_answers_are_copies_through_json(self):
        resources = {'o1': server(name='a')}
        created = self.local.create_plan(self.ctxt, plan('s1', resources))
        placement = created['placements']['o1']
        placement['location'] = 'elsewhere'
        stored = self.storage.list_placements()[0]
        self.assertNotEqual('elsewhere', stored.location)
        # Tuples cross as lists, as they do over RPC.
        remote, here = self.both('reserve', stored.id, ('r0h0', 'r0h1'),
                                 'nova-1')
        self.assertEqual(remote['location'], here['location'])

    def test_the_copy_is_what_json_would_give(self):
        class Text(str):
            pass
        values = [
            {'a': [1, 2.5, -0.0, None, True, 'x\ud800'], 'b': {'c': {}}},
            {'t': ('a', ['b', ('c',)])}, {1: 'int key'}, ['s', Text('t')],
            {'n': float('inf')}, [], 'text', 7]
        for value in values:
            expected = jsonutils.loads(jsonutils.dumps(value))
            copied = local._wire(value)
            self.assertEqual(expected, copied)
            self.assertEqual(repr(expected), repr(copied))
        nested = {'a': {'b': [{'c': 1}]}}
        copied = local._wire(nested)
        copied['a']['b'][0]['c'] = 2
        self.assertEqual(1, nested['a']['b'][0]['c'])

    def test_plan_answers_are_their_own_json(self):
        # Handed over without a copy: they must be what the trip through
        # JSON would give, and share nothing with the message or storage.
        hints = {'heat_path_in_stack': ['root', 'a,b']}
        message = plan('s1', {'o1': server(name='a', hints=hints),
                              'o2': server(groups=['spread'], name='b')},
                       groups=group('spread', 'diversity'))
        created = self.local.plan_create(self.ctxt, message)
        plan_id = created['plan']['id']
        answers = [
            created,
            self.local.plan_create(self.ctxt, plan('s2', {
                'o3': server()}), dry_run=True),
            self.local.plan_update(self.ctxt, plan_id, {
                'o1': server(name='a', hints=hints),
                'o4': server(name='c')}, message['groups']),
            self.local.plan_migrate(self.ctxt, plan_id, 'o1', []),
        ]
        for answer in answers:
            trip = jsonutils.loads(jsonutils.dumps(answer))
            self.assertEqual(trip, answer)
            self.assertEqual(repr(trip), repr(answer))
        for answer in answers[0], answers[2], answers[3]:
            mine = [p for p in answer['placements']
                    if p['orchestration_id'] == 'o1'][0]['metadata']
            self.assertEqual(hints, mine)
            mine['heat_path_in_stack'].append('changed')
        self.assertEqual(['root', 'a,b'], hints['heat_path_in_stack'])
        stored = [p for p in self.storage.list_placements()
                  if p.orchestration_id == 'o1'][0]
        self.assertEqual(hints, stored.metadata)

    def test_fresh_answers_are_the_planning_results(self):
        source = inspect.getsource(service)
        fresh = set(re.findall(
            r'def (\w+)\(self[^)]*\):\s+"""RPC 1\.1: [^"]*answering a '
            r'``planning\.result``', source))
        self.assertEqual(set(local.FRESH_ANSWERS), fresh)

    def test_handed_over_arguments_cross_as_they_are(self):
        class Endpoint:
            lock = threading.RLock()

            def plan_create(self, ctxt, plan, dry_run=False):
                seen.append(plan)
                return {'plan': {}}
        seen = []
        client = local.LocalEngineAPI(self.conf, Endpoint())
        resources = {'o1': server()}
        client.plan_create({}, local.HandedOver(plan('s1', resources)))
        client.plan_create({}, plan('s2', resources))
        handed, copied = seen
        self.assertIs(dict, type(handed))
        self.assertEqual(plan('s1', resources), handed)
        self.assertIs(resources, handed['resources'])
        self.assertEqual(plan('s2', resources), copied)
        self.assertIsNot(resources, copied['resources'])

    def hold_engine(self):
        """Have another thread hold the engine's lock until told.

        That is a decision under way; setting the returned event ends it.
        """
        held, release = threading.Event(), threading.Event()

        def decide():
            with self.engine.endpoint.lock:
                held.set()
                release.wait(30)
        thread = threading.Thread(target=decide)
        thread.start()
        self.assertTrue(held.wait(30))
        self.addCleanup(thread.join)
        self.addCleanup(release.set)
        return release

    def test_one_decision_at_a_time_and_timeout(self):
        self.conf.set_override('rpc_timeout', 1, group='engine')
        release = self.hold_engine()
        # The call waits for the engine and gives up after rpc_timeout
        # like an RPC call, and is never run.
        err = self.assertRaises(exception.EngineUnavailable,
                                self.local.create_plan, self.ctxt,
                                plan('s1', {'o1': server()}))
        self.assertIn('did not answer within 1', err.message)
        release.set()
        self.assertEqual([], self.storage.list_placements())
        self.local.create_plan(self.ctxt, plan('s2', {'o2': server()}))
        self.assertEqual(1, len(self.storage.list_placements()))

    def test_status_answers_during_a_decision(self):
        self.conf.set_override('rpc_timeout', 1, group='engine')
        self.hold_engine()
        self.assertEqual('ok', self.local.ping(self.ctxt)['engine']['status'])

    def test_unlocked_methods_are_the_endpoints(self):
        # The endpoint's rpc_method(locked=False) methods, from its source.
        source = inspect.getsource(service)
        unlocked = set(re.findall(
            r'@rpc_method\(locked=False\)\s+def (\w+)', source))
        self.assertEqual(set(local.UNLOCKED), unlocked)


class AllInOneUsesLocalClientTest(base.EngineServiceTestBase):

    def test_all_in_one_calls_the_endpoint_directly(self):
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf.register_cli_opts(cmd_api.CLI_OPTS)
        self.useFixture(conffixture.ConfFixture(conf))
        conf(['--all-in-one', '--inventory', self.inventory.file],
             project='valet', default_config_files=[])
        conf.set_override('state_dir', self.tmp)
        conf.set_override('host', 'engine-' + self.id(), group='engine')
        engine_api, store, engine = cmd_api.start_all_in_one(conf)
        self.addCleanup(self.stop_engine, engine)
        self.addCleanup(engine_api.close)
        self.assertIsInstance(engine_api, local.LocalEngineAPI)
        self.assertIs(engine.endpoint, engine_api.endpoint)
        self.assertIs(store, engine.endpoint.storage)
        self.assertEqual(4, engine_api.ping({})['engine']['hosts'])

    def test_all_in_one_builds_its_model_without_collections(self):
        import gc
        from valet.engine import manager
        seen = []
        start = manager.EngineService.start

        def spy(engine):
            seen.append(gc.isenabled())
            return start(engine)
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf.register_cli_opts(cmd_api.CLI_OPTS)
        self.useFixture(conffixture.ConfFixture(conf))
        conf(['--all-in-one', '--inventory', self.inventory.file],
             project='valet', default_config_files=[])
        conf.set_override('state_dir', self.tmp)
        conf.set_override('host', 'engine-gc-' + self.id(), group='engine')
        self.useFixture(fixtures.MockPatchObject(
            manager.EngineService, 'start', spy))
        engine_api, store, engine = cmd_api.start_all_in_one(conf)
        self.addCleanup(self.stop_engine, engine)
        self.addCleanup(engine_api.close)
        self.assertEqual([False], seen)
        self.assertTrue(gc.isenabled())
