"""RBAC of the whole v1 API against a real Keystone and a real deployment.

One Keystone and one deployment serve the class. ``MATRIX`` states, for
every endpoint and method, the status each persona must get; it follows the
policy defaults in ``valet.policies``: admins manage groups and membership
and see everything; project members create and see their own plans and
placements; readers read their own; the service user (Nova, Heat) may
reserve and replan. Plans and placements are project-owned: another
project's answer 404, not 403. Every cell is a test of its own.

Cells that change something work on objects made for that cell alone, so
no cell can break another, whatever order they run in.
"""

import re
import unittest
import uuid

import fixtures
import requests
import testtools
from testtools import content

from valet.tests.functional.deploy import base
from valet.tests.functional import deployment
from valet.tests.functional import keystone_fixture

ADMIN = 'admin'
ALPHA_MEMBER = 'alpha-member'
ALPHA_READER = 'alpha-reader'
BETA_MEMBER = 'beta-member'
NOVA = 'nova'
NO_TOKEN = 'no-token'
GARBAGE_TOKEN = 'garbage-token'
REVOKED_TOKEN = 'revoked-token'

AUTHENTICATED = (ADMIN, ALPHA_MEMBER, ALPHA_READER, BETA_MEMBER, NOVA)
ANONYMOUS = (NO_TOKEN, GARBAGE_TOKEN, REVOKED_TOKEN)
PERSONAS = AUTHENTICATED + ANONYMOUS


def row(admin, alpha_member, alpha_reader, beta_member, nova, anonymous=401):
    """Expected status per persona; the three token-less ones share one."""
    out = dict(zip(AUTHENTICATED,
                   (admin, alpha_member, alpha_reader, beta_member, nova)))
    out.update(dict.fromkeys(ANONYMOUS, anonymous))
    return out


GROUP = '/v1/groups/{group_id}'
MEMBERS = GROUP + '/members'
MEMBER = MEMBERS + '/{project_id}'
PLAN = '/v1/plans/{plan_id}'
PLACEMENT = '/v1/placements/{placement_id}'

# (method, path template): expected status per persona. Objects in paths
# are alpha's (the plan and placement) or global (the group).
# Columns:                   admin alpha-m alpha-r beta-m nova
MATRIX = {
    # The version document is public, even with a bad token.
    ('GET', '/'): row(200, 200, 200, 200, 200, anonymous=200),
    ('GET', '/v1'): row(200, 200, 200, 200, 200),
    # Groups are global: admins manage them, anyone may look.
    ('GET', '/v1/groups'): row(200, 200, 200, 200, 200),
    ('POST', '/v1/groups'): row(201, 403, 403, 403, 403),
    ('GET', GROUP): row(200, 200, 200, 200, 200),
    ('PUT', GROUP): row(201, 403, 403, 403, 403),
    ('DELETE', GROUP): row(204, 403, 403, 403, 403),
    ('PUT', MEMBERS): row(201, 403, 403, 403, 403),
    ('DELETE', MEMBERS): row(204, 403, 403, 403, 403),
    ('GET', MEMBER): row(204, 204, 204, 204, 204),
    ('DELETE', MEMBER): row(204, 403, 403, 403, 403),
    # Plans: members write their project's, readers read; beta cannot
    # even learn alpha's exist. Nova may see plans but not change them.
    ('GET', '/v1/plans'): row(200, 200, 200, 200, 200),
    ('POST', '/v1/plans'): row(201, 201, 403, 201, 403),
    ('GET', PLAN): row(200, 200, 200, 404, 200),
    ('PUT', PLAN): row(201, 201, 403, 404, 403),  # action "update"
    ('DELETE', PLAN): row(204, 204, 403, 404, 403),
    # Placements: the same ownership; the service reserves and replans.
    ('GET', '/v1/placements'): row(200, 200, 200, 200, 200),
    ('GET', PLACEMENT): row(200, 200, 200, 404, 200),
    ('POST', PLACEMENT): row(201, 201, 403, 404, 201),  # "reserve"
    ('DELETE', PLACEMENT): row(204, 204, 403, 404, 403),
    # Engine health and broken placements: operators and services only.
    ('GET', '/v1/status'): row(200, 403, 403, 403, 200),
    ('HEAD', '/v1/status'): row(200, 403, 403, 403, 200),
    ('GET', '/v1/resources'): row(200, 403, 403, 403, 200),
}

# The other action of the endpoints whose body names one; each has its
# own policy rule.
ACTION_MATRIX = {
    ('PUT', PLAN, 'migrate'): row(201, 201, 403, 404, 403),
    ('POST', PLACEMENT, 'replan'): row(201, 201, 403, 404, 201),
}

