"""A stand-in Music cluster for a test: server processes on loopback.

``MusicStandIn(hosts=3)`` starts three server processes sharing one
SQLite file; ``conf_options()`` gives the ``[music]`` options that point
Valet at them (each host on its own port, so the ``hosts`` list holds
``127.0.0.1:<port>`` entries, which the driver accepts).
"""

import os
import subprocess
import sys
import time
import uuid

import fixtures
import requests

from valet.tests.functional import processes


class MusicStandIn(fixtures.Fixture):

    def __init__(self, hosts=1, default_lease=10.0, directory=None):
        super().__init__()
        self.count = hosts
        self.default_lease = default_lease
        self.directory = directory

    def _setUp(self):
        directory = self.directory or self.useFixture(
            fixtures.TempDir()).path
        self.db = os.path.join(directory, 'music-%s.sqlite'
                               % uuid.uuid4().hex[:8])
        self.keyspace = 'valet_%s' % uuid.uuid4().hex[:10]
        self.ports = [processes.free_port() for _ in range(self.count)]
        self.procs = [None] * self.count
        self._logs = [os.path.join(directory, 'music-%d.out' % i)
                      for i in range(self.count)]
        self.addCleanup(self.stop_all)
        for index in range(self.count):
            self.start_host(index)

    # ------------------------------------------------------------- hosts
    def url(self, index=0):
        return 'http://127.0.0.1:%d' % self.ports[index]

    @property
    def hosts(self):
        return ['127.0.0.1:%d' % port for port in self.ports]

    def start_host(self, index, timeout=60):
        with open(self._logs[index], 'a') as out:
            self.procs[index] = subprocess.Popen(
                [sys.executable, '-m', 'valet.tests.music_stand_in',
                 '--port', str(self.ports[index]), '--db', self.db,
                 '--default-lease', str(self.default_lease)],
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[index].poll() is not None:
                raise RuntimeError('Music stand-in exited; see %s'
                                   % self._logs[index])
            try:
                if requests.get(self.url(index) + '/MUSIC/rest/version',
                                timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError('Music stand-in not answering; see %s'
                           % self._logs[index])

    def stop_host(self, index):
        """The host goes away (SIGTERM; nothing listens on its port)."""
        processes.stop(self.procs[index])

    def stop_all(self):
        for proc in self.procs:
            processes.stop(proc)

    # ------------------------------------------------------------ faults
    def fault(self, index, status=None, delay=None, count=None, match=None):
        """Make host ``index`` answer ``status`` and/or answer late (only
        requests whose "METHOD /path" contains ``match``, if given)."""
        spec = {'status': status, 'delay': delay, 'count': count,
                'match': match}
        requests.post(self.url(index) + '/_stand_in/fault', timeout=10,
                      json={k: v for k, v in spec.items()
                            if v is not None}).raise_for_status()

    def clear_fault(self, index):
        requests.delete(self.url(index) + '/_stand_in/fault',
                        timeout=30).raise_for_status()

    def waiting(self, index=0):
        """How many requests host ``index`` holds in a delay now."""
        resp = requests.get(self.url(index) + '/_stand_in/fault', timeout=10)
        resp.raise_for_status()
        return resp.json()['waiting']

    def wait_for_held_request(self, index=0, seconds=30):
        """True once host ``index`` holds a request in a delay."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.waiting(index):
                return True
            time.sleep(0.05)
        return False

    def rows_path(self, table):
        """The path of ``table``'s rows (for ``fault(match=...)``)."""
        return '/MUSIC/rest/keyspaces/%s/tables/%s/rows' % (
            self.keyspace, table)

    def force_release(self, lockname, index=0):
        resp = requests.post(self.url(index) + '/_stand_in/locks/'
                             'force-release/' + lockname, timeout=10)
        resp.raise_for_status()
        return resp.json()['released']

    def stats(self, index=0):
        resp = requests.get(self.url(index) + '/_stand_in/stats',
                            timeout=10)
        resp.raise_for_status()
        return resp.json()

    def logs(self):
        out = []
        for path in self._logs:
            if os.path.exists(path):
                with open(path, errors='replace') as f:
                    out.append('== %s ==\n%s' % (path, f.read()[-3000:]))
        return '\n'.join(out)

    # ------------------------------------------------------------ config
    def conf_options(self, **overrides):
        """``[music]`` options for Valet (strings, as in a config file)."""
        options = {'hosts': ','.join(self.hosts), 'keyspace': self.keyspace,
                   'replication_factor': '1'}
        options.update({k: str(v) for k, v in overrides.items()})
        return options
