"""A Valet deployed by its devstack plugin, for tests and for tempest.

``DevstackDeployment`` starts a real Keystone and a real Placement that
validates Keystone tokens and is in Keystone's catalog (as devstack would
have them), then runs the devstack plugin's ``stack`` phases through
``harness.sh``: Valet is installed from the tree, registered in the
catalog, configured, its database created in the real MariaDB, and
valet-engine and valet-api (under uwsgi) started, talking over the real
RabbitMQ. Cleanup runs the plugin's ``unstack`` and ``clean`` phases.

As a command, it deploys, runs the given command with ``TEMPEST_CONFIG``
(and the other variables below) in its environment, and tears down::

    python -m valet.tests.functional.devstack.deploy -- tempest run ...
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import fixtures
import requests

from valet.tests.functional import keystone_fixture
from valet.tests.functional import placement_fixture
from valet.tests.functional import processes
from valet.tests.functional import services

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'harness.sh')
REGION = 'RegionOne'
_READY = "WSGI app 0 (mountpoint='') ready"

# The service user's token validation, as devstack writes it for Nova's
# and Placement's services.
AUTHTOKEN_CONF = """[keystone_authtoken]
auth_type = password
interface = public
auth_url = {keystone}
www_authenticate_uri = {keystone}
username = nova
password = {password}
project_name = service
user_domain_name = Default
project_domain_name = Default
"""

_PLACEMENT_CONF = """[DEFAULT]
log_file = {tmp}/placement.log
[api]
auth_strategy = keystone
[placement_database]
connection = {connection}
sync_on_startup = True
sqlite_synchronous = False
""" + AUTHTOKEN_CONF

_TEMPEST_CONF = """[DEFAULT]
log_file = {tmp}/tempest.log
[auth]
admin_username = admin
admin_password = admin
admin_project_name = admin
admin_domain_name = Default
use_dynamic_credentials = True
[identity]
uri_v3 = {keystone}
region = {region}
[service_available]
cinder = False
neutron = False
swift = False
"""


def require_services():
    """MariaDB, RabbitMQ, Keystone and Placement (skip, or fail in CI)."""
    services.require_port(3306, 'MariaDB')
    services.require_port(5672, 'RabbitMQ')
    keystone_fixture.require_keystone()
    placement_fixture.require_placement()


class KeystonePlacementFixture(fixtures.Fixture):
    """A real Placement behind keystonemiddleware, in Keystone's catalog.

    ``connection``: the database of a Placement already serving a cloud
    (this one is then its Keystone-authenticated API); a SQLite file of
    its own otherwise.
    """

    def __init__(self, keystone, connection=None):
        super().__init__()
        self.keystone = keystone
        self.connection = connection

    def _setUp(self):
        venv = placement_fixture.openstack_venv()
        self.tmp = tempfile.mkdtemp(prefix='valet-ds-placement-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        with open(os.path.join(self.tmp, 'placement.conf'), 'w') as f:
            f.write(_PLACEMENT_CONF.format(
                tmp=self.tmp, keystone=self.keystone.url,
                connection=self.connection or 'sqlite:///%s/placement.db'
                % self.tmp,
                password=keystone_fixture.PASSWORD))
        env = dict(os.environ, OS_PLACEMENT_CONFIG_DIR=self.tmp)
        # Schema and traits once, in one process (SQLite, one writer).
        subprocess.run([os.path.join(venv, 'bin', 'python'), '-c',
                        'import placement.wsgi.api'],
                       env=env, check=True, capture_output=True)
        self.url = 'http://127.0.0.1:%d' % processes.free_port()
        self.log_path = os.path.join(self.tmp, 'uwsgi.log')
        log = open(self.log_path, 'w')
        self.addCleanup(log.close)
        process = subprocess.Popen(
            [os.path.join(venv, 'bin', 'uwsgi'),
             '--http11-socket', self.url[len('http://'):],
             '--module', 'placement.wsgi.api:application',
             '--env', 'OS_PLACEMENT_CONFIG_DIR=%s' % self.tmp,
             '--master', '--processes', '1', '--threads', '4',
             '--die-on-term', '--lazy-apps', '--need-app'],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(processes.stop, process)
        deadline = time.time() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError('Placement exited; see %s' % self.log_path)
            with open(self.log_path, errors='replace') as f:
                ready = _READY in f.read()
            try:
                if ready and requests.get(self.url, timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                raise RuntimeError('Placement did not answer; see %s'
                                   % self.log_path)
            time.sleep(0.2)
        admin = self.keystone.admin
        service = admin.post(self.keystone.url + '/services', json={
            'service': {'name': 'placement', 'type': 'placement'}}).json()
        for interface in ('public', 'internal'):
            admin.post(self.keystone.url + '/endpoints', json={'endpoint': {
                'service_id': service['service']['id'], 'region_id': REGION,
                'interface': interface, 'url': self.url}})


class DevstackDeployment(fixtures.Fixture):
    """Keystone + Placement, then Valet by its devstack plugin.

    Subclasses bring a bigger cloud: ``start_cloud`` starts it (and sets
    ``self.keystone``), ``harness_env`` and ``tempest_options`` say what
    the plugin and tempest are told about it, ``after_stack`` restarts
    what devstack would start after the plugin configured it.
    """

    def _setUp(self):
        self.timings = []
        self._lap_start = time.monotonic()
        self.dir = tempfile.mkdtemp(prefix='valet-devstack-')
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.start_cloud()
        suffix = uuid.uuid4().hex[:10]
        self.port = processes.free_port()
        self.tempest_conf = os.path.join(self.dir, 'tempest.conf')
        with open(self.tempest_conf, 'w') as f:
            f.write(_TEMPEST_CONF.format(tmp=self.dir, region=REGION,
                                         keystone=self.keystone.url))
            f.write(self.tempest_options())
        self.env = dict(
            os.environ,
            HARNESS_DIR=self.dir,
            HARNESS_PYTHON=sys.executable,
            KEYSTONE_SERVICE_URI=self.keystone.url,
            ADMIN_PASSWORD='admin',
            # The fixture's service users (valet, nova) use this one.
            SERVICE_PASSWORD=keystone_fixture.PASSWORD,
            TEMPEST_CONFIG=self.tempest_conf,
            VALET_SERVICE_PORT=str(self.port),
            # Private names on the shared MariaDB and RabbitMQ.
            VALET_DATABASE_NAME='valet_ds_%s' % suffix,
            VALET_ENGINE_TOPIC='valet-engine-ds-%s' % suffix,
            SERVICE_TIMEOUT='180',
        )
        self.env.update(self.harness_env())
        self.addCleanup(self.harness, 'clean')
        self.addCleanup(self._drop_database)
        self.addCleanup(self.harness, 'unstack')
        self.harness('stack')
        self.lap('plugin stack phases')
        self.after_stack()
        self.lap('after stack')

    def lap(self, name):
        """Note how long the step since the last lap took."""
        now = time.monotonic()
        self.timings.append((name, round(now - self._lap_start)))
        self._lap_start = now

    def start_cloud(self):
        require_services()
        self.keystone = self.useFixture(keystone_fixture.KeystoneFixture())
        self.placement = self.useFixture(
            KeystonePlacementFixture(self.keystone))
        self.lap('keystone and placement')

    def harness_env(self):
        return {}

    def tempest_options(self):
        """The rest of tempest.conf, appended to _TEMPEST_CONF.

        Options of its last section, [service_available], first; then
        sections of its own.
        """
        return 'nova = False\nglance = False\nheat = False\n'

    def after_stack(self):
        pass

    def harness(self, mode):
        log = os.path.join(self.dir, 'harness-%s.log' % mode)
        with open(log, 'w') as out:
            result = subprocess.run(['bash', HARNESS, mode], env=self.env,
                                    stdout=out, stderr=subprocess.STDOUT)
        if result.returncode:
            with open(log) as f:
                text = f.read()[-4000:]
            raise RuntimeError('harness.sh %s failed (%d):\n%s\n%s' % (
                mode, result.returncode, text, self.service_logs()))

    def service_logs(self, tail=3000):
        parts = []
        logdir = os.path.join(self.dir, 'logs')
        for name in sorted(os.listdir(logdir)) if os.path.isdir(logdir) \
                else []:
            with open(os.path.join(logdir, name), errors='replace') as f:
                parts.append('--- %s ---\n%s' % (name, f.read()[-tail:]))
        return '\n'.join(parts)

    def _drop_database(self):
        subprocess.run(['mariadb', '-h', '127.0.0.1', '-u', 'root', '-e',
                        'DROP DATABASE IF EXISTS `%s`'
                        % self.env['VALET_DATABASE_NAME']],
                       capture_output=True)

    @property
    def conf_file(self):
        return os.path.join(self.dir, 'etc', 'valet', 'valet.conf')


def main(argv):
    """``[--cloud] -- COMMAND...``: deploy, run COMMAND, tear down.

    ``--cloud``: into the compute cloud with Nova and Heat
    (``cloud_deploy``); Keystone and Placement alone otherwise.
    """
    cloud = bool(argv) and argv[0] == '--cloud'
    argv = argv[1:] if cloud else argv
    if argv and argv[0] == '--':
        argv = argv[1:]
    if not argv:
        print('usage: deploy.py [--cloud] -- COMMAND...', file=sys.stderr)
        return 2
    # SIGTERM unwinds like Ctrl-C: unstack and clean still run.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    if cloud:
        # Imported here: the compute cloud's modules are heavier.
        from valet.tests.functional.devstack import cloud_deploy
        deployment = cloud_deploy.CloudDevstackDeployment()
    else:
        deployment = DevstackDeployment()
    started = time.monotonic()
    with deployment:
        env = dict(os.environ, TEMPEST_CONFIG=deployment.tempest_conf,
                   VALET_DEVSTACK_DIR=deployment.dir,
                   OS_AUTH_URL=deployment.keystone.url)
        print('deploy: Valet on http://127.0.0.1:%d, Keystone %s, '
              'deployed in %.0fs' % (deployment.port, deployment.keystone.url,
                                     time.monotonic() - started), flush=True)
        print('deploy: %s' % ', '.join('%s %ss' % step
                                       for step in deployment.timings),
              flush=True)
        ran = time.monotonic()
        rc = subprocess.call(argv, env=env)
        print('deploy: command done in %.0fs' % (time.monotonic() - ran),
              flush=True)
        if rc:
            print(deployment.service_logs(), file=sys.stderr)
        ended = time.monotonic()
    print('deploy: torn down in %.0fs' % (time.monotonic() - ended),
          flush=True)
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
