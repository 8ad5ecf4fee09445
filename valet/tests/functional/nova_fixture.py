"""A real nova-api (compute API) for functional tests.

nova 34 and openstack-placement live in the OpenStack venv
(``tools/install-openstack.sh``; ``$VALET_OPENSTACK_VENV``, default
``.tox/openstack``). ``NovaFixture`` builds, in a temporary directory:

* SQLite API, cell0 and cell1 databases (nova-manage's steps, run by the
  helper ``nova_setup.py`` in the OpenStack venv),
* a real Placement under uwsgi, because nova-api's add_host aggregate action
  calls Placement and answers 500 when it cannot reach it (an external one
  can be passed instead),
* nova-api (``nova.wsgi.osapi_compute:application``) under uwsgi on a free
  loopback port.

No keystone: the pipeline has a noauth filter (``nova_setup``) instead of
authtoken, so the token is ``user[:project]`` and ``admin`` is an admin.
No nova-compute, scheduler or conductor runs: compute hosts are rows that
nova's own objects write (see ``add_compute_host``), RPC goes to the
in-process ``fake://`` transport and reaches nobody.
"""

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import fixtures
import requests

from valet.tests.functional import processes
from valet.tests.functional import services

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.abspath(os.path.join(_HERE, '..', '..', '..'))
ADMIN_TOKEN = 'admin'

_NOVA_CONF = """[DEFAULT]
host = valet-nova-api
state_path = {tmp}
log_file = {tmp}/nova.log
transport_url = fake://
# No nova-compute answers RPC calls (e.g. the trait sync after a service is
# disabled); fail those fast instead of after 30 minutes.
rpc_response_timeout = 2
long_rpc_timeout = 2
# Nothing heartbeats for the fake computes: keep them "up" until forced down.
service_down_time = 86400
[api_database]
connection = sqlite:///{tmp}/nova_api.sqlite
[database]
connection = {cell1}
[oslo_concurrency]
lock_path = {tmp}/locks
[placement]
auth_type = admin_token
endpoint = {placement}
token = admin
"""

_PLACEMENT_CONF = """[DEFAULT]
log_file = {tmp}/placement.log
[api]
auth_strategy = noauth2
[placement_database]
connection = sqlite:///{tmp}/placement.sqlite
"""


def openstack_venv():
    return os.environ.get('VALET_OPENSTACK_VENV',
                          os.path.join(_REPO, '.tox', 'openstack'))


def require_nova():
    """Skip (fail in CI) unless nova, placement and uwsgi are installed."""
    venv = openstack_venv()
    for tool in ('nova-manage', 'placement-manage', 'uwsgi', 'python'):
        if not os.path.exists(os.path.join(venv, 'bin', tool)):
            services.unavailable(
                'Nova is not installed in %s; run tools/install-openstack.sh '
                '%s (or set VALET_OPENSTACK_VENV)' % (venv, venv))


class NovaError(RuntimeError):
    pass


