"""Who may do what: the default policy, persona by persona (noauth)."""

from valet.tests.unit.api import base
from valet.tests.unit.api.base import server

ADMIN, MEMBER, READER, OTHER, SERVICE = (
    'admin', 'member', 'reader', 'other', 'service')
HEADERS = {ADMIN: base.ADMIN, MEMBER: base.MEMBER, READER: base.READER,
           OTHER: base.OTHER, SERVICE: base.SERVICE}


def expect(admin, member, reader, other, service):
    return {ADMIN: admin, MEMBER: member, READER: reader, OTHER: other,
            SERVICE: service}


GROUP = {'name': 'newgroup', 'type': 'affinity', 'level': 'host'}
NEW_PLAN = {'plan_name': 'p2', 'stack_id': 'stack-2',
            'resources': {'x': server('x')}}
UPDATE = {'action': 'update', 'resources': {'orch-a': server('a')}}
MIGRATE = {'action': 'migrate', 'resources': ['orch-a']}
RESERVE = {'locations': ['host1']}
REPLAN = {'action': 'replan', 'locations': ['host2']}

# (method, path, body, expected status per persona)
MATRIX = [
    ('GET', '/', None, expect(200, 200, 200, 200, 200)),
    ('GET', '/v1', None, expect(200, 200, 200, 200, 200)),
    ('GET', '/v1/groups', None, expect(200, 200, 200, 200, 200)),
    ('GET', '/v1/groups/g1', None, expect(200, 200, 200, 200, 200)),
    ('GET', '/v1/groups/g1/members/project1', None,
     expect(204, 204, 204, 204, 204)),
    ('POST', '/v1/groups', GROUP, expect(201, 403, 403, 403, 403)),
    ('PUT', '/v1/groups/g1', {'description': 'x'},
     expect(201, 403, 403, 403, 403)),
    ('DELETE', '/v1/groups/g2', None, expect(204, 403, 403, 403, 403)),
    ('PUT', '/v1/groups/g1/members', {'members': ['p9']},
     expect(201, 403, 403, 403, 403)),
    ('DELETE', '/v1/groups/g1/members', None,
     expect(204, 403, 403, 403, 403)),
    ('DELETE', '/v1/groups/g1/members/project1', None,
     expect(204, 403, 403, 403, 403)),
    ('GET', '/v1/plans', None, expect(200, 200, 200, 200, 200)),
    ('POST', '/v1/plans', NEW_PLAN, expect(201, 201, 403, 201, 403)),
    ('GET', '/v1/plans/stack-1', None, expect(200, 200, 200, 404, 200)),
    ('PUT', '/v1/plans/stack-1', UPDATE, expect(201, 201, 403, 404, 403)),
    ('PUT', '/v1/plans/stack-1', MIGRATE, expect(201, 201, 403, 404, 403)),
    ('DELETE', '/v1/plans/stack-1', None, expect(204, 204, 403, 404, 403)),
    ('GET', '/v1/placements', None, expect(200, 200, 200, 200, 200)),
    ('GET', '/v1/placements/orch-a', None, expect(200, 200, 200, 404, 200)),
    ('POST', '/v1/placements/orch-a', RESERVE,
     expect(201, 201, 403, 404, 201)),
    ('POST', '/v1/placements/orch-a', REPLAN,
     expect(201, 201, 403, 404, 201)),
    ('DELETE', '/v1/placements/orch-a', None,
     expect(204, 204, 403, 404, 403)),
    ('GET', '/v1/status', None, expect(200, 403, 403, 403, 200)),
    ('HEAD', '/v1/status', None, expect(200, 403, 403, 403, 200)),
    ('GET', '/v1/resources', None, expect(200, 403, 403, 403, 200)),
]


