"""The ``storage`` phase: the share of storage in a plan create, SQL vs Music.

A real ``EngineEndpoint`` on a static inventory of ``--hosts`` hosts
(``engine_follow.write_inventory``, nothing running) creates
``--plans`` plans of ``--plan-size`` servers each (one host diversity
group per plan, four flavors) through ``create_plan``, once per storage
backend:

``sql``
    The SQL driver on a temporary SQLite file.
``music``
    The Music driver on the Music stand-in
    (``valet.tests.music_stand_in``: ``--music-hosts`` server processes
    on loopback sharing one SQLite file). Music itself cannot be installed
    here; the stand-in's latency is loopback HTTP plus SQLite, not a
    Cassandra quorum, so the figure counts requests and their local cost,
    not a cluster's.

Every call of the storage driver is timed. Reported per backend: the
create time (p50, p90), the time inside storage per create (p50), the
storage share (storage time summed over creates, divided by create time
summed), the storage calls per create and, for Music, the HTTP requests
they sent. A first plan warms up and is not
counted. Every plan is read back and checked (all its servers stored,
each on the host the engine chose): a wrong result prints FAIL and exits
non-zero.

    python -m bench.storage_share [--plans 20] [--plan-size 50]
"""

import argparse
import collections
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from oslo_config import cfg
import requests

from valet import conf as valet_conf
from valet.engine import service
from valet.engine import translate
from valet.inventory import static
from valet import storage as storage_mod

from bench import engine_follow
from bench import generator as gen

PROJECT = 'bench'
DEFAULT_OUT = os.path.join(os.path.dirname(__file__), 'results',
                           'storage.json')


