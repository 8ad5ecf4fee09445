"""The engine model rebuilt from an inventory snapshot and storage."""

import dataclasses

from oslotest import base

from valet.engine.model import datacenter
from valet.engine.model import groups as model_groups
from valet.engine.model import host as host_mod
from valet.engine import reconcile
from valet.inventory import base as inventory_base
from valet import objects

LEVELS = ('host', 'rack')
VCPU, RAM, DISK = 'VCPU', 'MEMORY_MB', 'DISK_GB'
PLANNED, MISSING = 3600.0, 300.0
TIMEOUTS = reconcile.Timeouts(planned=PLANNED, missing=MISSING)


def demand(vcpus=1, ram=1024, disk=10):
    return {VCPU: vcpus, RAM: ram, DISK: disk}


def host(name, rack='r0', vcpus=8, ram=16384, disk=200, enabled=True):
    return host_mod.HostSpec(
        name=name, capacity={VCPU: vcpus, RAM: ram, DISK: disk},
        domains={'rack': rack}, enabled=enabled)


def snapshot(hosts=('h1', 'h2', 'h3'), servers=(), groups=(),
             observed=False):
    snap = inventory_base.InventorySnapshot(
        levels=LEVELS, hosts=[host(h) if isinstance(h, str) else h
                              for h in hosts],
        servers=list(servers), groups=list(groups), observed=observed)
    return snap


def placement(orch, location, resource_id=None, groups=(), defs=None,
              need=None, plan_id='plan-1', reserved=True, name=None):
    return objects.Placement(
        name=name or 'vm-' + orch, orchestration_id=orch, plan_id=plan_id,
        location=location, resource_id=resource_id, reserved=reserved,
        project_id='proj', id='pl-' + orch,
        spec={'demand': need or demand(), 'groups': list(groups),
              'group_definitions': defs or {}})


def running(sid, on, need=None, groups=()):
    return datacenter.PlacedServer(id=sid, host=on, demand=need or demand(),
                                   groups=groups)


def build(snap, placements=(), groups=(), waiting=None, now=0.0):
    return reconcile.build(snap, list(placements), list(groups),
                           {} if waiting is None else waiting, now,
                           TIMEOUTS)


def used(dc, name):
    cap, free = dc.capacity(name), dc.free(name)
    return {rc: cap[rc] - free[rc] for rc in (VCPU, RAM, DISK)}


