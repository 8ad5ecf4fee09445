"""Cloud events applied to the engine's model and storage."""

from oslotest import base

from valet.engine import follow
from valet.engine.model import datacenter
from valet.engine.model import host as host_mod
from valet.engine import reconcile
from valet.inventory import base as inventory_base
from valet.inventory import events
from valet import objects
from valet.storage import base as storage_base
from valet.storage import memory

LEVELS = ('host', 'rack')
VCPU, RAM, DISK = 'VCPU', 'MEMORY_MB', 'DISK_GB'


def demand(vcpus=1, ram=1024, disk=10):
    return {VCPU: vcpus, RAM: ram, DISK: disk}


def host(name, rack='r0'):
    return host_mod.HostSpec(
        name=name, capacity={VCPU: 8, RAM: 16384, DISK: 200},
        domains={'rack': rack})


class DownStorage(memory.MemoryStorage):
    """Memory storage whose writes fail while ``down`` is set."""

    down = False

    def update_placement(self, placement):
        if self.down:
            raise storage_base.Unavailable('database is down')
        return super().update_placement(placement)


class FollowTestBase(base.BaseTestCase):
    """A plan of three placements, as the engine holds them after a rebuild.

    - orch-1: bound to Nova server nova-1, on h1, in group ``web``;
    - orch-2: planned by Heat on h2, Nova has not built it yet;
    - orch-3: bound to nova-3, on h1;
    - stray: a server Valet did not plan, on h2.
    """

    def setUp(self):
        super().setUp()
        self.storage = DownStorage()
        self.storage.upgrade()
        self.storage.create_group(objects.Group(name='web', type='diversity'))
        self.storage.create_group(objects.Group(name='db', type='affinity'))
        plan = objects.Plan(name='plan', stack_id='stack-1',
                            project_id='proj', id='plan-1')
        spec = {'demand': demand(), 'groups': ['web'],
                'group_definitions': {}}
        self.storage.create_plan(plan, [
            objects.Placement(name='vm1', orchestration_id='orch-1',
                              plan_id='plan-1', location='h1',
                              resource_id='nova-1', reserved=True,
                              spec=dict(spec), id='p1'),
            objects.Placement(name='vm2', orchestration_id='orch-2',
                              plan_id='plan-1', location='h2',
                              reserved=True, spec=dict(spec), id='p2'),
            objects.Placement(name='vm3', orchestration_id='orch-3',
                              plan_id='plan-1', location='h1',
                              resource_id='nova-3', reserved=True,
                              spec={'demand': demand(vcpus=2)}, id='p3'),
        ])
        snap = inventory_base.InventorySnapshot(
            levels=LEVELS, hosts=[host('h1'), host('h2'), host('h3')],
            servers=[datacenter.PlacedServer(id='stray', host='h2',
                                             demand=demand(vcpus=3))])
        result = reconcile.build(snap, self.storage.list_placements(),
                                 self.storage.list_groups(), {}, 0.0)
        self.dc, self.bindings = result.dc, result.bindings
        self.assertEqual({'nova-1': 'orch-1', 'nova-3': 'orch-3'},
                         self.bindings)
        self.assertEqual({'orch-1', 'orch-2', 'orch-3', 'stray'},
                         set(self.dc.servers))
        self.follower = follow.Follower(self.storage)

    def apply(self, event):
        return self.follower.apply(self.dc, self.bindings, event)

    def stored(self, pid):
        return self.storage.get_placement(pid)

    def generations(self):
        return {p.id: p.generation for p in self.storage.list_placements()}

    def used(self, name):
        cap, free = self.dc.capacity(name), self.dc.free(name)
        return {rc: cap[rc] - free[rc] for rc in (VCPU, RAM, DISK)}

    def where(self):
        return {sid: (s.host, dict(s.demand), s.groups)
                for sid, s in self.dc.servers.items()}

    def snapshot_state(self):
        """Everything an event may change, to compare before and after."""
        return (self.where(), {h: s.enabled for h, s in self.dc.hosts.items()},
                {h: self.used(h) for h in self.dc.hosts}, dict(self.bindings),
                [p.to_dict() for p in self.storage.list_placements()])


