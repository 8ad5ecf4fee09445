"""The engine service over oslo.messaging's fake transport.

A real RPC server thread serves the endpoint; ``rpcapi.EngineAPI`` is the
client, exactly as the API uses it.
"""

import os

import fixtures
from oslo_config import cfg
from oslo_messaging import conffixture
from oslotest import base
import yaml

from valet.common import exception
from valet import conf as valet_conf
from valet.engine import rpcapi
from valet.engine import manager
from valet.inventory import static
from valet.storage import base as storage_base
from valet.storage import memory

SERVER = 'OS::Nova::Server'


def inventory_doc(racks=2, hosts_per_rack=2):
    hosts = []
    for r in range(racks):
        for h in range(hosts_per_rack):
            hosts.append({'name': 'r%dh%d' % (r, h), 'rack': 'r%d' % r,
                          'zone': 'z0', 'availability_zone': 'az0',
                          'vcpus': 8, 'memory_mb': 16384, 'disk_gb': 200})
    return {'levels': ['host', 'rack', 'zone'],
            'flavors': {'small': {'id': '1', 'vcpus': 1, 'ram': 2048,
                                  'disk': 20},
                        'large': {'id': '2', 'vcpus': 4, 'ram': 8192,
                                  'disk': 80},
                        'full': {'id': '3', 'vcpus': 8, 'ram': 16384,
                                 'disk': 160}},
            'hosts': hosts}


def server(flavor='small', groups=(), name=None, hints=None):
    props = {'flavor': flavor}
    if groups:
        props['metadata'] = {'valet': {'groups': list(groups)}}
    return {'name': name, 'type': SERVER, 'properties': props,
            'metadata': hints or {}}


def plan(stack_id, resources, groups=None, **kw):
    out = {'plan_name': 'plan-' + stack_id, 'stack_id': stack_id,
           'project_id': 'p1', 'resources': resources,
           'groups': groups or {}, 'locations': None}
    out.update(kw)
    return out


def group(name, kind, level='host', parents=()):
    return {name: {'name': name, 'type': kind, 'level': level,
                   'parents': list(parents)}}


class FlakyStorage(memory.MemoryStorage):
    """Memory storage whose backend has gone away."""

    def get_plan(self, id_or_stack_id, project_id=None):
        raise storage_base.Unavailable('database is down')

    def insert_plan(self, plan, placements):
        raise storage_base.Unavailable('database is down')


class EngineServiceTestBase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        valet_conf.register_all(self.conf)
        # oslo.messaging registers some of its options on the global CONF
        # only; the fixture registers them all on ours.
        self.useFixture(conffixture.ConfFixture(self.conf))
        self.conf([])
        self.conf.set_override('rpc_timeout', 20, group='engine')
        self.conf.set_override('host', 'engine-' + self.id(), group='engine')
        # The fake driver's exchanges are process-wide: one per test keeps
        # a stray message of one test away from the next test's engine.
        self.conf.set_override('control_exchange', 'valet-' + self.id())
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.inventory = self.make_inventory(inventory_doc())
        self.storage = memory.MemoryStorage()
        self.transport = rpcapi.get_transport(self.conf, url='fake://')
        self.addCleanup(self.transport.cleanup)
        self.engine = self.start_engine()
        self.api = rpcapi.EngineAPI(self.conf, transport=self.transport)
        self.ctxt = {'project_id': 'p1'}

    def make_inventory(self, doc):
        path = os.path.join(self.tmp, 'inventory-%d.yaml' % len(
            os.listdir(self.tmp)))
        with open(path, 'w') as handle:
            yaml.safe_dump(doc, handle)
        return static.StaticInventory(self.conf, path=path)

    def start_engine(self, storage=None, inventory=None):
        engine = manager.EngineService(self.conf, storage or self.storage,
                                       inventory or self.inventory,
                                       transport=self.transport)
        engine.start()
        self.addCleanup(self.stop_engine, engine)
        return engine

    @staticmethod
    def stop_engine(engine):
        if engine._server is not None:
            engine.stop()
            engine.wait()

    @property
    def dc(self):
        return self.engine.endpoint.dc

    def placements(self, plan_id):
        stored = self.storage.get_plan(plan_id)
        return {p.orchestration_id: p for p in self.storage.list_placements(
            filters={'plan_id': stored.id})}

    def rack(self, host):
        return self.dc.domain_of(host, 'rack')


