"""The devstack plugin deploys a Valet reachable through Keystone's catalog.

The plugin's phases run under ``harness.sh`` (devstack itself needs
systemd and git access; the harness provides the devstack functions, each
doing the real thing) against a real Keystone, MariaDB, RabbitMQ and a
real Placement that validates Keystone tokens. Nothing is mocked.
"""

import configparser
import os
import time

import requests
import testtools

from valet.tests.functional.devstack import deploy
from valet.tests.functional import keystone_fixture

SERVICE_TYPE = 'workload-placement'


class DevstackPluginTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.deployment = self.useFixture(deploy.DevstackDeployment())
        self.keystone = self.deployment.keystone

    def _endpoint(self, session):
        return session.get_endpoint(service_type=SERVICE_TYPE,
                                    interface='public', region_name='RegionOne')

    def _status(self, url, token, seconds=180):
        """GET /v1/status until the engine has built its model."""
        deadline = time.time() + seconds
        while True:
            resp = requests.get(url + '/v1/status', timeout=30,
                                headers={'X-Auth-Token': token})
            if resp.status_code == 200 or time.time() > deadline:
                return resp
            time.sleep(0.5)

    def test_stack_unstack_clean(self):
        # The catalog names Valet; a token from Keystone reaches it.
        # A new session: the fixture's admin token predates the endpoint.
        url = self._endpoint(self.keystone.session('admin', 'admin', 'admin'))
        self.assertEqual('http://127.0.0.1:%d' % self.deployment.port, url)
        admin = self.keystone.session('admin', 'admin', 'admin')
        self.assertEqual(url, admin.get_endpoint(
            service_type=SERVICE_TYPE, interface='internal'))
        resp = self._status(url, self.keystone.token('admin'))
        self.assertEqual(200, resp.status_code,
                         resp.text + self.deployment.service_logs())
        status = resp.json()['status']
        self.assertEqual('ok', status['engine']['status'], status)
        self.assertIs(True, status['storage']['ok'], status)
        # No token: keystonemiddleware refuses, pointing at Keystone.
        resp = requests.get(url + '/v1/status', timeout=30)
        self.assertEqual(401, resp.status_code)
        self.assertIn(self.keystone.url,
                      resp.headers.get('WWW-Authenticate', ''))
        # Policy with real roles: a member may not create groups.
        member = self.keystone.token('alpha-member')
        resp = requests.post(url + '/v1/groups', timeout=30, json={
            'name': 'g1', 'type': 'affinity', 'level': 'host'},
            headers={'X-Auth-Token': member})
        self.assertEqual(403, resp.status_code, resp.text)
        # A reader finds Valet in the catalog with its own token.
        reader = self.keystone.session(
            'alpha-reader', keystone_fixture.PASSWORD, 'alpha')
        resp = reader.get(self._endpoint(reader) + '/v1/groups',
                          raise_exc=False)
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual({'groups': []}, resp.json())

        # valet.conf as the plugin wrote it.
        conf = configparser.ConfigParser()
        conf.read(self.deployment.conf_file)
        self.assertEqual('openstack', conf['inventory']['driver'])
        self.assertEqual('keystone', conf['api']['auth_strategy'])
        self.assertIn(self.deployment.env['VALET_DATABASE_NAME'],
                      conf['database']['connection'])
        self.assertEqual(self.keystone.url, conf['placement']['auth_url'])
        # Nova is not enabled here: no [nova] credentials, no listener.
        self.assertFalse(conf.has_option('nova', 'auth_type'))
        tempest = configparser.ConfigParser()
        tempest.read(self.deployment.tempest_conf)
        self.assertEqual('True', tempest['service_available']['valet'])

        # The engine read the real Placement through the catalog.
        engine_log = os.path.join(self.deployment.dir, 'logs',
                                  'valet-engine.log')
        with open(engine_log) as f:
            self.assertNotIn('ERROR', f.read())

        # unstack stops both services; clean removes the configuration.
        self.deployment.harness('unstack')
        self.assertRaises(requests.ConnectionError, requests.get,
                          url + '/', timeout=10)
        pids = os.path.join(self.deployment.dir, 'services')
        self.assertEqual([], os.listdir(pids))
        self.deployment.harness('clean')
        self.assertFalse(os.path.exists(self.deployment.conf_file))