class StaticInventoryTest(base.BaseTestCase):
    """observed False: storage says where placements are."""

    def test_placement_modelled_at_its_location(self):
        p = placement('orch-1', 'h2', need=demand(vcpus=3, ram=2048),
                      resource_id='nova-1')
        result = build(snapshot(), [p])
        server = result.dc.servers['orch-1']
        self.assertEqual('h2', server.host)
        self.assertEqual(demand(vcpus=3, ram=2048), server.demand)
        self.assertEqual('plan-1', server.stack)
        self.assertEqual('proj', server.project)
        self.assertEqual('vm-orch-1', server.name)
        self.assertEqual({VCPU: 3, RAM: 2048, DISK: 10},
                         used(result.dc, 'h2'))
        self.assertEqual({VCPU: 0, RAM: 0, DISK: 0}, used(result.dc, 'h1'))
        self.assertEqual([], result.repairs)
        self.assertEqual(1, result.restored)
        self.assertEqual(0, result.imported)
        self.assertEqual({'nova-1': 'orch-1'}, result.bindings)

    def test_static_inventory_never_releases_a_waiting_placement(self):
        # Nothing is observed, so no timeout can apply.
        p = placement('orch-1', 'h1')
        waiting = {}
        build(snapshot(), [p], waiting=waiting, now=0.0)
        result = build(snapshot(), [p], waiting=waiting, now=PLANNED * 10)
        self.assertEqual([], result.repairs)
        self.assertEqual('h1', result.dc.servers['orch-1'].host)

    def test_placement_on_vanished_host_left_out_without_repair(self):
        p = placement('orch-1', 'gone')
        result = build(snapshot(), [p])
        self.assertNotIn('orch-1', result.dc.servers)
        self.assertEqual([], result.repairs)
        self.assertEqual(0, result.restored)

    def test_released_placement_is_not_modelled(self):
        result = build(snapshot(), [placement('orch-1', None)])
        self.assertEqual({}, result.dc.servers)
        self.assertEqual([], result.repairs)

    def test_snapshot_servers_are_placed(self):
        snap = snapshot(servers=[running('s1', 'h3', demand(vcpus=2)),
                                 running('s2', 'h1')])
        result = build(snap, [placement('orch-1', 'h1')])
        self.assertEqual({'orch-1', 's1', 's2'}, set(result.dc.servers))
        self.assertEqual('h3', result.dc.servers['s1'].host)
        self.assertEqual(2, used(result.dc, 'h3')[VCPU])
        self.assertEqual(2, used(result.dc, 'h1')[VCPU])
        self.assertEqual(2, result.imported)
        self.assertEqual(1, result.restored)

    def test_snapshot_server_unknown_groups_kept_pending(self):
        stored = [objects.Group(name='web', type='diversity')]
        snap = snapshot(servers=[running('s1', 'h1',
                                         groups=('web', 'nope'))])
        result = build(snap, groups=stored)
        self.assertEqual(('web', 'nope'), result.dc.servers['s1'].groups)
        self.assertEqual({'s1'}, result.dc.group_servers('web'))
        self.assertEqual({'nope': 1}, result.dc.pending_groups())
        # Created later, the group has its running member at once.
        result.dc.define_group(model_groups.Group('nope', 'diversity'))
        self.assertEqual({'s1'}, result.dc.group_servers('nope'))
        self.assertEqual({}, result.dc.pending_groups())

    def test_metadata_group_ids_become_names(self):
        stored = [objects.Group(name='web', type='diversity', id='g-1')]
        snap = snapshot(servers=[running('s1', 'h1')], observed=True)
        snap.server_metadata = {'s1': {'valet': '{"groups": ["g-1"]}'}}
        result = build(snap, groups=stored)
        self.assertEqual(('web',), result.dc.servers['s1'].groups)

    def test_metadata_in_a_bad_shape_names_no_group(self):
        snap = snapshot(servers=[running('s1', 'h1')], observed=True)
        snap.server_metadata = {'s1': {'valet': '{"groups": 3}'}}
        result = build(snap)
        self.assertEqual((), result.dc.servers['s1'].groups)

    def test_groups_from_storage_snapshot_and_specs(self):
        stored = [objects.Group(name='web', type='diversity', level='rack',
                                parents=['tier'])]
        inventory = [objects.Group(name='tier', type='exclusivity')]
        p = placement('orch-1', 'h1', groups=('db',), defs={
            'db': {'type': 'affinity', 'level': 'host', 'parents': []}})
        result = build(snapshot(groups=inventory), [p], groups=stored)
        groups = result.dc.groups
        self.assertEqual({'web', 'tier', 'db'}, set(groups))
        self.assertEqual(('diversity', 'rack', ('tier',)),
                         (groups['web'].kind, groups['web'].level,
                          groups['web'].parents))
        self.assertEqual('exclusivity', groups['tier'].kind)
        self.assertEqual(('affinity', 'host'),
                         (groups['db'].kind, groups['db'].level))
        self.assertEqual({'orch-1'}, result.dc.group_servers('db'))

    def test_storage_definition_wins_over_a_spec(self):
        stored = [objects.Group(name='web', type='diversity')]
        p = placement('orch-1', 'h1', groups=('web',), defs={
            'web': {'type': 'affinity', 'level': 'host', 'parents': []}})
        result = build(snapshot(), [p], groups=stored)
        self.assertEqual('diversity', result.dc.groups['web'].kind)

    def test_group_the_model_cannot_take_is_left_out(self):
        p = placement('orch-1', 'h1', defs={
            'far': {'type': 'affinity', 'level': 'region', 'parents': []},
            'ok': {'type': 'affinity', 'level': 'rack', 'parents': []}})
        result = build(snapshot(), [p])
        self.assertEqual({'ok'}, set(result.dc.groups))
        self.assertIn('orch-1', result.dc.servers)