class PlanTest(EngineServiceTestBase):

    def test_ping(self):
        out = self.api.ping(self.ctxt)
        self.assertEqual('ok', out['engine']['status'])
        self.assertEqual(4, out['engine']['hosts'])
        self.assertTrue(out['storage']['ok'])

    def test_create_stores_plan_and_placements(self):
        resources = {'o1': server(groups=['web'], name='web1',
                                  hints={'heat_resource_uuid': 'o1'}),
                     'o2': server('large', groups=['web'], name='web2'),
                     'vol': {'type': 'OS::Cinder::Volume', 'properties': {}}}
        out = self.api.create_plan(self.ctxt, plan(
            's1', resources, group('web', 'diversity', 'rack')))
        self.assertEqual('s1', out['stack_id'])
        self.assertEqual({'o1', 'o2'}, set(out['placements']))
        hosts = {o: p['location'] for o, p in out['placements'].items()}
        self.assertNotEqual(self.rack(hosts['o1']), self.rack(hosts['o2']))
        # Stored before the reply: what the API shows is there.
        stored = self.storage.get_plan('s1')
        self.assertEqual(out['id'], stored.id)
        self.assertEqual('p1', stored.project_id)
        placements = self.placements('s1')
        self.assertEqual(hosts, {o: p.location
                                 for o, p in placements.items()})
        first = placements['o1']
        self.assertEqual({'heat_resource_uuid': 'o1'}, first.metadata)
        self.assertEqual('web1', first.name)
        self.assertFalse(first.reserved)
        self.assertEqual({'VCPU': 1, 'MEMORY_MB': 2048, 'DISK_GB': 20},
                         first.spec['demand'])
        self.assertEqual(['web'], first.spec['groups'])
        self.assertIn('availability_zone', first.spec)
        self.assertIn('extra_specs', first.spec)
        self.assertEqual('diversity',
                         first.spec['group_definitions']['web']['type'])
        # And the model holds them.
        self.assertEqual(hosts['o2'], self.dc.servers['o2'].host)
        self.assertIn('web', self.dc.groups)

    def test_create_without_servers(self):
        out = self.api.create_plan(self.ctxt, plan(
            's0', {'vol': {'type': 'OS::Cinder::Volume'}}))
        self.assertEqual({}, out['placements'])
        self.assertEqual(out['id'], self.storage.get_plan('s0').id)

    def test_duplicate_stack(self):
        self.api.create_plan(self.ctxt, plan('s1', {'o1': server()}))
        err = self.assertRaises(
            exception.Conflict, self.api.create_plan, self.ctxt,
            plan('s1', {'o9': server()}))
        self.assertEqual('valet.plan.exists', err.code)
        self.assertEqual(409, err.status)
        self.assertNotIn('o9', self.dc.servers)

    def test_existing_stack_conflicts_before_any_other_error(self):
        self.api.create_plan(self.ctxt, plan('s1', {'o1': server()}))
        stored = self.storage.get_plan('s1')
        infeasible = plan('s1', {'o%d' % i: server('large', groups=['sp'])
                                 for i in range(3)},
                          group('sp', 'diversity', 'rack'))
        for again in (infeasible, plan('s1', {'o9': server('m9.huge')}),
                      plan('s1', {'o9': server(groups=['nowhere'])})):
            err = self.assertRaises(exception.Conflict, self.api.create_plan,
                                    self.ctxt, again)
            self.assertEqual('valet.plan.exists', err.code)
        self.assertEqual(stored, self.storage.get_plan('s1'))
        self.assertEqual(['o1'], sorted(self.dc.servers))

    def test_dry_run_of_an_existing_stack_conflicts(self):
        self.api.create_plan(self.ctxt, plan('s1', {'o1': server()}))
        err = self.assertRaises(exception.Conflict, self.api.plan_create,
                                self.ctxt, plan('s1', {'o9': server()}),
                                dry_run=True)
        self.assertEqual('valet.plan.exists', err.code)
        self.assertEqual(['o1'], sorted(self.dc.servers))

    def test_a_create_that_succeeds_reads_no_plan(self):
        # The insert refuses a second plan for a stack itself: a create
        # that succeeds does not also look the stack up first.
        reads = []
        get_plan = self.storage.get_plan
        self.storage.get_plan = lambda *a, **k: reads.append(a) or get_plan(
            *a, **k)
        self.api.create_plan(self.ctxt, plan('s1', {'o1': server()}))
        self.assertEqual([], reads)
        self.assertRaises(exception.Conflict, self.api.create_plan,
                          self.ctxt, plan('s1', {'o2': server()}))
        self.assertEqual([('s1',)], reads)
        self.assertNotIn('o2', self.dc.servers)

    def test_unknown_flavor(self):
        err = self.assertRaises(
            exception.BadRequest, self.api.create_plan, self.ctxt,
            plan('s1', {'o1': server('m9.huge')}))
        self.assertEqual('valet.plan.unknown_flavor', err.code)
        self.assertIn('m9.huge', err.message)
        self.assertRaises(storage_base.NotFound, self.storage.get_plan, 's1')

    def test_unknown_group(self):
        err = self.assertRaises(
            exception.BadRequest, self.api.create_plan, self.ctxt,
            plan('s1', {'o1': server(groups=['nowhere'])}))
        self.assertEqual('valet.request.unknown_group', err.code)

    def test_infeasible_plan_is_explained(self):
        resources = {'o%d' % i: server('large', groups=['spread'])
                     for i in range(3)}
        err = self.assertRaises(
            exception.NoPlacement, self.api.create_plan, self.ctxt,
            plan('s1', resources, group('spread', 'diversity', 'rack')))
        self.assertEqual('valet.placement.none', err.code)
        self.assertIn('summary', err.details)
        self.assertIn('groups', err.details)
        self.assertIn(err.details['summary'], err.message)
        self.assertRaises(storage_base.NotFound, self.storage.get_plan, 's1')
        self.assertEqual({}, self.dc.servers)

    def test_adhoc_locations(self):
        out = self.api.create_plan(self.ctxt, plan(
            'vm-1', {'vm-1': server()}, locations=['r1h1']))
        self.assertEqual('r1h1', out['placements']['vm-1']['location'])

    def test_update(self):
        self.api.create_plan(self.ctxt, plan(
            's1', {'keep': server(groups=['web']),
                   'drop': server(groups=['web'])},
            group('web', 'diversity')))
        before = self.placements('s1')
        self.api.reserve(self.ctxt, 'keep', [before['keep'].location], 'vm')
        out = self.api.update_plan(
            self.ctxt, 's1',
            {'keep': server(groups=['web']), 'new': server(groups=['web'])},
            group('web', 'diversity'), plan_name='renamed')
        self.assertEqual({'keep', 'new'}, set(out['placements']))
        self.assertEqual('renamed', out['name'])
        after = self.placements('s1')
        self.assertEqual(before['keep'].location, after['keep'].location)
        self.assertTrue(after['keep'].reserved)
        self.assertEqual(before['keep'].id, after['keep'].id)
        self.assertNotEqual(after['keep'].location, after['new'].location)
        self.assertNotIn('drop', after)
        self.assertNotIn('drop', self.dc.servers)
        self.assertIn('new', self.dc.servers)

    def test_update_to_nothing(self):
        self.api.create_plan(self.ctxt, plan('s1', {'a': server()}))
        out = self.api.update_plan(self.ctxt, 's1', {}, {})
        self.assertEqual({}, out['placements'])
        self.assertEqual({}, self.placements('s1'))
        self.assertEqual({}, self.dc.servers)

    def test_update_unknown_plan(self):
        err = self.assertRaises(exception.NotFound, self.api.update_plan,
                                self.ctxt, 'nope', {}, {})
        self.assertEqual(404, err.status)

    def test_migrate_is_advice_only(self):
        self.api.create_plan(self.ctxt,
                             plan('s1', {'o1': server(), 'o2': server()}))
        before = self.placements('s1')
        self.api.reserve(self.ctxt, 'o1', [], 'vm-1')
        current = before['o1'].location
        generation = self.dc.generation
        out = self.api.migrate(self.ctxt, 's1', 'vm-1', ['r1h1'])
        advised = out['placements']['o1']['location']
        self.assertNotIn(advised, (current, 'r1h1'))
        self.assertEqual(before['o2'].location,
                         out['placements']['o2']['location'])
        self.assertEqual(current, self.placements('s1')['o1'].location)
        self.assertEqual(current, self.dc.servers['o1'].host)
        self.assertEqual(generation, self.dc.generation)
        # By orchestration id as well.
        out = self.api.migrate(self.ctxt, 's1', 'o2', [])
        self.assertNotEqual(before['o2'].location,
                            out['placements']['o2']['location'])
        err = self.assertRaises(exception.BadRequest, self.api.migrate,
                                self.ctxt, 's1', 'unknown', [])
        self.assertEqual('valet.plan.resource_unknown', err.code)

    def test_delete_plan(self):
        self.api.create_plan(self.ctxt, plan('s1', {'o1': server('full')}))
        host = self.dc.servers['o1'].host
        self.assertIsNone(self.api.delete_plan(self.ctxt, 's1'))
        self.assertRaises(storage_base.NotFound, self.storage.get_plan, 's1')
        self.assertEqual({}, self.dc.servers)
        self.assertEqual(8.0, self.dc.free(host)['VCPU'])
        self.assertRaises(exception.NotFound, self.api.delete_plan,
                          self.ctxt, 's1')

    def test_storage_unavailable(self):
        engine = self.start_engine(storage=FlakyStorage())
        self.stop_engine(self.engine)
        self.engine = engine
        err = self.assertRaises(exception.StorageUnavailable,
                                self.api.create_plan, self.ctxt,
                                plan('s1', {'o1': server()}))
        self.assertEqual(503, err.status)


