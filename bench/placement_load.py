"""Loading a large Placement inventory: the openstack driver's ``load()``.

Usage (OpenStack Placement and uwsgi in ``$VALET_OPENSTACK_VENV``)::

    python -m bench.placement_load [--hosts 5000] [--seed 1] [--runs 3]
        [--modes per-provider,bulk,per-provider+nova,bulk+nova]
        [--legacy-runs 1] [--workers 8] [--cache-dir DIR] [--reload]
        [--out bench/results/placement_load.json]

A real Placement (``valet/tests/functional/placement_fixture.py``: SQLite,
noauth2, uwsgi with 2 processes of 4 threads) is filled by the functional
tests' loader with a seeded cloud: ``--hosts`` compute hosts (three shapes)
in racks of 20 (trait ``CUSTOM_RACK_R<n>``), racks in zones of 10 (one
Placement aggregate per zone, which Nova would mirror), four standard
traits on every host, one shared-storage provider per zone
(``MISC_SHARES_VIA_AGGREGATE``) whose aggregate holds a quarter of the
zone's hosts (an aggregate Nova does not know), and 2 to 6 servers per host
(about 4; one in ten takes its disk from the shared storage).

Loading thousands of hosts into a SQLite Placement takes minutes, so the
database is cached: ``<cache-dir>/placement-<hosts>-<seed>.sqlite`` (with
the parameters it was built from beside it, ``.json``); a later run serves
a copy of it. ``--reload`` rebuilds it.

Then the driver's ``load()`` is timed ``--runs`` times per mode, after one
untimed warm-up request per uwsgi thread:

``per-provider``
    the reads before bulk traits: per root provider ``/inventories``,
    ``/allocations``, ``/traits`` and ``/aggregates`` (4 GETs per host);
    ``--legacy-runs`` times, as they are slow.
``bulk``
    no Nova: traits in bulk, aggregates per root (3 GETs per host).
``per-provider+nova`` and ``bulk+nova``
    the same with a Nova view (an in-process stand-in for ``[nova]``: the
    zone aggregates with their UUIDs and member hosts, an enabled
    nova-compute service per host); Placement memberships are then read per
    aggregate (2 GETs per host).

Reported per mode: min and median ``load()`` seconds, the GET count, and
the median time of ``DataCenter.build`` over the snapshot. Each bulk mode's
snapshot is compared with its per-provider mode's: a difference prints
FAIL and exits non-zero. Results go to ``--out``, one entry per host count.
"""

import argparse
import concurrent.futures
import glob
import json
import logging
import os
import random
import sqlite3
import statistics
import sys
import threading
import time

import fixtures
from oslo_config import cfg

from valet import conf as valet_conf
from valet.engine.model import datacenter
from valet.engine.model import topology as topology_mod
from valet import inventory
from valet.inventory.openstack import driver
from valet.inventory.openstack import nova as nova_mod
from valet.tests.functional import placement_fixture
from valet.tests.functional import placement_loader

DEFAULT_OUT = os.path.join('bench', 'results', 'placement_load.json')
MODES = ('per-provider', 'bulk', 'per-provider+nova', 'bulk+nova')
# Bump when the generated cloud changes: cached databases are rebuilt.
GENERATOR = 1
COMMON_TRAITS = ('HW_CPU_X86_AVX2', 'HW_CPU_X86_SSE42',
                 'COMPUTE_NET_ATTACH_INTERFACE', 'COMPUTE_VOLUME_EXTEND')