class ObservedInventoryTest(base.BaseTestCase):
    """observed True: the running servers say where placements are."""

    def test_bound_server_running_elsewhere_is_moved(self):
        p = placement('orch-1', 'h1', resource_id='nova-1')
        snap = snapshot(servers=[running('nova-1', 'h2')], observed=True)
        result = build(snap, [p])
        self.assertEqual('h2', result.dc.servers['orch-1'].host)
        self.assertNotIn('nova-1', result.dc.servers)
        self.assertEqual(0, used(result.dc, 'h1')[VCPU])
        self.assertEqual(1, used(result.dc, 'h2')[VCPU])
        self.assertEqual(1, len(result.repairs))
        repair = result.repairs[0]
        self.assertEqual(reconcile.MOVED, repair.action)
        self.assertEqual('h2', repair.location)
        self.assertIs(p, repair.placement)
        self.assertEqual(0, result.imported)
        self.assertEqual(1, result.restored)
        fixed = repair.applied()
        self.assertEqual('h2', fixed.location)
        self.assertTrue(fixed.reserved)
        self.assertEqual('h1', p.location)        # the stored copy as read

    def _evacuated(self, location):
        # nova-1 holds resources on h1 (its source, down) and h2; the
        # inventory cannot tell where it runs and lists it on h1.
        p = placement('orch-1', location, resource_id='nova-1')
        snap = snapshot(servers=[running('nova-1', 'h1'),
                                 running('nova-1@h2', 'h2')], observed=True)
        snap.unsure_hosts = {'nova-1': ['h1', 'h2']}
        return build(snap, [p])

    def test_unsure_server_modelled_on_its_placements_host(self):
        result = self._evacuated('h2')
        self.assertEqual([], result.repairs)
        self.assertEqual('h2', result.dc.servers['orch-1'].host)
        # The source's copy still counts there, under its own id.
        self.assertEqual('h1', result.dc.servers['nova-1@h1'].host)
        self.assertNotIn('nova-1@h2', result.dc.servers)
        self.assertEqual(1, used(result.dc, 'h1')[VCPU])
        self.assertEqual(1, used(result.dc, 'h2')[VCPU])

    def test_unsure_server_on_none_of_its_placements_hosts(self):
        # The placement names a host it holds nothing on: the inventory's
        # guess stands and storage is repaired.
        result = self._evacuated('h3')
        self.assertEqual([(reconcile.MOVED, 'h1')],
                         [(r.action, r.location) for r in result.repairs])
        self.assertEqual('h1', result.dc.servers['orch-1'].host)
        self.assertEqual('h2', result.dc.servers['nova-1@h2'].host)

    def test_adhoc_boot_found_by_orchestration_id(self):
        # An ad-hoc boot: the orchestration id is Nova's UUID.
        p = placement('nova-7', 'h1')
        snap = snapshot(servers=[running('nova-7', 'h3')], observed=True)
        result = build(snap, [p])
        self.assertEqual({'nova-7'}, set(result.dc.servers))
        self.assertEqual('h3', result.dc.servers['nova-7'].host)
        self.assertEqual('plan-1', result.dc.servers['nova-7'].stack)
        self.assertEqual([(reconcile.MOVED, 'h3')],
                         [(r.action, r.location) for r in result.repairs])
        self.assertEqual({'nova-7': 'nova-7'}, result.bindings)

    def test_server_where_storage_says_needs_no_repair(self):
        p = placement('orch-1', 'h1', resource_id='nova-1')
        snap = snapshot(servers=[running('nova-1', 'h1')], observed=True)
        result = build(snap, [p])
        self.assertEqual([], result.repairs)
        self.assertEqual('h1', result.dc.servers['orch-1'].host)

    def test_released_placement_whose_server_runs_is_restored(self):
        p = placement('orch-1', None, resource_id='nova-1', reserved=False)
        snap = snapshot(servers=[running('nova-1', 'h2')], observed=True)
        result = build(snap, [p])
        self.assertEqual('h2', result.dc.servers['orch-1'].host)
        self.assertEqual([(reconcile.MOVED, 'h2')],
                         [(r.action, r.location) for r in result.repairs])

    def test_resized_server_demand_comes_from_the_snapshot(self):
        p = placement('orch-1', 'h1', resource_id='nova-1',
                      need=demand(vcpus=1, ram=1024))
        big = demand(vcpus=4, ram=8192, disk=40)
        snap = snapshot(servers=[running('nova-1', 'h1', big)],
                        observed=True)
        result = build(snap, [p])
        self.assertEqual(big, result.dc.servers['orch-1'].demand)
        self.assertEqual({VCPU: 4, RAM: 8192, DISK: 40},
                         used(result.dc, 'h1'))
        # The placement's groups and ownership still come from storage.
        self.assertEqual('plan-1', result.dc.servers['orch-1'].stack)

    def test_planned_placement_held_until_planned_timeout(self):
        p = placement('orch-1', 'h1')
        waiting = {}
        first = build(snapshot(observed=True), [p], waiting=waiting,
                      now=1000.0)
        self.assertEqual([], first.repairs)
        self.assertEqual('h1', first.dc.servers['orch-1'].host)
        self.assertEqual({p.id: 1000.0}, waiting)
        # Past the missing timeout, but an unbuilt server waits longer.
        held = build(snapshot(observed=True), [p], waiting=waiting,
                     now=1000.0 + PLANNED - 1)
        self.assertEqual([], held.repairs)
        self.assertEqual('h1', held.dc.servers['orch-1'].host)
        self.assertEqual({p.id: 1000.0}, waiting)   # not restarted
        late = build(snapshot(observed=True), [p], waiting=waiting,
                     now=1000.0 + PLANNED)
        self.assertNotIn('orch-1', late.dc.servers)
        self.assertEqual(0, used(late.dc, 'h1')[VCPU])
        self.assertEqual([(reconcile.RELEASED, None)],
                         [(r.action, r.location) for r in late.repairs])
        self.assertIs(p, late.repairs[0].placement)

    def test_bound_placement_missing_released_after_missing_timeout(self):
        p = placement('orch-1', 'h1', resource_id='nova-1')
        waiting = {}
        first = build(snapshot(observed=True), [p], waiting=waiting,
                      now=50.0)
        self.assertEqual([], first.repairs)
        self.assertEqual('h1', first.dc.servers['orch-1'].host)
        held = build(snapshot(observed=True), [p], waiting=waiting,
                     now=50.0 + MISSING - 1)
        self.assertEqual([], held.repairs)
        self.assertIn('orch-1', held.dc.servers)
        late = build(snapshot(observed=True), [p], waiting=waiting,
                     now=50.0 + MISSING)
        self.assertNotIn('orch-1', late.dc.servers)
        self.assertEqual([(reconcile.RELEASED, None)],
                         [(r.action, r.location) for r in late.repairs])
        self.assertIn('nova-1', late.repairs[0].reason)
        self.assertEqual({'nova-1': 'orch-1'}, late.bindings)

    def test_released_placement_holds_nothing(self):
        p = placement('orch-1', None, resource_id='nova-1', reserved=False)
        waiting = {}
        result = build(snapshot(observed=True), [p], waiting=waiting,
                       now=MISSING * 100)
        self.assertEqual({}, result.dc.servers)
        self.assertEqual([], result.repairs)
        self.assertEqual({}, waiting)
        self.assertEqual(0, used(result.dc, 'h1')[VCPU])

    def test_placement_on_host_gone_from_inventory_released(self):
        p = placement('orch-1', 'gone', resource_id='nova-1')
        waiting = {}
        result = build(snapshot(observed=True), [p], waiting=waiting)
        self.assertEqual({}, result.dc.servers)
        self.assertEqual(1, len(result.repairs))
        repair = result.repairs[0]
        self.assertEqual((reconcile.RELEASED, None),
                         (repair.action, repair.location))
        self.assertIn('gone', repair.reason)
        self.assertEqual({}, waiting)

    def test_unknown_server_groups_come_from_its_metadata(self):
        stored = [objects.Group(name='web', type='diversity')]
        snap = snapshot(servers=[running('stray', 'h2')], observed=True)
        snap.server_metadata = {'stray': {'valet_groups': ' web, nope ,'}}
        result = build(snap, groups=stored)
        self.assertEqual(('web', 'nope'), result.dc.servers['stray'].groups)

    def test_unknown_running_server_imported_with_known_groups(self):
        stored = [objects.Group(name='web', type='diversity')]
        p = placement('orch-1', 'h1', resource_id='nova-1')
        snap = snapshot(
            servers=[running('nova-1', 'h1'),
                     running('stray', 'h2', demand(vcpus=2),
                             groups=('web', 'nope')),
                     running('elsewhere', 'h9')],
            observed=True)
        result = build(snap, [p], groups=stored)
        self.assertEqual({'orch-1', 'stray'}, set(result.dc.servers))
        stray = result.dc.servers['stray']
        self.assertEqual('h2', stray.host)
        self.assertEqual(('web', 'nope'), stray.groups)
        self.assertIsNone(stray.stack)
        self.assertEqual({'stray'}, result.dc.group_servers('web'))
        self.assertEqual(2, used(result.dc, 'h2')[VCPU])
        self.assertEqual(1, result.imported)
        self.assertEqual(1, result.restored)
        self.assertEqual([], result.repairs)
        self.assertNotIn('stray', result.bindings)

    def test_waiting_since_forgets_placements_no_longer_waiting(self):
        bound = placement('orch-1', 'h1', resource_id='nova-1')
        planned = placement('orch-2', 'h2')
        waiting = {'pl-deleted': 1.0}
        build(snapshot(observed=True), [bound, planned], waiting=waiting,
              now=10.0)
        self.assertEqual({bound.id: 10.0, planned.id: 10.0}, waiting)
        # nova-1 is back; orch-2 still waits; the deleted one is forgotten.
        snap = snapshot(servers=[running('nova-1', 'h1')], observed=True)
        build(snap, [bound, planned], waiting=waiting, now=20.0)
        self.assertEqual({planned.id: 10.0}, waiting)
        # Should nova-1 vanish again, its clock starts afresh.
        result = build(snapshot(observed=True), [bound, planned],
                       waiting=waiting, now=20.0 + MISSING - 1)
        self.assertEqual([], result.repairs)
        self.assertEqual(20.0 + MISSING - 1, waiting[bound.id])

    def test_bindings_map_nova_uuid_to_orchestration_id(self):
        placements = [placement('orch-1', 'h1', resource_id='nova-1'),
                      placement('orch-2', 'h2', resource_id='nova-2'),
                      placement('orch-3', 'h3'),
                      placement('nova-4', 'h3')]
        snap = snapshot(servers=[running('nova-1', 'h1'),
                                 running('nova-4', 'h3')], observed=True)
        result = build(snap, placements)
        self.assertEqual({'nova-1': 'orch-1', 'nova-2': 'orch-2',
                          'nova-4': 'nova-4'}, result.bindings)


