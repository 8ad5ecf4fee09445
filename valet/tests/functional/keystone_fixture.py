"""A real Keystone for functional tests: SQLite, fernet tokens, uwsgi.

Keystone lives in a virtualenv of its own (``tools/install-keystone.sh``;
``$VALET_KEYSTONE_VENV``, default ``.tox/keystone``) because it is a
service under test, not a library of Valet. The fixture bootstraps it in a
temporary directory, serves it on a free loopback port, and creates the
personas the policy tests need:

* ``admin`` (role admin on project ``admin``),
* ``alpha-member`` / ``alpha-reader`` (member / reader on ``alpha``),
* ``beta-member`` (member on ``beta``),
* ``valet`` and ``nova`` (role service on ``service``).

Every password is ``secret`` except admin's (``admin``).
"""

import os
import shutil
import subprocess
import tempfile
import time

import fixtures
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

from valet.tests.functional import processes
from valet.tests.functional import services

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                     '..'))
PASSWORD = 'secret'
PERSONAS = {
    # user: (project, role)
    'alpha-member': ('alpha', 'member'),
    'alpha-reader': ('alpha', 'reader'),
    'beta-member': ('beta', 'member'),
    'valet': ('service', 'service'),
    'nova': ('service', 'service'),
}

_CONF = """[DEFAULT]
log_file = {tmp}/keystone.log
[database]
# A writer waits up to 30 s for SQLite's lock (default 5 s): under load,
# concurrent token issues (last_active_at) and tempest's credential
# set-up otherwise fail with "database is locked".
connection = sqlite:///{tmp}/keystone.db?timeout=30
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = {tmp}/fernet-keys
[credential]
key_repository = {tmp}/credential-keys
"""


def keystone_venv():
    return os.environ.get('VALET_KEYSTONE_VENV',
                          os.path.join(_REPO, '.tox', 'keystone'))


def require_keystone():
    """Skip (fail in CI) unless Keystone is installed; call in setUp."""
    venv = keystone_venv()
    for tool in ('keystone-manage', 'uwsgi'):
        if not os.path.exists(os.path.join(venv, 'bin', tool)):
            services.unavailable(
                'Keystone is not installed in %s; run '
                'tools/install-keystone.sh %s' % (venv, venv))


class KeystoneFixture(fixtures.Fixture):
    """Start Keystone; ``self.url`` is its /v3 endpoint."""

    def _setUp(self):
        require_keystone()
        venv = keystone_venv()
        manage = os.path.join(venv, 'bin', 'keystone-manage')
        uwsgi = os.path.join(venv, 'bin', 'uwsgi')
        self.tmp = tempfile.mkdtemp(prefix='valet-keystone-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        conf = os.path.join(self.tmp, 'keystone.conf')
        with open(conf, 'w') as f:
            f.write(_CONF.format(tmp=self.tmp))
        for sub in ('fernet-keys', 'credential-keys'):
            os.makedirs(os.path.join(self.tmp, sub))
        self.port = processes.free_port()
        self.url = 'http://127.0.0.1:%d/v3' % self.port
        km = [manage, '--config-file', conf]
        owner = ['--keystone-user', 'root', '--keystone-group', 'root']
        self._run(km + ['db_sync'])
        self._run(km + ['fernet_setup'] + owner)
        self._run(km + ['credential_setup'] + owner)
        self._run(km + [
            'bootstrap', '--bootstrap-password', 'admin',
            '--bootstrap-username', 'admin',
            '--bootstrap-project-name', 'admin',
            '--bootstrap-role-name', 'admin',
            '--bootstrap-service-name', 'keystone',
            '--bootstrap-region-id', 'RegionOne',
            '--bootstrap-public-url', self.url])
        env = dict(os.environ, OS_KEYSTONE_CONFIG_FILES=conf)
        log = open(os.path.join(self.tmp, 'uwsgi.log'), 'w')
        self.addCleanup(log.close)
        self.process = subprocess.Popen(
            [uwsgi, '--http11-socket', '127.0.0.1:%d' % self.port,
             '--module', 'keystone.wsgi.api:application', '--master',
             '--processes', '1', '--threads', '4', '--die-on-term',
             '--lazy-apps',
             # uwsgi drops a kept-alive connection after 4 idle seconds;
             # a client reusing it just then gets RemoteDisconnected
             # (seen with tempest's token requests). One request per
             # connection avoids the race.
             '--add-header', 'Connection: close'],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(self._stop)
        self._wait_ready()
        self.admin = self.session('admin', 'admin', 'admin')
        self.ids = {}
        self._create_personas()

    def _run(self, cmd):
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError('%s failed: %s' % (' '.join(cmd[:3]),
                                                  result.stderr[-2000:]))

    def _stop(self):
        processes.stop(self.process)

    def _wait_ready(self, seconds=60):
        deadline = time.time() + seconds
        plain = ks_session.Session()
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('Keystone exited; see %s/uwsgi.log'
                                   % self.tmp)
            try:
                if plain.get(self.url, raise_exc=False).status_code == 200:
                    return
            except ks_exc.ConnectFailure:
                pass
            time.sleep(0.2)
        raise RuntimeError('Keystone did not answer within %ss' % seconds)

    def session(self, user, password, project):
        auth = v3.Password(auth_url=self.url, username=user,
                           password=password, project_name=project,
                           user_domain_id='default',
                           project_domain_id='default')
        return ks_session.Session(auth=auth)

    def _post(self, path, body):
        resp = self.admin.post(self.url + path, json=body)
        return resp.json()

    def _find(self, path, key, name):
        resp = self.admin.get(self.url + path, params={'name': name})
        return resp.json()[key][0]['id']

    def _create_personas(self):
        for project in ('alpha', 'beta', 'service'):
            body = self._post('/projects', {'project': {
                'name': project, 'domain_id': 'default'}})
            self.ids[project] = body['project']['id']
        self.ids['admin'] = self._find('/projects', 'projects', 'admin')
        roles = {name: self._find('/roles', 'roles', name)
                 for name in ('member', 'reader', 'service', 'admin')}
        for user, (project, role) in PERSONAS.items():
            body = self._post('/users', {'user': {
                'name': user, 'password': PASSWORD,
                'domain_id': 'default'}})
            uid = body['user']['id']
            self.admin.put('%s/projects/%s/users/%s/roles/%s' % (
                self.url, self.ids[project], uid, roles[role]))

    def token(self, user):
        """A project-scoped token for a persona (or 'admin')."""
        if user == 'admin':
            return self.admin.get_token()
        project = PERSONAS[user][0]
        return self.session(user, PASSWORD, project).get_token()

    def revoke(self, token):
        """Revoke a token (Keystone then reports it as not found)."""
        self.admin.delete(self.url + '/auth/tokens',
                          headers={'X-Subject-Token': token})
