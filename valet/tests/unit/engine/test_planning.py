"""Plan results as domain data (valet.engine.planning)."""

import copy

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
