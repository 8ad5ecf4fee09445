"""A real Valet for client and plugin tests: ``valet-api --all-in-one``.

The server runs as its own process on a loopback port: the real REST API,
the real engine over its in-process RPC transport, SQLite storage and a
static inventory written by the test. ``VALET_API_BIN`` names the
``valet-api`` command when the tests run from another environment (the
Nova plugin's tests run in Nova's); by default it is the one beside the
running Python.
"""

import os
import shutil
import subprocess
import sys
import time

import fixtures
import requests
import testtools
import yaml

from valet.tests.functional import processes

START_TIMEOUT = 180.0
# noauth trusts the caller's roles; tests act as an administrator.
ADMIN_HEADERS = {'X-Roles': 'admin'}

# Two racks of two hosts named as Nova services, and two hosts named
# after their hypervisor nodes (a service with several nodes, as Ironic).
INVENTORY = {
    'levels': ['host', 'rack'],
    'flavors': {
        'm1.tiny': {'id': '1', 'vcpus': 1, 'ram': 512, 'disk': 1},
        'm1.small': {'id': '2', 'vcpus': 1, 'ram': 2048, 'disk': 20},
        'm1.huge': {'id': '9', 'vcpus': 64, 'ram': 2048, 'disk': 20},
    },
    'hosts': [
        {'name': name, 'rack': rack, 'vcpus': 8, 'memory_mb': 16384,
         'disk_gb': 400}
        for name, rack in (('cmp1', 'r1'), ('cmp2', 'r1'), ('cmp3', 'r2'),
                           ('cmp4', 'r2'), ('node-a.bm', 'r3'),
                           ('node-b.bm', 'r3'))
    ],
}


def valet_api_command():
    found = os.environ.get('VALET_API_BIN')
    if found:
        return found
    beside = os.path.join(os.path.dirname(sys.executable), 'valet-api')
    return beside if os.path.exists(beside) else shutil.which('valet-api')


class AllInOneValet(fixtures.Fixture):
    """``self.url`` is the running server's root URL."""

    def __init__(self, inventory=None):
        super().__init__()
        self.inventory = inventory or INVENTORY

    def _setUp(self):
        command = valet_api_command()
        if not command:
            raise RuntimeError('valet-api not found; set VALET_API_BIN')
        self.state = self.useFixture(fixtures.TempDir()).path
        inventory = os.path.join(self.state, 'inventory.yaml')
        with open(inventory, 'w') as out:
            yaml.safe_dump(self.inventory, out)
        config = os.path.join(self.state, 'valet.conf')
        with open(config, 'w') as out:
            out.write('[DEFAULT]\nstate_dir = %s\n' % self.state)
        self.port = processes.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.log_path = os.path.join(self.state, 'valet-api.log')
        env = dict(os.environ, VALET_STATE_DIR=self.state)
        env.pop('PYTHONPATH', None)
        with open(self.log_path, 'w') as log:
            self.process = subprocess.Popen(
                [command, '--config-file', config, '--all-in-one',
                 '--host', '127.0.0.1', '--port', str(self.port),
                 '--inventory', inventory],
                stdout=log, stderr=subprocess.STDOUT, env=env,
                cwd=self.state)
        self.addCleanup(processes.stop, self.process)
        self._wait()

    def _wait(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                resp = requests.get(self.url + '/v1/status', timeout=5,
                                    headers=ADMIN_HEADERS)
                if resp.status_code == 200 and resp.json()['status'][
                        'engine']['status'] == 'ok':
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.2)
        with open(self.log_path) as log:
            tail = log.read()[-3000:]
        raise RuntimeError('valet-api did not start:\n%s' % tail)


class WithValetTestCase(testtools.TestCase):
    """Tests of one class share one ``AllInOneValet`` (``cls.valet``):
    starting it takes seconds."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.valet = AllInOneValet()
        cls.valet.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.valet.cleanUp()
        super().tearDownClass()
