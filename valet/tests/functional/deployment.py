"""A real Valet deployment for functional tests.

``valet-manage db_sync`` creates the schema, ``valet-engine`` runs as its
own process (or several, electing a leader through a real coordination
backend), and ``valet-api`` runs under uwsgi with several worker
processes; they talk over real RabbitMQ (an exchange of the deployment's
own, so parallel tests and stray engines never see each other's calls)
and store in the database the test chooses (SQLite file, MariaDB or
PostgreSQL). Authentication is ``noauth`` or a real Keystone
(``keystone_fixture``).

Every engine has an ``[engine] host`` name and a log file of its own
(``engine-<n>.log``, through a small per-engine config file read after
``valet.conf``); the API logs to ``valet.log``.
"""

import collections
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

from valet.tests.functional import processes
from valet.tests.functional import services

RABBIT = 'rabbit://guest:guest@127.0.0.1:5672/'
_BIN = os.path.dirname(sys.executable)

# Lines valet-engine logs (valet/engine/manager.py and leader.py).
SERVING = 'serving topic'
STEPPED_DOWN = 'is no longer the leader'
ELECTED = 'elected leader'
JOINED = 'connected to coordination backend'


def _tool(name):
    path = os.path.join(_BIN, name)
    return path if os.path.exists(path) else shutil.which(name)


