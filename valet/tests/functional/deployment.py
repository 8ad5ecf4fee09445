"""A real Valet deployment for functional tests.

``valet-manage db_sync`` creates the schema, ``valet-engine`` runs as its
own process, and ``valet-api`` runs under uwsgi with several worker
processes; they talk over real RabbitMQ (an exchange of the deployment's
own, so parallel tests and stray engines never see each other's calls)
and store in the database the test chooses (SQLite file, MariaDB or
PostgreSQL). Authentication is ``noauth`` or a real Keystone
(``keystone_fixture``).
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

from valet.tests.functional import processes
from valet.tests.functional import services

RABBIT = 'rabbit://guest:guest@127.0.0.1:5672/'
_BIN = os.path.dirname(sys.executable)


def _tool(name):
    path = os.path.join(_BIN, name)
    return path if os.path.exists(path) else shutil.which(name)


class Deployment(fixtures.Fixture):
    """Start Valet; ``self.url`` is the API's root URL."""

    def __init__(self, connection=None, keystone=None, api_workers=2,
                 rpc_timeout=5.0, inventory=None):
        super().__init__()
        self.connection = connection
        self.keystone = keystone
        self.api_workers = api_workers
        self.rpc_timeout = rpc_timeout
        self.inventory = inventory
        self.engine = None

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
        self._run([_tool('valet-manage'), '--config-file', self.conf_file,
                   'db_sync'])
        self.start_engine()
        self.addCleanup(self.stop_engine)
        self._start_api()

    def _config(self):
        connection = self.connection or 'sqlite:///%s/valet.sqlite' % self.tmp
        lines = [
            '[DEFAULT]',
            'transport_url = %s' % RABBIT,
            'control_exchange = %s' % self.exchange,
            'state_dir = %s' % self.tmp,
            'log_file = %s/valet.log' % self.tmp,
            'debug = true',
            '[database]',
            'connection = %s' % connection,
            '[storage]',
            'driver = sql',
            '[engine]',
            'rpc_timeout = %s' % self.rpc_timeout,
            'host = engine-%s' % self.exchange,
            # With RabbitMQ queues are named after topics, whatever the
            # exchange: a topic of its own keeps deployments apart.
            'topic = %s' % self.exchange,
            '[api]',
            'auth_strategy = %s' % ('keystone' if self.keystone else
                                    'noauth'),
        ]
        if self.inventory:
            lines += ['[inventory]', 'static_file = %s' % self.inventory]
        if self.keystone:
            lines += [
                '[keystone_authtoken]',
                'www_authenticate_uri = %s' % self.keystone.url,
                'auth_url = %s' % self.keystone.url,
                'auth_type = password',
                'username = valet',
                'password = secret',
                'project_name = service',
                'user_domain_name = Default',
                'project_domain_name = Default',
                # The Keystone fixture registers a public endpoint only.
                'interface = public',
                # Revoked tokens must be seen at once in the tests.
                'token_cache_time = -1',
            ]
        return '\n'.join(lines) + '\n'

    def _run(self, cmd):
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError('%s failed (%d): %s%s' % (
                os.path.basename(cmd[0]), result.returncode,
                result.stdout[-2000:], result.stderr[-2000:]))
        return result.stdout

    # ---------------------------------------------------------------- engine
    def start_engine(self):
        log = open(os.path.join(self.tmp, 'engine.out'), 'a')
        self.engine = subprocess.Popen(
            [_tool('valet-engine'), '--config-file', self.conf_file],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._wait_engine()

    def _wait_engine(self, seconds=60):
        # The engine is ready when the API's status call reaches it; before
        # the API is up, wait for the engine's own log line instead.
        deadline = time.time() + seconds
        path = os.path.join(self.tmp, 'valet.log')
        while time.time() < deadline:
            if self.engine.poll() is not None:
                raise RuntimeError('valet-engine exited (%s); see %s' % (
                    self.engine.returncode, self.tmp))
            if os.path.exists(path):
                with open(path) as f:
                    if 'serving topic' in f.read():
                        return
            time.sleep(0.2)
        raise RuntimeError('valet-engine not ready within %ss; see %s' % (
            seconds, self.tmp))

    def kill_engine(self):
        """SIGKILL: the engine dies without any chance to clean up."""
        if self.engine and self.engine.poll() is None:
            self.engine.send_signal(signal.SIGKILL)
            self.engine.wait()
        self._forget_ready_lines()

    def stop_engine(self):
        processes.stop(self.engine)
        self._forget_ready_lines()

    def _forget_ready_lines(self):
        path = os.path.join(self.tmp, 'valet.log')
        if os.path.exists(path):
            os.rename(path, path + '.%d' % time.time_ns())

    # ------------------------------------------------------------------- api
    def _start_api(self):
        self.port = processes.free_port()
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

    def logs(self):
        """Everything the processes wrote (for failure messages)."""
        out = []
        for name in sorted(os.listdir(self.tmp)):
            if name.endswith(('.out', '.log')) or '.log.' in name:
                with open(os.path.join(self.tmp, name), errors='replace') as f:
                    out.append('== %s ==\n%s' % (name, f.read()[-4000:]))
        return '\n'.join(out)
