"""Two valet-engines, one leader: the leader dies, or loses its backend.

Everything is real (``../deployment.py``): two ``valet-engine`` processes
electing their leader through Redis (tooz), the API under uwsgi, RabbitMQ
and MariaDB or PostgreSQL shared by every process. Only the leader
consumes the RPC topic; a standby consumes nothing, so calls sent while
nobody leads wait in RabbitMQ until a leader serves them or their caller
times out (``[engine] rpc_timeout``) into a 503.

What ends up stored is judged through the API only (``GET /v1/plans`` and
``/v1/placements``), against what the clients sent and were answered.
Measured numbers (takeover time, answers by status) are attached to the
test as the ``summary`` detail and printed.
"""

import collections
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid

import fixtures
import requests
from testtools import content

from valet.tests.functional import databases
from valet.tests.functional.deploy import base
from valet.tests.functional.deploy import music_backend
from valet.tests.functional.deploy import test_concurrency
from valet.tests.functional import deployment
from valet.tests.functional import processes
from valet.tests.functional import services

LEASE = 3                   # [coordination] lease_timeout, seconds
HEARTBEAT = 0.5             # [coordination] heartbeat_interval
RPC_TIMEOUT = 10            # [engine] rpc_timeout of the API
TAKEOVER_BOUND = LEASE + 30     # generous: no timing is asserted closer

CLIENTS = 8
PLANS_PER_CLIENT = 12
KILL_AFTER = 20             # answers before the leader is stalled and killed


def coordination_config(**extra):
    options = {'lease_timeout': LEASE, 'heartbeat_interval': HEARTBEAT}
    options.update(extra)
    return {'coordination': options}