class RepairTest(base.BaseTestCase):

    def test_released_clears_location_and_reserved(self):
        p = placement('orch-1', 'h1', resource_id='nova-1', reserved=True)
        p.generation = 4
        fixed = reconcile.Repair(p, reconcile.RELEASED, None,
                                 'gone').applied()
        self.assertIsNone(fixed.location)
        self.assertFalse(fixed.reserved)
        # Everything else is kept, generation included (a conditional
        # write), and the placement as read is not changed.
        self.assertEqual(('nova-1', 'orch-1', p.id, 4, p.spec),
                         (fixed.resource_id, fixed.orchestration_id,
                          fixed.id, fixed.generation, fixed.spec))
        self.assertEqual(('h1', True), (p.location, p.reserved))

    def test_moved_keeps_reserved(self):
        p = placement('orch-1', 'h1', reserved=True)
        fixed = reconcile.Repair(p, reconcile.MOVED, 'h2', 'x').applied()
        self.assertEqual(('h2', True), (fixed.location, fixed.reserved))

    def test_describe_names_both_hosts(self):
        p = placement('orch-1', 'h1')
        text = reconcile.Repair(p, reconcile.MOVED, 'h2', 'why').describe()
        self.assertIn('h1', text)
        self.assertIn('h2', text)
        self.assertIn('why', text)


