"""Plan results as domain data (valet.engine.planning)."""

import copy
import dataclasses

import hypothesis
from hypothesis import strategies as st

from oslo_serialization import jsonutils
from oslotest import base

from valet.engine import planning
from valet.engine.solver import decision as decision_mod
from valet import objects


def decision():
    return decision_mod.Decision(
        feasible=True, assignment={'o1': 'h1', 'o2': 'h2'}, moved=['o2'],
        optimal=True, objective={'hosts_used': 2, 'soft': {}},
        stats={'elapsed_ms': 1.5, 'pair': (1, 2)})


class DecisionDataTest(base.BaseTestCase):

    def test_everything_but_the_assignment(self):
        data = planning.decision_data(decision())
        self.assertEqual({
            'feasible': True, 'removed': [], 'moved': ['o2'],
            'optimal': True, 'proven_infeasible': False,
            'objective': {'hosts_used': 2, 'soft': {}},
            'explanation': None,
            'stats': {'elapsed_ms': 1.5, 'pair': [1, 2]}}, data)

    def test_the_decision_is_neither_changed_nor_shared(self):
        given = decision()
        before = copy.deepcopy(given)
        data = planning.decision_data(given)
        self.assertEqual(before, given)
        data['objective']['hosts_used'] = 9
        data['moved'].append('o1')
        self.assertEqual(before, given)


class PlacementDataTest(base.BaseTestCase):

    def test_fields_but_the_spec(self):
        p = objects.Placement(name='a', orchestration_id='o1', plan_id='p',
                              location='h1', metadata={'k': 'v'},
                              spec={'demand': {'VCPU': 1}})
        data = planning.placement_data(p)
        self.assertNotIn('spec', data)
        self.assertEqual({'name': 'a', 'orchestration_id': 'o1',
                          'plan_id': 'p', 'location': 'h1',
                          'resource_id': None, 'reserved': False,
                          'metadata': {'k': 'v'}, 'project_id': None,
                          'id': p.id, 'generation': 0}, data)

    # The field-by-field copy the usual record's fast copy stands for.
    @staticmethod
    def by_field(p):
        return {f.name: getattr(p, f.name)
                for f in dataclasses.fields(p) if f.name != 'spec'}

    def check(self, p):
        data = planning.placement_data(p)
        expected = self.by_field(p)
        self.assertEqual(expected, data)
        self.assertEqual(list(expected), list(data), 'key order differs')
        # A new mapping: the record is not changed through it.
        data['location'] = 'elsewhere'
        self.assertNotEqual('elsewhere', p.location)

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(
        name=st.text(max_size=5), location=st.none() | st.text(max_size=5),
        resource_id=st.none() | st.text(max_size=5), reserved=st.booleans(),
        metadata=st.dictionaries(st.text(max_size=3), st.integers()),
        project_id=st.none() | st.text(max_size=5),
        generation=st.integers(0, 9), released=st.booleans(),
        replaced=st.booleans())
    def test_same_as_field_by_field(self, name, location, resource_id,
                                    reserved, metadata, project_id,
                                    generation, released, replaced):
        p = objects.Placement(
            name=name, orchestration_id='o', plan_id='p', location=location,
            resource_id=resource_id, reserved=reserved, metadata=metadata,
            spec={'demand': {}}, project_id=project_id,
            generation=generation)
        if released:
            p.release()
        if replaced:
            p = dataclasses.replace(p, location='h9')
        self.check(p)

    def test_a_copy_of_its_own_as_json_gives_it(self):
        # The local engine client hands answers over without a copy.
        class Text(str):
            pass
        usual = objects.Placement(
            name='a', orchestration_id='o1', plan_id='p', location='h1',
            metadata={'path': ['root', 'a,b'], 'n': 1})
        odd = objects.Placement(
            name=Text('b'), orchestration_id='o2', plan_id='p',
            metadata={'t': (1, 2)})
        for p in usual, odd:
            data = planning.placement_data(p)
            expected = jsonutils.loads(jsonutils.dumps(self.by_field(p)))
            self.assertEqual(expected, data)
            self.assertEqual(repr(expected), repr(data))
        data = planning.placement_data(usual)
        data['metadata']['path'].append('changed')
        self.assertEqual(['root', 'a,b'], usual.metadata['path'])

    def test_extra_attributes_are_not_fields(self):
        p = objects.Placement(name='a', orchestration_id='o1', plan_id='p')
        p.note = 'not a field'
        self.check(p)
        self.assertNotIn('note', planning.placement_data(p))

    def test_attributes_set_out_of_order(self):
        p = objects.Placement(name='a', orchestration_id='o1', plan_id='p')
        del p.location
        p.location = 'h2'       # now last among the attributes
        self.check(p)


class PlainTest(base.BaseTestCase):
    """``plain`` answers what ``jsonable`` (the JSON trip) answers."""

    def check(self, value):
        expected = planning.jsonable(value)
        got = planning.plain(value)
        self.assertEqual(expected, got)
        self.assertEqual(repr(expected), repr(got), 'types differ')

    def test_plain_data_built_directly(self):
        self.check({'a': [1, 2.5, None, True, 'x', (3, (4,))],
                    'b': {'c': {}, 'd': []}, 'e': -0.0})

    def test_other_values_take_the_json_trip(self):
        import numpy
        self.check({'n': numpy.int64(3), 'f': numpy.float64(0.5),
                    's': {'h2', 'h1'}, 'fs': frozenset([2, 1]),
                    1: 'int key', 'nested': [{2: 'x'}, {'ok': numpy.int32(7)}],
                    'other': object.__new__(Odd)})

    def test_subclasses_of_plain_types_take_the_json_trip(self):
        # json writes a bool subclass, an int enum, a str subclass as the
        # plain value: so must plain.
        import enum

        class Level(enum.IntEnum):
            HOST = 1

        class Name(str):
            pass

        self.check({'level': Level.HOST, 'name': Name('x'),
                    'pair': [Level.HOST]})

    def test_containers_are_new(self):
        given = {'a': [{'b': 1}], 't': (1,)}
        got = planning.plain(given)
        got['a'][0]['b'] = 2
        self.assertEqual(1, given['a'][0]['b'])


class Odd:
    def __str__(self):
        return 'odd'


class ResultTest(base.BaseTestCase):

    def test_plan_fields_copied(self):
        plan = objects.Plan(name='n', stack_id='s', project_id='p')
        out = planning.result(plan, [], decision())
        self.assertEqual({'name': 'n', 'stack_id': 's', 'project_id': 'p',
                          'id': plan.id, 'generation': 0}, out['plan'])
        out['plan']['id'] = None
        self.assertIsNotNone(plan.id)
