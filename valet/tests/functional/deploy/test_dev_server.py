"""The ``valet-api`` development server as a user starts it.

A real ``valet-api --all-in-one`` process (engine in-process, SQLite,
the sample inventory) on a free loopback port: its own errors are API-SIG
JSON, stalled clients are timed out (``[api] client_socket_timeout``),
all-in-one binds loopback by default and is refused from a config file.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import fixtures
import requests
import testtools

from valet.tests.functional import processes

START_TIMEOUT = 180.0
# Generous: the machine may be busy; nothing asserts a duration.
CLOSE_TIMEOUT = 120.0
SOCKET_TIMEOUT = 2
ADMIN = {'X-Roles': 'admin'}


def valet_api():
    beside = os.path.join(os.path.dirname(sys.executable), 'valet-api')
    return beside if os.path.exists(beside) else shutil.which('valet-api')


def read_answer(sock, deadline):
    """Everything the server sends until it closes the connection."""
    chunks = []
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    while True:
        data = sock.recv(65536)
        if not data:
            return b''.join(chunks)
        chunks.append(data)


def api_sig_error(raw):
    """The (status, error) of a raw HTTP answer holding one API-SIG error."""
    head, _, body = raw.partition(b'\r\n\r\n')
    status = int(head.split(b' ', 2)[1])
    headers = head.decode('latin-1').lower()
    assert 'content-type: application/json' in headers, raw[:300]
    error = json.loads(body)['errors'][0]
    assert set(error) >= {'status', 'title', 'detail', 'code',
                          'request_id'}, error
    assert error['status'] == status, raw[:300]
    return status, error


class DevServerTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = fixtures.TempDir()
        cls.tmp.setUp()
        config = os.path.join(cls.tmp.path, 'valet.conf')
        with open(config, 'w') as f:
            f.write('[DEFAULT]\nstate_dir = %s\n[api]\n'
                    'client_socket_timeout = %d\n'
                    % (cls.tmp.path, SOCKET_TIMEOUT))
        cls.port = processes.free_port()
        cls.url = 'http://127.0.0.1:%d' % cls.port
        cls.log_path = os.path.join(cls.tmp.path, 'valet-api.log')
        env = dict(os.environ, VALET_STATE_DIR=cls.tmp.path)
        with open(cls.log_path, 'w') as log:
            cls.process = subprocess.Popen(
                [valet_api(), '--config-file', config, '--all-in-one',
                 '--port', str(cls.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
                cwd=cls.tmp.path)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and cls.process.poll() is None:
            try:
                if requests.get(cls.url + '/', timeout=5).ok:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        processes.stop(cls.process)
        raise RuntimeError('valet-api did not start:\n%s' % cls.log())

    @classmethod
    def tearDownClass(cls):
        processes.stop(cls.process)
        cls.tmp.cleanUp()
        super().tearDownClass()

    @classmethod
    def log(cls):
        with open(cls.log_path) as f:
            return f.read()

    def send(self, data):
        """Send raw bytes; the whole answer (the server closes)."""
        with socket.create_connection(('127.0.0.1', self.port),
                                      timeout=30) as sock:
            sock.sendall(data)
            return read_answer(sock, time.monotonic() + CLOSE_TIMEOUT)

    def test_binds_loopback_by_default(self):
        self.assertIn('on http://127.0.0.1:%d/' % self.port, self.log())

    def test_noauth_warning_at_start(self):
        self.assertIn('NO AUTHENTICATION', self.log())

    def test_protocol_errors_are_api_sig_json(self):
        cases = [
            (b'GARBAGE\r\n\r\n', 400),
            (b'GET / HTTP/1.1 extra\r\n\r\n', 400),
            (b'GET / HTTP/2.0\r\n\r\n', 505),
            (b'GET /' + b'a' * 70000 + b' HTTP/1.1\r\n\r\n', 414),
            (b'GET / HTTP/1.1\r\n' + b''.join(
                b'X-H%d: v\r\n' % i for i in range(120)) + b'\r\n', 431),
            (b'GET / HTTP/1.1\r\nX-Long: ' + b'v' * 70000 + b'\r\n\r\n',
             431),
            (b'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 400),
            (b'GET v1/groups HTTP/1.1\r\nHost: x\r\n\r\n', 400),
        ]
        for data, status in cases:
            got, error = api_sig_error(self.send(data))
            self.assertEqual(status, got, (data[:40], error))
            self.assertTrue(error['code'].startswith('valet.'), error)

    def test_half_sent_request_times_out_with_408(self):
        for partial in (b'GET /v1/gro', b'GET / HTTP/1.1\r\nHost: x\r\n'):
            with socket.create_connection(('127.0.0.1', self.port),
                                          timeout=30) as sock:
                sock.sendall(partial)
                raw = read_answer(sock, time.monotonic() + CLOSE_TIMEOUT)
            status, error = api_sig_error(raw)
            self.assertEqual((408, 'valet.request.timeout'),
                             (status, error['code']))

    def test_half_sent_body_times_out(self):
        with socket.create_connection(('127.0.0.1', self.port),
                                      timeout=30) as sock:
            sock.sendall(b'POST /v1/groups HTTP/1.1\r\nHost: x\r\n'
                         b'X-Roles: admin\r\n'
                         b'Content-Type: application/json\r\n'
                         b'Content-Length: 100\r\n\r\n{"name": ')
            raw = read_answer(sock, time.monotonic() + CLOSE_TIMEOUT)
        status, error = api_sig_error(raw)
        self.assertEqual(408, status, error)
        groups = requests.get(self.url + '/v1/groups', headers=ADMIN,
                              timeout=60).json()['groups']
        self.assertEqual([], groups)

    def test_sixty_slow_clients_are_all_let_go(self):
        socks = []
        try:
            for _ in range(60):
                sock = socket.create_connection(('127.0.0.1', self.port),
                                                timeout=30)
                sock.sendall(b'GET /v1/groups HTTP/1.1\r\nHo')
                socks.append(sock)
            # Meanwhile the server answers others.
            resp = requests.get(self.url + '/v1/groups', headers=ADMIN,
                                timeout=60)
            self.assertEqual(200, resp.status_code)
            deadline = time.monotonic() + CLOSE_TIMEOUT
            for sock in socks:
                status, _ = api_sig_error(read_answer(sock, deadline))
                self.assertEqual(408, status)
        finally:
            for sock in socks:
                sock.close()


class AllInOneSourceTest(testtools.TestCase):

    def run_api(self, *args, config=''):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'valet.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nstate_dir = %s\n%s' % (tmp, config))
        port = processes.free_port()
        return subprocess.run(
            [valet_api(), '--config-file', path, '--port', str(port)] +
            list(args), capture_output=True, text=True, timeout=120,
            env=dict(os.environ, VALET_STATE_DIR=tmp))

    def test_all_in_one_from_a_config_file_is_refused(self):
        for args in ((), ('--all-in-one',)):
            proc = self.run_api(*args, config='all_in_one = true\n')
            self.assertEqual(1, proc.returncode, proc.stderr)
            out = proc.stdout + proc.stderr
            self.assertIn('accepted only on the command line', out)
            self.assertIn('valet.conf', out)