class DriftTest(base.BaseTestCase):

    def model(self, hosts=None, servers=()):
        hosts = hosts or [host('h1'), host('h2')]
        return datacenter.DataCenter.build(
            hosts, servers=list(servers),
            topology=reconcile.topology_mod.Topology(LEVELS))

    def test_no_old_model_means_no_drift(self):
        self.assertEqual([], reconcile.drift(None, self.model()))

    def test_identical_models_have_no_drift(self):
        servers = [running('a', 'h1'), running('b', 'h2', demand(vcpus=2))]
        self.assertEqual([], reconcile.drift(self.model(servers=servers),
                                             self.model(servers=servers)))

    def test_identical_rebuilds_have_no_drift(self):
        p = placement('orch-1', 'h1', resource_id='nova-1')
        snap = snapshot(servers=[running('nova-1', 'h2'),
                                 running('stray', 'h3')], observed=True)
        first = build(snap, [p])
        second = build(snap, [p])
        self.assertEqual([], reconcile.drift(first.dc, second.dc))

    def test_host_added_and_removed(self):
        old = self.model([host('h1'), host('h2')])
        new = self.model([host('h2'), host('h3')])
        self.assertEqual(['host h3 added', 'host h1 removed'],
                         reconcile.drift(old, new))

    def test_host_disabled_and_enabled(self):
        old = self.model([host('h1'), host('h2', enabled=False)])
        new = self.model([host('h1', enabled=False), host('h2')])
        self.assertEqual(['host h1: disabled', 'host h2: enabled'],
                         reconcile.drift(old, new))

    def test_host_resized(self):
        old = self.model([host('h1', vcpus=8)])
        new = self.model([host('h1', vcpus=16)])
        found = reconcile.drift(old, new)
        self.assertEqual(1, len(found))
        self.assertTrue(found[0].startswith('host h1: capacity'), found)
        self.assertIn("'VCPU': 8", found[0])
        self.assertIn("'VCPU': 16", found[0])

    def test_host_rehomed(self):
        old = self.model([host('h1', rack='r0')])
        new = self.model([host('h1', rack='r1')])
        found = reconcile.drift(old, new)
        self.assertEqual(1, len(found))
        self.assertIn('domains', found[0])

    def test_server_found_and_gone(self):
        old = self.model(servers=[running('a', 'h1')])
        new = self.model(servers=[running('b', 'h2')])
        self.assertEqual(['server b found on h2', 'server a gone from h1'],
                         reconcile.drift(old, new))

    def test_server_moved(self):
        old = self.model(servers=[running('a', 'h1')])
        new = self.model(servers=[running('a', 'h2')])
        self.assertEqual(['server a moved from h1 to h2'],
                         reconcile.drift(old, new))

    def test_server_resized(self):
        old = self.model(servers=[running('a', 'h1', demand(vcpus=1))])
        new = self.model(servers=[running('a', 'h1', demand(vcpus=2))])
        found = reconcile.drift(old, new)
        self.assertEqual(1, len(found))
        self.assertTrue(found[0].startswith('server a resized: '), found)

    def test_moved_and_resized_reports_the_move(self):
        old = self.model(servers=[running('a', 'h1', demand(vcpus=1))])
        new = self.model(servers=[running('a', 'h2', demand(vcpus=2))])
        self.assertEqual(['server a moved from h1 to h2'],
                         reconcile.drift(old, new))

    def test_drift_of_a_resync_that_repairs(self):
        # What the engine logs after a resync found a server elsewhere.
        p = placement('orch-1', 'h1', resource_id='nova-1')
        before = build(snapshot(observed=True), [p], now=0.0)
        snap = snapshot(servers=[running('nova-1', 'h3')], observed=True)
        after = build(snap, [p], now=1.0)
        self.assertEqual(['server orch-1 moved from h1 to h3'],
                         reconcile.drift(before.dc, after.dc))
        fixed = dataclasses.replace(p, location='h3')
        self.assertEqual(fixed, after.repairs[0].applied())
