"""/v1/groups with types soft-affinity and soft-diversity (microversion
1.7) and their optional ``weight``: what the API does.

What a soft group means for a placement is the solver's (its rule
modules' tests); here: the types and ``weight`` are gated by
microversion, ``weight`` comes only with a soft group, defaults to 1, is
shown from 1.7 on and goes with a plan's group definitions.
"""

import json

from valet.tests.unit.api import base
from valet.tests.unit.api.base import server


def version(v):
    return dict(base.ADMIN,
                **{'OpenStack-API-Version': 'workload-placement %s' % v})


V16, V17 = version('1.6'), version('1.7')


class SoftGroupAPITest(base.APITestCase):

    def create(self, body, hdrs=V17, status=201):
        return self.post('/v1/groups', body, headers=hdrs, status=status)

    def test_created_with_a_weight_and_shown_from_1_7(self):
        group = self.create({'name': 'near', 'type': 'soft-affinity',
                             'level': 'rack', 'weight': 5}).json
        self.assertEqual(('soft-affinity', 5), (group['type'],
                                                group['weight']))
        self.assertEqual(5, self.get('/v1/groups/near',
                                     headers=V17).json['group']['weight'])
        self.assertEqual(5, self.storage.get_group('near').weight)
        # Older microversions do not know the member.
        self.assertNotIn('weight', self.get(
            '/v1/groups/near', headers=V16).json['group'])
        self.assertNotIn('weight', self.get(
            '/v1/groups', headers=V16).json['groups'][0])

    def test_weight_defaults_to_1(self):
        group = self.create({'name': 'apart', 'type': 'soft-diversity',
                             'level': 'host'}).json
        self.assertEqual(1, group['weight'])
        sent = self.engine.calls_to('create_group')[0]['group']
        self.assertEqual(1, sent['weight'])

    def test_refused_before_1_7(self):
        for body in ({'type': 'soft-affinity'},
                     {'type': 'soft-diversity', 'weight': 2},
                     {'type': 'affinity', 'weight': 2}):
            body.update(name='g', level='host')
            resp = self.create(body, hdrs=V16, status=None)
            self.assertError(resp, 400, 'valet.request.invalid')
        self.assertEqual([], self.get('/v1/groups').json['groups'])

    def test_weight_goes_with_soft_groups_only(self):
        bad = [{'type': 'soft-affinity', 'weight': 0},
               {'type': 'soft-affinity', 'weight': 101},
               {'type': 'soft-diversity', 'weight': 1.5},
               {'type': 'soft-diversity', 'weight': '2'},
               {'type': 'soft-diversity', 'weight': True},
               {'type': 'affinity', 'weight': 2},
               {'type': 'at-most', 'max_per_domain': 2, 'weight': 2},
               {'type': 'soft-affinity', 'max_skew': 2}]
        for body in bad:
            body.update(name='g', level='host')
            resp = self.create(body, status=None)
            error = self.assertError(resp, 400, 'valet.request.invalid')
            self.assertTrue('weight' in error['detail']
                            or 'max_skew' in error['detail'], body)
        self.assertEqual([], self.get('/v1/groups').json['groups'])

    def test_other_kinds_unchanged_at_1_7(self):
        # The parameters of earlier kinds keep their place and spelling.
        for headers in (version('1.5'), V17):
            resp = self.create({'name': 'db', 'type': 'at-most',
                                'level': 'rack', 'max_per_domain': 2},
                               hdrs=headers)
            body = json.loads(resp.body)
            self.assertEqual(['id', 'name', 'description', 'type', 'level',
                              'members', 'parents', 'max_per_domain'],
                             list(body))
            self.delete('/v1/groups/db', headers=headers)

    def test_plan_sends_the_weight(self):
        self.create({'name': 'near', 'type': 'soft-affinity',
                     'level': 'rack', 'weight': 3})
        self.make_plan('stack-1', {'a': server('a', groups=['near'])})
        sent = self.engine.calls_to('create_plan')[0]['plan']
        self.assertEqual({'name': 'near', 'type': 'soft-affinity',
                          'level': 'rack', 'parents': [], 'weight': 3},
                         sent['groups']['near'])

    def test_create_schema_built_once_per_shape(self):
        # The same object each time, so its validator is built once.
        from valet.api.schemas import groups as groups_schema
        levels, kinds = ('host', 'rack'), ('affinity', 'soft-affinity')
        self.assertIs(groups_schema.create(levels, kinds, nesting=True),
                      groups_schema.create(levels, kinds, nesting=True))