class PlacementTest(EngineServiceTestBase):

    def setUp(self):
        super().setUp()
        self.api.create_plan(self.ctxt, plan(
            's1', {'a': server('large', groups=['web']),
                   'b': server('large', groups=['web'])},
            group('web', 'diversity')))
        self.hosts = {o: p.location for o, p in self.placements('s1').items()}

    def test_reserve_in_locations(self):
        out = self.api.reserve(self.ctxt, 'a', [self.hosts['a'], 'r1h1'],
                               'vm-a')
        self.assertTrue(out['reserved'])
        self.assertEqual(self.hosts['a'], out['location'])
        stored = self.storage.get_placement('a')
        self.assertTrue(stored.reserved)
        self.assertEqual('vm-a', stored.resource_id)

    def test_reserve_elsewhere_replans(self):
        others = sorted(set(self.dc.hosts) - set(self.hosts.values()))
        out = self.api.reserve(self.ctxt, 'a', others, 'vm-a')
        self.assertIn(out['location'], others)
        self.assertTrue(out['reserved'])
        stored = self.storage.get_placement('a')
        self.assertEqual(out['location'], stored.location)
        self.assertEqual('vm-a', stored.resource_id)
        self.assertEqual(out['location'], self.dc.servers['a'].host)

    def test_replan_keeps_reserved_siblings(self):
        self.api.reserve(self.ctxt, 'b', [self.hosts['b']], 'vm-b')
        # Only b's host is offered: diversity forbids it, so no host.
        err = self.assertRaises(exception.NoPlacement, self.api.replan,
                                self.ctxt, 'a', [self.hosts['b']], 'vm-a')
        self.assertIn('summary', err.details)
        stored = self.storage.get_placement('a')
        self.assertFalse(stored.reserved)
        self.assertEqual('vm-a', stored.resource_id)
        self.assertEqual(self.hosts['a'], stored.location)
        out = self.api.replan(self.ctxt, 'a', list(self.dc.hosts), 'vm-a')
        self.assertNotEqual(self.hosts['b'], out['location'])
        self.assertEqual(self.hosts['b'],
                         self.storage.get_placement('b').location)
        self.assertTrue(self.storage.get_placement('b').reserved)

    def test_delete_placement(self):
        self.assertIsNone(self.api.delete_placement(self.ctxt, 'a'))
        self.assertRaises(storage_base.NotFound, self.storage.get_placement,
                          'a')
        self.assertNotIn('a', self.dc.servers)
        self.assertRaises(exception.NotFound, self.api.delete_placement,
                          self.ctxt, 'a')

    def test_group_members(self):
        self.api.reserve(self.ctxt, 'a', [], 'vm-a')
        members = self.api.group_members(self.ctxt, 'web')
        self.assertEqual(['a', 'b'], [m['orchestration_id'] for m in members])
        self.assertEqual({'p1'}, {m['project_id'] for m in members})
        self.assertEqual(self.hosts['a'], members[0]['host'])
        self.assertEqual('vm-a', members[0]['resource_id'])
        self.assertEqual(self.storage.get_placement('a').id, members[0]['id'])
        err = self.assertRaises(exception.NotFound, self.api.group_members,
                                self.ctxt, 'nothing')
        self.assertEqual('valet.group.not_found', err.code)

    def test_invalid_placements(self):
        self.assertEqual({}, self.api.invalid_placements(self.ctxt))
        # Drift: b now runs next to a (say an operator moved it).
        moved = self.storage.get_placement('b')
        moved.location = self.hosts['a']
        self.storage.update_placement(moved)
        self.stop_engine(self.engine)
        self.engine = self.start_engine()
        out = self.api.invalid_placements(self.ctxt)
        ids = {self.storage.get_placement(o).id for o in ('a', 'b')}
        self.assertEqual(ids, set(out))
        entry = out[moved.id]
        self.assertEqual('error', entry['status'])
        self.assertIn('web', entry['message'])