SHAPES = ((32, 131072, 2000), (48, 196608, 2000), (64, 262144, 4000))
FLAVORS = ({'VCPU': 1, 'MEMORY_MB': 2048, 'DISK_GB': 20},
           {'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 40},
           {'VCPU': 4, 'MEMORY_MB': 8192, 'DISK_GB': 80},
           {'VCPU': 8, 'MEMORY_MB': 16384, 'DISK_GB': 160})
SHARING_TRAIT = 'MISC_SHARES_VIA_AGGREGATE'


def log(message):
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------ the cloud
def cloud(hosts, seed, hosts_per_rack=20, racks_per_zone=10):
    """(provider specs, consumer specs, nova aggregates) from a seed."""
    rng = random.Random(seed)
    uuid = placement_loader.stable_uuid
    zones = (hosts + hosts_per_rack * racks_per_zone - 1) // (
        hosts_per_rack * racks_per_zone)
    specs, consumers, members = [], [], {z: [] for z in range(zones)}
    for z in range(zones):
        # Shared storage of the zone: a sharing provider, not a host.
        specs.append({'name': 'storage-z%03d' % z,
                      'inventories': {'DISK_GB': 1000000},
                      'traits': [SHARING_TRAIT],
                      'aggregates': [uuid('bench-storage-z%03d' % z)]})
    for index in range(hosts):
        rack = index // hosts_per_rack
        zone = rack // racks_per_zone
        name = 'cmp%05d' % index
        vcpus, ram, disk = SHAPES[rng.randrange(len(SHAPES))]
        shared = rng.random() < 0.25
        aggregates = [uuid('bench-zone-z%03d' % zone)]
        if shared:
            aggregates.append(uuid('bench-storage-z%03d' % zone))
        specs.append({
            'name': name,
            'inventories': {
                'VCPU': {'total': vcpus, 'reserved': 2,
                         'allocation_ratio': 4.0},
                'MEMORY_MB': {'total': ram, 'reserved': 4096,
                              'allocation_ratio': 1.5},
                'DISK_GB': {'total': disk, 'allocation_ratio': 1.0}},
            'traits': sorted(COMMON_TRAITS + ('CUSTOM_RACK_R%04d' % rack,)),
            'aggregates': aggregates})
        members[zone].append(name)
        for number in range(rng.randint(2, 6)):
            flavor = dict(FLAVORS[rng.randrange(len(FLAVORS))])
            allocations = {name: flavor}
            if shared and rng.random() < 0.4:
                allocations = {name: {'VCPU': flavor['VCPU'],
                                      'MEMORY_MB': flavor['MEMORY_MB']},
                               'storage-z%03d' % zone: {
                                   'DISK_GB': flavor['DISK_GB']}}
            consumers.append({
                'consumer': uuid('%s-vm%d' % (name, number)),
                'allocations': allocations,
                'project_id': uuid('project-%d' % rng.randrange(20)),
                'user_id': uuid('user-%d' % rng.randrange(50))})
    aggregates = [nova_mod.Aggregate(
        uuid=uuid('bench-zone-z%03d' % z), name='zone-z%03d' % z,
        availability_zone='z%03d' % z,
        metadata={'availability_zone': 'z%03d' % z},
        hosts=frozenset(members[z])) for z in range(zones)]
    return specs, consumers, aggregates


class StubNova:
    """What ``[nova]`` would give: aggregates with UUIDs, services."""

    def __init__(self, aggregates):
        hosts = sorted({h for a in aggregates for h in a.hosts})
        self.view = nova_mod.NovaView(
            aggregates=list(aggregates),
            services={h: nova_mod.Service(h, True) for h in hosts})

    def read(self):
        return self.view


# --------------------------------------------------- the cached database
def placement_version(venv):
    found = glob.glob(os.path.join(venv, 'lib', 'python3*', 'site-packages',
                                   'openstack_placement-*.dist-info'))
    if not found:
        return None
    return os.path.basename(found[0])[len('openstack_placement-'):-len(
        '.dist-info')]


def cache_paths(cache_dir, hosts, seed):
    base = os.path.join(cache_dir, 'placement-%d-%d' % (hosts, seed))
    return base + '.sqlite', base + '.json'


def read_cache(cache_dir, params, reload):
    """The cached database's (path, record), or (None, None)."""
    database, sidecar = cache_paths(cache_dir, params['hosts'],
                                    params['seed'])
    if reload or not os.path.exists(database):
        return None, None
    try:
        with open(sidecar) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None, None
    if record.get('params') != params:
        log('cached %s was built from other parameters: reloading' %
            database)
        return None, None
    return database, record


def save_cache(cache_dir, params, source, record):
    """Copy the live database (SQLite's online backup) into the cache."""
    os.makedirs(cache_dir, exist_ok=True)
    database, sidecar = cache_paths(cache_dir, params['hosts'],
                                    params['seed'])
    partial = database + '.partial'
    src, dst = sqlite3.connect(source), sqlite3.connect(partial)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    os.replace(partial, database)
    with open(sidecar, 'w') as f:
        json.dump(dict(record, params=params), f, indent=1, sort_keys=True)
    return database


# ------------------------------------------------------------- measuring
class CountingAdapter:
    """A keystoneauth adapter that counts its GETs."""

    def __init__(self, adapter):
        self._adapter = adapter
        self._lock = threading.Lock()
        self.gets = 0

    def get(self, *args, **kwargs):
        with self._lock:
            self.gets += 1
        return self._adapter.get(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._adapter, name)