class NovaFixture(fixtures.Fixture):
    """Start nova-api; ``endpoint`` is its /v2.1 URL, ``headers`` auth it.

    ``placement_endpoint``: use that Placement (noauth2, token ``admin``)
    instead of starting one.
    """

    def __init__(self, placement_endpoint=None):
        super().__init__()
        self.placement_endpoint = placement_endpoint

    # -- start-up -------------------------------------------------------

    def _setUp(self):
        require_nova()
        started = time.time()
        self.venv = openstack_venv()
        self.tmp = tempfile.mkdtemp(prefix='valet-nova-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self._procs = []
        self.addCleanup(self._stop_all)
        os.makedirs(os.path.join(self.tmp, 'locks'))
        self.token = ADMIN_TOKEN
        self.headers = self.headers_for(ADMIN_TOKEN)
        self.http = requests.Session()
        self.addCleanup(self.http.close)
        self.hosts = {}
        self.port = processes.free_port()
        self.endpoint = 'http://127.0.0.1:%d/v2.1' % self.port
        # Placement starts in the background while the helper bootstraps.
        self.placement = None
        if self.placement_endpoint is None:
            self.placement_endpoint = self._start_placement()
        cell1 = 'sqlite:///%s/nova_cell1.sqlite' % self.tmp
        conf = os.path.join(self.tmp, 'nova.conf')
        with open(conf, 'w') as f:
            f.write(_NOVA_CONF.format(tmp=self.tmp, cell1=cell1,
                                      placement=self.placement_endpoint))
        self._write_paste_ini()
        self._start_helper(conf)
        self._call('bootstrap', cell0='sqlite:///%s/nova_cell0.sqlite'
                   % self.tmp, cell1=cell1, transport_url='fake://')
        if self.placement is not None:
            self._wait_http(self.placement, 'placement',
                            self.placement_endpoint + '/',
                            ('placement-uwsgi.log', 'placement.log'))
        self.process = self._spawn(
            self._uwsgi_cmd(self.port, 'nova.wsgi.osapi_compute:application'),
            'nova-uwsgi.log',
            {'OS_NOVA_CONFIG_DIR': self.tmp, 'PYTHONPATH': self.tmp})
        # An authenticated DB read proves the pipeline, API DB and cells.
        self._wait_http(self.process, 'nova-api', self.endpoint + '/flavors',
                        ('nova-uwsgi.log', 'nova.log'), self.headers)
        self.startup_seconds = time.time() - started

    def _env(self, **extra):
        # Threading, not eventlet: nova 34's own default for the API.
        return dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1',
                    **extra)

    def _write_paste_ini(self):
        # nova's shipped pipeline with our noauth filter for authtoken.
        with open(os.path.join(self.venv, 'etc', 'nova', 'api-paste.ini')) as f:
            paste = f.read()
        paste = paste.replace(' authtoken keystonecontext',
                              ' noauth keystonecontext')
        paste += ('\n[filter:noauth]\npaste.filter_factory = '
                  'valet_nova_setup:noauth_filter_factory\n')
        with open(os.path.join(self.tmp, 'api-paste.ini'), 'w') as f:
            f.write(paste)
        # A private copy so nova-api's sys.path gains only this module.
        shutil.copy(os.path.join(_HERE, 'nova_setup.py'),
                    os.path.join(self.tmp, 'valet_nova_setup.py'))

    def _spawn(self, cmd, log_name, env, **kwargs):
        """Popen in a process group of its own, stopped at cleanup.

        Output goes to ``log_name`` in the temp dir (only stderr when the
        caller takes stdout).
        """
        log = open(os.path.join(self.tmp, log_name), 'w')
        self.addCleanup(log.close)
        if 'stdout' not in kwargs:
            kwargs.update(stdout=log, stderr=subprocess.STDOUT)
        kwargs.setdefault('stderr', log)
        proc = subprocess.Popen(cmd, env=self._env(**env),
                                start_new_session=True, **kwargs)
        self._procs.append(proc)
        return proc

    def _stop_all(self):
        # Signal every group first so their shutdowns overlap.
        for proc in self._procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self._procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe:
                    pipe.close()

    def _start_helper(self, conf):
        self.helper = self._spawn(
            [os.path.join(self.venv, 'bin', 'python'),
             os.path.join(_HERE, 'nova_setup.py'), conf], 'helper.log', {},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read_helper()  # the {"ready": true} line

    def _read_helper(self):
        line = self.helper.stdout.readline()
        if not line:
            raise NovaError('nova_setup helper died:\n%s'
                            % self._tail('helper.log'))
        return json.loads(line)

    def _call(self, cmd, **kwargs):
        self.helper.stdin.write(json.dumps(dict(kwargs, cmd=cmd)) + '\n')
        self.helper.stdin.flush()
        reply = self._read_helper()
        if 'error' in reply:
            raise NovaError('nova_setup %s failed: %s\n%s' % (
                cmd, reply['error'], self._tail('helper.log', 'nova.log')))
        return reply['result']

    def _uwsgi_cmd(self, port, module):
        # --skip-atexit-teardown: nova's worker threads otherwise hold a
        # worker for uwsgi's 60 s reload mercy on SIGTERM.
        return [os.path.join(self.venv, 'bin', 'uwsgi'),
                '--http11-socket', '127.0.0.1:%d' % port, '--module', module,
                '--master', '--processes', '1', '--threads', '4',
                '--die-on-term', '--need-app', '--skip-atexit-teardown']

    def _start_placement(self):
        """db sync, then uwsgi; in the background while nova bootstraps."""
        with open(os.path.join(self.tmp, 'placement.conf'), 'w') as f:
            f.write(_PLACEMENT_CONF.format(tmp=self.tmp))
        port = processes.free_port()
        manage = [os.path.join(self.venv, 'bin', 'placement-manage'),
                  '--config-file', os.path.join(self.tmp, 'placement.conf'),
                  'db', 'sync']
        uwsgi = self._uwsgi_cmd(port, 'placement.wsgi.api:application')
        script = '%s && exec %s' % (shlex.join(manage), shlex.join(uwsgi))
        self.placement = self._spawn(['sh', '-c', script],
                                     'placement-uwsgi.log',
                                     {'OS_PLACEMENT_CONFIG_DIR': self.tmp})
        return 'http://127.0.0.1:%d' % port

    def _wait_http(self, proc, name, url, logs, headers=None, seconds=120):
        """Wait for a 200 on url; on failure raise with the logs' tails."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if proc.poll() is not None:
                raise NovaError('%s exited (%s):\n%s' % (
                    name, proc.returncode, self._tail(*logs)))
            try:
                # A first answer can be slow on a busy machine (nova-api
                # sets up its cell workers then); a short client timeout
                # only piles abandoned requests onto its few threads.
                if requests.get(url, headers=headers,
                                timeout=30).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise NovaError('%s did not answer %s within %ss:\n%s' % (
            name, url, seconds, self._tail(*logs)))

    def _tail(self, *names, lines=25):
        tails = []
        for name in names:
            try:
                with open(os.path.join(self.tmp, name)) as f:
                    tail = ''.join(f.readlines()[-lines:])
            except OSError as exc:
                tail = '(none: %s)\n' % exc
            tails.append('--- %s ---\n%s' % (name, tail))
        return ''.join(tails)

    # -- HTTP -------------------------------------------------------------

    @staticmethod
    def headers_for(token, roles=None):
        """Headers for token ``user[:project]``; roles override the default."""
        headers = {'X-Auth-Token': token}
        if roles is not None:
            headers['X-Roles'] = ','.join(roles)
        return headers

    def request(self, method, path, body=None, microversion='latest',
                headers=None, expect=(200, 201, 202, 204)):
        """One compute API call as admin (or ``headers``).

        Raises NovaError on a status not in ``expect``; ``expect=()``
        returns any response.
        """
        hdrs = dict(self.headers if headers is None else headers)
        hdrs['OpenStack-API-Version'] = 'compute %s' % microversion
        resp = self.http.request(method, self.endpoint + path, json=body,
                                 headers=hdrs, timeout=60)
        if expect and resp.status_code not in expect:
            raise NovaError('%s %s -> %d: %s' % (
                method, path, resp.status_code, resp.text[:2000]))
        return resp

    def _placement(self, method, path, body=None, expect=(200, 201, 204)):
        resp = self.http.request(
            method, self.placement_endpoint + path, json=body, timeout=60,
            headers={'X-Auth-Token': 'admin',
                     'OpenStack-API-Version': 'placement 1.39'})
        if resp.status_code not in expect:
            raise NovaError('placement %s %s -> %d: %s' % (
                method, path, resp.status_code, resp.text[:2000]))
        return resp

    # -- things to create -------------------------------------------------

    def add_compute_host(self, name, availability_zone=None, vcpus=16,
                         ram=65536, disk=1024):
        """Make host ``name`` exist as a running nova-compute would.

        No nova-compute runs here, so the helper writes what one writes on
        start with nova's own objects: the nova-compute service, its compute
        node (hypervisor_hostname == name) and the cell1 host mapping; the
        fixture then creates the node's resource provider and inventory in
        Placement. The host then shows in ``GET /os-services`` and
        ``/os-hypervisors/detail`` and can join aggregates through the API.
        With ``availability_zone`` the host joins an aggregate of that name
        carrying that zone, created if needed (that is what a zone is in
        nova). Returns ``{'service_id': uuid, 'node_uuid': uuid}``.
        """
        ids = self._call('add_host', name=name, vcpus=vcpus, ram=ram,
                         disk=disk)
        rp = ids['node_uuid']
        self._placement('POST', '/resource_providers',
                        {'uuid': rp, 'name': name}, expect=(200,))
        self._placement('PUT', '/resource_providers/%s/inventories' % rp, {
            'resource_provider_generation': 0, 'inventories': {
                'VCPU': {'total': vcpus, 'allocation_ratio': 4.0},
                'MEMORY_MB': {'total': ram},
                'DISK_GB': {'total': disk}}})
        self.hosts[name] = ids
        if availability_zone:
            aggs = self.request('GET', '/os-aggregates').json()['aggregates']
            agg = [a for a in aggs if a['name'] == availability_zone]
            if agg:
                self.add_host_to_aggregate(agg[0]['id'], name)
            else:
                self.create_aggregate(availability_zone, hosts=[name],
                                      availability_zone=availability_zone)
        return ids

    def create_aggregate(self, name, hosts=(), metadata=None,
                         availability_zone=None):
        """POST /os-aggregates, then add_host and set_metadata actions.

        Returns the aggregate as nova shows it at the end (``id``, ``uuid``,
        ``hosts``, ``metadata``, ...).
        """
        agg = self.request('POST', '/os-aggregates', {'aggregate': {
            'name': name, 'availability_zone': availability_zone}}
        ).json()['aggregate']
        for host in hosts:
            agg = self.add_host_to_aggregate(agg['id'], host)
        if metadata:
            agg = self.request(
                'POST', '/os-aggregates/%s/action' % agg['id'],
                {'set_metadata': {'metadata': metadata}}).json()['aggregate']
        return agg

    def add_host_to_aggregate(self, aggregate_id, host):
        return self.request('POST', '/os-aggregates/%s/action' % aggregate_id,
                            {'add_host': {'host': host}}).json()['aggregate']

    def create_flavor(self, name, vcpus, ram, disk, ephemeral=0, swap=0,
                      extra_specs=None, is_public=True):
        """POST /flavors (+ extra specs); returns the flavor as nova shows it."""
        flavor = self.request('POST', '/flavors', {'flavor': {
            'name': name, 'vcpus': vcpus, 'ram': ram, 'disk': disk,
            'OS-FLV-EXT-DATA:ephemeral': ephemeral, 'swap': swap,
            'os-flavor-access:is_public': is_public}}).json()['flavor']
        if extra_specs:
            specs = self.request(
                'POST', '/flavors/%s/os-extra_specs' % flavor['id'],
                {'extra_specs': extra_specs}).json()['extra_specs']
            flavor['extra_specs'] = specs
        return flavor

    # -- service state (PUT /os-services/{uuid}, microversion 2.53+) --------

    def service_id(self, host):
        services_ = self.request(
            'GET', '/os-services?binary=nova-compute&host=%s' % host
        ).json()['services']
        if not services_:
            raise NovaError('no nova-compute service on %s' % host)
        return services_[0]['id']

    def update_service(self, host, **body):
        return self.request('PUT', '/os-services/%s' % self.service_id(host),
                            body).json()['service']

    def disable_service(self, host, reason=None):
        """Disable; nova then tries an RPC to the absent compute (~2 s)."""
        body = {'status': 'disabled'}
        if reason:
            body['disabled_reason'] = reason
        return self.update_service(host, **body)

    def enable_service(self, host):
        return self.update_service(host, status='enabled')

    def force_down(self, host, down=True):
        return self.update_service(host, forced_down=down)


if __name__ == '__main__':
    # Manual use: print how long a start takes, keep it up until Enter.
    fixture = NovaFixture()
    with fixture:
        print('nova-api %s ready in %.1fs (tmp %s)' % (
            fixture.endpoint, fixture.startup_seconds, fixture.tmp))
        sys.stdin.readline()
