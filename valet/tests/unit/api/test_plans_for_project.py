"""POST /v1/plans with ``project_id`` (microversion 1.3): a service plans
servers for the project that owns them (Nova's scheduler filter)."""

import fixtures

from valet import policy
from valet.tests.unit.api import base

V13 = {'OpenStack-API-Version': 'workload-placement 1.3'}


def headers(*parts):
    out = {}
    for part in parts:
        out.update(part)
    return out


class PlanForProjectTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.post('/v1/groups', {'name': 'spread', 'type': 'diversity',
                                 'level': 'host'}, status=201)
        self.put('/v1/groups/spread/members', {'members': ['project1']},
                 status=201)

    def body(self, stack='s1', **extra):
        body = {'plan_name': 'p', 'stack_id': stack,
                'resources': {'a': base.server('a', groups=['spread'])}}
        body.update(extra)
        return body

    def test_service_plans_for_the_servers_project(self):
        resp = self.post('/v1/plans', self.body(project_id='project1'),
                         headers=headers(base.SERVICE, V13), status=201)
        self.assertEqual(['a'], list(resp.json['plan']['placements']))
        plan = self.storage.get_plan('s1')
        self.assertEqual('project1', plan.project_id)
        sent = self.engine.calls_to('create_plan')[0]['plan']
        self.assertEqual('project1', sent['project_id'])
        # The owner sees it as its own.
        self.get('/v1/plans/s1', headers=base.MEMBER, status=200)

    def test_group_membership_is_checked_for_that_project(self):
        resp = self.post('/v1/plans', self.body(project_id='project2'),
                         headers=headers(base.SERVICE, V13))
        self.assertError(resp, 409, 'valet.group.not_member')
        self.assertEqual([], self.engine.calls_to('create_plan'))

    def test_a_project_member_may_not_plan_for_another_project(self):
        resp = self.post('/v1/plans', self.body(project_id='project1'),
                         headers=headers(base.OTHER, V13))
        self.assertError(resp, 403)
        self.assertEqual([], self.engine.calls_to('create_plan'))

    def test_own_project_needs_no_extra_rule(self):
        self.post('/v1/plans', self.body(project_id='project1'),
                  headers=headers(base.MEMBER, V13), status=201)
        self.assertEqual('project1', self.storage.get_plan('s1').project_id)

    def test_before_1_3_project_id_is_an_unknown_field(self):
        resp = self.post('/v1/plans', self.body(project_id='project1'),
                         headers=base.SERVICE)
        self.assertError(resp, 400)
        self.assertEqual([], self.engine.calls_to('create_plan'))

    def test_service_without_project_id_needs_the_ordinary_rule(self):
        resp = self.post('/v1/plans', self.body(), headers=base.SERVICE)
        self.assertError(resp, 403)
        resp = self.post('/v1/plans', self.body(project_id='serviceproject'),
                         headers=headers(base.SERVICE, V13))
        self.assertError(resp, 403)
        self.assertEqual([], self.engine.calls_to('create_plan'))

    def test_a_caller_allowed_neither_rule_is_refused_before_the_body(self):
        # A reader may not plan at all: 403, not the body's 400.
        for body in (self.body(), {'plan_name': 'p'},
                     self.body(project_id='project2')):
            resp = self.post('/v1/plans', body,
                             headers=headers(base.READER, V13))
            self.assertError(resp, 403)
        self.assertEqual([], self.engine.calls_to('create_plan'))

    def test_a_create_for_the_callers_own_project_asks_one_rule(self):
        asked = []
        authorize = policy.authorize

        def spy(ctx, action, *args, **kwargs):
            asked.append(action)
            return authorize(ctx, action, *args, **kwargs)
        self.useFixture(fixtures.MockPatchObject(policy, 'authorize', spy))
        self.post('/v1/plans', self.body(), headers=base.MEMBER, status=201)
        self.assertEqual(['valet:plans:create'], asked)
        # A service planning for another project asks both.
        del asked[:]
        body = self.body('s2', project_id='project1')
        body['resources'] = {'b': base.server('b', groups=['spread'])}
        self.post('/v1/plans', body, headers=headers(base.SERVICE, V13),
                  status=201)
        self.assertEqual(['valet:plans:create',
                          'valet:plans:create_for_project'], asked)
