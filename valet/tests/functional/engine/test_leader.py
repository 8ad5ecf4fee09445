"""Leader election over real coordination backends.

Redis (tooz's ``redis`` driver: a lock with a lease) and MariaDB/MySQL and
PostgreSQL (tooz's ``mysql`` and ``postgresql`` drivers: a lock that lasts
as long as the database session; neither driver implements tooz's own
election API, which is why valet.engine.leader builds on locks). Members
are real processes (``leader_member.py``) killed with SIGKILL or stopped
with SIGTERM, or Leadership objects in this process where a test needs to
call ``assert_leader()``. Every test has its own election group.

The assertions are about order and uniqueness; the time bounds are loose.
Set VALET_TEST_TIMINGS=<file> to get the measured takeover times appended
there as JSON lines. Skipped (or failed, with CI=true) when a server is
absent.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import fixtures
from oslo_config import cfg
from oslotest import base
from testtools import content

from valet.common import exception
from valet import conf as valet_conf
from valet.engine import leader
from valet.tests.functional import databases
from valet.tests.functional.engine import leader_member
from valet.tests.functional import processes
from valet.tests.functional import services

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))))
REDIS_PORT = int(os.environ.get('VALET_TEST_REDIS_PORT', 6379))

LEASE = 3           # s; small to keep the tests short
INTERVAL = 0.3
MAX_RETRY = 1.0
MARGIN = 3.0        # s of slack for slow test machines


def record(test, what, seconds, **extra):
    """Keep a measured time as a detail, and in VALET_TEST_TIMINGS."""
    line = dict(extra, test=test.id(), what=what, seconds=round(seconds, 3))
    test.addDetail(what, content.text_content(json.dumps(line)))
    path = os.environ.get('VALET_TEST_TIMINGS')
    if path:
        with open(path, 'a') as out:
            out.write(json.dumps(line) + '\n')


class MemberProcess:
    """A leader_member.py process and the events it printed."""

    def __init__(self, test, url, name, group, **options):
        self.name = name
        self.events = []
        self.cond = threading.Condition()
        args = [sys.executable, '-m', leader_member.__name__,
                '--member', name, '--group', group,
                '--lease', str(LEASE), '--interval', str(INTERVAL),
                '--max-retry', str(MAX_RETRY)]
        if options.get('takeover_delay') is not None:
            args += ['--takeover-delay', str(options['takeover_delay'])]
        env = dict(os.environ, PYTHONPATH=ROOT)
        env[leader_member.URL_ENV] = url
        self.log_path = os.path.join(test.tmp, '%s.log' % name)
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=self.log, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        test.addCleanup(self.cleanup, test)

    def _read(self):
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self.cond:
                self.events.append(event)
                self.cond.notify_all()

    def cleanup(self, test):
        processes.stop(self.proc, timeout=10)
        self.reader.join(5)
        self.log.close()
        with open(self.log_path) as log:
            test.addDetail('%s-log' % self.name,
                           content.text_content(log.read()))

    def find(self, event):
        with self.cond:
            return [e for e in self.events if e['event'] == event]

    def wait_for(self, event, timeout, count=1):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [e for e in self.events if e['event'] == event]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.cond.wait(min(left, 0.2))

    def kill9(self):
        killed_at = time.monotonic()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        return killed_at

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)


class _ElectionTests:
    """What every backend must do; subclasses say how to reach it."""

    #: The takeover delay the backend uses by default.
    DELAY = 0.0
    NAME = None

    def backend_url(self):
        raise NotImplementedError

    def setUp(self):
        super().setUp()
        self.url = self.backend_url()
        self.group = 'valet-leader-test-%s' % uuid.uuid4().hex[:12]
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def spawn(self, *names, **options):
        members = [MemberProcess(self, self.url, name, self.group, **options)
                   for name in names]
        for member in members:
            ready = member.wait_for('ready', 30)
            self.assertIsNotNone(ready, '%s did not start' % member.name)
            self.assertEqual(self.DELAY, ready['takeover_delay'])
        return members

    def wait_for_leader(self, members, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            elected = [m for m in members if m.find('elected')]
            if elected:
                return elected
            time.sleep(0.05)
        self.fail('no member was elected within %.1f s' % timeout)

    def local(self, name, **overrides):
        """A Leadership in this process (to call assert_leader())."""
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf([], default_config_files=[])
        settings = {'backend_url': self.url, 'group_name': self.group,
                    'lease_timeout': LEASE, 'heartbeat_interval': INTERVAL,
                    'max_retry_interval': MAX_RETRY}
        settings.update(overrides)
        for key, value in settings.items():
            conf.set_override(key, value, group='coordination')
        events = []
        member = leader.Leadership(
            conf, member_id=name,
            on_elected=lambda: events.append(('elected', time.monotonic())),
            on_lost=lambda: events.append(('lost', time.monotonic())))
        member.events = events
        member.start()
        self.addCleanup(member.stop)
        return member

    def event_time(self, member, name):
        """When ``member`` was told ``name``: callbacks run on their own
        thread, a moment after the role flips."""
        self.wait_until(lambda: name in [e for e, _ in member.events], 10,
                        'callback %s' % name)
        (at,) = [t for e, t in member.events if e == name]
        return at

    def wait_until(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail('%s: not within %.1f s' % (what, timeout))
            time.sleep(0.02)

    def test_one_leader_and_takeover_after_kill9(self):
        members = self.spawn('A', 'B', 'C')
        (first,) = self.wait_for_leader(members, 10 + self.DELAY)
        # A few more rounds: nobody else claims it.
        time.sleep(4 * INTERVAL)
        self.assertEqual([first], [m for m in members if m.find('elected')])
        rest = [m for m in members if m is not first]

        killed_at = first.kill9()
        bound = LEASE + self.DELAY + INTERVAL + MARGIN
        (second,) = self.wait_for_leader(rest, bound)
        took = second.find('elected')[0]['t'] - killed_at
        record(self, 'takeover_after_kill9', took, backend=self.NAME,
               lease=LEASE, takeover_delay=self.DELAY)
        self.assertLess(took, bound)
        # Lease backends free the lock when the lease ends; session
        # backends at once, then the winner waits the takeover delay.
        self.assertGreater(took, self.DELAY or LEASE / 2)
        time.sleep(4 * INTERVAL)
        self.assertEqual([second], [m for m in rest if m.find('elected')])
        self.assertEqual([], second.find('lost'))

    def test_clean_stop_hands_over_quickly(self):
        first, second = self.spawn('A', 'B')
        (old,) = self.wait_for_leader([first, second], 10 + self.DELAY)
        new = second if old is first else first
        old.terminate()
        self.assertIsNotNone(old.wait_for('stopped', 10))
        self.assertEqual(0, old.proc.wait(10))
        elected = new.wait_for('elected', self.DELAY + 2 * INTERVAL + MARGIN)
        self.assertIsNotNone(elected, 'no takeover after a clean stop')
        lost = old.find('lost')[0]
        took = elected['t'] - lost['t']
        record(self, 'handover_after_clean_stop', took, backend=self.NAME,
               lease=LEASE, takeover_delay=self.DELAY)
        # The old leader had stopped leading before the new one began,
        # and the lock was released, not left to expire.
        self.assertGreater(took, 0)
        self.assertLess(took, self.DELAY + LEASE * 0.8)


class RedisElectionTest(_ElectionTests, base.BaseTestCase):

    NAME = 'redis'

    def backend_url(self):
        services.require_port(REDIS_PORT, 'Redis', hint='Start redis-server '
                              'or set VALET_TEST_REDIS_PORT.')
        return 'redis://127.0.0.1:%d' % REDIS_PORT

    def private_redis(self, port=None):
        """A redis-server of this test's own, without persistence."""
        binary = shutil.which('redis-server')
        if not binary:
            services.unavailable('redis-server is not installed; the test '
                                 'needs one of its own to kill.')
        port = port or processes.free_port()
        proc = subprocess.Popen(
            [binary, '--port', str(port), '--bind', '127.0.0.1',
             '--save', '', '--appendonly', 'no'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(processes.stop, proc)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                return proc, port
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def test_leader_that_loses_redis_stops_leading(self):
        proc, port = self.private_redis()
        self.url = 'redis://127.0.0.1:%d' % port
        member = self.local('A')
        self.wait_until(lambda: member.is_leader, 10, 'elected')
        member.assert_leader()

        killed_at = time.monotonic()
        proc.kill()
        proc.wait()
        # It stops within the safe part of its lease, before the backend
        # could have let anyone else win.
        self.wait_until(lambda: not member.is_leader,
                        LEASE * 0.6 + INTERVAL + 1, 'leadership dropped')
        stopped = time.monotonic() - killed_at
        record(self, 'leader_stops_after_backend_loss', stopped,
               backend=self.NAME, lease=LEASE)
        self.assertLess(stopped, LEASE)
        err = self.assertRaises(exception.EngineNotLeader,
                                member.assert_leader)
        self.assertEqual(503, err.status)
        self.wait_until(lambda: member.status()['backend_state']
                        == 'unreachable', 5, 'unreachable reported')
        self.assertEqual('standby', member.status()['role'])
        self.wait_until(lambda: len(member.events) == 2, 2, 'on_lost')
        time.sleep(3 * INTERVAL)
        self.assertEqual(['elected', 'lost'], [e for e, t in member.events])

        # The backend comes back (empty): the engine leads again.
        self.private_redis(port)
        self.wait_until(lambda: member.is_leader,
                        MAX_RETRY + INTERVAL + MARGIN, 're-elected')
        self.assertEqual('connected', member.status()['backend_state'])
        self.assertEqual(['elected', 'lost', 'elected'],
                         [e for e, t in member.events])

    def test_redis_losing_its_data_with_takeover_delay(self):
        # A Redis restarted without persistence, or failed over to a
        # replica that missed the lock, forgets the holder: with a
        # takeover delay the old leader still stops first.
        import redis
        proc, port = self.private_redis()
        self.url = 'redis://127.0.0.1:%d' % port
        a = self.local('A', takeover_delay=float(LEASE))
        self.wait_until(lambda: a.is_leader, 10 + LEASE, 'A elected')
        b = self.local('B', takeover_delay=float(LEASE))
        self.wait_until(lambda: b.status()['state'] == 'standby'
                        and b.status()['backend_state'] == 'connected', 5,
                        'B standing by')
        redis.Redis(port=port).flushall()
        deadline = time.monotonic() + 2 * LEASE + MARGIN
        while not b.is_leader and time.monotonic() < deadline:
            self.assertFalse(a.is_leader and b.is_leader)
            time.sleep(0.01)
        self.assertTrue(b.is_leader)
        self.assertFalse(a.is_leader)
        lost_at = self.event_time(a, 'lost')
        elected_at = self.event_time(b, 'elected')
        self.assertLess(lost_at, elected_at)


class _SQLElectionTests(_ElectionTests):

    SERVER = None
    DELAY = float(LEASE)        # session backend: one lease by default

    def backend_url(self):
        db = self.useFixture(databases.DatabaseFixture(self.SERVER()))
        # tooz wants its own scheme and no SQLAlchemy driver or options.
        scheme = db.url.split('://', 1)[0]
        url = db.url.split('?', 1)[0].replace(scheme, self.NAME, 1)
        self.database = url.rsplit('/', 1)[1]
        return url

    def kill_lock_session(self):
        raise NotImplementedError

    def test_leader_that_loses_its_session_stops_first(self):
        a = self.local('A')
        self.wait_until(lambda: a.is_leader, 10 + self.DELAY, 'A elected')
        b = self.local('B')
        self.wait_until(lambda: b.status()['backend_state'] == 'connected',
                        5, 'B connected')
        # An administrator (or a database failover) ends the session that
        # holds the lock: the lock is free at once, A only learns it at
        # its next check, and B must not lead before A stopped.
        self.kill_lock_session()
        deadline = time.monotonic() + self.DELAY + 2 * INTERVAL + MARGIN
        while not b.is_leader and time.monotonic() < deadline:
            self.assertFalse(a.is_leader and b.is_leader)
            time.sleep(0.01)
        self.assertTrue(b.is_leader)
        self.assertRaises(exception.EngineNotLeader, a.assert_leader)
        lost_at = self.event_time(a, 'lost')
        elected_at = self.event_time(b, 'elected')
        self.assertLess(lost_at, elected_at)
        record(self, 'gap_between_old_and_new_leader', elected_at - lost_at,
               backend=self.NAME, takeover_delay=self.DELAY)


class MySQLElectionTest(_SQLElectionTests, base.BaseTestCase):

    NAME = 'mysql'
    SERVER = databases.MySQLServer

    def kill_lock_session(self):
        with self.SERVER()._admin() as conn, conn.cursor() as cur:
            cur.execute('SELECT IS_USED_LOCK(%s)', (self.group,))
            (holder,) = cur.fetchone()
            self.assertIsNotNone(holder)
            cur.execute('KILL %d' % holder)


class PostgreSQLElectionTest(_SQLElectionTests, base.BaseTestCase):

    NAME = 'postgresql'
    SERVER = databases.PostgreSQLServer

    def kill_lock_session(self):
        conn = self.SERVER()._admin()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT pg_terminate_backend(l.pid) FROM pg_locks l "
                    "JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND l.granted "
                    "AND d.datname = %s", (self.database,))
                self.assertEqual([(True,)], cur.fetchall())
        finally:
            conn.close()
