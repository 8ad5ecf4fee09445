"""A real Heat for functional tests: heat-engine and heat-api (uwsgi).

Heat lives in a virtualenv of its own (``tools/install-heat.sh``;
``$VALET_HEAT_VENV``, default ``.tox/heat``) with Valet installed in it
without dependencies, so its entry points (the lifecycle plugin, the
``valet`` client plugin, the group-name constraint) are Heat's; the
resource types load from a ``plugin_dirs`` directory holding the
one-line shim of ``valet/plugins/heat/plugin_dir``.

The fixture uses a Keystone the caller started (``keystone_fixture``):
it creates Heat's user, the ``heat`` domain and its admin, the roles
``heat_stack_owner`` and ``heat_stack_user`` (given to ``alpha-member``
and ``beta-member``), and the orchestration endpoint. Heat stores in a
MariaDB database of its own (convergence fails on SQLite) and talks over
a RabbitMQ virtual host of its own; both go at cleanup.
``convergence``: Heat's default engine (True) or the legacy one, which
calls stack lifecycle plugins.
"""

import os
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid

import fixtures
import requests

from valet.tests.functional import databases
from valet.tests.functional import keystone_fixture
from valet.tests.functional import processes
from valet.tests.functional import services

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                     '..', '..'))
SHIM = os.path.join(_REPO, 'valet', 'plugins', 'heat', 'plugin_dir',
                    'valet_resources.py')
RABBIT = 'rabbit://guest:guest@127.0.0.1:5672/'
STACK_OWNERS = ('alpha-member', 'beta-member')


def heat_venv():
    return os.environ.get('VALET_HEAT_VENV',
                          os.path.join(_REPO, '.tox', 'heat'))


def require_heat():
    """Skip (fail in CI) unless every piece Heat needs is here."""
    venv = heat_venv()
    for tool in ('heat-engine', 'heat-manage', 'uwsgi'):
        if not os.path.exists(os.path.join(venv, 'bin', tool)):
            services.unavailable(
                'Heat is not installed in %s; run tools/install-heat.sh %s'
                % (venv, venv))
    services.require_port(5672, 'RabbitMQ')
    services.require_port(databases.MYSQL_PORT, 'MariaDB')
    if shutil.which('rabbitmqctl') is None:
        services.unavailable('rabbitmqctl is not installed (Heat gets a '
                             'RabbitMQ virtual host of its own)')


def _render(sections):
    out = []
    for name, options in sections.items():
        out.append('[%s]' % name)
        out.extend('%s = %s' % (k, v) for k, v in options.items()
                   if v is not None)
        out.append('')
    return '\n'.join(out)


def _die_with_parent():
    # SIGKILL when the test process dies, so a killed run leaves no Heat.
    import ctypes
    ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG


def _rabbitmqctl(*args):
    subprocess.run(['rabbitmqctl', '-q'] + list(args), check=True,
                   capture_output=True, timeout=120)


