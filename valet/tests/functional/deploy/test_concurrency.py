"""Concurrent plan requests, and an engine killed mid-request.

Everything runs as real processes (``../deployment.py``): two uwsgi API
workers, one valet-engine, RabbitMQ and MariaDB or PostgreSQL. The test
writes a small inventory of its own so that capacity is tight, and judges
what ends up stored through the API only: plans and placements are checked
against the inventory (capacity) and the independent validator (group
rules), never against what the engine says of itself.
"""

import collections
import os
import threading
import time
import uuid

import fixtures
from oslo_config import cfg
import requests
import sqlalchemy as sa
from testtools import content
import yaml

from valet import conf as valet_conf
from valet.engine.model import datacenter
from valet.engine.model import groups as groups_mod
from valet.engine.model import request as request_mod
from valet.engine.model import resources
from valet.engine.model import topology
from valet.engine.solver import validator
from valet.inventory import static
from valet.tests.functional import databases
from valet.tests.functional.deploy import base
from valet.tests.functional.deploy import music_backend

CLIENTS = 20
# Clients DUPLICATES[0..] send the same stack id; exactly one may win.
DUPLICATES = (17, 18, 19)
MAIN_HOSTS = 7
MAIN_AZ, SPARE_AZ = 'main', 'spare'
DIVERSE, EXCLUSIVE = 'web-diverse', 'db-exclusive'
REJECTED_CODES = ('valet.placement.none', 'valet.plan.exists')
TOLERANCE = 1e-6


