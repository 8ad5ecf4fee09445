"""A real compute cloud with Valet deciding where Nova boots.

``ComputeCloud`` starts, on loopback:

* **Keystone** (``keystone_fixture``): authenticates Valet's API and the
  Nova filter's calls to it (user ``nova``, role ``service``); Valet is in
  its catalog as ``workload-placement``;
* **MariaDB** (the server on 3306): databases ``<prefix>_nova_api``,
  ``_nova_cell0``, ``_nova_cell1``, ``_placement`` and ``_valet`` of this
  cloud, dropped at cleanup (SQLite locks under concurrent boots);
* **RabbitMQ**: a virtual host of this cloud (deleted at cleanup) for
  Nova's RPC, its versioned notifications and Valet's RPC;
* **Placement** (uwsgi), **Glance** (``glance_fixture``: file store, one
  public raw image), **nova-api** (uwsgi), **nova-conductor**,
  **nova-scheduler** (with ``ValetFilter`` enabled) and ``computes``
  **nova-compute** services on nova's ``fake.MediumFakeDriver`` (10 vCPU,
  8 GB, 1028 GB each), see ``nova_services``;
* racks: nova host aggregates ``rack-<r>`` with metadata ``valet:rack=<r>``,
  two hosts per rack (``cmp1``, ``cmp2`` in ``r1``; ``cmp3``, ``cmp4`` in
  ``r2``, ...);
* **Valet** (``deployment.Deployment``): valet-api under uwsgi with
  Keystone auth and valet-engine with the ``openstack`` inventory (reading
  this Placement and nova-api) and the Nova notification listener;
* a **Neutron stand-in** (``neutron_stand_in``): Neutron cannot run here,
  so servers boot with ``"networks": "none"`` and the stand-in answers the
  few listings Nova still makes. It is the only piece that is not real.

A test that takes a compute down for good (an evacuation) starts a spare
one of its own (``add_spare_compute``), outside ``hosts`` and ``racks``,
and deletes it from Nova afterwards (``remove_spare_compute``).

Placement and Glance run without Keystone (noauth pipelines). nova-api
takes both: a compute API token ``user[:project]`` (``admin`` is an
admin), and a real Keystone token, validated by keystonemiddleware, which
is what Heat sends on a user's behalf.
Tests boot servers as ``<user>:<keystone project id>`` so that Nova's
project ids are the ones Valet's API knows from Keystone.

One cloud serves a whole test run: ``shared()`` starts it on first use in
this process and stops it at exit (stestr keeps the cloud tests in one
worker, see ``.stestr.conf``). Every child process gets SIGKILL if the
process that started it dies, so a killed test run leaves no cloud behind.
``python -m valet.tests.functional.compute_cloud`` (``tools/compute-cloud.sh``)
starts the same cloud by hand.
"""

import atexit
import ctypes
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import fixtures
import requests

from valet.tests.functional import databases
from valet.tests.functional import deployment
from valet.tests.functional import glance_fixture
from valet.tests.functional import keystone_fixture
from valet.tests.functional import neutron_stand_in
from valet.tests.functional import nova_fixture
from valet.tests.functional import nova_services
from valet.tests.functional import processes
from valet.tests.functional import services

RABBIT = os.environ.get('VALET_TEST_RABBIT_URL',
                        'rabbit://guest:guest@127.0.0.1:5672/')
ADMIN_TOKEN = 'admin'
FLAVORS = {
    # name: (vcpus, ram MB, disk GB)
    'valet.small': (1, 512, 1),
    'valet.medium': (2, 1024, 2),
}
COMPUTE_API_VERSION = '2.90'


def _die_with_parent():
    # Linux: SIGKILL this child when the thread that spawned it ends.
    try:
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


class CloudError(RuntimeError):
    pass


