"""/v1/placements: list with filters, show, reserve, replan, delete."""

from valet.common import exception
from valet.tests.unit.api import base
from valet.tests.unit.api.base import server


class PlacementsTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.plan = self.make_plan('stack-1', {
            'orch-a': server('a', metadata={'heat_stack_id': 'stack-1',
                                            'tier': 'web', 'count': 3,
                                            'flag': True}),
            'orch-b': server('b', metadata={'heat_stack_id': 'stack-1',
                                            'tier': 'db', 'count': '3'})})

    def placements(self, query='', headers=base.MEMBER):
        resp = self.get('/v1/placements' + query, headers=headers,
                        status=200)
        return sorted(p['orchestration_id'] for p in resp.json['placements'])

    def test_list_every_field(self):
        resp = self.get('/v1/placements', headers=base.MEMBER, status=200)
        placement = resp.json['placements'][0]
        self.assertEqual({'id', 'name', 'orchestration_id', 'resource_id',
                          'location', 'reserved', 'metadata', 'plan_id'},
                         set(placement))

    def test_filters_on_core_fields(self):
        a = self.storage.get_placement('orch-a')
        self.assertEqual(['orch-a', 'orch-b'], self.placements())
        self.assertEqual(['orch-a'], self.placements('?id=' + a.id))
        self.assertEqual(['orch-a'], self.placements('?name=a'))
        self.assertEqual(['orch-b'],
                         self.placements('?orchestration_id=orch-b'))
        self.assertEqual(['orch-a', 'orch-b'],
                         self.placements('?plan_id=' + self.plan['id']))
        self.assertEqual(['orch-a'],
                         self.placements('?location=' + a.location))
        self.assertEqual(['orch-a', 'orch-b'],
                         self.placements('?reserved=false'))
        self.assertEqual([], self.placements('?reserved=true'))
        self.assertEqual(['orch-a'],
                         self.placements('?name=a&location=' + a.location))
        self.assertEqual([], self.placements('?name=a&tier=db'))

    def test_filters_on_metadata_with_json_values(self):
        self.assertEqual(['orch-a', 'orch-b'],
                         self.placements('?heat_stack_id=stack-1'))
        self.assertEqual(['orch-b'], self.placements('?tier=db'))
        self.assertEqual(['orch-a'], self.placements('?count=3'))
        self.assertEqual(['orch-b'], self.placements('?count=%223%22'))
        self.assertEqual(['orch-a'], self.placements('?flag=true'))
        self.assertEqual([], self.placements('?missing=1'))

    def test_filter_validation(self):
        for query in ('?reserved=yes', '?name=a&name=b', '?bad%20key=1',
                      '?k=' + 'x' * 1025,
                      '?' + '&'.join('k%d=1' % i for i in range(33))):
            self.assertError(self.get('/v1/placements' + query,
                                      headers=base.MEMBER), 400)
        self.assertError(self.get('/v1/placements?name=%ff',
                                  headers=base.MEMBER), 400)

    def test_show_by_id_or_orchestration_id(self):
        a = self.storage.get_placement('orch-a').to_dict()
        for ref in (a['id'], 'orch-a'):
            self.assertEqual(a, self.get('/v1/placements/' + ref,
                                         headers=base.MEMBER,
                                         status=200).json['placement'])
        self.assertError(self.get('/v1/placements/nope',
                                  headers=base.MEMBER), 404,
                         'valet.placement.not_found')

    def test_reserve_on_planned_host(self):
        a = self.storage.get_placement('orch-a')
        resp = self.post('/v1/placements/orch-a', {
            'locations': [a.location, 'host4'], 'resource_id': 'vm-1'},
            headers=base.SERVICE, status=201)
        placement = resp.json['placement']
        self.assertEqual((a.location, True, 'vm-1'),
                         (placement['location'], placement['reserved'],
                          placement['resource_id']))
        self.assertEqual([{'placement_id': a.id,
                           'locations': [a.location, 'host4'],
                           'resource_id': 'vm-1'}],
                         self.engine.calls_to('reserve'))

    def test_explicit_reserve_and_replan(self):
        a = self.storage.get_placement('orch-a')
        self.post('/v1/placements/' + a.id, {
            'action': 'reserve', 'locations': ['host4']},
            headers=base.SERVICE, status=201)
        self.assertIsNone(self.engine.calls_to('reserve')[0]['resource_id'])
        resp = self.post('/v1/placements/' + a.id, {
            'action': 'replan', 'locations': ['host2', 'host3'],
            'resource_id': 'vm-1'}, headers=base.SERVICE, status=201)
        self.assertIn(resp.json['placement']['location'], ('host2', 'host3'))
        self.assertEqual(1, len(self.engine.calls_to('replan')))

    def test_action_validation(self):
        for body in ({}, {'locations': []}, {'locations': 'host1'},
                     {'locations': ['host1'], 'action': 'steal'},
                     {'locations': ['host1'], 'resource_id': ''},
                     {'locations': ['host1'], 'extra': 1},
                     {'locations': ['host 1']}, {'locations': [None]}):
            self.assertError(self.post('/v1/placements/orch-a', body,
                                       headers=base.SERVICE), 400,
                             'valet.request.invalid')
        self.assertEqual([], self.engine.calls_to('reserve'))

    def test_action_on_missing_placement(self):
        self.assertError(self.post('/v1/placements/nope', {
            'locations': ['host1']}, headers=base.SERVICE), 404,
            'valet.placement.not_found')

    def test_replan_without_room(self):
        self.engine.fail_with = exception.NoPlacement(
            'nowhere to go', details={'reason': 'diversity'})
        error = self.assertError(self.post('/v1/placements/orch-a', {
            'action': 'replan', 'locations': ['host1']},
            headers=base.SERVICE), 409, 'valet.placement.none')
        self.assertEqual({'reason': 'diversity'}, error['explanation'])

    def test_delete(self):
        a = self.storage.get_placement('orch-a')
        self.delete('/v1/placements/' + a.id, headers=base.MEMBER,
                    status=204)
        self.assertEqual([{'placement_id': a.id}],
                         self.engine.calls_to('delete_placement'))
        self.assertEqual(['orch-b'], self.placements())
        self.assertError(self.delete('/v1/placements/' + a.id,
                                     headers=base.MEMBER), 404)
