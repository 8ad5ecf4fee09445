"""/v1/groups with type at-most (microversion 1.5) and spread (1.6): what
the API does.

The API gates the type and ``max_per_domain`` by microversion, checks
that the limit comes with an at-most group (and only with one), renders
it from 1.5 on and sends it with a plan's group definitions. What the
limit means for a placement is the solver's (unit tests in
``valet/tests/unit/engine/test_solver_at_most.py``).
"""

from valet.tests.unit.api import base
from valet.tests.unit.api.base import server

V15 = dict(base.ADMIN, **{'OpenStack-API-Version': 'workload-placement 1.5'})
V16 = dict(base.ADMIN, **{'OpenStack-API-Version': 'workload-placement 1.6'})
V14 = dict(base.ADMIN, **{'OpenStack-API-Version': 'workload-placement 1.4'})


class AtMostGroupAPITest(base.APITestCase):

    def create(self, body, hdrs=V15, status=201):
        return self.post('/v1/groups', body, headers=hdrs, status=status)

    def test_created_and_shown_from_1_5(self):
        group = self.create({'name': 'db', 'type': 'at-most',
                             'level': 'rack', 'max_per_domain': 2}).json
        self.assertEqual(('at-most', 'rack', 2), (
            group['type'], group['level'], group['max_per_domain']))
        shown = self.get('/v1/groups/db', headers=V15).json['group']
        self.assertEqual(2, shown['max_per_domain'])
        self.assertEqual(2, self.storage.get_group('db').max_per_domain)
        # Older microversions do not know the member.
        self.assertNotIn('max_per_domain', self.get(
            '/v1/groups/db', headers=V14).json['group'])

    def test_unknown_before_1_5(self):
        resp = self.create({'name': 'db', 'type': 'at-most', 'level': 'rack',
                            'max_per_domain': 2}, hdrs=V14, status=None)
        self.assertError(resp, 400, 'valet.request.invalid')
        resp = self.create({'name': 'db', 'type': 'diversity',
                            'level': 'rack', 'max_per_domain': 2}, hdrs=V14,
                           status=None)
        self.assertError(resp, 400, 'valet.request.invalid')
        self.assertEqual([], self.get('/v1/groups').json['groups'])

    def test_limit_goes_with_at_most_only(self):
        bad = [{'type': 'at-most'},
               {'type': 'at-most', 'max_per_domain': 0},
               {'type': 'at-most', 'max_per_domain': 1.5},
               {'type': 'at-most', 'max_per_domain': '2'},
               {'type': 'at-most', 'max_per_domain': True},
               {'type': 'at-most', 'max_per_domain': 100001},
               {'type': 'diversity', 'max_per_domain': 2}]
        for body in bad:
            body.update(name='g', level='host')
            resp = self.create(body, status=None)
            error = self.assertError(resp, 400, 'valet.request.invalid')
            self.assertIn('max_per_domain', error['detail'], body)
        self.assertEqual([], self.get('/v1/groups').json['groups'])

    def test_plan_sends_the_limit(self):
        self.create({'name': 'db', 'type': 'at-most', 'level': 'rack',
                     'max_per_domain': 2})
        self.make_plan('stack-1', {'a': server('a', groups=['db'])})
        sent = self.engine.calls_to('create_plan')[0]['plan']
        self.assertEqual({'name': 'db', 'type': 'at-most', 'level': 'rack',
                          'parents': [], 'max_per_domain': 2},
                         sent['groups']['db'])


class SpreadGroupAPITest(base.APITestCase):

    def test_created_and_shown_from_1_6(self):
        group = self.post('/v1/groups', {
            'name': 'web', 'type': 'spread', 'level': 'rack',
            'max_skew': 1}, headers=V16, status=201).json
        self.assertEqual(('spread', 1), (group['type'], group['max_skew']))
        self.assertEqual(1, self.storage.get_group('web').max_skew)
        self.assertNotIn('max_skew', self.get(
            '/v1/groups/web', headers=V15).json['group'])

    def test_refused_before_1_6_and_without_its_skew(self):
        resp = self.post('/v1/groups', {
            'name': 'web', 'type': 'spread', 'level': 'rack',
            'max_skew': 1}, headers=V15)
        self.assertError(resp, 400, 'valet.request.invalid')
        for body in ({'type': 'spread'},
                     {'type': 'spread', 'max_skew': 0},
                     {'type': 'spread', 'max_per_domain': 2, 'max_skew': 1},
                     {'type': 'at-most', 'max_per_domain': 2,
                      'max_skew': 1}):
            body.update(name='g', level='host')
            resp = self.post('/v1/groups', body, headers=V16)
            self.assertError(resp, 400, 'valet.request.invalid')
        self.assertEqual([], self.get('/v1/groups').json['groups'])