class ProcessGroup:
    """Named child processes, each in a session of its own, logging to
    ``<log_dir>/<name>.out``; ``kill`` ones get SIGKILL when stopped."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.procs = {}
        self.kill_on_stop = set()

    def spawn(self, name, cmd, env=None, kill=False):
        if self.running(name):
            raise CloudError('%s is already running' % name)
        with open(os.path.join(self.log_dir, name + '.out'), 'a') as log:
            self.procs[name] = subprocess.Popen(
                cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_die_with_parent)
        if kill:
            self.kill_on_stop.add(name)
        return self.procs[name]

    def running(self, name):
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def check(self, *names):
        for name in names or list(self.procs):
            proc = self.procs[name]
            if proc.poll() is not None:
                raise CloudError('%s exited with %s; see %s' % (
                    name, proc.returncode,
                    os.path.join(self.log_dir, name + '.out')))

    def pids(self):
        return {name: proc.pid for name, proc in self.procs.items()
                if proc.poll() is None}

    def stop(self, *names):
        names = [n for n in (names or list(self.procs)) if self.running(n)]
        for name in names:  # signal all first: their shutdowns overlap
            sig = (signal.SIGKILL if name in self.kill_on_stop
                   else signal.SIGTERM)
            try:
                os.killpg(self.procs[name].pid, sig)
            except ProcessLookupError:
                pass
        for name in names:
            proc = self.procs[name]
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _rabbitmqctl(*args):
    result = subprocess.run(['rabbitmqctl', '-q'] + list(args),
                            capture_output=True, text=True, timeout=120)
    if result.returncode:
        raise CloudError('rabbitmqctl %s failed: %s%s' % (
            ' '.join(args), result.stdout, result.stderr))
    return result.stdout


def require_cloud():
    """Skip (fail in CI) unless every piece of the cloud can start."""
    services.require_port(5672, 'RabbitMQ')
    services.require_port(databases.MYSQL_PORT, 'MariaDB')
    nova_fixture.require_nova()
    glance_fixture.require_glance()
    keystone_fixture.require_keystone()
    if shutil.which('rabbitmqctl') is None:
        services.unavailable('rabbitmqctl is not installed (the compute '
                             'cloud makes a RabbitMQ virtual host of its own)')


class ComputeCloud(fixtures.Fixture):
    """Start the cloud; see the module docstring.

    ``computes`` nova-compute services, two per rack. ``valet_filter``:
    start nova-scheduler with ValetFilter (if the tree has it);
    ``valet_options`` are merged into the filter's ``[valet]`` group.
    ``base_dir``: keep the cloud's files there (kept at cleanup).
    """

    def __init__(self, computes=4, valet_filter=True, valet_options=None,
                 base_dir=None):
        super().__init__()
        self.compute_count = computes
        self.want_filter = valet_filter
        self.extra_valet_options = dict(valet_options or {})
        self.base_dir = base_dir

    # ------------------------------------------------------------ start-up
    def _setUp(self):
        require_cloud()
        started = time.monotonic()
        if self.base_dir:
            self.tmp = self.base_dir
            os.makedirs(self.tmp, exist_ok=True)
        else:
            self.tmp = tempfile.mkdtemp(prefix='valet-cloud-')
            self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        os.makedirs(os.path.join(self.tmp, 'logs'), exist_ok=True)
        self.prefix = 'vcc_%s' % uuid.uuid4().hex[:8]
        self.procs = ProcessGroup(os.path.join(self.tmp, 'logs'))
        self.addCleanup(self.procs.stop)
        self.http = requests.Session()
        self.addCleanup(self.http.close)
        self.timings = {}
        try:
            self._start(started)
        except Exception as exc:
            # The logs go with the cloud's directory: say what they said.
            raise CloudError('%s\n%s' % (exc, self.log_tails())) from exc

    def log_tails(self, lines=15):
        """The last lines of every log of the cloud, for error messages."""
        logs = os.path.join(self.tmp, 'logs')
        out = []
        for name in sorted(os.listdir(logs)):
            with open(os.path.join(logs, name), errors='replace') as f:
                tail = f.readlines()[-lines:]
            out.append('--- %s ---\n%s' % (name, ''.join(tail)))
        return ''.join(out)

    def _start(self, started):
        # Keystone and Glance bootstrap in threads while Nova's does here.
        side = {}
        threads = [self._in_thread(side, 'keystone',
                                   keystone_fixture.KeystoneFixture()),
                   self._in_thread(side, 'glance',
                                   glance_fixture.GlanceFixture(
                                       os.path.join(self.tmp, 'glance')))]
        self._make_vhost()
        self._make_databases()
        self.neutron_url = self._start_neutron()
        self.placement_url = self._start_placement()
        self.nova = nova_services.NovaServices(
            self.procs, nova_fixture.openstack_venv(), self.tmp)
        self.api_port = processes.free_port()
        self.endpoint = 'http://127.0.0.1:%d/v2.1' % self.api_port
        for thread in threads:
            thread.join()
        for name in ('keystone', 'glance'):
            if isinstance(side.get(name), BaseException):
                raise CloudError('%s did not start: %s' % (name, side[name]))
        self.keystone = side['keystone']
        self.glance = side['glance']
        self.timings['keystone+glance'] = time.monotonic() - started
        self.nova.write_config(
            transport_url=self.transport_url,
            placement=self.placement_url, glance=self.glance.url,
            neutron=self.neutron_url, api_db=self.db['nova_api'],
            cell0_db=self.db['nova_cell0'], cell1_db=self.db['nova_cell1'],
            # Heat calls Nova with the user's Keystone token.
            keystone_authtoken={
                'auth_type': 'password', 'auth_url': self.keystone.url,
                'www_authenticate_uri': self.keystone.url,
                'username': 'nova', 'password': keystone_fixture.PASSWORD,
                'project_name': 'service', 'user_domain_name': 'Default',
                'project_domain_name': 'Default', 'interface': 'public'})
        self.nova.bootstrap()
        self.timings['nova bootstrap'] = time.monotonic() - started
        self.nova.start_api(self.api_port)
        self.nova.start_conductor()
        self.hosts = ['cmp%d' % (i + 1) for i in range(self.compute_count)]
        self.racks = {}
        for index, host in enumerate(self.hosts):
            self.racks.setdefault('r%d' % (index // 2 + 1), []).append(host)
            self.nova.start_compute(host)
        self._wait_http('nova-api', self.endpoint + '/flavors',
                        headers=self.admin_headers())
        self._wait_computes()
        self.timings['computes'] = time.monotonic() - started
        self._make_racks()
        self.flavors = {name: self._make_flavor(name, *spec)
                        for name, spec in FLAVORS.items()}
        self.image_id = self.glance.image_id
        self._start_valet()
        self.timings['valet'] = time.monotonic() - started
        self.filter_enabled = bool(self.want_filter
                                   and nova_services.filter_available())
        self.configure_scheduler(self.filter_enabled)
        self.startup_seconds = time.monotonic() - started

    def _in_thread(self, results, name, fixture):
        def run():
            try:
                fixture.setUp()
                results[name] = fixture
            except BaseException as exc:  # reported by _setUp
                results[name] = exc
        # Cleaned up by us whether or not it started (a no-op if not).
        self.addCleanup(fixture.cleanUp)
        thread = threading.Thread(target=run, name='start-' + name)
        thread.start()
        return thread

    def _make_vhost(self):
        self.vhost = self.prefix
        _rabbitmqctl('add_vhost', self.vhost)
        self.addCleanup(_rabbitmqctl, 'delete_vhost', self.vhost)
        _rabbitmqctl('set_permissions', '-p', self.vhost, 'guest',
                     '.*', '.*', '.*')
        self.transport_url = RABBIT.rstrip('/') + '/' + self.vhost

    def _make_databases(self):
        server = databases.MySQLServer()
        self.db = {}
        for name in ('nova_api', 'nova_cell0', 'nova_cell1', 'placement',
                     'valet'):
            full = '%s_%s' % (self.prefix, name)
            self.addCleanup(server.drop, full)
            self.db[name] = server.create(full)

    def _start_neutron(self):
        port = processes.free_port()
        self.procs.spawn('neutron-stand-in', [
            sys.executable, neutron_stand_in.__file__, str(port)])
        return 'http://127.0.0.1:%d' % port

    def _start_placement(self):
        venv = nova_fixture.openstack_venv()
        conf_dir = os.path.join(self.tmp, 'placement')
        os.makedirs(conf_dir, exist_ok=True)
        with open(os.path.join(conf_dir, 'placement.conf'), 'w') as f:
            f.write(nova_services.render({
                'DEFAULT': {'log_file': os.path.join(self.tmp, 'logs',
                                                     'placement.log')},
                'api': {'auth_strategy': 'noauth2'},
                'placement_database': {'connection': self.db['placement']},
            }))
        port = processes.free_port()
        manage = [os.path.join(venv, 'bin', 'placement-manage'),
                  '--config-file', os.path.join(conf_dir, 'placement.conf'),
                  'db', 'sync']
        uwsgi = [os.path.join(venv, 'bin', 'uwsgi'),
                 '--http11-socket', '127.0.0.1:%d' % port,
                 '--module', 'placement.wsgi.api:application',
                 '--master', '--processes', '1', '--threads', '4',
                 '--die-on-term', '--need-app', '--skip-atexit-teardown']
        script = '%s && exec %s' % (shlex.join(manage), shlex.join(uwsgi))
        self.procs.spawn('placement', ['sh', '-c', script],
                         env=dict(os.environ,
                                  OS_PLACEMENT_CONFIG_DIR=conf_dir))
        return 'http://127.0.0.1:%d' % port

    def _wait_http(self, name, url, headers=None, seconds=180):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.procs.check(name)
            try:
                if self.http.get(url, headers=headers,
                                 timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise CloudError('%s did not answer %s within %ss' % (
            name, url, seconds))

    def _wait_computes(self, seconds=300):
        """Every compute's provider has inventory; then map the hosts."""
        self._wait_http('placement', self.placement_url + '/')
        deadline = time.monotonic() + seconds
        while True:
            self.procs.check()
            names = {rp['name'] for rp in self.placement(
                'GET', '/resource_providers?resources=VCPU:1'
            ).json()['resource_providers']}
            if set(self.hosts) <= names:
                break
            if time.monotonic() > deadline:
                raise CloudError('computes %s not in Placement within %ss '
                                 '(have %s)' % (self.hosts, seconds, names))
            time.sleep(0.5)
        self.nova.discover_hosts()

    def _make_racks(self):
        for rack, hosts in self.racks.items():
            agg = self.compute('POST', '/os-aggregates', {'aggregate': {
                'name': 'rack-%s' % rack}}).json()['aggregate']
            for host in hosts:
                self.compute('POST', '/os-aggregates/%s/action' % agg['id'],
                             {'add_host': {'host': host}})
            self.compute('POST', '/os-aggregates/%s/action' % agg['id'],
                         {'set_metadata': {'metadata': {'valet:rack': rack}}})

    def _make_flavor(self, name, vcpus, ram, disk):
        return self.compute('POST', '/flavors', {'flavor': {
            'name': name, 'id': name, 'vcpus': vcpus, 'ram': ram,
            'disk': disk}}).json()['flavor']

    # ---------------------------------------------------------------- Valet
    def _start_valet(self):
        admin = self.keystone.admin
        # Nova's aggregates and services are admin APIs; the noauth
        # compute API takes the admin token, Keystone is not asked.
        admin_token = {'auth_type': 'admin_token', 'token': ADMIN_TOKEN}
        self.valet = deployment.Deployment(
            connection=self.db['valet'], keystone=self.keystone,
            api_workers=1, rpc_timeout=30,
            extra_config={
                'DEFAULT': {'transport_url': self.transport_url,
                            'debug': 'false'},
                'inventory': {'driver': 'openstack',
                              'request_workers': '2'},
                'placement': dict(admin_token, endpoint=self.placement_url),
                'nova': dict(admin_token, endpoint=self.endpoint),
                'nova_notifications': {'transport_url': self.transport_url},
                # The engine reads Heat stacks as this user, which the Heat
                # fixture creates (valet/tests/functional/heat).
                'heat': {'auth_type': 'password',
                         'auth_url': self.keystone.url,
                         'username': 'valet-heat-reader',
                         'password': keystone_fixture.PASSWORD,
                         'project_name': 'service',
                         'user_domain_name': 'Default',
                         'project_domain_name': 'Default'},
            })
        self.useFixture(self.valet)
        self.valet_url = self.valet.url
        service = admin.post(self.keystone.url + '/services', json={
            'service': {'type': 'workload-placement', 'name': 'valet'}}
        ).json()['service']
        admin.post(self.keystone.url + '/endpoints', json={'endpoint': {
            'service_id': service['id'], 'interface': 'public',
            'region_id': 'RegionOne', 'url': self.valet_url}})

    def filter_options(self, **overrides):
        """The filter's ``[valet]`` group: Nova's service user, Valet's
        URL, the filter's default timeout (a cloud's first boot waits for
        Keystone tokens on a busy machine); ``overrides`` win."""
        options = {
            'auth_type': 'password',
            'auth_url': self.keystone.url,
            'username': 'nova',
            'password': keystone_fixture.PASSWORD,
            'project_name': 'service',
            'user_domain_name': 'Default',
            'project_domain_name': 'Default',
            'endpoint_override': self.valet_url,
            'timeout': '30',
            'failure_mode': 'reject',
        }
        options.update(self.extra_valet_options)
        options.update(overrides)
        return options

    def configure_scheduler(self, valet_filter=True, **valet_options):
        """(Re)start nova-scheduler with or without ValetFilter; the
        ``[valet]`` options are ``filter_options(**valet_options)``.

        Returns once the new scheduler consumes its RPC queue.
        """
        options = self.filter_options(**valet_options) if valet_filter \
            else None
        wanted = (valet_filter, options or {})
        if self.nova.scheduler_options == wanted and \
                self.procs.running('nova-scheduler'):
            return
        self.nova.configure_scheduler(valet_filter, options)
        self._wait_scheduler()
        self.filter_enabled = valet_filter

    def _wait_scheduler(self, seconds=180):
        # Ready when its queue has a consumer again (the old one is gone).
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.procs.check('nova-scheduler')
            for line in _rabbitmqctl('list_queues', '-p', self.vhost,
                                     'name', 'consumers').splitlines():
                fields = line.split()
                if fields[:1] == ['scheduler'] and fields[1:2] != ['0']:
                    return
            time.sleep(1)
        raise CloudError('nova-scheduler not consuming within %ss' % seconds)

    # ----------------------------------------------------------------- HTTP
    @staticmethod
    def admin_headers():
        return {'X-Auth-Token': ADMIN_TOKEN}

    def project_token(self, project, user='tester'):
        """Compute API token of a member of Keystone project ``project``
        (``alpha``, ``beta``, ``admin`` or ``service``)."""
        return '%s:%s' % (user, self.keystone.ids[project])

    def compute(self, method, path, body=None, token=ADMIN_TOKEN,
                expect=(200, 201, 202, 204), version=COMPUTE_API_VERSION,
                timeout=120):
        resp = self.http.request(
            method, self.endpoint + path, json=body, timeout=timeout,
            headers={'X-Auth-Token': token,
                     'OpenStack-API-Version': 'compute %s' % version})
        if expect and resp.status_code not in expect:
            raise CloudError('%s %s -> %d: %s' % (
                method, path, resp.status_code, resp.text[:2000]))
        return resp

    def placement(self, method, path, body=None, expect=(200, 201, 204)):
        resp = self.http.request(
            method, self.placement_url + path, json=body, timeout=60,
            headers={'X-Auth-Token': ADMIN_TOKEN,
                     'OpenStack-API-Version': 'placement 1.39'})
        if expect and resp.status_code not in expect:
            raise CloudError('placement %s %s -> %d: %s' % (
                method, path, resp.status_code, resp.text[:2000]))
        return resp

    # -------------------------------------------------------------- servers
    def boot(self, name, project='alpha', flavor='valet.small',
             metadata=None, hints=None, min_count=None, max_count=None,
             host=None, admin=False):
        """POST /servers (no networks) in Keystone project ``project``;
        returns Nova's response body (``server`` or, with ``min_count``,
        ``reservation_id``).

        ``admin``: as an admin of that project; ``host``: the host an
        admin asks for (2.74: still scheduled, on that host only).
        """
        server = {'name': name, 'imageRef': self.image_id,
                  'flavorRef': flavor, 'networks': 'none'}
        if host:
            server['host'] = host
        if metadata:
            server['metadata'] = metadata
        if min_count:
            server['min_count'] = min_count
            server['max_count'] = max_count or min_count
            server['return_reservation_id'] = True
        body = {'server': server}
        if hints:
            body['os:scheduler_hints'] = hints
        token = self.project_token(project,
                                   user='admin' if admin else 'tester')
        return self.compute('POST', '/servers', body, token=token).json()

    def server(self, server_id):
        return self.compute('GET', '/servers/%s' % server_id).json()['server']

    def servers_of_reservation(self, reservation_id):
        return self.compute(
            'GET', '/servers/detail?all_tenants=1&reservation_id=%s'
            % reservation_id).json()['servers']

    def wait_server(self, server_id, statuses=('ACTIVE', 'ERROR'),
                    seconds=240):
        """Wait until the server's status is one of ``statuses`` and its
        task state is none; returns the server."""
        deadline = time.monotonic() + seconds
        while True:
            server = self.server(server_id)
            if server['status'] in statuses and \
                    not server.get('OS-EXT-STS:task_state'):
                return server
            if time.monotonic() > deadline:
                raise CloudError('server %s is %s (task %s), not in %s '
                                 'after %ss' % (
                                     server_id, server['status'],
                                     server.get('OS-EXT-STS:task_state'),
                                     statuses, seconds))
            time.sleep(0.5)

    @staticmethod
    def host_of(server):
        return server['OS-EXT-SRV-ATTR:host']

    def delete_server(self, server_id, wait=True, seconds=240):
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.compute('DELETE', '/servers/%s' % server_id,
                             expect=(204, 404), timeout=30)
                break
            except requests.Timeout:
                # nova-api now and then sits on a delete; a second one
                # goes through (and deleting twice is harmless).
                if time.monotonic() > deadline:
                    raise
        if not wait:
            return
        while self.compute('GET', '/servers/%s' % server_id,
                           expect=()).status_code != 404:
            if time.monotonic() > deadline:
                raise CloudError('server %s not gone after %ss'
                                 % (server_id, seconds))
            time.sleep(0.5)

    def delete_all_servers(self):
        servers = self.compute('GET', '/servers?all_tenants=1').json()[
            'servers']
        for server in servers:
            self.delete_server(server['id'], wait=False)
        for server in servers:
            self.delete_server(server['id'])

    # ------------------------------------------------------- spare computes
    def add_spare_compute(self, seconds=300):
        """Start one more nova-compute, alone in a rack of its own; its
        host name.

        A spare is for a test that takes a compute down for good (an
        evacuation: nova's fake driver cannot bring a stopped compute back,
        it makes a new compute node each time). It is not in ``hosts`` or
        ``racks``, so the tests that count the cloud's hosts are not
        disturbed; ``remove_spare_compute`` deletes it from Nova (and so
        from Placement and Valet).
        """
        self._spares = getattr(self, '_spares', 0) + 1
        host = 'spare%d' % self._spares
        rack = 'rs%d' % self._spares
        self.nova.start_compute(host)
        deadline = time.monotonic() + seconds
        while host not in {rp['name'] for rp in self.placement(
                'GET', '/resource_providers?resources=VCPU:1'
        ).json()['resource_providers']}:
            self.procs.check('nova-compute-%s' % host)
            if time.monotonic() > deadline:
                raise CloudError('spare compute %s not in Placement within '
                                 '%ss' % (host, seconds))
            time.sleep(0.5)
        self.nova.discover_hosts()
        agg = self.compute('POST', '/os-aggregates', {'aggregate': {
            'name': 'rack-%s' % rack}}).json()['aggregate']
        self.compute('POST', '/os-aggregates/%s/action' % agg['id'],
                     {'add_host': {'host': host}})
        self.compute('POST', '/os-aggregates/%s/action' % agg['id'],
                     {'set_metadata': {'metadata': {'valet:rack': rack}}})
        return host

    def compute_service(self, host):
        """Nova's nova-compute service record of ``host``, or None."""
        found = self.compute(
            'GET', '/os-services?binary=nova-compute&host=%s' % host
        ).json()['services']
        return found[0] if found else None

    def take_down_compute(self, host):
        """Kill ``host``'s nova-compute and mark its service forced down,
        as an operator does before evacuating its servers."""
        self.procs.stop('nova-compute-%s' % host)
        self.compute('PUT', '/os-services/%s' % self.compute_service(
            host)['id'], {'forced_down': True})

    def remove_spare_compute(self, host):
        """Stop a spare compute and delete it from Nova, its rack
        aggregate with it. Its servers must be deleted first (Nova refuses
        to delete a compute service that hosts any)."""
        self.procs.stop('nova-compute-%s' % host)
        self.procs.procs.pop('nova-compute-%s' % host, None)
        for agg in self.compute('GET', '/os-aggregates').json()[
                'aggregates']:
            if host in (agg.get('hosts') or ()):
                self.compute('POST', '/os-aggregates/%s/action' % agg['id'],
                             {'remove_host': {'host': host}})
                self.compute('DELETE', '/os-aggregates/%s' % agg['id'])
        service = self.compute_service(host)
        if service is not None:
            self.compute('DELETE', '/os-services/%s' % service['id'])
        if host in self.nova.computes:
            self.nova.computes.remove(host)

    # ---------------------------------------------------------- description
    def describe(self):
        """Endpoints, credentials and process ids, JSON-serialisable."""
        return {
            'keystone': {'url': self.keystone.url, 'admin': 'admin/admin',
                         'users': 'alpha-member, alpha-reader, beta-member, '
                                  'valet, nova (password %s)'
                                  % keystone_fixture.PASSWORD,
                         'projects': self.keystone.ids},
            'valet': {'url': self.valet_url, 'auth': 'keystone'},
            'nova': {'url': self.endpoint, 'token': 'admin or user:project',
                     'hosts': self.hosts, 'racks': self.racks,
                     'flavors': sorted(self.flavors),
                     'valet_filter': self.filter_enabled},
            'placement': {'url': self.placement_url, 'token': 'admin'},
            'glance': {'url': self.glance.url, 'image': self.image_id},
            'neutron_stand_in': self.neutron_url,
            'rabbitmq': self.transport_url,
            'databases': self.db,
            'directory': self.tmp,
            'pids': self.procs.pids(),
            'startup_seconds': round(self.startup_seconds, 1),
        }