def up(uuid, on, need=None, **kw):
    # Nova always names the instance's project; the plan's is 'proj'.
    kw.setdefault('project', 'proj')
    return events.ServerUp(uuid=uuid, host=on, demand=need or demand(),
                           event_type='instance.create.end', **kw)


def gone(uuid):
    return events.ServerGone(uuid=uuid, event_type='instance.delete.end')


class ServerUpTest(FollowTestBase):

    def test_bound_server_on_another_host_moves_placement(self):
        out = self.apply(up('nova-1', 'h3'))
        self.assertTrue(out.changed)
        self.assertFalse(out.resync)
        p = self.stored('p1')
        self.assertEqual(('h3', 'nova-1', 2), (p.location, p.resource_id,
                                               p.generation))
        self.assertEqual('h3', self.dc.servers['orch-1'].host)
        self.assertEqual(('web',), self.dc.servers['orch-1'].groups)
        self.assertEqual('plan-1', self.dc.servers['orch-1'].stack)
        self.assertNotIn('nova-1', self.dc.servers)
        self.assertEqual(2, self.used('h1')[VCPU])     # only orch-3 left
        self.assertEqual(1, self.used('h3')[VCPU])
        self.assertEqual({'orch-1', 'orch-2'}, self.dc.group_servers('web'))

    def test_metadata_binds_a_planned_placement(self):
        out = self.apply(up('nova-2', 'h2', metadata={
            follow.ORCHESTRATION_KEY: 'orch-2'}))
        p = self.stored('p2')
        self.assertEqual(('h2', 'nova-2'), (p.location, p.resource_id))
        self.assertEqual('orch-2', self.bindings['nova-2'])
        self.assertEqual('h2', self.dc.servers['orch-2'].host)
        self.assertNotIn('nova-2', self.dc.servers)
        self.assertEqual(1 + 3, self.used('h2')[VCPU])  # orch-2 + stray
        self.assertFalse(out.resync)

    def test_metadata_binds_a_placement_nova_put_elsewhere(self):
        self.apply(up('nova-2', 'h3', metadata={
            follow.ORCHESTRATION_KEY: 'orch-2'}))
        p = self.stored('p2')
        self.assertEqual(('h3', 'nova-2'), (p.location, p.resource_id))
        self.assertEqual('h3', self.dc.servers['orch-2'].host)
        self.assertEqual(3, self.used('h2')[VCPU])      # stray only
        # Later events find it through the binding alone.
        self.apply(up('nova-2', 'h1'))
        self.assertEqual('h1', self.stored('p2').location)
        self.assertEqual('h1', self.dc.servers['orch-2'].host)
        self.assertNotIn('nova-2', self.dc.servers)

    def test_resize_updates_model_demand_only(self):
        before = self.generations()
        big = demand(vcpus=4, ram=4096, disk=40)
        out = self.apply(up('nova-1', 'h1', big))
        self.assertTrue(out.changed)
        self.assertEqual(big, self.dc.servers['orch-1'].demand)
        self.assertEqual({VCPU: 4 + 2, RAM: 4096 + 1024, DISK: 40 + 10},
                         self.used('h1'))
        self.assertEqual(before, self.generations())
        self.assertEqual(('web',), self.dc.servers['orch-1'].groups)

    def test_event_without_demand_keeps_the_modelled_one(self):
        out = self.apply(events.ServerUp(uuid='nova-1', host='h3', demand={},
                                         event_type='instance.live_migration'
                                                    '.post.dest.end'))
        self.assertTrue(out.changed)
        self.assertEqual(('h3', demand()),
                         (self.dc.servers['orch-1'].host,
                          self.dc.servers['orch-1'].demand))

    def test_unknown_server_imported_with_metadata_groups(self):
        before = [p.to_dict() for p in self.storage.list_placements()]
        out = self.apply(up('nova-x', 'h3', demand(vcpus=2), name='x',
                            project='other', metadata={
                                follow.GROUPS_KEY: ' db, nope ,web'}))
        self.assertTrue(out.changed)
        server = self.dc.servers['nova-x']
        # 'nope' is not defined yet: kept, it counts once it is.
        self.assertEqual(('h3', ('db', 'nope', 'web'), 'other', 'x', None),
                         (server.host, server.groups, server.project,
                          server.name, server.stack))
        self.assertEqual(2, self.used('h3')[VCPU])
        self.assertEqual({'nova-x'}, self.dc.group_servers('db'))
        self.assertEqual(before,
                         [p.to_dict() for p in self.storage.list_placements()])
        self.assertNotIn('nova-x', self.bindings)

    def test_unknown_server_moving_is_followed(self):
        self.apply(up('stray', 'h3', demand(vcpus=3)))
        self.assertEqual('h3', self.dc.servers['stray'].host)
        self.assertEqual(1, self.used('h2')[VCPU])      # orch-2 only
        self.assertEqual(3, self.used('h3')[VCPU])

    def test_unknown_host_asks_for_resync_and_changes_nothing(self):
        before, generation = self.snapshot_state(), self.dc.generation
        out = self.apply(up('nova-1', 'h9', metadata={
            follow.ORCHESTRATION_KEY: 'orch-2'}))
        self.assertTrue(out.resync)
        self.assertFalse(out.changed)
        self.assertIn('h9', out.message)
        self.assertEqual(before, self.snapshot_state())
        self.assertEqual(generation, self.dc.generation)

    def test_same_event_twice_changes_nothing_the_second_time(self):
        for event in (up('nova-1', 'h3', demand(vcpus=2)),
                      up('nova-2', 'h3', metadata={
                          follow.ORCHESTRATION_KEY: 'orch-2'}),
                      up('nova-x', 'h3', metadata={
                          follow.GROUPS_KEY: 'web'})):
            self.apply(event)
            state, generation = self.snapshot_state(), self.dc.generation
            out = self.apply(event)
            self.assertFalse(out.changed, event)
            self.assertEqual(state, self.snapshot_state(), event)
            self.assertEqual(generation, self.dc.generation, event)

    def test_released_placement_server_comes_back(self):
        self.apply(gone('nova-1'))
        self.assertIsNone(self.stored('p1').location)
        self.apply(up('nova-1', 'h2'))
        p = self.stored('p1')
        self.assertEqual(('h2', 'nova-1'), (p.location, p.resource_id))
        server = self.dc.servers['orch-1']
        self.assertEqual(('h2', ('web',), 'plan-1'),
                         (server.host, server.groups, server.stack))
        self.assertNotIn('nova-1', self.dc.servers)

    def test_metadata_binding_replaces_a_server_imported_by_a_resync(self):
        # A resync read the allocations after Nova built orch-2's server
        # but before its notification came: nova-2 was imported as an
        # unknown server on h3 while orch-2 still held h2. The
        # notification binds nova-2 to orch-2; the server must then be
        # in the model once, as orch-2.
        self.dc.place(datacenter.PlacedServer(id='nova-2', host='h3',
                                              demand=demand()))
        self.apply(up('nova-2', 'h3', metadata={
            follow.ORCHESTRATION_KEY: 'orch-2'}))
        self.assertEqual('h3', self.dc.servers['orch-2'].host)
        self.assertEqual(('h3', 'nova-2'),
                         (self.stored('p2').location,
                          self.stored('p2').resource_id))
        self.assertNotIn('nova-2', self.dc.servers)
        self.assertEqual(1, self.used('h3')[VCPU])