def wait_for(predicate, seconds, poll=0.05):
    """Seconds until ``predicate()`` held, or None if it never did."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(poll)
    return None


class Stack:
    """One plan request: two web servers kept apart, one small db."""

    def __init__(self, key):
        self.key = key
        self.group = 'ha-div-%s' % key
        self.stack_id = str(uuid.uuid4())
        self.resources = {}
        for name, flavor, groups in (('web-a', 'm1.small', [self.group]),
                                     ('web-b', 'm1.small', [self.group]),
                                     ('db', 'm1.tiny', [])):
            self.resources[str(uuid.uuid4())] = base.server(
                name, flavor=flavor, groups=groups)

    @property
    def body(self):
        return {'plan_name': 'ha-%s' % self.key, 'stack_id': self.stack_id,
                'resources': self.resources}

    @property
    def oids(self):
        return set(self.resources)

    def web_oids(self):
        return {oid for oid, r in self.resources.items()
                if r['name'].startswith('web')}


class RedisServer(fixtures.Fixture):
    """A redis-server of the test's own on a free port (no persistence),
    to be killed and started again."""

    def _setUp(self):
        self.binary = shutil.which('redis-server')
        if not self.binary:
            services.unavailable('redis-server is not installed (apt-get '
                                 'install redis-server)')
        self.port = processes.free_port()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.url = 'redis://127.0.0.1:%d' % self.port
        self.process = None
        self.addCleanup(self.kill)
        self.start()

    def start(self):
        out = open(os.path.join(self.dir, 'redis.out'), 'a')
        self.process = subprocess.Popen(
            [self.binary, '--port', str(self.port), '--bind', '127.0.0.1',
             '--save', '', '--appendonly', 'no', '--dir', self.dir],
            stdout=out, stderr=subprocess.STDOUT)
        out.close()
        if wait_for(self._listening, 15) is None:
            raise RuntimeError('redis-server did not start on port %d'
                               % self.port)

    def _listening(self):
        try:
            with socket.create_connection(('127.0.0.1', self.port), 1):
                return True
        except OSError:
            return False

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


class HATest(base.DeploymentTestCase):
    """Two engines on Redis, storage on MariaDB: the leader is killed
    under load; the leader loses Redis."""

    SERVER = databases.MySQLServer

    def setUp(self):
        super().setUp()
        if self.SERVER is not None:     # None: not on SQL (music_backend)
            db = self.useFixture(databases.DatabaseFixture(self.SERVER()))
            self.connection = db.url
        self.numbers = []

    def note(self, text):
        """A measured number: in the summary detail and on stdout."""
        self.numbers.append(text)
        print('HA: %s' % text, flush=True)

    def tearDown(self):
        if self.numbers:
            self.addDetail('summary', content.text_content(
                '\n'.join(self.numbers)))
        super().tearDown()

    # -------------------------------------------------------------- helpers
    def stall_storage_write(self):
        return self.useFixture(
            test_concurrency.PlacementsWriteLock(self.connection))

    def deploy_ha(self, coordination_url, **extra):
        dep = self.deploy(engines=2, coordination_url=coordination_url,
                          rpc_timeout=RPC_TIMEOUT, api_workers=4,
                          extra_config=coordination_config(**extra))
        leader = dep.wait_leader()
        # Exactly one serves, by the logs and by the status call (which
        # only a serving engine can answer).
        self.assertEqual([leader], dep.leaders())
        index, engine = dep.leader_from_status()
        self.assertEqual(leader, index)
        self.assertEqual('leader', engine['leadership']['role'])
        self.assertEqual('coordinated', engine['leadership']['mode'])
        standby = 1 - leader
        self.assertIn(deployment.JOINED, dep.engine_log(standby))
        self.assertNotIn(deployment.SERVING, dep.engine_log(standby))
        return dep, leader, standby

    def create_groups(self, stacks):
        for stack in stacks:
            resp = self.call('POST', '/v1/groups', json={
                'name': stack.group, 'type': 'diversity', 'level': 'host'})
            self.assertEqual(201, resp.status_code, resp.text)

    def post(self, stack, timeout=120):
        started = time.monotonic()
        try:
            resp = requests.post(self.dep.url + '/v1/plans', json=stack.body,
                                 headers=base.ADMIN, timeout=timeout)
        except requests.RequestException as exc:
            return exc, time.monotonic() - started
        return resp, time.monotonic() - started

    def assertEngineError(self, resp):
        """A clean API-SIG 503 from the engine path."""
        self.assertEqual(503, resp.status_code, resp.text)
        self.assertEqual('application/json',
                         resp.headers['Content-Type'].split(';')[0])
        (error,) = resp.json()['errors']
        self.assertEqual(503, error['status'])
        self.assertTrue(error['code'].startswith('valet.engine.'), error)
        self.assertTrue(error['detail'])
        self.assertEqual(resp.headers['x-openstack-request-id'],
                         error['request_id'])
        return error['code']

    def assertStorageConsistent(self, stacks, must, may):
        """Storage holds every stack of ``must`` and perhaps some of ``may``
        (keys), each exactly once and whole, and nothing else of ours."""
        plans, placements = self.stored()
        by_stack = collections.defaultdict(list)
        for plan in plans:
            by_stack[plan['stack_id']].append(plan)
        self.assertEqual([], [s for s, ps in by_stack.items()
                              if len(ps) > 1], 'plan stored twice')
        oids = [p['orchestration_id'] for p in placements]
        self.assertEqual(len(oids), len(set(oids)), 'duplicate placement')
        by_plan = collections.defaultdict(set)
        for p in placements:
            by_plan[p['plan_id']].add(p['orchestration_id'])
        self.assertEqual(set(), set(by_plan) - {p['id'] for p in plans},
                         'placements of no stored plan')
        expected = {stacks[k].stack_id: k for k in must}
        allowed = {stacks[k].stack_id: k for k in may}
        missing = set(expected) - set(by_stack)
        self.assertEqual(set(), missing, 'plans answered 201 are lost')
        stray = set(by_stack) - set(expected) - set(allowed)
        self.assertEqual(set(), stray, 'plans nobody asked for')
        hosts = {}
        for stack_id, (plan,) in by_stack.items():
            stack = stacks[expected.get(stack_id, allowed.get(stack_id))]
            # Whole: every server of the stack, in the plan and in the
            # placements table, nothing more (no partial plan).
            self.assertEqual(stack.oids, set(plan['placements']), stack_id)
            self.assertEqual(stack.oids, by_plan[plan['id']], stack_id)
            web = [plan['placements'][o]['location']
                   for o in stack.web_oids()]
            self.assertEqual(2, len(set(web)), 'diversity broken: %s' % web)
            hosts[stack.key] = set(web)
        return by_stack, placements, hosts

    def wait_model_agrees(self, expected_servers, seconds=RPC_TIMEOUT + 20):
        """The leader's model holds exactly the stored servers (plus those
        the inventory brings); returns what the status said last."""
        seen = {}

        def agrees():
            try:
                _index, engine = self.dep.leader_from_status()
            except requests.RequestException:
                return False
            seen.update(engine)
            return engine['servers'] == expected_servers
        wait_for(agrees, seconds, poll=0.5)
        self.assertEqual(expected_servers, seen.get('servers'), seen)
        return seen

    # ---------------------------------------------------------------- tests
    def test_leader_killed_while_plans_are_created(self):
        services.require_port(6379, 'Redis',
                              hint='apt-get install redis-server; '
                                   'redis-server --daemonize yes')
        dep, leader, standby = self.deploy_ha('redis://127.0.0.1:6379')
        _index, engine = dep.leader_from_status()
        baseline_servers = engine['servers']     # the inventory's own
        stacks = {'%d-%d' % (c, n): Stack('%d-%d' % (c, n))
                  for c in range(CLIENTS) for n in range(PLANS_PER_CLIENT)}
        extra = {'after-%d' % n: Stack('after-%d' % n) for n in range(4)}
        stacks.update(extra)
        self.create_groups(stacks.values())

        results = {}
        answered = threading.Semaphore(0)

        def client(c):
            for n in range(PLANS_PER_CLIENT):
                key = '%d-%d' % (c, n)
                results[key] = self.post(stacks[key])
                answered.release()

        threads = [threading.Thread(target=client, args=(c,), daemon=True)
                   for c in range(CLIENTS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for _ in range(KILL_AFTER):
            self.assertTrue(answered.acquire(timeout=120), 'no answers')
        # Stall the leader inside a decision's storage write (plan row
        # written, placements waiting), so the kill lands mid-request
        # every time, not only when the timing happens to be right.
        lock = self.stall_storage_write()
        self.assertTrue(lock.wait_for_blocked_writer(),
                        'the leader never reached its storage write')
        dep.kill_engine(leader)
        killed_at = time.monotonic()
        lock.release()
        answered_before_kill = len(results)

        # The standby takes over: by its log, then by the status call.
        takeover = wait_for(lambda: dep.serving(standby), TAKEOVER_BOUND)
        self.assertIsNotNone(takeover, 'the standby never took over')
        self.assertEqual([standby], dep.leaders())
        self.assertIn('elected leader', dep.engine_log(standby))
        index, engine = dep.leader_from_status()
        status_seen = time.monotonic() - killed_at
        self.assertEqual(standby, index)
        self.assertEqual('leader', engine['leadership']['role'])

        for thread in threads:
            thread.join(300)
        self.assertFalse(any(t.is_alive() for t in threads), 'clients hang')
        wall = time.monotonic() - started
        self.assertEqual(set(k for k in stacks if k not in extra),
                         set(results))

        # Every answer: 201 with the whole plan, or a clean 503.
        outcome = collections.Counter()
        won, failed = [], []
        for key, (resp, elapsed) in sorted(results.items()):
            self.assertIsInstance(resp, requests.Response,
                                  '%s: %s' % (key, resp))
            if resp.status_code == 201:
                self.assertEqual(stacks[key].oids,
                                 set(resp.json()['plan']['placements']))
                outcome['201'] += 1
                won.append(key)
                continue
            code = self.assertEngineError(resp)
            outcome['503 %s' % code] += 1
            failed.append(key)
            self.assertLess(elapsed, RPC_TIMEOUT + 30, key)
        slowest = max(e for _r, e in results.values())
        # At least the stalled request died with the leader.
        self.assertTrue(failed, 'no request was in flight at the kill')

        # Storage: every 201 once and whole; a 503 absent or whole.
        by_stack, placements, hosts = self.assertStorageConsistent(
            stacks, won, failed)
        stored_failed = [k for k in failed if stacks[k].stack_id in by_stack]
        # The new leader's model is storage plus the inventory's servers.
        self.wait_model_agrees(baseline_servers + len(placements))

        # A retry of a 503'd request: created now, or "plan exists" when
        # the dead leader (or the new one, from the queue) stored it.
        retried = collections.Counter()
        for key in failed:
            resp, _elapsed = self.post(stacks[key])
            if key in stored_failed:
                self.assertEqual(409, resp.status_code, resp.text)
                self.assertEqual('valet.plan.exists',
                                 resp.json()['errors'][0]['code'])
            else:
                self.assertEqual(201, resp.status_code, resp.text)
            retried[resp.status_code] += 1

        # The new leader serves new plans, and its model holds what the
        # dead one placed: a new member of an old diversity group avoids
        # that group's hosts.
        old = sorted(hosts)[:len(extra)]
        for (key, stack), group_of in zip(sorted(extra.items()), old):
            stack.resources[str(uuid.uuid4())] = base.server(
                'late', flavor='m1.tiny', groups=[stacks[group_of].group])
            resp, _elapsed = self.post(stack)
            self.assertEqual(201, resp.status_code, resp.text)
            late = [p['location'] for p in resp.json()['plan'][
                'placements'].values() if p['name'] == 'late']
            self.assertEqual(1, len(late))
            self.assertNotIn(late[0], hosts[group_of])

        by_stack, placements, _hosts = self.assertStorageConsistent(
            stacks, list(stacks), [])
        self.assertEqual(len(stacks), len(by_stack))
        self.wait_model_agrees(baseline_servers + len(placements))
        resp = self.call('GET', '/v1/resources')
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual({}, resp.json()['resources'])
        self.assertEqual([standby], dep.leaders())
        self.assertFalse(dep.alive(leader))

        self.note('leader engine %d killed after %d answers (%d plans of 3 '
                  'servers from %d clients)' % (
                      leader, answered_before_kill, CLIENTS *
                      PLANS_PER_CLIENT, CLIENTS))
        self.note('takeover: standby serving %.2f s after the kill (lease '
                  '%d s, heartbeat %.1f s); status names it after %.2f s' % (
                      takeover, LEASE, HEARTBEAT, status_seen))
        self.note('answers: %s; slowest %.2f s; wall %.2f s' % (
            dict(sorted(outcome.items())), slowest, wall))
        self.note('503s stored anyway (whole): %d of %d; retries answered '
                  '%s' % (len(stored_failed), len(failed),
                          dict(sorted(retried.items()))))
        self.note('stored at the end: %d plans, %d placements; model %d '
                  'servers' % (len(by_stack), len(placements),
                               baseline_servers + len(placements)))

    def test_leader_loses_its_backend(self):
        redis = self.useFixture(RedisServer())
        dep, leader, standby = self.deploy_ha(redis.url,
                                              max_retry_interval=1.0)
        stacks = {k: Stack(k) for k in ('before', 'during', 'after')}
        self.create_groups(stacks.values())
        resp, _elapsed = self.post(stacks['before'])
        self.assertEqual(201, resp.status_code, resp.text)

        redis.kill()
        stepped = wait_for(lambda: not dep.leaders(), TAKEOVER_BOUND)
        self.assertIsNotNone(stepped, 'the leader kept serving without '
                                      'its backend')
        self.assertIn('is no longer the leader', dep.engine_log(leader))
        # Let it finish stopping its RPC server.
        time.sleep(1)

        # Nobody decides while nobody can hold the lease.
        resp, elapsed = self.post(stacks['during'])
        code = self.assertEngineError(resp)
        self.assertLess(elapsed, RPC_TIMEOUT + 30)
        status = self.call('GET', '/v1/status')
        self.assertEqual(503, status.status_code, status.text)
        self.assertEqual([], dep.leaders())
        self.assertTrue(dep.alive(0) and dep.alive(1))

        redis.start()
        recovered = wait_for(lambda: len(dep.leaders()) == 1,
                             TAKEOVER_BOUND)
        self.assertIsNotNone(recovered, 'no engine leads after the backend '
                                        'returned')
        new_leader = dep.wait_leader()
        index, engine = dep.leader_from_status()
        self.assertEqual(new_leader, index)
        self.assertEqual('leader', engine['leadership']['role'])
        self.assertEqual('connected', engine['leadership']['backend_state'])

        resp, _elapsed = self.post(stacks['after'])
        self.assertEqual(201, resp.status_code, resp.text)
        # The 503'd request expired in the queue (or was stored whole);
        # a retry creates it, or finds it.
        self.assertStorageConsistent(stacks, ['before', 'after'],
                                     ['during'])
        resp, _elapsed = self.post(stacks['during'])
        self.assertIn(resp.status_code, (201, 409), resp.text)
        self.assertStorageConsistent(stacks, list(stacks), [])

        self.note('backend killed: leader engine %d stopped serving after '
                  '%.2f s (lease %d s)' % (leader, stepped, LEASE))
        self.note('request while no leader: 503 %s after %.2f s' % (
            code, elapsed))
        self.note('backend back: engine %d leads %.2f s later (%s)' % (
            new_leader, recovered, 'same engine' if new_leader == leader
            else 'the former standby'))


class PostgreSQLHATest(HATest):
    SERVER = databases.PostgreSQLServer


class MusicHATest(music_backend.MusicBackend, HATest):
    """The leader killed mid-write on Music (its stand-in; see
    music_backend). Losing Redis does not involve storage: that test runs
    on the SQL servers only."""

    test_leader_loses_its_backend = None
