"""The storage contract (``valet.storage.base``), as tests for any driver.

Mix ``StorageContract`` into a test case and define ``make_storage()``
(an upgraded, empty store) and, where the backend can, ``make_blank_storage()``
(a store whose schema was never created). The memory driver, SQL on SQLite
and SQL on MariaDB/PostgreSQL all run these same tests.
"""

import os
import subprocess
import sys
import threading
import uuid

import hypothesis
from hypothesis import strategies as st

from valet import objects
from valet.storage import base

# Threads against a real database are slow; a few examples find lost
# updates as surely as many.
CONCURRENCY_SETTINGS = hypothesis.settings(
    max_examples=min(8, hypothesis.settings().max_examples),
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.differing_executors,
                           hypothesis.HealthCheck.too_slow])


def _uid():
    return str(uuid.uuid4())


class StorageContract:

    def make_storage(self):
        raise NotImplementedError

    def make_blank_storage(self):
        """A store never upgraded, or None if the backend cannot."""
        return None

    def setUp(self):
        super().setUp()
        self.storage = self.make_storage()

    # ------------------------------------------------------------ builders
    def group(self, name='g1', **kw):
        kw.setdefault('type', 'affinity')
        return self.storage.create_group(objects.Group(name=name, **kw))

    def new_plan(self, stack_id=None, project_id='p1', name='plan'):
        return objects.Plan(name=name, stack_id=stack_id or _uid(),
                            project_id=project_id)

    def new_placement(self, plan, name='server', orchestration_id=None,
                      **kw):
        return objects.Placement(
            name=name, orchestration_id=orchestration_id or _uid(),
            plan_id=plan.id, **kw)

    def plan(self, count=2, project_id='p1', **kw):
        """A stored plan with ``count`` placements ``s0``, ``s1``, ..."""
        plan = self.new_plan(project_id=project_id, **kw)
        placements = [self.new_placement(plan, name='s%d' % i)
                      for i in range(count)]
        return self.storage.create_plan(plan, placements)

    # ----------------------------------------------------------- lifecycle
    def test_upgrade_twice_keeps_data(self):
        group = self.group()
        self.storage.upgrade()
        version = self.storage.version()
        self.storage.upgrade()
        self.assertEqual(version, self.storage.version())
        self.assertIsInstance(version, str)
        self.assertEqual(group, self.storage.get_group(group.id))

    def test_version_none_before_upgrade(self):
        blank = self.make_blank_storage()
        if blank is None:
            self.skipTest('this backend cannot make a blank store')
        self.assertIsNone(blank.version())
        blank.upgrade()
        self.assertEqual(self.storage.version(), blank.version())

    def test_health(self):
        health = self.storage.health()
        self.assertIs(True, health['ok'])
        self.assertIsInstance(health['detail'], str)

    # -------------------------------------------------------------- groups
    def test_create_group_returns_stored_copy(self):
        group = objects.Group(name='g1', type='diversity', level='rack',
                              description='d', members=['p1'],
                              parents=['outer'])
        stored = self.storage.create_group(group)
        self.assertEqual(1, stored.generation)
        self.assertEqual(0, group.generation, 'the input was changed')
        for field in ('id', 'name', 'type', 'level', 'description',
                      'members', 'parents'):
            self.assertEqual(getattr(group, field), getattr(stored, field))

    def test_at_most_group_keeps_its_limit(self):
        group = self.group('spread', type='at-most', level='rack',
                           max_per_domain=3)
        self.assertEqual(3, group.max_per_domain)
        self.assertEqual(3, self.storage.get_group('spread').max_per_domain)
        self.assertIsNone(self.group('plain').max_per_domain)
        self.group('even', type='spread', level='rack', max_skew=1)
        self.assertEqual(1, self.storage.get_group('even').max_skew)
        self.assertIsNone(self.storage.get_group('spread').max_skew)

    def test_group_keeps_its_parameters(self):
        # Storage keeps whatever parameters a group has, as a mapping: a
        # new kind's parameter needs no new column or field.
        self.group('near', type='soft-affinity', level='rack',
                   parameters={'weight': 5})
        stored = self.storage.get_group('near')
        self.assertEqual({'weight': 5}, stored.parameters)
        self.assertEqual(5, stored.weight)
        self.group('any', type='spread', level='rack',
                   parameters={'max_skew': 2, 'future_parameter': 9})
        self.assertEqual({'max_skew': 2, 'future_parameter': 9},
                         self.storage.get_group('any').parameters)
        self.assertEqual({}, self.group('plain').parameters)

    def test_get_group_by_id_and_name(self):
        group = self.group()
        self.assertEqual(group, self.storage.get_group(group.id))
        self.assertEqual(group, self.storage.get_group('g1'))
        self.assertRaises(base.NotFound, self.storage.get_group, 'nope')

    def test_get_group_prefers_id_over_name(self):
        first = self.group('g1')
        # A group whose name is the other's id: the id lookup wins.
        self.group(first.id)
        self.assertEqual(first, self.storage.get_group(first.id))

    def test_list_groups_by_name(self):
        for name in ('b', 'c', 'a'):
            self.group(name)
        self.assertEqual(['a', 'b', 'c'],
                         [g.name for g in self.storage.list_groups()])

    def test_duplicate_group_name_conflict(self):
        first = self.group('g1', description='first')
        self.assertRaises(base.Conflict, self.group, 'g1',
                          description='second')
        self.assertEqual([first], self.storage.list_groups())

    def test_duplicate_group_id_conflict(self):
        first = self.group('g1')
        again = objects.Group(name='g2', type='affinity', id=first.id)
        self.assertRaises(base.Conflict, self.storage.create_group, again)
        self.assertEqual([first], self.storage.list_groups())

    def test_update_group(self):
        group = self.group()
        group.description = 'new'
        group.members = ['p1', 'p2']
        group.parents = ['outer']
        updated = self.storage.update_group(group)
        self.assertEqual(2, updated.generation)
        self.assertEqual(updated, self.storage.get_group(group.id))
        self.assertEqual(['p1', 'p2'], updated.members)
        self.assertEqual(['outer'], updated.parents)
        self.assertEqual('new', updated.description)

    def test_group_parents_keep_order_and_clear(self):
        # Microversion 1.4 allows 16 parents of 255-character names.
        parents = ['%02d' % i + 'p' * 253 for i in range(16, 0, -1)]
        group = self.group('child', parents=parents)
        self.assertEqual(parents, self.storage.get_group('child').parents)
        self.assertEqual(parents, self.storage.list_groups()[0].parents)
        group.parents = []
        self.assertEqual([], self.storage.update_group(group).parents)
        self.assertEqual([], self.storage.get_group(group.id).parents)

    def test_update_group_stale_conflict_changes_nothing(self):
        group = self.group()
        group.description = 'first'
        self.storage.update_group(group)  # group.generation is now stale
        group.description = 'second'
        self.assertRaises(base.Conflict, self.storage.update_group, group)
        stored = self.storage.get_group(group.id)
        self.assertEqual('first', stored.description)
        self.assertEqual(2, stored.generation)

    def test_update_missing_group_not_found(self):
        group = objects.Group(name='ghost', type='affinity', generation=1)
        self.assertRaises(base.NotFound, self.storage.update_group, group)

    def test_delete_group(self):
        group = self.group()
        self.storage.delete_group(group.id)
        self.assertRaises(base.NotFound, self.storage.get_group, group.id)
        self.assertRaises(base.NotFound, self.storage.delete_group,
                          group.id)
        self.group()  # the name is free again

    def test_group_copies(self):
        group = self.group(members=['p1'])
        group.members.append('intruder')
        fetched = self.storage.get_group(group.id)
        fetched.members.append('intruder')
        self.storage.list_groups()[0].parents.append('intruder')
        stored = self.storage.get_group(group.id)
        self.assertEqual(['p1'], stored.members)
        self.assertEqual([], stored.parents)

    # --------------------------------------------------------------- plans
    def test_create_plan(self):
        plan = self.new_plan()
        placements = [
            self.new_placement(plan, 's0', location='h1',
                               metadata={'hint': ['a', 1, None]},
                               spec={'demand': {'VCPU': 2},
                                     'groups': ['g1'], 'az': None}),
            self.new_placement(plan, 's1', reserved=True)]
        stored_plan, stored = self.storage.create_plan(plan, placements)
        self.assertEqual(1, stored_plan.generation)
        self.assertEqual(0, plan.generation, 'the input was changed')
        self.assertEqual([1, 1], [p.generation for p in stored])
        self.assertEqual(['p1', 'p1'], [p.project_id for p in stored])
        got = self.storage.get_placement(placements[0].id)
        self.assertEqual(stored[0], got)
        self.assertEqual({'hint': ['a', 1, None]}, got.metadata)
        self.assertEqual({'demand': {'VCPU': 2}, 'groups': ['g1'],
                          'az': None}, got.spec)
        self.assertIs(True, self.storage.get_placement(
            placements[1].id).reserved)
        self.assertIs(False, got.reserved)

    def test_create_plan_without_placements(self):
        plan, placements = self.plan(count=0)
        self.assertEqual([], placements)
        self.assertEqual(plan, self.storage.get_plan(plan.id))

    def test_insert_plan_stores_what_create_plan_would(self):
        plan = self.new_plan()
        placements = [
            self.new_placement(plan, 's0', location='h1',
                               metadata={'hint': 'a', 'more': [1, None]},
                               spec={'demand': {'VCPU': 2}}),
            self.new_placement(plan, 's1', reserved=True)]
        self.assertIsNone(self.storage.insert_plan(plan, placements))
        self.assertEqual(0, plan.generation, 'the input was changed')
        stored = self.storage.get_plan(plan.stack_id)
        self.assertEqual((plan.id, plan.name, 1),
                         (stored.id, stored.name, stored.generation))
        got = self.storage.get_placement(placements[0].id)
        self.assertEqual((1, 'p1', 'h1', {'hint': 'a', 'more': [1, None]},
                          {'demand': {'VCPU': 2}}),
                         (got.generation, got.project_id, got.location,
                          got.metadata, got.spec))
        self.assertIs(True, self.storage.get_placement(
            placements[1].id).reserved)
        self.assertEqual([got], self.storage.list_placements(
            metadata={'hint': 'a'}))

    def test_insert_plan_conflicts_like_create_plan(self):
        first, (taken, _) = self.plan()
        again = self.new_plan(stack_id=first.stack_id)
        self.assertRaises(base.Conflict, self.storage.insert_plan, again,
                          [self.new_placement(again)])
        plan = self.new_plan()
        clash = self.new_placement(plan, 'clash',
                                   orchestration_id=taken.orchestration_id)
        self.assertRaises(base.Conflict, self.storage.insert_plan, plan,
                          [self.new_placement(plan, 'fine'), clash])
        self.assertEqual([first], self.storage.list_plans())
        self.assertEqual(2, len(self.storage.list_placements()))

    def test_get_plan_by_id_and_stack_id(self):
        plan, _ = self.plan()
        self.assertEqual(plan, self.storage.get_plan(plan.id))
        self.assertEqual(plan, self.storage.get_plan(plan.stack_id))
        self.assertEqual(plan, self.storage.get_plan(plan.id, 'p1'))
        self.assertRaises(base.NotFound, self.storage.get_plan, 'nope')

    def test_list_plans(self):
        a, _ = self.plan(name='a', project_id='p1')
        b, _ = self.plan(name='b', project_id='p2')
        self.assertEqual([a, b], self.storage.list_plans())
        self.assertEqual([b], self.storage.list_plans(project_id='p2'))
        self.assertEqual([], self.storage.list_plans(project_id='p3'))

    def test_duplicate_stack_id_conflict_is_atomic(self):
        first, _ = self.plan()
        again = self.new_plan(stack_id=first.stack_id)
        placement = self.new_placement(again)
        self.assertRaises(base.Conflict, self.storage.create_plan, again,
                          [placement])
        self.assertRaises(base.NotFound, self.storage.get_placement,
                          placement.id)
        self.assertEqual([first], self.storage.list_plans())

    def test_duplicate_orchestration_id_conflict_is_atomic(self):
        _, (taken, _) = self.plan()
        plan = self.new_plan()
        fine = self.new_placement(plan, 'fine')
        clash = self.new_placement(plan, 'clash',
                                   orchestration_id=taken.orchestration_id)
        self.assertRaises(base.Conflict, self.storage.create_plan, plan,
                          [fine, clash])
        self.assertRaises(base.NotFound, self.storage.get_plan, plan.id)
        self.assertRaises(base.NotFound, self.storage.get_placement,
                          fine.id)
        self.assertEqual(taken, self.storage.get_placement(
            taken.orchestration_id))
        self.assertEqual(2, len(self.storage.list_placements()))

    def test_duplicate_orchestration_id_within_one_plan(self):
        plan = self.new_plan()
        one = self.new_placement(plan, orchestration_id='same')
        two = self.new_placement(plan, orchestration_id='same')
        self.assertRaises(base.Conflict, self.storage.create_plan, plan,
                          [one, two])
        self.assertEqual([], self.storage.list_plans())
        self.assertEqual([], self.storage.list_placements())

    def test_placement_of_another_plan_rejected(self):
        plan = self.new_plan()
        stray = objects.Placement(name='s', orchestration_id=_uid(),
                                  plan_id='other')
        self.assertRaises(ValueError, self.storage.create_plan, plan,
                          [stray])
        self.assertEqual([], self.storage.list_plans())

    def test_project_scoping(self):
        plan, (placement, _) = self.plan(project_id='p1')
        for key in (plan.id, plan.stack_id):
            self.assertRaises(base.NotFound, self.storage.get_plan, key,
                              project_id='p2')
        for key in (placement.id, placement.orchestration_id):
            self.assertRaises(base.NotFound, self.storage.get_placement,
                              key, project_id='p2')
        self.assertEqual(placement, self.storage.get_placement(
            placement.id, project_id='p1'))
        self.assertEqual([], self.storage.list_placements(project_id='p2'))
        self.assertEqual(2, len(self.storage.list_placements(
            project_id='p1')))

    def test_save_plan(self):
        plan, (keep, drop) = self.plan()
        keep.location = 'h2'
        keep.resource_id = 'vm-1'
        added = self.new_placement(plan, 's2', metadata={'k': 'v'})
        saved_plan, saved = self.storage.save_plan(plan, [keep, added],
                                                   removed=[drop.id])
        self.assertEqual(plan.generation + 1, saved_plan.generation)
        self.assertEqual(saved_plan, self.storage.get_plan(plan.id))
        self.assertEqual([keep.id, added.id], [p.id for p in saved])
        self.assertEqual([2, 1], [p.generation for p in saved])
        self.assertEqual('p1', saved[1].project_id)
        stored = self.storage.get_placement(keep.id)
        self.assertEqual(('h2', 'vm-1'), (stored.location,
                                          stored.resource_id))
        self.assertRaises(base.NotFound, self.storage.get_placement,
                          drop.id)
        self.assertEqual(['s0', 's2'], [p.name for p in
                                        self.storage.list_placements(
                                            {'plan_id': plan.id})])

    def test_save_plan_stale_plan_changes_nothing(self):
        plan, (keep, drop) = self.plan()
        self.storage.save_plan(plan, [])
        keep.location = 'h9'
        added = self.new_placement(plan, 's2')
        self.assertRaises(base.Conflict, self.storage.save_plan, plan,
                          [keep, added], removed=[drop.id])
        self.assertEqual(plan.generation + 1,
                         self.storage.get_plan(plan.id).generation)
        self.assertIsNone(self.storage.get_placement(keep.id).location)
        self.storage.get_placement(drop.id)
        self.assertRaises(base.NotFound, self.storage.get_placement,
                          added.id)

    def test_save_plan_stale_placement_changes_nothing(self):
        plan, (keep, drop) = self.plan()
        fresh = self.storage.get_placement(keep.id)
        fresh.location = 'elsewhere'
        self.storage.update_placement(fresh)  # keep is now stale
        keep.location = 'h9'
        added = self.new_placement(plan, 's2')
        self.assertRaises(base.Conflict, self.storage.save_plan, plan,
                          [keep, added], removed=[drop.id])
        self.assertEqual(plan, self.storage.get_plan(plan.id))
        self.assertEqual('elsewhere',
                         self.storage.get_placement(keep.id).location)
        self.storage.get_placement(drop.id)
        self.assertRaises(base.NotFound, self.storage.get_placement,
                          added.id)

    def test_save_plan_placement_gone_conflict(self):
        plan, (gone, _) = self.plan()
        self.storage.delete_placement(gone.id)
        gone.location = 'h1'
        self.assertRaises(base.Conflict, self.storage.save_plan, plan,
                          [gone])
        self.assertEqual(plan, self.storage.get_plan(plan.id))

    def test_save_plan_duplicate_orchestration_id_changes_nothing(self):
        _, (other, _) = self.plan()
        plan, (mine, _) = self.plan()
        clash = self.new_placement(plan, 'clash',
                                   orchestration_id=other.orchestration_id)
        mine.location = 'h1'
        self.assertRaises(base.Conflict, self.storage.save_plan, plan,
                          [mine, clash])
        self.assertEqual(plan, self.storage.get_plan(plan.id))
        self.assertIsNone(self.storage.get_placement(mine.id).location)

    def test_save_plan_cannot_remove_another_plans_placement(self):
        _, (other, _) = self.plan()
        plan, _ = self.plan()
        self.storage.save_plan(plan, [], removed=[other.id])
        self.assertEqual(other, self.storage.get_placement(other.id))

    def test_save_missing_plan_not_found(self):
        plan = self.new_plan()
        plan.generation = 1
        self.assertRaises(base.NotFound, self.storage.save_plan, plan, [])

    def test_delete_plan_cascades(self):
        plan, placements = self.plan()
        other, _ = self.plan()
        self.storage.delete_plan(plan.id)
        self.assertRaises(base.NotFound, self.storage.get_plan, plan.id)
        for p in placements:
            self.assertRaises(base.NotFound, self.storage.get_placement,
                              p.id)
        self.assertEqual([], self.storage.list_placements(
            {'plan_id': plan.id}))
        self.assertEqual(2, len(self.storage.list_placements()))
        self.assertRaises(base.NotFound, self.storage.delete_plan, plan.id)
        self.assertEqual([other], self.storage.list_plans())
        # The stack id and orchestration ids are free again.
        again = self.new_plan(stack_id=plan.stack_id)
        self.storage.create_plan(again, [self.new_placement(
            again, orchestration_id=placements[0].orchestration_id)])

    # ---------------------------------------------------------- placements
    def test_get_placement_by_id_and_orchestration_id(self):
        _, (placement, _) = self.plan()
        self.assertEqual(placement, self.storage.get_placement(
            placement.id))
        self.assertEqual(placement, self.storage.get_placement(
            placement.orchestration_id))
        self.assertRaises(base.NotFound, self.storage.get_placement, 'no')

    def test_update_placement(self):
        plan, (placement, _) = self.plan()
        placement.location = 'h1'
        placement.resource_id = 'vm-1'
        placement.reserved = True
        placement.metadata = {'a': {'b': [1, 2]}}
        updated = self.storage.update_placement(placement)
        self.assertEqual(2, updated.generation)
        self.assertEqual(updated, self.storage.get_placement(placement.id))
        self.assertEqual(('h1', 'vm-1', True, {'a': {'b': [1, 2]}}),
                         (updated.location, updated.resource_id,
                          updated.reserved, updated.metadata))
        # A placement's own changes leave its plan's generation alone.
        self.assertEqual(plan, self.storage.get_plan(plan.id))

    def test_update_placement_stale_conflict_changes_nothing(self):
        _, (placement, _) = self.plan()
        placement.location = 'h1'
        self.storage.update_placement(placement)
        placement.location = 'h2'
        self.assertRaises(base.Conflict, self.storage.update_placement,
                          placement)
        stored = self.storage.get_placement(placement.id)
        self.assertEqual(('h1', 2), (stored.location, stored.generation))

    def test_update_placement_orchestration_id_taken(self):
        _, (one, two) = self.plan()
        one.orchestration_id = two.orchestration_id
        self.assertRaises(base.Conflict, self.storage.update_placement, one)
        self.assertEqual(1, self.storage.get_placement(one.id).generation)

    def test_update_missing_placement_not_found(self):
        plan = self.new_plan()
        ghost = self.new_placement(plan, generation=1)
        self.assertRaises(base.NotFound, self.storage.update_placement,
                          ghost)

    def test_delete_placement(self):
        plan, (placement, other) = self.plan()
        self.storage.delete_placement(placement.id)
        self.assertRaises(base.NotFound, self.storage.get_placement,
                          placement.id)
        self.assertRaises(base.NotFound, self.storage.delete_placement,
                          placement.id)
        self.assertEqual([other], self.storage.list_placements())
        self.assertEqual(plan, self.storage.get_plan(plan.id))

    def test_placement_copies(self):
        _, (placement, _) = self.plan()
        fetched = self.storage.get_placement(placement.id)
        fetched.metadata['x'] = 1
        fetched.spec['x'] = 1
        self.storage.list_placements()[0].metadata['y'] = 2
        stored = self.storage.get_placement(placement.id)
        self.assertEqual(({}, {}), (stored.metadata, stored.spec))

    # ------------------------------------------------------------- filters
    def _filter_fixture(self):
        plan = self.new_plan(project_id='p1')
        a = self.new_placement(plan, 'a', location='h1', resource_id='vm-a',
                               reserved=True,
                               metadata={'tier': 'db', 'ha': True,
                                         'count': 1})
        b = self.new_placement(plan, 'b', location='h2',
                               metadata={'tier': 'web', 'ha': 'true',
                                         'count': 2})
        c = self.new_placement(plan, 'c', metadata={'tier': 'db'})
        _, stored = self.storage.create_plan(plan, [a, b, c])
        other = self.new_plan(project_id='p2')
        d = self.new_placement(other, 'd', location='h1', reserved=True,
                               metadata={'tier': 'db', 'ha': True})
        self.storage.create_plan(other, [d])
        return plan, other, stored + [self.storage.get_placement(d.id)]

    def _names(self, filters=None, metadata=None, project_id=None):
        return [p.name for p in self.storage.list_placements(
            filters, metadata, project_id)]

    def test_list_placements_core_fields(self):
        plan, other, (a, b, c, d) = self._filter_fixture()
        self.assertEqual(['a', 'b', 'c', 'd'], self._names())
        self.assertEqual(['a', 'd'], self._names({'location': 'h1'}))
        self.assertEqual(['c'], self._names({'location': None}))
        self.assertEqual(['a'], self._names({'resource_id': 'vm-a'}))
        self.assertEqual(['b'], self._names({'name': 'b'}))
        self.assertEqual(['b'], self._names({'id': b.id}))
        self.assertEqual(['c'], self._names({'orchestration_id':
                                             c.orchestration_id}))
        self.assertEqual(['d'], self._names({'plan_id': other.id}))
        self.assertEqual(['a'], self._names({'location': 'h1',
                                             'plan_id': plan.id}))
        self.assertEqual([], self._names({'location': 'h3'}))

    def test_list_placements_reserved(self):
        self._filter_fixture()
        self.assertEqual(['a', 'd'], self._names({'reserved': True}))
        self.assertEqual(['b', 'c'], self._names({'reserved': False}))
        # Exact match: neither 1 nor 'true' is True.
        self.assertEqual([], self._names({'reserved': 1}))
        self.assertEqual([], self._names({'reserved': 'true'}))

    def test_list_placements_metadata(self):
        plan, _, _ = self._filter_fixture()
        self.assertEqual(['a', 'c', 'd'], self._names(metadata={
            'tier': 'db'}))
        self.assertEqual(['a', 'd'], self._names(metadata={
            'tier': 'db', 'ha': True}))
        self.assertEqual(['b'], self._names(metadata={'ha': 'true'}))
        self.assertEqual(['a'], self._names(metadata={'count': 1}))
        self.assertEqual([], self._names(metadata={'count': True}))
        self.assertEqual([], self._names(metadata={'missing': None}))
        self.assertEqual(['a'], self._names({'plan_id': plan.id},
                                            {'ha': True}))
        self.assertEqual(['d'], self._names({'reserved': True},
                                            {'tier': 'db'}, 'p2'))

    def test_list_placements_unknown_filter(self):
        self.assertRaises(ValueError, self.storage.list_placements,
                          {'colour': 'red'})

    def test_list_placements_metadata_follows_writes(self):
        # The metadata index of a driver changes with every write path.
        plan = self.new_plan()
        a = self.new_placement(plan, 'a', metadata={'stack': 's1', 'n': 2})
        b = self.new_placement(plan, 'b', metadata={'stack': 's1'})
        plan, (a, b) = self.storage.create_plan(plan, [a, b])
        self.assertEqual(['a', 'b'], self._names(metadata={'stack': 's1'}))
        self.assertEqual(['a'], self._names(metadata={'n': 2.0}))
        a.metadata = {'stack': 's2'}
        a = self.storage.update_placement(a)
        self.assertEqual(['b'], self._names(metadata={'stack': 's1'}))
        self.assertEqual(['a'], self._names(metadata={'stack': 's2'}))
        self.assertEqual([], self._names(metadata={'n': 2}))
        c = self.new_placement(plan, 'c', metadata={'stack': 's1'})
        b.metadata = {}
        plan, _ = self.storage.save_plan(plan, [b, c], removed=[a.id])
        self.assertEqual(['c'], self._names(metadata={'stack': 's1'}))
        self.assertEqual([], self._names(metadata={'stack': 's2'}))
        self.storage.delete_placement(c.id)
        self.assertEqual([], self._names(metadata={'stack': 's1'}))
        d = self.new_placement(plan, 'd', metadata={'stack': 's3'})
        self.storage.save_plan(self.storage.get_plan(plan.id), [d])
        self.storage.delete_plan(plan.id)
        self.assertEqual([], self._names(metadata={'stack': 's3'}))

    def test_list_placements_metadata_values_match_exactly(self):
        plan = self.new_plan()
        values = ['x', '1', 1, 1.5, True, False, None, '', 'true', 'null',
                  'ünï', 'a' * 1024]
        self.storage.create_plan(plan, [
            self.new_placement(plan, 'p%02d' % i, metadata={'k': v})
            for i, v in enumerate(values)])
        for i, value in enumerate(values):
            self.assertEqual(['p%02d' % i], self._names(metadata={'k': value}),
                             value)
        # Values no flat metadata can hold match nothing.
        self.assertEqual([], self._names(metadata={'k': ['x']}))
        self.assertEqual([], self._names(metadata={'k': {'a': 1}}))

    def test_list_placements_of_plans(self):
        first, _ = self.plan(count=2, name='a')
        second, _ = self.plan(count=1, name='b')
        self.plan(count=3, name='c')
        found = self.storage.list_placements(plan_ids=[first.id, second.id])
        self.assertEqual(sorted([first.id] * 2 + [second.id]),
                         sorted(p.plan_id for p in found))
        self.assertEqual([], self.storage.list_placements(plan_ids=[]))

    # -------------------------------------------------------------- paging
    def _pages(self, list_page, limit):
        """Every page of ``list_page(limit, marker)`` until a short one."""
        pages, marker = [], None
        while True:
            page = list_page(limit, marker)
            pages.append(page)
            if len(page) < limit:
                return pages
            marker = page[-1].id

    def test_list_groups_paged(self):
        for name in ('e', 'b', 'd', 'a', 'c'):
            self.group(name)
        pages = self._pages(lambda limit, marker: self.storage.list_groups(
            limit=limit, marker=marker), 2)
        self.assertEqual([['a', 'b'], ['c', 'd'], ['e']],
                         [[g.name for g in page] for page in pages])
        self.assertEqual([], self.storage.list_groups(limit=0))
        self.assertRaises(base.MarkerNotFound, self.storage.list_groups,
                          limit=2, marker='nope')

    def test_list_plans_paged(self):
        # Equal names: the id breaks the tie, so no plan is skipped.
        plans = [self.plan(count=0, name=name, project_id=project)[0]
                 for name, project in (('x', 'p1'), ('x', 'p1'), ('a', 'p2'),
                                       ('x', 'p1'), ('b', 'p1'))]
        expected = [p.id for p in sorted(plans, key=lambda p: (p.name, p.id))]
        pages = self._pages(lambda limit, marker: self.storage.list_plans(
            limit=limit, marker=marker), 2)
        self.assertEqual([2, 2, 1], [len(page) for page in pages])
        self.assertEqual(expected, [p.id for page in pages for p in page])
        own = [p.id for p in plans if p.project_id == 'p1']
        pages = self._pages(lambda limit, marker: self.storage.list_plans(
            project_id='p1', limit=limit, marker=marker), 3)
        self.assertEqual(sorted(own, key=expected.index),
                         [p.id for page in pages for p in page])
        self.assertRaises(base.MarkerNotFound, self.storage.list_plans,
                          limit=1, marker='nope')
        # Another project's plan is no marker for this project's list.
        other = [p.id for p in plans if p.project_id == 'p2'][0]
        self.assertRaises(base.MarkerNotFound, self.storage.list_plans,
                          project_id='p1', limit=1, marker=other)

    def test_list_placements_paged_with_filters(self):
        plan = self.new_plan()
        placements = [self.new_placement(
            plan, 'same' if i % 2 else 's%d' % i,
            metadata={'stack': 'st' if i % 3 else 'other'})
            for i in range(9)]
        self.storage.create_plan(plan, placements)
        wanted = sorted((p for p in placements
                         if p.metadata['stack'] == 'st'),
                        key=lambda p: (p.name, p.id))
        pages = self._pages(
            lambda limit, marker: self.storage.list_placements(
                metadata={'stack': 'st'}, limit=limit, marker=marker), 2)
        self.assertEqual([p.id for p in wanted],
                         [p.id for page in pages for p in page])
        self.assertEqual(
            [p.id for p in wanted[:1]],
            [p.id for p in self.storage.list_placements(
                metadata={'stack': 'st'}, limit=1)])
        self.assertRaises(base.MarkerNotFound, self.storage.list_placements,
                          limit=1, marker='nope')

    # --------------------------------------------------------- concurrency
    def _race(self, threads, attempts, write):
        """Run ``write`` ``attempts`` times in each of ``threads`` threads.

        ``write`` does one read-modify-write and returns normally when it
        stored, raising Conflict when it lost. Returns the success count.
        """
        barrier = threading.Barrier(threads)
        lock = threading.Lock()
        wins = []
        errors = []

        def worker():
            try:
                barrier.wait()
                for _ in range(attempts):
                    try:
                        write()
                    except base.Conflict:
                        continue
                    with lock:
                        wins.append(1)
            except Exception as e:  # reported below, in the test's thread
                errors.append(e)

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        if errors:
            raise errors[0]
        self.assertGreater(len(wins), 0)
        return len(wins)

    @hypothesis.given(threads=st.integers(2, 5), attempts=st.integers(1, 8))
    @CONCURRENCY_SETTINGS
    def test_concurrent_group_updates_lose_nothing(self, threads, attempts):
        group = self.group(_uid(), description='0')

        def write():
            current = self.storage.get_group(group.id)
            current.description = str(int(current.description) + 1)
            self.storage.update_group(current)

        wins = self._race(threads, attempts, write)
        stored = self.storage.get_group(group.id)
        self.assertEqual(wins, int(stored.description))
        self.assertEqual(wins + 1, stored.generation)

    @hypothesis.given(threads=st.integers(2, 5), attempts=st.integers(1, 8))
    @CONCURRENCY_SETTINGS
    def test_concurrent_placement_updates_lose_nothing(self, threads,
                                                       attempts):
        _, (placement,) = self.plan(count=1)

        def write():
            current = self.storage.get_placement(placement.id)
            current.metadata['n'] = current.metadata.get('n', 0) + 1
            self.storage.update_placement(current)

        wins = self._race(threads, attempts, write)
        stored = self.storage.get_placement(placement.id)
        self.assertEqual(wins, stored.metadata['n'])
        self.assertEqual(wins + 1, stored.generation)

    @hypothesis.given(threads=st.integers(2, 4), attempts=st.integers(1, 5))
    @CONCURRENCY_SETTINGS
    def test_concurrent_plan_saves_lose_nothing(self, threads, attempts):
        plan, _ = self.plan(count=0)

        def write():
            current = self.storage.get_plan(plan.id)
            self.storage.save_plan(current, [self.new_placement(current)])

        wins = self._race(threads, attempts, write)
        self.assertEqual(wins + 1, self.storage.get_plan(plan.id).generation)
        self.assertEqual(wins, len(self.storage.list_placements(
            {'plan_id': plan.id})))


def run_manage(config_file, *args):
    """Run ``valet-manage --config-file config_file args`` in a subprocess.

    Returns (exit code, stdout, stderr).
    """
    script = os.path.join(os.path.dirname(sys.executable), 'valet-manage')
    command = ([script] if os.path.exists(script)
               else [sys.executable, '-m', 'valet.cmd.manage'])
    proc = subprocess.run(command + ['--config-file', config_file] +
                          list(args), capture_output=True, text=True,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr
