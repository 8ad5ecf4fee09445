"""``openstack valet ...`` as a user runs it, against a real deployment.

The ``openstack`` command (python-openstackclient with Valet's OSC
plugin) runs as a subprocess and authenticates with its own options
against a real Keystone, finds Valet in Keystone's catalog and talks to a
real valet-api (uwsgi) and valet-engine over RabbitMQ, with the static
sample inventory. Nothing is mocked.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

import testtools

from valet.tests.functional import deployment
from valet.tests.functional import keystone_fixture
from valet.tests.functional import services

_OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')


class OpenStackCLITest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if not os.path.exists(_OPENSTACK):
            services.unavailable('python-openstackclient is not installed '
                                 '(test-requirements)')
        self.keystone = self.useFixture(keystone_fixture.KeystoneFixture())
        self.dep = self.useFixture(deployment.Deployment(
            keystone=self.keystone))
        admin = self.keystone.admin
        service = admin.post(self.keystone.url + '/services', json={
            'service': {'name': 'valet', 'type': 'workload-placement'}})
        admin.post(self.keystone.url + '/endpoints', json={'endpoint': {
            'service_id': service.json()['service']['id'],
            'interface': 'public', 'region_id': 'RegionOne',
            'url': self.dep.url}})
        self.tmp = tempfile.mkdtemp(prefix='valet-osc-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def osc(self, *args, user='admin', project='admin', expect=0):
        """``openstack <args>``; returns (stdout, stderr)."""
        password = 'admin' if user == 'admin' else keystone_fixture.PASSWORD
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        cmd = [_OPENSTACK, '--os-auth-url', self.keystone.url,
               '--os-identity-api-version', '3',
               '--os-username', user, '--os-password', password,
               '--os-project-name', project,
               '--os-user-domain-name', 'Default',
               '--os-project-domain-name', 'Default',
               '--os-region-name', 'RegionOne'] + list(args)
        result = subprocess.run(cmd, env=env, capture_output=True,
                                text=True, timeout=180)
        self.assertEqual(expect, result.returncode,
                         'openstack %s\nstdout:\n%s\nstderr:\n%s' % (
                             ' '.join(args), result.stdout, result.stderr))
        return result.stdout, result.stderr

    def json(self, *args, **kwargs):
        out, _ = self.osc(*(args + ('-f', 'json')), **kwargs)
        return json.loads(out)

    def resources_file(self, servers):
        path = os.path.join(self.tmp, '%s.json' % uuid.uuid4().hex)
        with open(path, 'w') as f:
            json.dump({
                str(uuid.uuid4()): {
                    'name': name, 'type': 'OS::Nova::Server',
                    'properties': {'flavor': 'm1.small',
                                   'metadata': {'valet': {'groups': groups}}}}
                for name, groups in servers}, f)
        return path

    def test_round_trip_and_refusal(self):
        # One deployment for both: each CLI call starts a Python process.
        self.check_groups_plans_placements()
        self.check_refused_plan_prints_the_explanation_table()

    def check_groups_plans_placements(self):
        status = self.json('valet', 'status')
        self.assertEqual('ok', status['engine_status'])
        self.assertIs(True, status['storage_ok'])

        group = self.json('valet', 'group', 'create', 'web', '--type',
                          'diversity', '--level', 'rack',
                          '--description', 'one rack each')
        self.assertEqual(('web', 'diversity', 'rack'),
                         (group['name'], group['type'], group['level']))
        self.assertEqual(group, self.json('valet', 'group', 'show', 'web'))
        self.assertEqual([], group['parents'])
        # One host per tier, tiers on different racks.
        tier = self.json('valet', 'group', 'create', 'web-tier', '--type',
                         'affinity', '--level', 'host', '--parent', 'web')
        self.assertEqual(['web'], tier['parents'])
        self.osc('valet', 'group', 'set', 'web', '--description', 'changed')
        listed = self.json('valet', 'group', 'list')
        self.assertEqual(['changed'], [g['description'] for g in listed
                                       if g['id'] == group['id']])
        alpha = self.keystone.ids['alpha']
        added = self.json('valet', 'group', 'member', 'add', 'web', alpha)
        self.assertEqual([alpha], added['members'])
        self.assertEqual([{'project_id': alpha}], self.json(
            'valet', 'group', 'member', 'list', 'web'))

        # A member of alpha places a stack of two servers in the group.
        stack = str(uuid.uuid4())
        plan = self.json('valet', 'plan', 'create', 'shop', '--stack-id',
                         stack, '--resources', self.resources_file(
                             [('web-1', ['web']), ('web-2', ['web'])]),
                         user='alpha-member', project='alpha')
        self.assertEqual(stack, plan['stack_id'])
        hosts = {p['name']: p['location']
                 for p in plan['placements'].values()}
        self.assertEqual({'web-1', 'web-2'}, set(hosts))
        # Diversity at rack level: the sample's hosts are z<n>-r<nn>-h<nn>.
        racks = {h.rsplit('-', 1)[0] for h in hosts.values()}
        self.assertEqual(2, len(racks), hosts)
        self.assertEqual(plan, self.json('valet', 'plan', 'show', stack,
                                         user='alpha-member',
                                         project='alpha'))
        self.assertEqual([plan['id']], [p['id'] for p in self.json(
            'valet', 'plan', 'list', user='alpha-member', project='alpha')])
        # Another project sees nothing of it.
        self.assertEqual([], self.json('valet', 'plan', 'list',
                                       user='beta-member', project='beta'))

        placements = self.json('valet', 'placement', 'list',
                               user='alpha-member', project='alpha')
        self.assertEqual(sorted(hosts.values()),
                         sorted(p['location'] for p in placements))
        first = placements[0]
        shown = self.json('valet', 'placement', 'show', first['id'],
                          user='alpha-member', project='alpha')
        self.assertEqual(first, shown)
        reserved = self.json('valet', 'placement', 'reserve', first['id'],
                             '--location', first['location'],
                             user='alpha-member', project='alpha')
        self.assertEqual(first['location'], reserved['location'])
        self.assertIs(True, reserved['reserved'])
        advice = self.json('valet', 'plan', 'migrate', stack,
                           first['orchestration_id'], '--exclude-host',
                           first['location'], user='alpha-member',
                           project='alpha')
        self.assertEqual(plan['id'], advice['id'])
        self.assertNotEqual(first['location'], advice['placements'][
            first['orchestration_id']]['location'])
        self.assertEqual([], self.json('valet', 'resources'))

        # Only the admin manages groups: a clean CLI error, not a trace.
        _, err = self.osc('valet', 'group', 'delete', 'web',
                          user='alpha-member', project='alpha', expect=1)
        self.assertIn('valet.policy.forbidden', err)
        self.assertNotIn('Traceback', err)

        self.osc('valet', 'plan', 'delete', stack, user='alpha-member',
                 project='alpha')
        self.assertEqual([], self.json('valet', 'plan', 'list',
                                       user='alpha-member', project='alpha'))
        self.osc('valet', 'group', 'member', 'remove', 'web', '--all')
        self.osc('valet', 'group', 'delete', 'web-tier', 'web')
        self.assertNotIn(group['id'], [
            g['id'] for g in self.json('valet', 'group', 'list')])

    def check_refused_plan_prints_the_explanation_table(self):
        self.osc('valet', 'group', 'create', 'zones', '--type', 'diversity',
                 '--level', 'zone')
        # Three servers, one zone each, in a data centre of two zones.
        out, err = self.osc(
            'valet', 'plan', 'create', 'too-big', '--stack-id',
            str(uuid.uuid4()), '--resources', self.resources_file(
                [('a', ['zones']), ('b', ['zones']), ('c', ['zones'])]),
            expect=1)
        self.assertIn('No placement exists.', out)
        lines = out.splitlines()
        header = [line for line in lines if line.startswith('group ')]
        self.assertEqual(1, len(header), out)
        self.assertEqual(['group', 'kind', 'level', 'why'], header[0].split())
        zones_row = [line for line in lines if line.startswith('zones ')]
        self.assertEqual(1, len(zones_row), out)
        self.assertEqual(['zones', 'diversity', 'zone'],
                         zones_row[0].split()[:3])
        self.assertNotIn('{', out)
        self.assertIn('valet.placement.none', err)
        self.assertEqual([], self.json('valet', 'plan', 'list'))
