"""A real OpenStack Placement for functional tests: SQLite, noauth2, uwsgi.

Placement lives in a virtualenv of its own (``tools/install-openstack.sh``;
``$VALET_OPENSTACK_VENV``, default ``.tox/openstack``) because it is a
service under test, not a library of Valet. The fixture writes a
``placement.conf`` into a temporary directory, builds the database and the
app once in a single process (several uwsgi workers creating the schema at
once lock SQLite), then serves it on a free loopback port.

With ``auth_strategy = noauth2`` a request's ``X-Auth-Token`` is
``user[:project]``; the user ``admin`` gets the admin role.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import time

import fixtures
import requests

from valet.tests.functional import placement_loader
from valet.tests.functional import processes
from valet.tests.functional import services

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                     '..'))
TOKEN = 'admin'
_READY = "WSGI app 0 (mountpoint='') ready"

_CONF = """[DEFAULT]
debug = False
log_file = {tmp}/placement.log
[api]
auth_strategy = noauth2
[placement_database]
connection = sqlite:///{tmp}/placement.db
sync_on_startup = True
sqlite_synchronous = {synchronous}
"""


def openstack_venv():
    return os.environ.get('VALET_OPENSTACK_VENV',
                          os.path.join(_REPO, '.tox', 'openstack'))


def require_placement():
    """Skip (fail in CI) unless Placement and uwsgi are installed."""
    venv = openstack_venv()
    found = glob.glob(os.path.join(venv, 'lib', 'python3*', 'site-packages',
                                   'placement', 'wsgi'))
    if not found or not os.path.exists(os.path.join(venv, 'bin', 'uwsgi')):
        services.unavailable(
            'OpenStack Placement is not installed in %s; run '
            'tools/install-openstack.sh %s (or set VALET_OPENSTACK_VENV)'
            % (venv, venv))


class PlacementFixture(fixtures.Fixture):
    """Start Placement; ``self.url`` is its endpoint, ``self.token`` admin.

    ``synchronous=False`` lets SQLite skip fsync: test data need not
    survive a power cut, and loading thousands of hosts gets much faster.
    ``database``, a path to a Placement SQLite file (e.g. one a benchmark
    cached), is copied into the fixture's directory and served instead of
    an empty database; the original is never written to. The database
    file the service uses is ``self.database``.
    """

    def __init__(self, processes=2, threads=4, synchronous=False,
                 database=None):
        super().__init__()
        self.processes = processes
        self.threads = threads
        self.synchronous = synchronous
        self.source_database = database

    def _setUp(self):
        require_placement()
        venv = openstack_venv()
        self.tmp = tempfile.mkdtemp(prefix='valet-placement-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.database = os.path.join(self.tmp, 'placement.db')
        if self.source_database is not None:
            shutil.copyfile(self.source_database, self.database)
        with open(os.path.join(self.tmp, 'placement.conf'), 'w') as f:
            f.write(_CONF.format(tmp=self.tmp, synchronous=self.synchronous))
        env = dict(os.environ, OS_PLACEMENT_CONFIG_DIR=self.tmp)
        self._build(venv, env)
        self.port = processes.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.token = TOKEN
        self.log_path = os.path.join(self.tmp, 'uwsgi.log')
        log = open(self.log_path, 'w')
        self.addCleanup(log.close)
        self.process = subprocess.Popen(
            [os.path.join(venv, 'bin', 'uwsgi'),
             '--http11-socket', '127.0.0.1:%d' % self.port,
             '--module', 'placement.wsgi.api:application',
             '--env', 'OS_PLACEMENT_CONFIG_DIR=%s' % self.tmp,
             '--master', '--processes', str(self.processes),
             '--threads', str(self.threads), '--die-on-term',
             '--lazy-apps', '--need-app'],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(processes.stop, self.process)
        self._wait_ready()

    def _build(self, venv, env):
        """Create the schema and standard traits once, in one process."""
        result = subprocess.run(
            [os.path.join(venv, 'bin', 'python'), '-c',
             'import placement.wsgi.api'],
            env=env, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError('Placement app build failed: %s' %
                               result.stderr[-2000:])

    def _wait_ready(self, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('Placement exited; see %s' % self.log_path)
            with open(self.log_path, errors='replace') as f:
                workers_ready = f.read().count(_READY)
            if workers_ready >= self.processes:
                try:
                    resp = requests.get(self.url + '/', timeout=5)
                    if resp.status_code == 200:
                        return
                except requests.RequestException:
                    pass
            time.sleep(0.2)
        raise RuntimeError('Placement did not answer within %ss; see %s' % (
            seconds, self.log_path))

    def loader(self):
        """A PlacementLoader writing to this Placement as admin."""
        return placement_loader.PlacementLoader(self.url, token=self.token)

    def client_config(self, group='placement'):
        """Config text for a keystoneauth client of this Placement.

        noauth2 wants a token but no Keystone: keystoneauth's
        ``admin_token`` plugin sends a fixed token to a fixed endpoint.
        """
        return ('[%s]\nauth_type = admin_token\nendpoint = %s\n'
                'token = %s\n' % (group, self.url, self.token))