def make_conf(workdir, fixture, workers):
    path = os.path.join(workdir, 'valet.conf')
    with open(path, 'w') as f:
        f.write(fixture.client_config() +
                '[inventory]\ndriver = openstack\n'
                'request_workers = %d\n' % workers)
    conf = cfg.ConfigOpts()
    valet_conf.register_all(conf)
    conf([], default_config_files=[path])
    return conf


def warm_up(url, threads):
    """One request per uwsgi thread, so no timed run pays for a cold one."""
    import requests
    session = requests.Session()
    session.headers.update({'X-Auth-Token': placement_fixture.TOKEN})

    def get(_):
        return session.get(url + '/traits?associated=true', timeout=60)

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(get, range(threads * 2)))


def measure_mode(mode, conf, nova_stub, runs):
    source = inventory.get_inventory(conf)
    reader = source.placement
    reader.per_provider = mode.startswith('per-provider')
    counting = CountingAdapter(reader.client.adapter)
    reader.client.adapter = counting
    if mode.endswith('+nova'):
        source = driver.OpenStackInventory(conf, reader, nova_stub)
    loads, builds, gets, snapshot = [], [], [], None
    for run in range(runs):
        counting.gets = 0
        started = time.monotonic()
        snapshot = source.load()
        loads.append(time.monotonic() - started)
        gets.append(counting.gets)
        started = time.monotonic()
        dc = datacenter.DataCenter.build(
            snapshot.hosts, snapshot.servers,
            topology=topology_mod.Topology(snapshot.levels))
        builds.append(time.monotonic() - started)
        log('  %-18s run %d: load %.2f s, %d GETs, DataCenter.build %.2f s'
            ' (%d hosts, %d servers)' % (mode, run + 1, loads[-1], gets[-1],
                                         builds[-1], len(dc.hosts),
                                         len(snapshot.servers)))
    return {'mode': mode, 'runs': [round(s, 3) for s in loads],
            'min_s': round(min(loads), 3),
            'median_s': round(statistics.median(loads), 3),
            'gets': gets[-1],
            'gets_per_host': round(gets[-1] / max(1, len(snapshot.hosts)),
                                   2),
            'datacenter_build_s': round(statistics.median(builds), 3),
            'hosts': len(snapshot.hosts), 'servers': len(snapshot.servers),
            }, snapshot


def measure(args):
    venv = placement_fixture.openstack_venv()
    params = {'hosts': args.hosts, 'seed': args.seed,
              'generator': GENERATOR,
              'placement': placement_version(venv)}
    specs, consumers, nova_aggregates = cloud(args.hosts, args.seed)
    data = {'providers': len(specs), 'hosts': args.hosts,
            'sharing_providers': len(specs) - args.hosts,
            'consumers': len(consumers),
            'traits': len({t for s in specs for t in s['traits']}),
            'aggregates': len({a for s in specs for a in s['aggregates']}),
            'nova_aggregates': len(nova_aggregates)}
    cached, record = read_cache(args.cache_dir, params, args.reload)
    result = {'hosts': args.hosts, 'seed': args.seed, 'data': data,
              'machine': {'cpus': os.cpu_count(),
                          'loadavg_start': [round(x, 2)
                                            for x in os.getloadavg()]},
              'placement': {'version': params['placement'],
                            'database': 'sqlite', 'uwsgi_processes': 2,
                            'uwsgi_threads': 4},
              'request_workers': args.workers}
    with fixtures.TempDir() as workdir:
        fixture = placement_fixture.PlacementFixture(database=cached)
        fixture.setUp()
        try:
            if cached:
                log('serving cached %s' % cached)
                result['load'] = dict(record.get('load') or {}, cached=True)
            else:
                log('loading %d providers and %d consumers into Placement' %
                    (len(specs), len(consumers)))
                loader = fixture.loader()
                times = placement_loader.load(loader, specs, consumers)
                load = {'hosts_s': round(times['hosts'], 1),
                        'allocations_s': round(times['allocations'], 1),
                        'requests': loader.requests}
                saved = save_cache(args.cache_dir, params, fixture.database,
                                   {'load': load})
                log('loaded in %.1f s + %.1f s (%d requests); cached as %s'
                    % (times['hosts'], times['allocations'],
                       loader.requests, saved))
                result['load'] = dict(load, cached=False)
            warm_up(fixture.url, fixture.processes * fixture.threads)
            conf = make_conf(workdir.path, fixture, args.workers)
            nova_stub = StubNova(nova_aggregates)
            modes, snapshots = [], {}
            for mode in args.modes:
                runs = (args.legacy_runs if mode.startswith('per-provider')
                        else args.runs)
                entry, snapshots[mode] = measure_mode(mode, conf, nova_stub,
                                                      runs)
                modes.append(entry)
        finally:
            fixture.cleanUp()
    failed = False
    for entry in modes:
        mode = entry['mode']
        legacy = mode.replace('bulk', 'per-provider')
        if mode.startswith('bulk') and legacy in snapshots:
            same = snapshots[mode] == snapshots[legacy]
            entry['same_snapshot_as_' + legacy] = same
            failed = failed or not same
    result['modes'] = modes
    result['machine']['loadavg_end'] = [round(x, 2) for x in os.getloadavg()]
    return result, failed