class PolicyMatrixTest(base.APITestCase):

    def populate(self):
        self.make_group('g1', members=['project1'])
        self.make_group('g2')
        self.make_plan('stack-1')

    def fresh(self):
        self.build_app()
        self.populate()

    def test_matrix(self):
        failures = []
        for method, path, body, expected in MATRIX:
            for persona, status in expected.items():
                self.fresh()
                resp = self.request(method, path, body,
                                    headers=HEADERS[persona])
                if resp.status_int != status:
                    failures.append('%s %s as %s: %d, expected %d'
                                    % (method, path, persona,
                                       resp.status_int, status))
                elif status in (403, 404) and method != 'HEAD':
                    self.assertError(resp, status)
        self.assertEqual([], failures)

    def test_forbidden_error(self):
        self.populate()
        error = self.assertError(self.post('/v1/groups', GROUP,
                                           headers=base.MEMBER),
                                 403, 'valet.policy.forbidden')
        self.assertIn('valet:groups:create', error['detail'])
        self.assertEqual([], [g for g in self.storage.list_groups()
                              if g.name == 'newgroup'])

    def test_lists_are_project_scoped(self):
        self.populate()
        self.make_plan('stack-9', {'z': server('z')}, headers=base.OTHER)

        def stacks(headers):
            plans = self.get('/v1/plans', headers=headers).json['plans']
            return sorted(p['stack_id'] for p in plans)

        def orchs(headers, query=''):
            found = self.get('/v1/placements' + query,
                             headers=headers).json['placements']
            return sorted(p['orchestration_id'] for p in found)

        self.assertEqual(['stack-1', 'stack-9'], stacks(base.ADMIN))
        self.assertEqual(['stack-1', 'stack-9'], stacks(base.SERVICE))
        self.assertEqual(['stack-1'], stacks(base.MEMBER))
        self.assertEqual(['stack-1'], stacks(base.READER))
        self.assertEqual(['stack-9'], stacks(base.OTHER))
        self.assertEqual(['orch-a', 'orch-b', 'z'], orchs(base.ADMIN))
        self.assertEqual(['orch-a', 'orch-b'], orchs(base.MEMBER))
        self.assertEqual(['z'], orchs(base.OTHER))
        self.assertEqual([], orchs(base.OTHER, '?name=a'))
        self.assertEqual(['orch-a'], orchs(base.SERVICE, '?name=a'))

    def test_plans_belong_to_the_callers_project(self):
        self.make_plan('stack-9', {'z': server('z')}, headers=base.OTHER)
        sent = self.engine.calls_to('create_plan')[0]['plan']
        self.assertEqual('project2', sent['project_id'])
        self.assertEqual('project2',
                         self.storage.get_plan('stack-9').project_id)

    def test_system_scope_is_refused(self):
        headers = dict(base.ADMIN, **{'OpenStack-System-Scope': 'all'})
        self.assertError(self.get('/v1/groups', headers=headers), 403,
                         'valet.policy.forbidden')

    def test_noauth_without_roles_is_a_member_not_an_admin(self):
        # A forgotten X-Roles header must not grant administration.
        self.assertError(self.get('/v1/status', headers={}), 403,
                         'valet.policy.forbidden')
        self.assertError(self.post('/v1/groups', {
            'name': 'g', 'type': 'affinity', 'level': 'host'}, headers={}),
            403, 'valet.policy.forbidden')
        self.get('/v1/plans', headers={}, status=200)
        self.get('/v1/status', headers={'X-Roles': 'admin'}, status=200)

    def test_unknown_role_gets_nothing(self):
        headers = base.roles_headers('project1', 'observer')
        self.assertError(self.get('/v1/groups', headers=headers), 403)
        self.assertError(self.get('/v1/plans', headers=headers), 403)


class KeystoneContextTest(base.APITestCase):
    """auth_strategy = keystone: identity comes from auth_token headers."""

    auth_strategy = 'keystone'

    def confirmed(self, project, *roles):
        return dict(base.roles_headers(project, *roles),
                    **{'X-Identity-Status': 'Confirmed'})

    def test_unconfirmed_is_401(self):
        for headers in ({}, base.ADMIN,
                        dict(base.ADMIN, **{'X-Identity-Status': 'Invalid'})):
            self.assertError(self.get('/v1/groups', headers=headers), 401,
                             'valet.auth.required')

    def test_confirmed_roles_are_used_as_given(self):
        self.get('/v1/status', headers=self.confirmed('p', 'admin'),
                 status=200)
        # Keystone puts implied roles in the token; nothing is added here.
        self.assertError(self.get('/v1/groups', headers=self.confirmed(
            'p', 'member')), 403)
        self.get('/v1/groups', headers=self.confirmed('p', 'member',
                                                      'reader'), status=200)