class AvailabilityTest(EngineServiceTestBase):

    def test_engine_unavailable(self):
        self.stop_engine(self.engine)
        self.conf.set_override('rpc_timeout', 0.3, group='engine')
        api = rpcapi.EngineAPI(self.conf, transport=self.transport)
        err = self.assertRaises(exception.EngineUnavailable, api.ping,
                                self.ctxt)
        self.assertEqual(503, err.status)

    def test_restart_rebuilds_from_storage(self):
        self.inventory = self.make_inventory(inventory_doc(1, 3))
        self.stop_engine(self.engine)
        self.engine = self.start_engine()
        first = self.api.create_plan(self.ctxt, plan(
            's1', {'a': server('full', groups=['solo']),
                   'b': server('full')}, group('solo', 'exclusivity')))
        used = {p['location'] for p in first['placements'].values()}
        self.assertEqual(2, len(used))
        self.stop_engine(self.engine)

        self.engine = self.start_engine()
        self.assertEqual(2, self.api.ping(self.ctxt)['engine']['servers'])
        # The group is known again from the stored placements alone.
        self.assertEqual('exclusivity', self.dc.groups['solo'].kind)
        second = self.api.create_plan(self.ctxt, plan(
            's2', {'c': server('full')}))
        self.assertNotIn(second['placements']['c']['location'], used)
        self.assertRaises(exception.NoPlacement, self.api.create_plan,
                          self.ctxt, plan('s3', {'d': server('small')}))

    def test_rebuild_skips_vanished_hosts(self):
        self.api.create_plan(self.ctxt, plan('s1', {'a': server()}))
        stored = self.storage.get_placement('a')
        stored.location = 'gone-host'
        self.storage.update_placement(stored)
        self.stop_engine(self.engine)
        self.engine = self.start_engine()
        self.assertNotIn('a', self.dc.servers)
        # A replan places it again from its stored spec.
        out = self.api.replan(self.ctxt, 'a', ['r0h1'], 'vm-a')
        self.assertEqual('r0h1', out['location'])
        self.assertEqual('r0h1', self.dc.servers['a'].host)