_SHARED = {}
_SHARED_LOCK = threading.Lock()


def shared():
    """The cloud of this test process, started on first use.

    Stopped at interpreter exit. A start that failed is not retried: every
    later caller gets the same error at once.
    """
    with _SHARED_LOCK:
        if 'error' in _SHARED:
            raise CloudError('the compute cloud failed to start: %s'
                             % _SHARED['error'])
        if 'cloud' not in _SHARED:
            cloud = ComputeCloud()
            try:
                cloud.setUp()
            except Exception as exc:
                _SHARED['error'] = exc
                raise
            atexit.register(cloud.cleanUp)
            _SHARED['cloud'] = cloud
        return _SHARED['cloud']


def main(argv=None):
    """Start the cloud, write its description, wait for SIGTERM/SIGINT."""
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--state-file', help='write the description here')
    parser.add_argument('--computes', type=int, default=4)
    parser.add_argument('--dir', help='keep the cloud\'s files and logs '
                        'here (a temporary directory, removed at stop, '
                        'otherwise)')
    parser.add_argument('--no-filter', action='store_true',
                        help='start nova-scheduler without ValetFilter')
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    cloud = ComputeCloud(computes=args.computes,
                         valet_filter=not args.no_filter,
                         base_dir=args.dir)
    with cloud:
        text = json.dumps(dict(cloud.describe(), pid=os.getpid()), indent=2)
        if args.state_file:
            with open(args.state_file + '.tmp', 'w') as f:
                f.write(text)
            os.rename(args.state_file + '.tmp', args.state_file)
        print(text, flush=True)
        while not stop.wait(1):
            pass
        print('stopping the compute cloud', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