class ServerGoneTest(FollowTestBase):

    def test_valet_placement_released(self):
        out = self.apply(gone('nova-1'))
        self.assertTrue(out.changed)
        p = self.stored('p1')
        self.assertEqual((None, False, 'nova-1'),
                         (p.location, p.reserved, p.resource_id))
        self.assertNotIn('orch-1', self.dc.servers)
        self.assertEqual(2, self.used('h1')[VCPU])     # orch-3 only
        self.assertEqual({'orch-2'}, self.dc.group_servers('web'))
        self.assertEqual('h1', self.stored('p3').location)

    def test_adhoc_placement_released(self):
        # An ad-hoc boot's orchestration id is its Nova UUID: no binding.
        plan = objects.Plan(name='adhoc', stack_id='nova-9', id='plan-9')
        self.storage.create_plan(plan, [objects.Placement(
            name='vm9', orchestration_id='nova-9', plan_id='plan-9',
            location='h3', reserved=True, id='p9',
            spec={'demand': demand()})])
        self.dc.place(datacenter.PlacedServer(
            id='nova-9', host='h3', demand=demand(), stack='plan-9'))
        self.apply(gone('nova-9'))
        self.assertEqual((None, False), (self.stored('p9').location,
                                         self.stored('p9').reserved))
        self.assertNotIn('nova-9', self.dc.servers)

    def test_unknown_server_removed(self):
        before = [p.to_dict() for p in self.storage.list_placements()]
        out = self.apply(gone('stray'))
        self.assertTrue(out.changed)
        self.assertNotIn('stray', self.dc.servers)
        self.assertEqual(1, self.used('h2')[VCPU])      # orch-2 remains
        self.assertEqual(before,
                         [p.to_dict() for p in self.storage.list_placements()])

    def test_never_seen_server_is_a_no_op(self):
        before, generation = self.snapshot_state(), self.dc.generation
        out = self.apply(gone('nova-never'))
        self.assertFalse(out.changed)
        self.assertFalse(out.resync)
        self.assertEqual(before, self.snapshot_state())
        self.assertEqual(generation, self.dc.generation)

    def test_gone_twice_changes_nothing_the_second_time(self):
        self.apply(gone('nova-1'))
        before, generation = self.snapshot_state(), self.dc.generation
        out = self.apply(gone('nova-1'))
        self.assertFalse(out.changed)
        self.assertEqual(before, self.snapshot_state())
        self.assertEqual(generation, self.dc.generation)