def inventory_document():
    """7 hosts of 8 vCPUs in zone ``main`` plus one small ``spare`` host.

    The 17 distinct plans ask for about 68 vCPUs of the 56 there are, so
    a few must be refused. The spare host (its own availability zone) only
    serves the duplicated stack, which therefore always fits.
    """
    ratios = {'vcpus': 1.0, 'memory_mb': 1.0, 'disk_gb': 1.0}
    hosts = [{'name': 'h%d' % i, 'rack': 'r%d' % ((i + 1) // 2),
              'availability_zone': MAIN_AZ, 'vcpus': 8, 'memory_mb': 16384,
              'disk_gb': 100, 'reserved': {'memory_mb': 512},
              'allocation_ratios': ratios}
             for i in range(1, MAIN_HOSTS + 1)]
    hosts.append({'name': 'spare', 'rack': 'r9', 'availability_zone':
                  SPARE_AZ, 'vcpus': 2, 'memory_mb': 4096, 'disk_gb': 40,
                  'allocation_ratios': ratios})
    return {'levels': ['host', 'rack'],
            'flavors': {
                'm1.tiny': {'id': '1', 'vcpus': 1, 'ram': 1024, 'disk': 10},
                'm1.small': {'id': '2', 'vcpus': 2, 'ram': 2048, 'disk': 20},
                'm1.medium': {'id': '3', 'vcpus': 4, 'ram': 4096,
                              'disk': 40}},
            'hosts': hosts}


def load_inventory(path):
    """The inventory as the engine reads it (the static driver)."""
    conf = cfg.ConfigOpts()
    valet_conf.register_all(conf)
    conf([], project='valet', default_config_files=[])
    return static.StaticInventory(conf, path=path).load()


class Workload:
    """The plans the test sends and what each server asked for."""

    def __init__(self):
        self.bodies = {}        # client -> request body
        self.servers = {}       # orchestration id -> (flavor, groups, az)
        self.groups = {}        # group name -> (type, level)

    def server(self, name, flavor, groups=(), az=MAIN_AZ):
        oid = str(uuid.uuid4())
        self.servers[oid] = (flavor, tuple(groups), az)
        resource = base.server(name, flavor=flavor, groups=groups,
                               availability_zone=az)
        return oid, resource

    def plan(self, client, name, servers, stack_id=None):
        self.bodies[client] = {
            'plan_name': name, 'stack_id': stack_id or str(uuid.uuid4()),
            'resources': dict(servers)}
        return self.bodies[client]

    def oids(self, client):
        return set(self.bodies[client]['resources'])


def mixed_workload():
    """Every plan: an affinity pair of its own; every second plan a member
    of the shared diversity group; every fifth a member of the shared
    exclusivity group; three clients share one small stack."""
    work = Workload()
    work.groups[DIVERSE] = ('diversity', 'host')
    work.groups[EXCLUSIVE] = ('exclusivity', 'host')
    dup_stack = str(uuid.uuid4())
    for i in range(CLIENTS):
        if i in DUPLICATES:
            work.plan(i, 'dup-%d' % i, [work.server('solo', 'm1.tiny',
                                                    az=SPARE_AZ)],
                      stack_id=dup_stack)
            continue
        affinity = 'aff-%d' % i
        work.groups[affinity] = ('affinity', 'host')
        servers = [work.server('a', 'm1.tiny', [affinity]),
                   work.server('b', 'm1.tiny', [affinity])]
        if i % 2 == 0:
            servers.append(work.server('web', 'm1.small', [DIVERSE]))
        if i % 5 == 0:
            servers.append(work.server('db', 'm1.medium', [EXCLUSIVE]))
        work.plan(i, 'plan-%d' % i, servers)
    return work


class ConcurrentPlansTest(base.DeploymentTestCase):
    """Many clients at once against two API workers and one engine."""

    SERVER = databases.MySQLServer

    def setUp(self):
        super().setUp()
        if self.SERVER is not None:     # None: not on SQL (music_backend)
            db = self.useFixture(databases.DatabaseFixture(self.SERVER()))
            self.connection = db.url
        self.inventory_file = os.path.join(
            self.useFixture(fixtures.TempDir()).path, 'inventory.yaml')
        with open(self.inventory_file, 'w') as f:
            yaml.safe_dump(inventory_document(), f)
        self.snapshot = load_inventory(self.inventory_file)

    # -------------------------------------------------------------- helpers
    def stall_storage_write(self):
        return self.useFixture(PlacementsWriteLock(self.connection))

    def create_groups(self, work):
        for name, (kind, level) in sorted(work.groups.items()):
            resp = self.call('POST', '/v1/groups', json={
                'name': name, 'type': kind, 'level': level})
            self.assertEqual(201, resp.status_code, resp.text)

    def post_at_once(self, bodies):
        """POST every body from a thread of its own, released together."""
        barrier = threading.Barrier(len(bodies))
        results = {}

        def client(key, body):
            headers = base.member('proj-%s' % key)
            barrier.wait()
            started = time.monotonic()
            try:
                resp = requests.post(self.dep.url + '/v1/plans', json=body,
                                     headers=headers, timeout=120)
            except requests.RequestException as exc:
                results[key] = (None, exc, time.monotonic() - started)
                return
            results[key] = (resp.status_code, resp, time.monotonic() - started)

        threads = [threading.Thread(target=client, args=(key, body))
                   for key, body in bodies.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        self.assertEqual(set(bodies), set(results), 'clients did not finish')
        return results

    def assertCleanError(self, resp, codes):
        self.assertEqual('application/json',
                         resp.headers['Content-Type'].split(';')[0])
        (error,) = resp.json()['errors']
        self.assertEqual(resp.status_code, error['status'])
        self.assertIn(error['code'], codes, error['detail'])
        self.assertTrue(error['detail'])
        self.assertEqual(resp.headers['x-openstack-request-id'],
                         error['request_id'])
        return error['code']

    def assertWithinCapacity(self, placements, work):
        """Demands summed per host never exceed the usable capacity."""
        hosts = {h.name: h for h in self.snapshot.hosts}
        used = collections.defaultdict(collections.Counter)
        for p in placements:
            flavor = work.servers[p['orchestration_id']][0]
            demand = resources.flavor_demand(self.snapshot.flavors[flavor])
            used[p['location']].update(demand)
        for host, demand in used.items():
            self.assertIn(host, hosts)
            for rc, amount in demand.items():
                self.assertLessEqual(
                    amount, hosts[host].usable(rc) + TOLERANCE,
                    'host %s over capacity in %s' % (host, rc))
        return used

    def assertRulesHold(self, placements, work):
        """The independent validator finds nothing wrong with the lot,
        judged as if every stored server were placed at once."""
        dc = datacenter.DataCenter.build(
            self.snapshot.hosts,
            topology=topology.Topology(self.snapshot.levels))
        servers = []
        for p in placements:
            flavor, groups, az = work.servers[p['orchestration_id']]
            servers.append(request_mod.ServerRequest(
                id=p['orchestration_id'], name=p['name'], groups=groups,
                availability_zone=az, demand=resources.flavor_demand(
                    self.snapshot.flavors[flavor])))
        defs = [groups_mod.Group(name=name, kind=kind, level=level)
                for name, (kind, level) in work.groups.items()]
        request = request_mod.PlacementRequest(servers=servers, groups=defs)
        assignment = {p['orchestration_id']: p['location'] for p in placements}
        violations = validator.validate(dc, request, assignment)
        self.assertEqual([], [str(v) for v in violations])

    def assertStoredExactly(self, plans, placements, won, work):
        """Stored plans are exactly the winners, each with all its servers
        and nothing else."""
        stacks = [p['stack_id'] for p in plans]
        self.assertEqual(len(stacks), len(set(stacks)), 'duplicate stack')
        self.assertEqual(sorted(work.bodies[c]['stack_id'] for c in won),
                         sorted(stacks))
        oids = [p['orchestration_id'] for p in placements]
        self.assertEqual(len(oids), len(set(oids)), 'duplicate placement')
        by_plan = collections.defaultdict(set)
        for p in placements:
            by_plan[p['plan_id']].add(p['orchestration_id'])
        self.assertEqual({p['id'] for p in plans}, set(by_plan))
        for plan in plans:
            client = next(c for c in won if work.bodies[c]['stack_id'] ==
                          plan['stack_id'])
            self.assertEqual(work.oids(client), set(plan['placements']))
            self.assertEqual(work.oids(client), by_plan[plan['id']])

    # ---------------------------------------------------------------- tests
    def test_twenty_clients_at_once(self):
        self.deploy(api_workers=2, rpc_timeout=30,
                    inventory=self.inventory_file)
        work = mixed_workload()
        self.create_groups(work)
        started = time.monotonic()
        results = self.post_at_once(work.bodies)
        wall = time.monotonic() - started

        won, refused = [], collections.Counter()
        for client, (status, resp, _elapsed) in sorted(results.items()):
            self.assertIn(status, (201, 409), '%s: %s' % (client, getattr(
                resp, 'text', resp)))
            if status == 201:
                won.append(client)
                self.assertEqual(work.oids(client),
                                 set(resp.json()['plan']['placements']))
            else:
                refused[self.assertCleanError(resp, REJECTED_CODES)] += 1
        dup_status = sorted(results[c][0] for c in DUPLICATES)
        self.assertEqual([201] + [409] * (len(DUPLICATES) - 1), dup_status)
        for client in DUPLICATES:
            if results[client][0] == 409:
                self.assertEqual('valet.plan.exists', results[client][
                    1].json()['errors'][0]['code'])
        self.assertEqual(len(DUPLICATES) - 1, refused['valet.plan.exists'])

        plans, placements = self.stored()
        self.assertStoredExactly(plans, placements, won, work)
        for client in set(results) - set(won) - set(DUPLICATES):
            resp = self.call('GET', '/v1/plans/%s'
                             % work.bodies[client]['stack_id'])
            self.assertEqual(404, resp.status_code, resp.text)
        used = self.assertWithinCapacity(placements, work)
        self.assertRulesHold(placements, work)
        # The engine's own view agrees: nothing it holds breaks a rule.
        resp = self.call('GET', '/v1/resources')
        self.assertEqual({}, resp.json()['resources'])
        # Tight but feasible for most: a majority of the distinct stacks.
        self.assertGreater(len(won), (CLIENTS - len(DUPLICATES) + 1) // 2)

        slowest = max(e for _s, _r, e in results.values())
        self.addDetail('summary', content.text_content(
            '%d clients: %d created, %d placement.none, %d plan.exists; '
            '%d placements on %d hosts (vCPUs used %s); wall %.2fs, '
            'slowest answer %.2fs' % (
                CLIENTS, len(won), refused['valet.placement.none'],
                refused['valet.plan.exists'], len(placements), len(used),
                {h: used[h]['VCPU'] for h in sorted(used)}, wall, slowest)))

    def test_engine_killed_mid_request(self):
        dep = self.deploy(rpc_timeout=3, inventory=self.inventory_file)
        work = Workload()
        work.groups[DIVERSE] = ('diversity', 'host')
        self.create_groups(work)
        for i in range(2):
            body = work.plan(i, 'before-%d' % i, [
                work.server('web', 'm1.small', [DIVERSE]),
                work.server('app', 'm1.tiny')])
            resp = self.call('POST', '/v1/plans', json=body,
                             headers=base.member('proj-%d' % i))
            self.assertEqual(201, resp.status_code, resp.text)
        _plans, before = self.stored()
        diverse_hosts = {p['location'] for p in before
                         if work.servers[p['orchestration_id']][1]}

        # A held table lock (SQL) or a held plan-row write (Music) stalls
        # the engine inside its storage write, so the kill lands in the
        # middle of the request every time.
        inflight = work.plan('inflight', 'inflight', [
            work.server('web', 'm1.small', [DIVERSE]),
            work.server('app', 'm1.tiny'), work.server('db', 'm1.tiny')])
        lock = self.stall_storage_write()
        answer = {}

        def in_flight():
            started = time.monotonic()
            answer['resp'] = requests.post(
                dep.url + '/v1/plans', json=inflight, headers=base.ADMIN,
                timeout=60)
            answer['elapsed'] = time.monotonic() - started

        thread = threading.Thread(target=in_flight)
        thread.start()
        self.assertTrue(lock.wait_for_blocked_writer(),
                        'the engine never reached its storage write')
        dep.kill_engine()
        thread.join(60)
        lock.release()
        resp = answer['resp']
        self.assertEqual(503, resp.status_code, resp.text)
        self.assertCleanError(resp, ('valet.engine.unavailable',))
        self.assertLess(answer['elapsed'], dep.rpc_timeout + 5)

        # The in-flight plan is stored whole or not at all.
        plans, placements = self.stored()
        stacks = {p['stack_id']: p for p in plans}
        if inflight['stack_id'] in stacks:
            self.assertEqual(work.oids('inflight'), set(
                stacks[inflight['stack_id']]['placements']))
        else:
            self.assertFalse(work.oids('inflight') & {
                p['orchestration_id'] for p in placements})
        self.assertEqual(sorted(p['id'] for p in before),
                         sorted(p['id'] for p in placements
                                if p['orchestration_id'] not in
                                work.oids('inflight')))

        # The restarted engine rebuilt its model from every stored
        # placement: the next diversity member avoids the hosts used.
        dep.start_engine()
        status = self.call('GET', '/v1/status').json()['status']
        self.assertEqual(len(placements), status['engine']['servers'])
        body = work.plan('after', 'after', [
            work.server('web', 'm1.small', [DIVERSE])])
        resp = self.call('POST', '/v1/plans', json=body)
        self.assertEqual(201, resp.status_code, resp.text)
        (placed,) = resp.json()['plan']['placements'].values()
        self.assertNotIn(placed['location'], diverse_hosts)
        _plans, after = self.stored()
        self.assertEqual(len(placements) + 1, len(after))
        self.assertWithinCapacity(after, work)
        self.assertRulesHold(after, work)
        self.addDetail('summary', content.text_content(
            'in-flight plan answered %d after %.2fs (rpc_timeout %s); '
            'stored afterwards: %s' % (
                answer['resp'].status_code, answer['elapsed'],
                dep.rpc_timeout, inflight['stack_id'] in stacks)))


class PostgreSQLConcurrentPlansTest(ConcurrentPlansTest):
    SERVER = databases.PostgreSQLServer


class MusicConcurrentPlansTest(music_backend.MusicBackend,
                               ConcurrentPlansTest):
    """The same on Music (its stand-in; see music_backend)."""


class PlacementsWriteLock(fixtures.Fixture):
    """Hold a lock that lets others read ``placements`` but not write it.

    Readers (the API's GETs, the engine's checks) carry on; the engine's
    INSERT waits, inside the transaction that already wrote the plan row.
    """

    STATEMENTS = {
        'mysql': ('LOCK TABLES placements READ', 'UNLOCK TABLES',
                  "SELECT COUNT(*) FROM information_schema.processlist "
                  "WHERE db = DATABASE() AND info LIKE "
                  "'INSERT INTO placements%'"),
        'postgresql': ('LOCK TABLE placements IN SHARE MODE', None,
                       "SELECT count(*) FROM pg_stat_activity WHERE "
                       "datname = current_database() AND wait_event_type "
                       "= 'Lock' AND query ILIKE 'INSERT INTO placements%'"),
    }

    def __init__(self, url):
        super().__init__()
        self.url = url

    def _setUp(self):
        self.engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        self.addCleanup(self.engine.dispose)
        dialect = self.engine.dialect.name
        self.lock_sql, self.unlock_sql, self.waiting_sql = \
            self.STATEMENTS[dialect]
        self.holder = self.engine.raw_connection()
        self.addCleanup(self.release)
        self.holder.cursor().execute(self.lock_sql)

    def wait_for_blocked_writer(self, seconds=15):
        monitor = sa.create_engine(self.url, poolclass=sa.pool.NullPool,
                                   isolation_level='AUTOCOMMIT')
        try:
            deadline = time.monotonic() + seconds
            with monitor.connect() as conn:
                while time.monotonic() < deadline:
                    if conn.execute(sa.text(self.waiting_sql)).scalar():
                        return True
                    time.sleep(0.05)
            return False
        finally:
            monitor.dispose()

    def release(self):
        if self.holder is None:
            return
        holder, self.holder = self.holder, None
        if self.unlock_sql:
            holder.cursor().execute(self.unlock_sql)
        holder.rollback()
        holder.close()
