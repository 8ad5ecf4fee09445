"""The real Keystone the RBAC tests rely on comes up with its personas."""

from keystoneauth1 import session as ks_session
import testtools

from valet.tests.functional import keystone_fixture


class KeystoneFixtureTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        keystone_fixture.require_keystone()

    def test_personas_get_scoped_tokens_and_revocation_works(self):
        ks = self.useFixture(keystone_fixture.KeystoneFixture())
        plain = ks_session.Session()
        admin_token = ks.token('admin')
        for user, (project, role) in keystone_fixture.PERSONAS.items():
            token = ks.token(user)
            resp = plain.get(ks.url + '/auth/tokens', headers={
                'X-Auth-Token': admin_token, 'X-Subject-Token': token})
            body = resp.json()['token']
            self.assertEqual(project, body['project']['name'], user)
            self.assertIn(role, [r['name'] for r in body['roles']], user)
        doomed = ks.token('beta-member')
        ks.revoke(doomed)
        resp = plain.get(ks.url + '/auth/tokens', raise_exc=False, headers={
            'X-Auth-Token': admin_token, 'X-Subject-Token': doomed})
        self.assertEqual(404, resp.status_code)
