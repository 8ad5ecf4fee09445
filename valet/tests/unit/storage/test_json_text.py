"""The text a JSON column stores is json.dumps(value, sort_keys=True)."""

import json

import hypothesis
from hypothesis import strategies as st
from oslotest import base
import sqlalchemy as sa

from valet import objects
from valet.storage.sql import direct
from valet.storage.sql import driver
from valet.storage.sql import models

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(),
                     st.floats(allow_nan=False, allow_infinity=False),
                     st.text(max_size=8))
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=20)


class JsonTextTest(base.BaseTestCase):

    @hypothesis.settings(max_examples=400, deadline=None)
    @hypothesis.given(_VALUES)
    def test_same_text_as_json_dumps(self, value):
        self.assertEqual(json.dumps(value, sort_keys=True),
                         models.json_text(value))

    def test_a_placement_spec(self):
        spec = {'demand': {'vcpus': 2, 'memory_mb': 4096}, 'groups': ['g'],
                'availability_zone': None, 'extra_specs': {'a': 'é'},
                'flavor': 'm1.small', 'group_definitions': {}}
        self.assertEqual(json.dumps(spec, sort_keys=True),
                         models.json_text(spec))

    def test_statement_arguments_in_order(self):
        dialect = sa.create_engine('sqlite://').dialect
        for order in (('b', 'a', 'c'), ('a',)):
            stmt = models.PLANS.select().where(*(
                models.PLANS.c.name == sa.bindparam(k) for k in order))
            statement = direct.Statement(stmt, dialect)
            self.assertEqual(order, statement.order)
            self.assertEqual(tuple(range(len(order))), statement.args(
                {k: i for i, k in enumerate(order)}))


class NewPlacementParamsTest(base.BaseTestCase):
    """A create's placements are written with the parameters the general
    path (row, then insert parameters) gives."""

    def test_same_parameters_as_row_then_params(self):
        cases = [
            objects.Placement(name='a', orchestration_id='o1', plan_id='p',
                              location='h1', metadata={'x': 1, 'a': [1]},
                              spec={'groups': ['g'], 'demand': {'v': 2}},
                              project_id=None),
            objects.Placement(name='b', orchestration_id='o2', plan_id='p',
                              resource_id='r', reserved=1,
                              project_id='own'),
        ]
        for p in cases:
            self.assertEqual(
                driver._insert_params(driver._placement_row(p, 'p', 'prj')),
                driver._new_placement_params(p, 'p', 'prj'))
            self.assertEqual(set(driver._PLACEMENT_KEYS), set(
                driver._new_placement_params(p, 'p', 'prj')))
        self.assertRaises(ValueError, driver._new_placement_params,
                          cases[0], 'other', 'prj')

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(st.lists(st.tuples(
        st.integers(0, 3),
        st.dictionaries(st.text(max_size=6), _VALUES, max_size=4)),
        min_size=1, max_size=8))
    def test_shared_specs_written_as_each_alone(self, choices):
        # Placements sharing spec objects (and others with equal or
        # different ones) get the text each spec would get alone.
        specs = [spec for _, spec in choices]
        placements = [
            objects.Placement(name='s%d' % i, orchestration_id='o%d' % i,
                              plan_id='p', spec=specs[pick % len(specs)],
                              metadata={'k': i})
            for i, (pick, _) in enumerate(choices)]
        texts = {}
        for p in placements:
            self.assertEqual(driver._new_placement_params(p, 'p', 'prj'),
                             driver._new_placement_params(p, 'p', 'prj',
                                                          texts))
        self.assertLessEqual(len(texts), len({id(s) for s in specs}))