class HeatFixture(fixtures.Fixture):
    """Start Heat against ``keystone``; ``self.url`` is heat-api's root.

    ``services`` maps catalog service types to URLs Heat's clients should
    find (Valet's ``workload-placement``, Nova's ``compute``, ...);
    ``in_catalog``: add this Heat as the ``orchestration`` service.
    """

    def __init__(self, keystone, convergence=True, services=None,
                 extra_config=None, in_catalog=True, db_url=None):
        super().__init__()
        # Another Heat's database, to share: its API then shows this
        # Heat's stacks too (see valet.tests.functional.heat.base).
        self.shared_db_url = db_url
        self.in_catalog = in_catalog
        self.keystone = keystone
        self.convergence = convergence
        self.catalog = dict(services or {})
        self.extra_config = extra_config or {}

    def _setUp(self):
        require_heat()
        started = time.monotonic()
        self.venv = heat_venv()
        self.tmp = tempfile.mkdtemp(prefix='valet-heat-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.prefix = 'vheat_%s' % uuid.uuid4().hex[:8]
        _rabbitmqctl('add_vhost', self.prefix)
        self.addCleanup(_rabbitmqctl, 'delete_vhost', self.prefix)
        _rabbitmqctl('set_permissions', '-p', self.prefix, 'guest',
                     '.*', '.*', '.*')
        if self.shared_db_url:
            self.db_url = self.shared_db_url
        else:
            server = databases.MySQLServer()
            self.addCleanup(server.drop, self.prefix)
            self.db_url = server.create(self.prefix)
        self.port = processes.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self._keystone_objects()
        plugins = os.path.join(self.tmp, 'plugins')
        os.makedirs(plugins)
        shutil.copy(SHIM, plugins)
        self.conf = self._write_config(plugins)
        self._run([os.path.join(self.venv, 'bin', 'heat-manage'),
                   '--config-file', self.conf, 'db_sync'])
        self.procs = {}
        self.addCleanup(self._stop_all)
        self._spawn('heat-engine', [
            os.path.join(self.venv, 'bin', 'heat-engine'),
            '--config-file', self.conf])
        api_conf = os.path.join(self.tmp, 'heat-api.conf')
        with open(api_conf, 'w') as f:
            f.write(_render({'DEFAULT': {
                'log_file': os.path.join(self.tmp, 'heat-api.log')}}))
        self._spawn('heat-api', [
            os.path.join(self.venv, 'bin', 'uwsgi'),
            '--http11-socket', '127.0.0.1:%d' % self.port,
            '--module', 'heat.wsgi.api:application',
            '--pyargv', shlex.join(['--config-file', self.conf,
                                    '--config-file', api_conf]),
            '--master', '--processes', '1', '--threads', '4',
            '--die-on-term', '--lazy-apps',
            # Pollers' kept-alive connections would hold the threads.
            '--add-header', 'Connection: close'])
        self._wait_ready()
        self.startup_seconds = time.monotonic() - started

    # ------------------------------------------------------------ keystone
    def _ks(self, method, path, **kwargs):
        resp = self.keystone.admin.request(self.keystone.url + path, method,
                                           raise_exc=False, **kwargs)
        if resp.status_code >= 400 and resp.status_code != 409:
            raise RuntimeError('Keystone %s %s: %d %s' % (
                method, path, resp.status_code, resp.text[:500]))
        return resp.json() if resp.content else {}

    def _role(self, name):
        found = self._ks('GET', '/roles', params={'name': name})['roles']
        if found:
            return found[0]['id']
        return self._ks('POST', '/roles', json={'role': {'name': name}})[
            'role']['id']

    def _user(self, name, domain_id='default'):
        found = self._ks('GET', '/users', params={
            'name': name, 'domain_id': domain_id})['users']
        if found:
            return found[0]['id']
        return self._ks('POST', '/users', json={'user': {
            'name': name, 'password': keystone_fixture.PASSWORD,
            'domain_id': domain_id}})['user']['id']

    def _keystone_objects(self):
        ids = self.keystone.ids
        admin_role = self._role('admin')
        owner_role = self._role('heat_stack_owner')
        self._role('heat_stack_user')
        heat = self._user('heat')
        self._ks('PUT', '/projects/%s/users/%s/roles/%s' % (
            ids['service'], heat, admin_role))
        # Valet's engine reads every project's stacks: an admin of its own.
        self.reader_user = 'valet-heat-reader'
        reader = self._user(self.reader_user)
        self._ks('PUT', '/projects/%s/users/%s/roles/%s' % (
            ids['service'], reader, admin_role))
        for user in STACK_OWNERS:
            project = keystone_fixture.PERSONAS[user][0]
            self._ks('PUT', '/projects/%s/users/%s/roles/%s' % (
                ids[project], self._user(user), owner_role))
        # The admin declares groups (OS::Valet::Group) in its stacks.
        self._ks('PUT', '/projects/%s/users/%s/roles/%s' % (
            ids['admin'], self._user('admin'), owner_role))
        domains = self._ks('GET', '/domains', params={'name': 'heat'})[
            'domains']
        domain = domains[0]['id'] if domains else self._ks(
            'POST', '/domains', json={'domain': {'name': 'heat'}})[
                'domain']['id']
        domain_admin = self._user('heat_domain_admin', domain)
        self._ks('PUT', '/domains/%s/users/%s/roles/%s' % (
            domain, domain_admin, admin_role))
        catalog = dict(self.catalog)
        if self.in_catalog:
            # Valet's engine finds the stacks it reads here.
            catalog['orchestration'] = self.url + '/v1/%(tenant_id)s'
        self.service_ids = []
        for kind, url in catalog.items():
            service = self._ks('POST', '/services', json={'service': {
                'type': kind, 'name': '%s-%s' % (kind, self.prefix)}})[
                    'service']
            self.service_ids.append(service['id'])
            self._ks('POST', '/endpoints', json={'endpoint': {
                'service_id': service['id'], 'interface': 'public',
                'region_id': 'RegionOne', 'url': url}})
        self.addCleanup(self._forget_services)

    def _forget_services(self):
        for sid in self.service_ids:
            self._ks('DELETE', '/services/%s' % sid)

    # ------------------------------------------------------------- config
    def _write_config(self, plugins):
        ks_root = self.keystone.url.rsplit('/v3', 1)[0]
        password_auth = {
            'auth_type': 'password', 'auth_url': self.keystone.url,
            'username': 'heat', 'password': keystone_fixture.PASSWORD,
            'user_domain_name': 'Default'}
        sections = {
            'DEFAULT': {
                'log_file': os.path.join(self.tmp, 'heat-engine.log'),
                'transport_url': RABBIT + self.prefix,
                'deferred_auth_method': 'trusts',
                'stack_user_domain_name': 'heat',
                'stack_domain_admin': 'heat_domain_admin',
                'stack_domain_admin_password': keystone_fixture.PASSWORD,
                'auth_encryption_key': uuid.uuid4().hex,
                'plugin_dirs': plugins,
                'environment_dir': os.path.join(
                    self.venv, 'etc', 'heat', 'environment.d'),
                'template_dir': os.path.join(
                    self.venv, 'etc', 'heat', 'templates'),
                'num_engine_workers': 1,
                'stack_scheduler_hints': 'true',
                'convergence_engine': str(self.convergence).lower(),
                'region_name_for_services': 'RegionOne',
                'client_retry_limit': 0,
                # A server Nova could not place fails its stack at once.
                'action_retry_limit': 0,
                # No CloudFormation metadata endpoint in this cloud.
                'default_user_data_format': 'RAW',
            },
            'database': {'connection': self.db_url},
            'keystone_authtoken': dict(
                password_auth, project_name='service',
                project_domain_name='Default',
                www_authenticate_uri=self.keystone.url, interface='public'),
            'trustee': password_auth,
            'clients_keystone': {'auth_uri': ks_root},
            'clients': {'endpoint_type': 'public'},
            'paste_deploy': {'api_paste_config': os.path.join(
                self.venv, 'etc', 'heat', 'api-paste.ini')},
            'oslo_messaging_notifications': {'driver': 'noop'},
        }
        for name, options in self.extra_config.items():
            sections.setdefault(name, {}).update(options)
        path = os.path.join(self.tmp, 'heat.conf')
        with open(path, 'w') as f:
            f.write(_render(sections))
        return path

    # ---------------------------------------------------------- processes
    def _run(self, cmd):
        result = subprocess.run(cmd, capture_output=True, text=True,
                                timeout=300)
        if result.returncode:
            raise RuntimeError('%s failed: %s' % (
                os.path.basename(cmd[0]), result.stderr[-3000:]))

    def _spawn(self, name, cmd):
        log = open(os.path.join(self.tmp, name + '.out'), 'w')
        self.addCleanup(log.close)
        self.procs[name] = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)

    def _stop_all(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                # heat-engine shuts down gracefully, in 9 to 18 s.
                proc.wait(40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self):
        out = []
        for name in ('heat-engine.log', 'heat-api.log', 'heat-engine.out',
                     'heat-api.out'):
            path = os.path.join(self.tmp, name)
            if os.path.exists(path):
                with open(path) as f:
                    out.append('==> %s <==\n%s' % (name, f.read()[-6000:]))
        return '\n'.join(out)

    def _check_alive(self):
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError('%s exited with %s:\n%s' % (
                    name, proc.returncode, self.logs()))

    def _wait_ready(self, seconds=180):
        """heat-api answers and this Heat's engine is up (its service
        record; a shared database also lists the other Heat's)."""
        engines = 2 if self.shared_db_url else 1
        deadline = time.monotonic() + seconds
        token = self.keystone.token('admin')
        url = '%s/v1/%s/services' % (self.url, self.keystone.ids['admin'])
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                resp = requests.get(url, headers={'X-Auth-Token': token},
                                    timeout=10)
                if resp.status_code == 200 and sum(
                        s.get('status') == 'up'
                        for s in resp.json().get('services', [])
                ) >= engines:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError('Heat was not ready within %ss:\n%s' % (
            seconds, self.logs()))

    # ---------------------------------------------------------------- api
    def client(self, user):
        """A requests-like keystoneauth session and the project URL."""
        project = ('admin' if user == 'admin'
                   else keystone_fixture.PERSONAS[user][0])
        session = (self.keystone.admin if user == 'admin' else
                   self.keystone.session(user, keystone_fixture.PASSWORD,
                                         project))
        return HeatClient(session, '%s/v1/%s' % (
            self.url, self.keystone.ids[project]))


class HeatClient:
    """Heat's REST API as one user: stacks, waited for to settle."""

    def __init__(self, session, base):
        self.session = session
        self.base = base

    def request(self, method, path, **kwargs):
        return self.session.request(self.base + path, method,
                                    raise_exc=False, **kwargs)

    def create(self, name, template, files=None, parameters=None):
        resp = self.request('POST', '/stacks', json={
            'stack_name': name, 'template': template, 'files': files or {},
            'parameters': parameters or {}, 'timeout_mins': 10})
        if resp.status_code != 201:
            raise AssertionError('stack create %s: %d %s' % (
                name, resp.status_code, resp.text[:2000]))
        return resp.json()['stack']['id']

    def update(self, stack_id, template, files=None, parameters=None):
        stack = self.show(stack_id)
        resp = self.request('PUT', '/stacks/%s/%s' % (
            stack['stack_name'], stack_id), json={
                'template': template, 'files': files or {},
                'parameters': parameters or {}, 'timeout_mins': 10})
        if resp.status_code != 202:
            raise AssertionError('stack update %s: %d %s' % (
                stack_id, resp.status_code, resp.text[:2000]))

    def delete(self, stack_id):
        stack = self.show(stack_id)
        resp = self.request('DELETE', '/stacks/%s/%s' % (
            stack['stack_name'], stack_id))
        if resp.status_code not in (204, 404):
            raise AssertionError('stack delete %s: %d %s' % (
                stack_id, resp.status_code, resp.text[:2000]))

    def show(self, stack_id):
        resp = self.request('GET', '/stacks/%s' % stack_id)
        if resp.status_code == 404:
            return None
        return resp.json()['stack']

    def wait(self, stack_id, seconds=300, gone_ok=False):
        """The stack once no longer IN_PROGRESS (None once deleted)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            stack = self.show(stack_id)
            if stack is None:
                return None
            if not stack['stack_status'].endswith('IN_PROGRESS'):
                if stack['stack_status'] == 'DELETE_COMPLETE':
                    return None
                return stack
            time.sleep(0.5)
        raise AssertionError('stack %s still in progress after %ss' % (
            stack_id, seconds))

    def outputs(self, stack_id):
        stack = self.show(stack_id)
        return {o['output_key']: o.get('output_value')
                for o in stack.get('outputs') or []}

    def resources(self, stack_id, nested_depth=5):
        resp = self.request('GET', '/stacks/%s/resources' % stack_id,
                            params={'nested_depth': nested_depth})
        return resp.json()['resources']