class TimedStorage:
    """Times every public method of a storage driver (in place)."""

    def __init__(self, storage):
        self.seconds = 0.0
        self.calls = collections.Counter()
        self.by_method = collections.Counter()   # seconds, never reset
        for name in dir(storage):
            if name.startswith('_') or not callable(getattr(storage, name)):
                continue
            setattr(storage, name, self._timed(name, getattr(storage, name)))

    def _timed(self, name, method):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                self.seconds += spent
                self.by_method[name] += spent
                self.calls[name] += 1
        return timed

    def reset(self):
        self.seconds = 0.0
        self.calls.clear()


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class StandIn:
    """Music stand-in server processes on loopback."""

    def __init__(self, workdir, hosts):
        self.ports = [_free_port() for _ in range(hosts)]
        db = os.path.join(workdir, 'music.sqlite')
        self.procs = [subprocess.Popen(
            [sys.executable, '-m', 'valet.tests.music_stand_in', '--port',
             str(port), '--db', db], stdout=subprocess.DEVNULL)
            for port in self.ports]
        for port in self.ports:
            self._wait(port)

    @staticmethod
    def _wait(port, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if requests.get('http://127.0.0.1:%d/MUSIC/rest/version'
                                % port, timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError('Music stand-in on port %d not answering' % port)

    @property
    def hosts(self):
        return ['127.0.0.1:%d' % port for port in self.ports]

    def stop(self):
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(15)


def make_conf(workdir, backend, stand_in=None):
    conf = cfg.ConfigOpts()
    valet_conf.register_all(conf)
    conf([], project='valet', default_config_files=[])
    conf.set_override('levels', list(gen.LEVELS), group='inventory')
    conf.set_override('driver', backend, group='storage')
    if backend == 'sql':
        conf.set_override('connection', 'sqlite:///' + os.path.join(
            workdir, 'valet.sqlite'), group='database')
    else:
        conf.set_override('hosts', stand_in.hosts, group='music')
        conf.set_override('keyspace', 'valet_bench', group='music')
        conf.set_override('replication_factor', 1, group='music')
    return conf


def plan_body(rng, number, size):
    stack = 'bench-storage-%04d' % number
    group = 'bench-ha-%04d' % number
    resources = {}
    for j in range(size):
        resources['%032x' % rng.getrandbits(128)] = {
            'name': '%s-%03d' % (stack, j), 'type': translate.SERVER_TYPE,
            'properties': {
                'flavor': rng.choice(engine_follow.ENGINE_FLAVORS),
                'metadata': {'valet': {'groups': [group]}}}}
    return {'plan_name': stack, 'stack_id': stack, 'project_id': PROJECT,
            'resources': resources, 'locations': None,
            'groups': {group: {'name': group, 'type': 'diversity',
                               'level': 'host'}}}


def measure(backend, args, inventory, snapshot, workdir):
    """The figures of one backend (a dict), and the failures found."""
    stand_in = StandIn(workdir, args.music_hosts) \
        if backend == 'music' else None
    try:
        conf = make_conf(workdir, backend, stand_in)
        store = storage_mod.get_storage(conf)
        store.upgrade()
        endpoint = service.EngineEndpoint(
            conf, store, static.StaticInventory(conf, path=inventory))
        endpoint.rebuild(snapshot)
        timed = TimedStorage(store)
        timed.by_method.clear()
        rng = random.Random(args.seed)
        creates, in_storage, calls, sent, failures = [], [], [], [], []
        for number in range(args.plans + 1):
            body = plan_body(rng, number, args.plan_size)
            timed.reset()
            before = _requests_sent(store)
            started = time.perf_counter()
            plan = endpoint.create_plan({}, plan=body)
            elapsed = time.perf_counter() - started
            if number:      # the first one warms up
                creates.append(elapsed)
                in_storage.append(timed.seconds)
                calls.append(sum(timed.calls.values()))
                sent.append(_requests_sent(store) - before)
                by_method = dict(timed.calls)
            if not number:
                timed.by_method.clear()
            else:
                spent = dict(timed.by_method)
            failures += check(store, body, plan)
        if hasattr(store, 'dispose'):
            store.dispose()
    finally:
        if stand_in:
            stand_in.stop()
    return {
        'backend': backend, 'plans': args.plans,
        'plan_size': args.plan_size, 'hosts': args.hosts,
        'music_hosts': args.music_hosts if backend == 'music' else None,
        'create_p50_ms': 1000 * statistics.median(creates),
        'create_p90_ms': 1000 * _p90(creates),
        'storage_p50_ms': 1000 * statistics.median(in_storage),
        'storage_share': sum(in_storage) / sum(creates),
        'storage_calls': statistics.median(calls),
        'music_requests': statistics.median(sent) if stand_in else None,
        'calls_by_method': by_method,
        'storage_ms_by_method': {name: round(1000 * seconds / args.plans, 1)
                                 for name, seconds in spent.items()}
        }, failures


def _requests_sent(store):
    transport = getattr(store, 'transport', None)
    return transport.requests_sent if transport else 0


def check(store, body, plan):
    # Through the class: the check is not part of the timed calls.
    driver = type(store)
    stored = driver.get_plan(store, body['stack_id'])
    placements = {p.orchestration_id: p.location for p in
                  driver.list_placements(store, {'plan_id': stored.id})}
    expected = {oid: p['location'] for oid, p in plan['placements'].items()}
    if placements != expected or set(expected) != set(body['resources']):
        return ['%s: stored placements differ from the decision'
                % body['stack_id']]
    return []


def _p90(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def run(args):
    """Both backends; (records, failures)."""
    if args.plans is None:
        args.plans = 8 if getattr(args, 'quick', False) else 20
    workdir = tempfile.mkdtemp(prefix='valet-bench-storage-')
    try:
        inventory = os.path.join(workdir, 'inventory.yaml')
        engine_follow.write_inventory(inventory, args.seed, args.hosts, 0)
        conf = make_conf(workdir, 'sql')
        snapshot = static.StaticInventory(conf, path=inventory).load()
        records, failures = [], []
        for backend in ('sql', 'music'):
            directory = os.path.join(workdir, backend)
            os.makedirs(directory)
            record, failed = measure(backend, args, inventory, snapshot,
                                     directory)
            records.append(record)
            failures += failed
            print('storage %-6s create p50 %.1f ms, p90 %.1f ms; in storage '
                  'p50 %.1f ms (%.0f%% of create time), %d storage calls '
                  'per create' % (
                      backend, record['create_p50_ms'],
                      record['create_p90_ms'], record['storage_p50_ms'],
                      100 * record['storage_share'],
                      record['storage_calls']), file=sys.stderr, flush=True)
        return records, failures
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def print_table(records):
    print('\nStorage share of a plan create (%d plans of %d servers, %d '
          'hosts)' % (records[0]['plans'], records[0]['plan_size'],
                      records[0]['hosts']))
    print('%-8s %12s %12s %14s %8s %8s %10s' % (
        'backend', 'create p50', 'create p90', 'storage p50', 'share',
        'calls', 'requests'))
    for r in records:
        print('%-8s %9.1f ms %9.1f ms %11.1f ms %7.0f%% %8d %10s' % (
            r['backend'] + ('*' if r['backend'] == 'music' else ''),
            r['create_p50_ms'], r['create_p90_ms'], r['storage_p50_ms'],
            100 * r['storage_share'], r['storage_calls'],
            '-' if r['music_requests'] is None
            else '%d' % r['music_requests']))
    print('calls: storage driver calls per create (last plan, by method: '
          '%s); requests: HTTP requests to Music per create'
          % ', '.join('%s %d' % item for item in sorted(
              records[0]['calls_by_method'].items())))
    for r in records:
        print('%s: mean ms per create in %s' % (r['backend'], ', '.join(
            '%s %.1f' % item for item in sorted(
                r['storage_ms_by_method'].items()))))
    print('* on the Music stand-in (%s loopback hosts, SQLite), not a '
          'Music cluster' % next((r['music_hosts'] for r in records
                                  if r['music_hosts']), '?'))


def add_arguments(parser):
    parser.add_argument('--storage-plans', dest='plans', type=int,
                        help='plans created per storage backend (20; 8 '
                             'with --quick)')
    parser.add_argument('--storage-plan-size', dest='plan_size', type=int,
                        default=50, help='servers per plan')
    parser.add_argument('--storage-hosts', dest='hosts', type=int,
                        default=500, help='hosts in the inventory')
    parser.add_argument('--music-hosts', type=int, default=3,
                        help='Music stand-in server processes')


def write(records, path):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(records, f, indent=1)
        f.write('\n')


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m bench.storage_share',
        description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--out', default=DEFAULT_OUT)
    parser.add_argument('--quick', action='store_true')
    args = parser.parse_args(argv)
    records, failures = run(args)
    print_table(records)
    write(records, args.out)
    print('records written to %s' % args.out)
    for failure in failures:
        print('FAIL %s' % failure)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
