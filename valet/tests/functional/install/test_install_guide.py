"""The installation guide, followed step by step, gives a working Valet.

doc/source/install/install.rst: the database and its user in MariaDB, the
Keystone role, service and endpoints with the ``openstack`` command,
``etc/valet/valet.conf.example`` with its capitals filled in,
``valet-manage db_sync``, ``valet-engine``, and ``valet-api`` under uwsgi
with ``etc/valet/valet-api-uwsgi.ini.sample`` configured through the
environment; then the guide's check: a token, the catalog's endpoint,
``GET /v1/status``. Everything is real (Keystone, MariaDB, RabbitMQ, a
Keystone-authenticated Placement). Where the test departs from the guide,
it says why: RabbitMQ's guest user instead of a new one (users are the
broker's, shared by every test), an internal identity endpoint (the
Keystone fixture bootstraps the public one only), and a second config file that gives the
engine a topic of its own and, with no Nova here, turns Nova off.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import requests
import testtools

from valet.tests.functional.devstack import deploy
from valet.tests.functional import keystone_fixture
from valet.tests.functional import processes
from valet.tests.functional import services

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                     '..', '..'))
_BIN = os.path.dirname(sys.executable)


class InstallGuideTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        deploy.require_services()
        if not os.path.exists(os.path.join(_BIN, 'openstack')):
            services.unavailable('python-openstackclient is not installed '
                                 '(test-requirements)')
        self.keystone = self.useFixture(keystone_fixture.KeystoneFixture())
        self.useFixture(deploy.KeystonePlacementFixture(self.keystone))
        self.tmp = tempfile.mkdtemp(prefix='valet-install-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def run_cmd(self, cmd, **kwargs):
        result = subprocess.run(cmd, capture_output=True, text=True,
                                timeout=300, **kwargs)
        self.assertEqual(0, result.returncode, '%s\n%s\n%s' % (
            cmd, result.stdout, result.stderr))
        return result.stdout

    def openstack(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env.update(OS_AUTH_URL=self.keystone.url, OS_USERNAME='admin',
                   OS_PASSWORD='admin', OS_PROJECT_NAME='admin',
                   OS_USER_DOMAIN_NAME='Default',
                   OS_PROJECT_DOMAIN_NAME='Default',
                   OS_IDENTITY_API_VERSION='3')
        return self.run_cmd([os.path.join(_BIN, 'openstack')] + list(args),
                            env=env)

    def start(self, cmd, name, env=None):
        log = open(os.path.join(self.tmp, name + '.log'), 'w')
        self.addCleanup(log.close)
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                   env=env)
        self.addCleanup(processes.stop, process)
        return process

    def test_install_guide(self):
        suffix = uuid.uuid4().hex[:10]
        db, db_user, db_password = 'valet_ig_' + suffix, 'vig' + suffix, 'pw'
        # Database and its user.
        self.run_cmd(['mariadb', '-h', '127.0.0.1', '-u', 'root', '-e',
                      "CREATE DATABASE %s CHARACTER SET utf8mb4; "
                      "CREATE USER '%s'@'%%' IDENTIFIED BY '%s'; "
                      "GRANT ALL ON %s.* TO '%s'@'%%';" % (
                          db, db_user, db_password, db, db_user)])
        self.addCleanup(subprocess.run, [
            'mariadb', '-h', '127.0.0.1', '-u', 'root', '-e',
            "DROP DATABASE IF EXISTS %s; DROP USER IF EXISTS '%s'@'%%';"
            % (db, db_user)], capture_output=True)

        # Keystone: the valet user exists (service role); the guide's roles,
        # service and endpoints.
        port = processes.free_port()
        url = 'http://127.0.0.1:%d' % port
        # A Keystone installed by its own guide has an internal identity
        # endpoint too (the fixture bootstraps the public one only);
        # keystonemiddleware uses it by default.
        self.openstack('endpoint', 'create', '--region', 'RegionOne',
                       'identity', 'internal', self.keystone.url)
        self.openstack('role', 'add', '--project', 'service', '--user',
                       'valet', 'admin')
        self.openstack('service', 'create', '--name', 'valet',
                       '--description', 'Workload placement optimizer',
                       'workload-placement')
        for interface in ('public', 'internal'):
            self.openstack('endpoint', 'create', '--region', 'RegionOne',
                           'workload-placement', interface, url)

        # valet.conf: the example with its capitals filled in.
        with open(os.path.join(_REPO, 'etc', 'valet',
                               'valet.conf.example')) as f:
            text = f.read()
        keystone_host = self.keystone.url.split('//')[1].split('/')[0]
        for old, new in (('valet:RABBIT_PASSWORD@RABBIT_HOST',
                          'guest:guest@127.0.0.1'),
                         ('valet:DB_PASSWORD@DB_HOST',
                          '%s:%s@127.0.0.1' % (db_user, db_password)),
                         ('/valet?', '/%s?' % db),
                         ('KEYSTONE_HOST:5000', keystone_host),
                         ('VALET_PASSWORD', keystone_fixture.PASSWORD)):
            self.assertIn(old, text)
            text = text.replace(old, new)
        settings = '\n'.join(line for line in text.splitlines()
                             if not line.startswith('#'))
        self.assertNotRegex(settings, r'\b[A-Z]{2,}_[A-Z_]+\b')
        conf = os.path.join(self.tmp, 'valet.conf')
        with open(conf, 'w') as f:
            f.write(text)
        local = os.path.join(self.tmp, 'local.conf')
        with open(local, 'w') as f:
            f.write('[engine]\ntopic = valet-ig-%s\n'
                    '[nova]\nauth_type =\n'
                    '[nova_notifications]\nenabled = false\n' % suffix)
        args = ['--config-file', conf, '--config-file', local]

        self.run_cmd([os.path.join(_BIN, 'valet-manage')] + args +
                     ['db_sync'])
        engine = self.start([os.path.join(_BIN, 'valet-engine')] + args,
                            'engine')
        env = dict(os.environ, VALET_CONFIG_FILE='%s,%s' % (conf, local),
                   VALET_API_BIND='127.0.0.1:%d' % port)
        api = self.start([os.path.join(_BIN, 'uwsgi'), '--ini',
                          os.path.join(_REPO, 'etc', 'valet',
                                       'valet-api-uwsgi.ini.sample')],
                         'api', env=env)

        # The guide's check: a token, the catalog's endpoint, /v1/status.
        token = self.openstack('token', 'issue', '-f', 'value', '-c',
                               'id').strip()
        catalog = json.loads(self.openstack('catalog', 'show',
                                            'workload-placement', '-f',
                                            'json'))
        public = [e['url'] for e in catalog['endpoints']
                  if e['interface'] == 'public']
        self.assertEqual([url], public)
        deadline = time.time() + 180
        while True:
            self.assertIsNone(engine.poll(), self.logs())
            self.assertIsNone(api.poll(), self.logs())
            try:
                resp = requests.get(public[0] + '/v1/status', timeout=60,
                                    headers={'X-Auth-Token': token})
                if resp.status_code == 200:
                    break
            except requests.RequestException:
                pass
            self.assertLess(time.time(), deadline, self.logs())
            time.sleep(0.5)
        status = resp.json()['status']
        self.assertEqual('ok', status['engine']['status'], status)
        self.assertIs(True, status['storage']['ok'], status)

    def logs(self):
        out = []
        for name in ('engine', 'api'):
            path = os.path.join(self.tmp, name + '.log')
            if os.path.exists(path):
                with open(path, errors='replace') as f:
                    out.append('--- %s ---\n%s' % (name, f.read()[-3000:]))
        return '\n'.join(out)