class HostEventsTest(FollowTestBase):

    def test_disable_and_enable(self):
        out = self.apply(events.HostStatus(host='h1', enabled=False,
                                           event_type='service.update'))
        self.assertTrue(out.changed)
        self.assertFalse(self.dc.hosts['h1'].enabled)
        self.assertFalse(self.dc.arrays().enabled[self.dc.slot_of('h1')])
        # Its servers stay where they are.
        self.assertEqual({'orch-1', 'orch-3'}, set(self.dc.servers_on('h1')))
        again = self.apply(events.HostStatus(host='h1', enabled=False,
                                             event_type='service.update'))
        self.assertFalse(again.changed)
        self.apply(events.HostStatus(host='h1', enabled=True,
                                     event_type='service.update'))
        self.assertTrue(self.dc.hosts['h1'].enabled)
        self.assertTrue(self.dc.arrays().enabled[self.dc.slot_of('h1')])
        self.assertEqual(8, self.dc.capacity('h1')[VCPU])

    def test_new_host_asks_for_resync(self):
        before, generation = self.snapshot_state(), self.dc.generation
        out = self.apply(events.HostStatus(host='h4', enabled=True,
                                           event_type='service.create',
                                           known=False))
        self.assertTrue(out.resync)
        self.assertNotIn('h4', self.dc.hosts)
        self.assertEqual(before, self.snapshot_state())
        self.assertEqual(generation, self.dc.generation)

    def test_host_gone_releases_its_placements(self):
        self.apply(up('nova-x', 'h1'))       # an unknown server there too
        out = self.apply(events.HostGone(host='h1',
                                         event_type='service.delete'))
        self.assertTrue(out.changed)
        self.assertNotIn('h1', self.dc.hosts)
        for pid in ('p1', 'p3'):
            p = self.stored(pid)
            self.assertEqual((None, False), (p.location, p.reserved), pid)
        self.assertEqual(('h2', True), (self.stored('p2').location,
                                        self.stored('p2').reserved))
        self.assertEqual({'orch-2', 'stray'}, set(self.dc.servers))
        self.assertEqual({'orch-2'}, self.dc.group_servers('web'))

    def test_unknown_host_gone_is_a_no_op(self):
        before = self.snapshot_state()
        out = self.apply(events.HostGone(host='h9',
                                         event_type='service.delete'))
        self.assertFalse(out.changed)
        self.assertEqual(before, self.snapshot_state())