# Which of the shared plans (alpha's, beta's) each persona's list shows.
VISIBLE = {
    ADMIN: {'alpha', 'beta'},
    NOVA: {'alpha', 'beta'},
    ALPHA_MEMBER: {'alpha'},
    ALPHA_READER: {'alpha'},
    BETA_MEMBER: {'beta'},
}


def _start(fixture):
    """fixture.setUp() outside a test, unwrapping a skip from its errors."""
    try:
        fixture.setUp()
    except fixtures.MultipleExceptions as exc:
        first = exc.args[0][1]
        if isinstance(first, unittest.SkipTest):
            raise first
        raise
    return fixture


class RBACTest(testtools.TestCase):
    """Test methods (one per cell) are added below the class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._started = []
        try:
            cls._start_services()
        except BaseException:
            cls._stop_services()
            raise
        try:
            cls._make_shared_objects()
        except Exception as exc:
            # No test runs, so no test can attach the logs: raise them.
            logs = cls.dep.logs()
            cls._stop_services()
            raise RuntimeError('shared objects: %s\n%s' % (exc, logs)) from exc

    @classmethod
    def tearDownClass(cls):
        cls._stop_services()
        super().tearDownClass()

    @classmethod
    def _start_services(cls):
        keystone_fixture.require_keystone()
        cls.ks = _start(keystone_fixture.KeystoneFixture())
        cls._started.append(cls.ks)
        cls.dep = _start(deployment.Deployment(keystone=cls.ks))
        cls._started.append(cls.dep)
        cls.tokens = {user: cls.ks.token(user) for user in AUTHENTICATED}
        # Shaped like a fernet token, but signed by no key Keystone has.
        cls.tokens[GARBAGE_TOKEN] = 'gAAAAAB' + uuid.uuid4().hex * 3
        # A token of its own, shown to work before it is revoked, so its
        # 401 cells can only be due to the revocation.
        cls.tokens[REVOKED_TOKEN] = cls.ks.token(ALPHA_MEMBER)
        cls._ok(REVOKED_TOKEN, 'GET', '/v1', 200)
        cls.ks.revoke(cls.tokens[REVOKED_TOKEN])

    @classmethod
    def _stop_services(cls):
        while cls._started:
            cls._started.pop().cleanUp()

    @classmethod
    def _make_shared_objects(cls):
        cls.alpha = cls.ks.ids['alpha']
        cls.beta = cls.ks.ids['beta']
        cls.group = cls._new_group(members=[cls.alpha])
        cls.alpha_plan = cls._new_plan(ALPHA_MEMBER)
        cls.beta_plan = cls._new_plan(BETA_MEMBER)
        cls.placement = cls._placement_of(cls.alpha_plan)

    # ------------------------------------------------------------ helpers
    @classmethod
    def _call(cls, persona, method, path, **kwargs):
        headers = {}
        token = cls.tokens.get(persona)
        if token is not None:
            headers['X-Auth-Token'] = token
        return requests.request(method, cls.dep.url + path, headers=headers,
                                timeout=60, **kwargs)

    @classmethod
    def _ok(cls, persona, method, path, want, **kwargs):
        """A set-up call that must succeed; its JSON body."""
        resp = cls._call(persona, method, path, **kwargs)
        if resp.status_code != want:
            raise AssertionError('set-up %s %s as %s: %d %s' % (
                method, path, persona, resp.status_code, resp.text))
        return resp.json() if resp.content else None

    @classmethod
    def _new_group(cls, members=()):
        group = cls._ok(ADMIN, 'POST', '/v1/groups', 201, json={
            'name': 'rbac-%s' % uuid.uuid4().hex[:12],
            'type': 'diversity', 'level': 'host'})
        if members:
            cls._ok(ADMIN, 'PUT', '/v1/groups/%s/members' % group['id'],
                    201, json={'members': list(members)})
        return group

    @classmethod
    def _new_plan(cls, owner=ALPHA_MEMBER):
        body = base.plan_body('rbac-%s' % uuid.uuid4().hex[:8],
                              [base.server('web')])
        return cls._ok(owner, 'POST', '/v1/plans', 201, json=body)['plan']

    @classmethod
    def _placement_of(cls, plan):
        found = cls._ok(ADMIN, 'GET', '/v1/placements', 200,
                        params={'plan_id': plan['id']})['placements']
        if len(found) != 1:
            raise AssertionError('plan %s has placements %r' % (
                plan['id'], found))
        return found[0]

    # --------------------------------------------------- per-cell requests
    def _request(self, method, template, action):
        """(path, json body) for one cell; fresh objects where it writes."""
        params = {'group_id': self.group['id'], 'project_id': self.alpha,
                  'plan_id': self.alpha_plan['id'],
                  'placement_id': self.placement['id']}
        body = None
        write = method in ('POST', 'PUT', 'DELETE')
        if write and template.startswith(GROUP):
            with_member = template.startswith(MEMBERS) and method == 'DELETE'
            params['group_id'] = self._new_group(
                members=[self.alpha] if with_member else ())['id']
            if template == GROUP and method == 'PUT':
                body = {'description': 'changed by a cell'}
            elif template == MEMBERS and method == 'PUT':
                body = {'members': [self.beta]}
        elif template == '/v1/groups' and method == 'POST':
            body = {'name': 'rbac-%s' % uuid.uuid4().hex[:12],
                    'type': 'affinity', 'level': 'host'}
        elif template == '/v1/plans' and method == 'POST':
            body = base.plan_body('rbac-%s' % uuid.uuid4().hex[:8],
                                  [base.server('db')])
        elif write and template == PLAN:
            plan = self._new_plan()
            params['plan_id'] = plan['id']
            if action == 'migrate':
                body = {'action': 'migrate',
                        'resources': list(plan['placements'])}
            elif method == 'PUT':
                body = {'action': 'update', 'resources': {
                    str(uuid.uuid4()): base.server('web2')}}
        elif write and template == PLACEMENT:
            placement = self._placement_of(self._new_plan())
            params['placement_id'] = placement['id']
            if method == 'POST':
                body = {'action': action,
                        'locations': [placement['location']],
                        'resource_id': str(uuid.uuid4())}
        return template.format(**params), body

    def check_cell(self, method, template, action, persona, want):
        path, body = self._request(method, template, action)
        what = '%s %s%s as %s' % (
            method, template, ' (%s)' % action if action else '', persona)
        resp = self._call(persona, method, path, json=body)
        self.assertEqual(want, resp.status_code, '%s: expected %d, got %d: %s'
                         % (what, want, resp.status_code, resp.text[:500]))
        if want == 401:
            self.assertIn('WWW-Authenticate', resp.headers,
                          '%s: a 401 must say how to authenticate' % what)
        elif want in (403, 404) and method != 'HEAD':
            code = resp.json()['errors'][0]['code']
            self.assertEqual('valet.policy.forbidden' if want == 403
                             else 'valet.%s.not_found'
                             % template.split('/')[2][:-1], code, what)
        elif want == 200 and method == 'GET':
            self._check_visibility(template, persona, resp.json(), what)

    def _check_visibility(self, template, persona, body, what):
        # Listing is filtered, not refused: each persona sees exactly the
        # shared plans (and their placements) its project may see.
        if template == '/v1/plans':
            seen = {p['id'] for p in body['plans']}
        elif template == '/v1/placements':
            seen = {p['plan_id'] for p in body['placements']}
        else:
            return
        shared = {'alpha': self.alpha_plan['id'],
                  'beta': self.beta_plan['id']}
        self.assertEqual(VISIBLE[persona],
                         {k for k, v in shared.items() if v in seen},
                         '%s: wrong plans visible' % what)

    def setUp(self):
        super().setUp()
        self.addOnException(lambda exc_info: self.addDetail(
            'deployment', content.text_content(self.dep.logs())))

    def test_members_must_be_projects_keystone_knows(self):
        group = self._new_group()
        path = '/v1/groups/%s/members' % group['id']
        resp = self._call(ADMIN, 'PUT', path, json={
            'members': [self.alpha, 'f' * 32]})
        self.assertEqual(409, resp.status_code, resp.text)
        error = resp.json()['errors'][0]
        self.assertEqual('valet.group.members_invalid', error['code'])
        self.assertIn('f' * 32, error['detail'])
        self.assertNotIn(self.alpha, error['detail'])
        # Nothing was added, not even the project that exists.
        shown = self._ok(ADMIN, 'GET', '/v1/groups/%s' % group['id'], 200)
        self.assertEqual([], shown['group']['members'])
        resp = self._call(ADMIN, 'PUT', path, json={
            'members': [self.alpha, self.beta]})
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertEqual(sorted([self.alpha, self.beta]),
                         sorted(resp.json()['members']))


def _cell_test(method, template, action, persona, want):
    def test(self):
        self.check_cell(method, template, action, persona, want)
    test.__doc__ = '%s %s%s as %s answers %d' % (
        method, template, ' (%s)' % action if action else '', persona, want)
    return test


def _add_cells():
    cells = [(m, t, None, e) for (m, t), e in MATRIX.items()]
    cells += [(m, t, a, e) for (m, t, a), e in ACTION_MATRIX.items()]
    for method, template, action, expected in cells:
        if (method, template) in (('PUT', PLAN), ('POST', PLACEMENT)):
            action = action or ('update' if method == 'PUT' else 'reserve')
        for persona, want in expected.items():
            slug = re.sub(r'[^a-z0-9]+', '_', ('%s %s %s %s' % (
                method, template, action or '', persona)).lower())
            setattr(RBACTest, 'test_' + slug.strip('_'),
                    _cell_test(method, template, action, persona, want))


_add_cells()