def table(result):
    lines = ['Placement %s, %d hosts (%d providers, %d consumers, %d '
             'traits, %d aggregates), %d CPUs, load average %s -> %s' % (
                 result['placement']['version'], result['hosts'],
                 result['data']['providers'], result['data']['consumers'],
                 result['data']['traits'], result['data']['aggregates'],
                 result['machine']['cpus'],
                 ' '.join(map(str, result['machine']['loadavg_start'])),
                 ' '.join(map(str, result['machine']['loadavg_end'])))]
    load = result['load']
    if load.get('hosts_s') is not None:
        lines.append('loader: hosts %.1f s, allocations %.1f s, %d requests'
                     '%s' % (load['hosts_s'], load['allocations_s'],
                             load['requests'],
                             ' (cached database)' if load['cached'] else ''))
    header = ('mode', 'runs', 'min s', 'median s', 'GETs', 'GETs/host',
              'DC build s', 'same')
    rows = []
    for entry in result['modes']:
        same = [v for k, v in entry.items() if k.startswith('same_')]
        rows.append((entry['mode'], str(len(entry['runs'])),
                     '%.2f' % entry['min_s'], '%.2f' % entry['median_s'],
                     str(entry['gets']), '%.2f' % entry['gets_per_host'],
                     '%.2f' % entry['datacenter_build_s'],
                     ('yes' if same[0] else 'FAIL') if same else '-'))
    widths = [max(len(r[i]) for r in rows + [header])
              for i in range(len(header))]
    for row in [header] + rows:
        lines.append('  '.join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(
                                   zip(row, widths))))
    return '\n'.join(lines)


def write(out, result):
    """Keep one entry per host count in ``out``."""
    try:
        with open(out) as f:
            everything = json.load(f)
    except (OSError, ValueError):
        everything = {}
    everything.setdefault('runs', {})[str(result['hosts'])] = result
    os.makedirs(os.path.dirname(out) or '.', exist_ok=True)
    with open(out, 'w') as f:
        json.dump(everything, f, indent=1, sort_keys=True)
        f.write('\n')


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Time the openstack inventory driver over a large, '
                    'real Placement.')
    parser.add_argument('--hosts', type=int, default=5000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--legacy-runs', type=int, default=1,
                        help='runs of the per-provider modes')
    parser.add_argument('--modes', default=','.join(MODES),
                        help='comma-separated, of %s' % ', '.join(MODES))
    parser.add_argument('--workers', type=int, default=8,
                        help='[inventory] request_workers')
    parser.add_argument('--cache-dir', default=os.path.join(
        os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'),
        'valet-bench'))
    parser.add_argument('--reload', action='store_true',
                        help='rebuild the cached Placement database')
    parser.add_argument('--openstack-venv',
                        help='sets VALET_OPENSTACK_VENV')
    parser.add_argument('--out', default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(',') if m.strip()]
    unknown = sorted(set(args.modes) - set(MODES))
    if unknown:
        parser.error('unknown mode(s) %s' % ', '.join(unknown))
    if args.openstack_venv:
        os.environ['VALET_OPENSTACK_VENV'] = args.openstack_venv
    # The driver's INFO line per load would drown the progress lines.
    logging.basicConfig(level=logging.WARNING)
    placement_fixture.require_placement()
    result, failed = measure(args)
    print(table(result))
    write(args.out, result)
    print('written to %s' % args.out)
    if failed:
        print('FAIL: a bulk read gave another snapshot than the '
              'per-provider reads')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
