"""Loading a large Placement inventory: the openstack driver's ``load()``.

Usage (OpenStack Placement and uwsgi in ``$VALET_OPENSTACK_VENV``)::

    python -m bench.placement_load [--hosts 5000] [--seed 1] [--runs 3]
        [--modes per-provider,bulk,per-provider+nova,bulk+nova]
        [--legacy-runs 1] [--workers 8] [--cache-dir DIR] [--reload]
        [--out bench/results/placement_load.json] [--verbose]

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

Then the driver's ``load()`` is timed ``--runs`` times per mode (the
modes take turns, so a change in the machine's load hits them all), after
an untimed warm-up of every kind of request on every uwsgi thread:

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

Reported per mode: min and median ``load()`` seconds, the median CPU
seconds Placement (uwsgi master and workers) and this process spent in a
load (steadier than wall time on a shared machine), the GET count, and the
median time of ``DataCenter.build`` over the snapshot. Each bulk mode's
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
    """Each kind of request a few times per uwsgi thread, untimed.

    A worker's first request of a kind pays for imports, SQLAlchemy query
    compilation and caches; a long-running Placement has paid already.
    """
    import requests
    session = requests.Session()
    session.headers.update({'X-Auth-Token': placement_fixture.TOKEN,
                            'OpenStack-API-Version': 'placement 1.18'})
    body = session.get(url + '/resource_providers?name=cmp00000',
                       timeout=60).json()
    uuid = body['resource_providers'][0]['uuid']
    paths = ['/traits?associated=true',
             '/resource_providers?required=HW_CPU_X86_AVX2&name=cmp00000',
             '/resource_providers?member_of=%s&name=cmp00000' % (
                 placement_loader.stable_uuid('bench-zone-z000'))]
    paths += ['/resource_providers/%s/%s' % (uuid, what) for what in (
        'inventories', 'allocations', 'traits', 'aggregates')]

    def get(path):
        return session.get(url + path, timeout=60).status_code

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(get, paths * threads * 2))


def _cpu_of(pid):
    """User + system CPU seconds of one process, 0 if it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0.0
    # After the command: state ppid ... utime (11) stime (12), 0-based.
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def server_cpu(master):
    """CPU seconds of a uwsgi master and its workers (Linux /proc)."""
    pids = [master]
    try:
        with open('/proc/%d/task/%d/children' % (master, master)) as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return sum(_cpu_of(pid) for pid in pids)


class Mode:
    """One way of reading, its runs and its last snapshot."""

    def __init__(self, name, conf, nova_stub, runs, server_pid):
        self.name = name
        self.runs = runs
        self.server_pid = server_pid
        source = inventory.get_inventory(conf)
        reader = source.placement
        reader.per_provider = name.startswith('per-provider')
        self.counting = CountingAdapter(reader.client.adapter)
        reader.client.adapter = self.counting
        if name.endswith('+nova'):
            source = driver.OpenStackInventory(conf, reader, nova_stub)
        self.source = source
        self.loads, self.builds, self.gets = [], [], []
        self.client_cpu, self.server_cpu = [], []
        self.snapshot = None

    def run(self):
        self.counting.gets = 0
        server = server_cpu(self.server_pid)
        client = time.process_time()
        started = time.monotonic()
        snapshot = self.snapshot = self.source.load()
        self.loads.append(time.monotonic() - started)
        self.client_cpu.append(time.process_time() - client)
        self.server_cpu.append(server_cpu(self.server_pid) - server)
        self.gets.append(self.counting.gets)
        started = time.monotonic()
        dc = datacenter.DataCenter.build(
            snapshot.hosts, snapshot.servers,
            topology=topology_mod.Topology(snapshot.levels))
        self.builds.append(time.monotonic() - started)
        log('  %-18s run %d: load %.2f s (CPU: Placement %.2f s, client '
            '%.2f s), %d GETs, DataCenter.build %.2f s (%d hosts, %d '
            'servers)' % (self.name, len(self.loads), self.loads[-1],
                          self.server_cpu[-1], self.client_cpu[-1],
                          self.gets[-1], self.builds[-1], len(dc.hosts),
                          len(snapshot.servers)))

    def entry(self):
        hosts = len(self.snapshot.hosts)
        return {'mode': self.name,
                'runs': [round(s, 3) for s in self.loads],
                'min_s': round(min(self.loads), 3),
                'median_s': round(statistics.median(self.loads), 3),
                'placement_cpu_s': round(statistics.median(
                    self.server_cpu), 2),
                'client_cpu_s': round(statistics.median(self.client_cpu), 2),
                'gets': self.gets[-1],
                'gets_per_host': round(self.gets[-1] / max(1, hosts), 2),
                'datacenter_build_s': round(statistics.median(self.builds),
                                            3),
                'hosts': hosts, 'servers': len(self.snapshot.servers)}


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
            modes = [Mode(name, conf, nova_stub,
                          args.legacy_runs if name.startswith('per-provider')
                          else args.runs, fixture.process.pid)
                     for name in args.modes]
            # Round robin: a change in the machine's load hits every mode.
            for run in range(max(mode.runs for mode in modes)):
                for mode in modes:
                    if run < mode.runs:
                        mode.run()
        finally:
            fixture.cleanUp()
    failed = False
    snapshots = {mode.name: mode.snapshot for mode in modes}
    entries = [mode.entry() for mode in modes]
    for entry in entries:
        mode = entry['mode']
        legacy = mode.replace('bulk', 'per-provider')
        if mode.startswith('bulk') and legacy in snapshots:
            same = snapshots[mode] == snapshots[legacy]
            entry['same_snapshot_as_' + legacy] = same
            failed = failed or not same
    result['modes'] = entries
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
    header = ('mode', 'runs', 'min s', 'median s', 'CPU Placement s',
              'CPU client s', 'GETs', 'GETs/host', 'DC build s', 'same')
    rows = []
    for entry in result['modes']:
        same = [v for k, v in entry.items() if k.startswith('same_')]
        rows.append((entry['mode'], str(len(entry['runs'])),
                     '%.2f' % entry['min_s'], '%.2f' % entry['median_s'],
                     '%.2f' % entry['placement_cpu_s'],
                     '%.2f' % entry['client_cpu_s'],
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
    parser.add_argument('--verbose', action='store_true',
                        help="log the driver's INFO line of every load")
    args = parser.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(',') if m.strip()]
    unknown = sorted(set(args.modes) - set(MODES))
    if unknown:
        parser.error('unknown mode(s) %s' % ', '.join(unknown))
    if args.openstack_venv:
        os.environ['VALET_OPENSTACK_VENV'] = args.openstack_venv
    # The driver's INFO line per load would drown the progress lines; the
    # modes without Nova are meant to run without it.
    logging.basicConfig(level=logging.INFO if args.verbose
                        else logging.WARNING)
    logging.getLogger('valet.inventory.openstack.driver').addFilter(
        lambda record: '[nova] auth_type is not set' not in (
            record.getMessage()))
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