class Deployment(fixtures.Fixture):
    """Start Valet; ``self.url`` is the API's root URL.

    ``engines`` engine processes are started; more than one needs
    ``coordination_url`` (a tooz URL), with which every engine joins the
    election and only the leader serves. ``extra_config`` maps section
    names to ``{option: value}`` and is merged into ``valet.conf`` (its
    values win; ``self.rpc_timeout`` still says what was passed).
    """

    def __init__(self, connection=None, keystone=None, api_workers=2,
                 rpc_timeout=5.0, inventory=None, engines=1,
                 coordination_url=None, extra_config=None):
        super().__init__()
        if engines > 1 and not coordination_url:
            raise ValueError('several engines need a coordination_url')
        self.connection = connection
        self.keystone = keystone
        self.api_workers = api_workers
        self.rpc_timeout = rpc_timeout
        self.inventory = inventory
        self.coordination_url = coordination_url
        self.extra_config = extra_config or {}
        self.engines = [None] * engines
        self._log_offsets = [0] * engines

    @property
    def engine(self):
        """The first engine's process (the only one by default)."""
        return self.engines[0]

    @property
    def coordinated(self):
        return bool(self.coordination_url)

    def _setUp(self):
        services.require_port(5672, 'RabbitMQ')
        if not _tool('uwsgi'):
            services.unavailable('uwsgi is not installed (test-requirements)')
        self.tmp = tempfile.mkdtemp(prefix='valet-deploy-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.exchange = 'valet-test-%s' % uuid.uuid4().hex[:12]
        self.conf_file = os.path.join(self.tmp, 'valet.conf')
        with open(self.conf_file, 'w') as f:
            f.write(self._config())
        for index in range(len(self.engines)):
            with open(self._engine_conf(index), 'w') as f:
                f.write(_render({
                    'DEFAULT': {'log_file': self.engine_log_file(index)},
                    'engine': {'host': self.engine_host(index)}}))
        self._run([_tool('valet-manage'), '--config-file', self.conf_file,
                   'db_sync'])
        self.addCleanup(self.stop_engines)
        for index in range(len(self.engines)):
            self.start_engine(index)
        if self.coordinated:
            self.wait_leader()
        self._start_api()

    def _config(self):
        connection = self.connection or 'sqlite:///%s/valet.sqlite' % self.tmp
        sections = collections.OrderedDict()
        sections['DEFAULT'] = {
            'transport_url': RABBIT,
            'control_exchange': self.exchange,
            'state_dir': self.tmp,
            'log_file': '%s/valet.log' % self.tmp,
            'debug': 'true',
        }
        sections['database'] = {'connection': connection}
        sections['storage'] = {'driver': 'sql'}
        sections['engine'] = {
            'rpc_timeout': self.rpc_timeout,
            'host': 'engine-%s' % self.exchange,
            # With RabbitMQ queues are named after topics, whatever the
            # exchange: a topic of its own keeps deployments apart (and
            # the default election group, "<topic>.leader", too).
            'topic': self.exchange,
        }
        sections['api'] = {'auth_strategy': ('keystone' if self.keystone
                                             else 'noauth')}
        if self.inventory:
            sections['inventory'] = {'static_file': self.inventory}
        if self.coordination_url:
            sections['coordination'] = {'backend_url': self.coordination_url}
        if self.keystone:
            sections['keystone_authtoken'] = {
                'www_authenticate_uri': self.keystone.url,
                'auth_url': self.keystone.url,
                'auth_type': 'password',
                'username': 'valet',
                'password': 'secret',
                'project_name': 'service',
                'user_domain_name': 'Default',
                'project_domain_name': 'Default',
                # The Keystone fixture registers a public endpoint only.
                'interface': 'public',
                # Revoked tokens must be seen at once in the tests.
                'token_cache_time': -1,
            }
        for section, options in self.extra_config.items():
            sections.setdefault(section, {}).update(options)
        return _render(sections)

    def _run(self, cmd):
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError('%s failed (%d): %s%s' % (
                os.path.basename(cmd[0]), result.returncode,
                result.stdout[-2000:], result.stderr[-2000:]))
        return result.stdout

    # ---------------------------------------------------------------- engine
    def engine_host(self, index):
        """The ``[engine] host`` of engine ``index``."""
        if len(self.engines) == 1:
            return 'engine-%s' % self.exchange
        return 'engine%d-%s' % (index, self.exchange)

    def engine_index(self, host):
        """The index of the engine whose ``[engine] host`` is ``host``."""
        for index in range(len(self.engines)):
            if self.engine_host(index) == host:
                return index
        raise KeyError(host)

    def engine_log_file(self, index):
        return os.path.join(self.tmp, 'engine-%d.log' % index)

    def _engine_conf(self, index):
        return os.path.join(self.tmp, 'engine-%d.conf' % index)

    def start_engine(self, index=0, wait=True):
        """Start engine ``index`` (it must not be running).

        With ``wait`` return once it serves (single engine) or has joined
        the election (coordinated; it may be leader or standby).
        """
        if self.alive(index):
            raise RuntimeError('engine %d is already running' % index)
        path = self.engine_log_file(index)
        self._log_offsets[index] = (os.path.getsize(path)
                                    if os.path.exists(path) else 0)
        out = open(os.path.join(self.tmp, 'engine-%d.out' % index), 'a')
        self.engines[index] = subprocess.Popen(
            [_tool('valet-engine'), '--config-file', self.conf_file,
             '--config-file', self._engine_conf(index)],
            stdout=out, stderr=subprocess.STDOUT)
        out.close()
        if wait:
            self._wait_engine(index)

    def _wait_engine(self, index=0, seconds=60):
        # The engine is ready when it says so in its log (the API may not
        # be up yet): serving, or at least in the election.
        ready = (SERVING, JOINED) if self.coordinated else (SERVING,)
        deadline = time.time() + seconds
        while time.time() < deadline:
            process = self.engines[index]
            if process.poll() is not None:
                raise RuntimeError('valet-engine %d exited (%s); see %s' % (
                    index, process.returncode, self.tmp))
            text = self.engine_log(index)
            if any(line in text for line in ready):
                return
            time.sleep(0.2)
        raise RuntimeError('valet-engine %d not ready within %ss; see %s' % (
            index, seconds, self.tmp))

    def alive(self, index=0):
        process = self.engines[index]
        return process is not None and process.poll() is None

    def kill_engine(self, index=0):
        """SIGKILL: the engine dies without any chance to clean up."""
        process = self.engines[index]
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()

    def stop_engine(self, index=0):
        """SIGTERM (SIGKILL if it hangs): a clean stop."""
        processes.stop(self.engines[index])

    def stop_engines(self):
        for index in range(len(self.engines)):
            self.stop_engine(index)

    def engine_log(self, index=0, whole=False):
        """What engine ``index`` logged since it was last started (or in
        all its lives, with ``whole``)."""
        path = self.engine_log_file(index)
        if not os.path.exists(path):
            return ''
        with open(path, errors='replace') as f:
            if not whole:
                f.seek(self._log_offsets[index])
            return f.read()

    def serving(self, index):
        """True if engine ``index`` is alive and, by its log, serving."""
        if not self.alive(index):
            return False
        text = self.engine_log(index)
        return text.rfind(SERVING) > text.rfind(STEPPED_DOWN)

    def leaders(self):
        """Indexes of the engines that serve now, by their logs."""
        return [i for i in range(len(self.engines)) if self.serving(i)]

    def wait_leader(self, exclude=(), seconds=60, poll=0.1):
        """Wait until exactly one engine (not in ``exclude``) serves;
        returns its index."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            serving = self.leaders()
            if len(serving) == 1 and serving[0] not in exclude:
                return serving[0]
            if not any(self.alive(i) for i in range(len(self.engines))):
                raise RuntimeError('no valet-engine is running; see %s'
                                   % self.tmp)
            time.sleep(poll)
        raise RuntimeError('no single leader within %ss (serving: %s); see '
                           '%s' % (seconds, self.leaders(), self.tmp))

    def leader_from_status(self, headers=None, timeout=None):
        """(engine index, engine status) of the engine that answers
        ``GET /v1/status``: the leader, the only one serving the topic."""
        resp = requests.get(
            self.url + '/v1/status', timeout=timeout or self.rpc_timeout + 30,
            headers=headers or {'X-Project-Id': 'p-admin',
                                'X-User-Id': 'u-admin', 'X-Roles': 'admin'})
        resp.raise_for_status()
        engine = resp.json()['status']['engine']
        return self.engine_index(engine['host']), engine

    # ------------------------------------------------------------------- api
    def _start_api(self):
        # A restarted API keeps its port: clients are configured with it.
        self.port = getattr(self, 'port', None) or processes.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        log = open(os.path.join(self.tmp, 'api.out'), 'w')
        self.api = subprocess.Popen(
            [_tool('uwsgi'), '--http11-socket', '127.0.0.1:%d' % self.port,
             '--module', 'valet.wsgi.api:application', '--master',
             '--processes', str(self.api_workers), '--threads', '2',
             '--lazy-apps', '--die-on-term', '--need-app',
             '--env', 'VALET_CONFIG_FILE=%s' % self.conf_file,
             '--buffer-size', '65535'],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.addCleanup(self._stop_api)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.api.poll() is not None:
                raise RuntimeError('valet-api exited; see %s/api.out'
                                   % self.tmp)
            try:
                if requests.get(self.url + '/', timeout=5).ok:
                    return
            except requests.RequestException:
                pass  # not listening, or workers still loading
            time.sleep(0.2)
        raise RuntimeError('valet-api not ready; see %s/api.out' % self.tmp)

    def _stop_api(self):
        processes.stop(self.api)

    def stop_api(self):
        """Stop valet-api (SIGTERM); ``start_api`` brings it back."""
        self._stop_api()

    def start_api(self):
        """Start valet-api again on the same port; returns when it
        answers."""
        self._start_api()

    def logs(self):
        """Everything the processes wrote (for failure messages)."""
        out = []
        for name in sorted(os.listdir(self.tmp)):
            if name.endswith(('.out', '.log')) or '.log.' in name:
                with open(os.path.join(self.tmp, name), errors='replace') as f:
                    out.append('== %s ==\n%s' % (name, f.read()[-4000:]))
        return '\n'.join(out)


def _render(sections):
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        lines += ['%s = %s' % (key, value) for key, value in options.items()]
    return '\n'.join(lines) + '\n'