class StorageDownTest(FollowTestBase):
    """Storage first: an outage leaves the model as it was."""

    def fail(self, event):
        self.storage.down = True
        before, generation = self.snapshot_state(), self.dc.generation
        self.assertRaises(storage_base.Unavailable, self.apply, event)
        self.assertEqual(before, self.snapshot_state())
        self.assertEqual(generation, self.dc.generation)
        self.storage.down = False

    def test_server_moved(self):
        self.fail(up('nova-1', 'h3'))
        self.assertEqual('h1', self.dc.servers['orch-1'].host)
        # The retry once storage is back applies it.
        self.assertTrue(self.apply(up('nova-1', 'h3')).changed)
        self.assertEqual('h3', self.dc.servers['orch-1'].host)
        self.assertEqual('h3', self.stored('p1').location)

    def test_metadata_binding(self):
        self.fail(up('nova-2', 'h3', metadata={
            follow.ORCHESTRATION_KEY: 'orch-2'}))
        self.assertNotIn('nova-2', self.bindings)
        self.assertEqual('h2', self.dc.servers['orch-2'].host)
        self.assertNotIn('nova-2', self.dc.servers)

    def test_server_gone(self):
        self.fail(gone('nova-1'))
        self.assertIn('orch-1', self.dc.servers)
        self.apply(gone('nova-1'))
        self.assertNotIn('orch-1', self.dc.servers)
        self.assertIsNone(self.stored('p1').location)

    def test_host_gone(self):
        self.fail(events.HostGone(host='h1', event_type='service.delete'))
        self.assertEqual({'orch-1', 'orch-3'}, set(self.dc.servers_on('h1')))
        self.apply(events.HostGone(host='h1', event_type='service.delete'))
        self.assertNotIn('h1', self.dc.hosts)
        self.assertEqual([None, None], [self.stored(p).location
                                        for p in ('p1', 'p3')])

    def test_host_gone_after_a_partial_write(self):
        # Storage fails after releasing one of h1's placements: the model
        # keeps the host, and the retry finishes the job.
        store = self.storage
        calls = []

        def flaky(placement):
            calls.append(placement.id)
            if len(calls) == 2:
                raise storage_base.Unavailable('lost the connection')
            return memory.MemoryStorage.update_placement(store, placement)

        store.update_placement = flaky
        self.assertRaises(storage_base.Unavailable, self.apply,
                          events.HostGone(host='h1',
                                          event_type='service.delete'))
        self.assertIn('h1', self.dc.hosts)
        self.assertEqual({'orch-1', 'orch-3'}, set(self.dc.servers_on('h1')))
        self.apply(events.HostGone(host='h1', event_type='service.delete'))
        self.assertNotIn('h1', self.dc.hosts)
        self.assertEqual([None, None], [self.stored(p).location
                                        for p in ('p1', 'p3')])


class MetadataProjectTest(FollowTestBase):

    def test_metadata_of_another_project_does_not_bind(self):
        before = self.storage.get_placement('orch-2').to_dict()
        self.apply(up('nova-9', 'h3', project='intruder',
                      metadata={'valet_orchestration_id': 'orch-2'}))
        self.assertEqual(before, self.storage.get_placement('orch-2').to_dict())
        self.assertNotIn('nova-9', self.bindings)
        self.assertIsNone(self.dc.servers['nova-9'].stack)
