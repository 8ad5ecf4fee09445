"""The ``engine`` phase of ``bench.notifications``: the engine follows Nova.

``engine``
    A real ``EngineEndpoint`` on a model of ``--hosts`` hosts (a static
    inventory generated into a temporary YAML file: racks of 40, zones of
    25 racks, ``--servers-per-host`` servers already running) with the SQL
    storage on a temporary SQLite file. A seeded script of
    ``--engine-count`` operations (about 60% ``instance.create.end``, 20%
    resize or live migration to another host, 15% ``instance.delete.end``,
    5% ``service.update`` disabling or enabling a host) is rendered from
    Nova's own payloads (one per event type and flavor, rewritten per
    message: instance uuid, host and node, metadata), queued, and drained
    by the real ``NotificationListener`` whose ``on_event`` is the
    endpoint's ``handle_event``. Reported: the drain (listener start to
    last record applied), the time spent inside ``handle_event`` alone,
    and ``handle_event`` called directly on the same records (a second
    engine built the same way, no broker). Both models are then checked
    against the script's expected result (every server's host and demand,
    every host's usage and state, the Nova bindings and, with plans, the
    stored placements): a wrong result prints FAIL and exits non-zero.
``engine+plans``
    The same with ``--planned`` servers first planned through
    ``EngineEndpoint.create_plan`` (stacks of ``--plan-size`` servers in a
    host diversity group); that many of the creates carry
    ``valet_orchestration_id`` in their metadata and bind to them, and the
    later moves and deletes of those servers update their stored
    placements (SQLite writes under the engine lock).

``measure_engine`` runs both variants and adds their rows to the results;
the script (``engine_script``), its rendering into Nova's payloads
(``engine_messages``) and the check (``check_engine``) have their own tests
in ``bench/tests/test_notifications.py``.
"""

import collections
import cProfile
import dataclasses
import logging
import os
import pstats
import random
import sys
import tempfile
import time
import uuid

from oslo_config import cfg
import yaml

from valet import conf as valet_conf
from valet.engine import follow
from valet.engine import service
from valet.engine import translate
from valet.inventory.openstack import notifications
from valet.inventory import static
from valet.storage.sql import driver as sql_driver

from bench import generator as gen
from bench.nova_bus import Counter
from bench.nova_bus import nova_messages
from bench.nova_bus import run_listener
from bench.nova_bus import send
from bench.nova_bus import stop

PROJECT = 'bench'
ENGINE_FLAVORS = ('m1.small', 'm1.medium', 'm1.large', 'm1.xlarge')
# Share of each operation in the engine burst, in percent.
ENGINE_MIX = (('create', 60), ('resize', 10), ('migrate', 10),
              ('delete', 15), ('service', 5))
# Nova's event type and vm_state for each instance operation.
ENGINE_EVENTS = {
    'create': ('instance.create.end', 'active'),
    'resize': ('instance.resize_finish.end', 'resized'),
    'migrate': ('instance.live_migration_post_dest.end', 'active'),
    'delete': ('instance.delete.end', 'deleted'),
}
MOVES = ('resize', 'migrate')
RACK_SIZE, ZONE_RACKS = 40, 25
# The two larger generator shapes: room for every server the burst adds.
ENGINE_SHAPES = gen.SHAPES[1:]
DISABLED_SHARE = 0.01

Op = collections.namedtuple('Op', 'kind uuid host flavor oid disabled',
                            defaults=(None, None, None, None, None))


@dataclasses.dataclass
class Script:
    """A burst of operations and the state it must leave behind.

    ``servers`` maps every server's model id (its orchestration id when
    Valet planned it, else its Nova uuid) to ``(host, flavor)``;
    ``disabled`` names the disabled hosts; ``bound`` maps the Nova uuids of
    planned servers that started to their orchestration ids; ``initial``
    counts the servers running before the burst.
    """

    ops: list
    servers: dict
    disabled: set
    bound: dict
    counts: collections.Counter
    initial: int = 0


class _Bag:
    """A set with a uniformly random pick, both in O(1)."""

    def __init__(self, items=()):
        self.items, self.index = [], {}
        for item in items:
            self.add(item)

    def add(self, item):
        self.index[item] = len(self.items)
        self.items.append(item)

    def remove(self, item):
        i = self.index.pop(item)
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.index[last] = i

    def choice(self, rng):
        return self.items[rng.randrange(len(self.items))]

    def __len__(self):
        return len(self.items)


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def engine_script(seed, count, hosts, disabled=(), servers=None,
                  planned=(), mix=ENGINE_MIX, flavors=ENGINE_FLAVORS):
    """COUNT operations on a cloud of ``hosts``, and their expected result.

    ``servers`` maps the uuids of the servers already running to ``(host,
    flavor)``; ``planned`` lists ``(orchestration id, host, flavor)`` of
    servers Valet planned: as many creates, spread over the burst, start
    them on their planned host with the orchestration id in their metadata.
    Other creates go to a random enabled host. A resize or migration moves
    a running server to another enabled host (a resize to another flavor);
    a delete removes one; ``service`` disables an enabled host or enables
    one it disabled. A move or delete with nothing running becomes a
    create.
    """
    rng = random.Random(seed)
    disabled = set(disabled)
    enabled = _Bag(h for h in hosts if h not in disabled)
    toggled = _Bag()
    where = dict(servers or {})           # running uuid -> (host, flavor)
    running = _Bag(where)
    model_id = {u: u for u in where}
    expected = dict(where)
    for oid, host, flavor in planned:
        expected[oid] = (host, flavor)
    kinds = rng.choices([k for k, _ in mix], [w for _, w in mix], k=count)
    creates = [i for i, kind in enumerate(kinds) if kind == 'create']
    if len(planned) > len(creates):
        raise ValueError('%d planned servers but only %d creates'
                         % (len(planned), len(creates)))
    binds = dict(zip(sorted(rng.sample(creates, len(planned))), planned))
    ops, bound, counts = [], {}, collections.Counter()
    for i, kind in enumerate(kinds):
        if kind in MOVES + ('delete',) and not len(running):
            kind = 'create'
        if kind == 'create':
            new = _uuid(rng)
            if i in binds:
                oid, host, flavor = binds[i]
                bound[new] = model_id[new] = oid
                counts['bind'] += 1
            else:
                oid, host, flavor = None, enabled.choice(rng), rng.choice(
                    flavors)
                model_id[new] = new
                expected[new] = (host, flavor)
            where[new] = (host, flavor)
            running.add(new)
            ops.append(Op(kind, new, host, flavor, oid))
        elif kind in MOVES:
            server = running.choice(rng)
            before, flavor = where[server]
            host = before
            while host == before and len(enabled) > 1:
                host = enabled.choice(rng)
            if kind == 'resize':
                flavor = rng.choice([f for f in flavors if f != flavor])
            where[server] = expected[model_id[server]] = (host, flavor)
            ops.append(Op(kind, server, host, flavor))
        elif kind == 'delete':
            server = running.choice(rng)
            running.remove(server)
            host, flavor = where.pop(server)
            del expected[model_id.pop(server)]
            ops.append(Op(kind, server, host, flavor))
        else:
            if len(toggled) and (rng.random() < 0.5 or len(enabled) < 2):
                host = toggled.choice(rng)
                toggled.remove(host)
                enabled.add(host)
                disabled.discard(host)
            else:
                host = enabled.choice(rng)
                enabled.remove(host)
                toggled.add(host)
                disabled.add(host)
            ops.append(Op(kind, host=host, disabled=host in disabled))
        counts[kind] += 1
    return Script(ops=ops, servers=expected, disabled=disabled,
                  bound=bound, counts=counts, initial=len(servers or ()))


def _flavor_payload(name):
    flavor = gen.FLAVORS[name]
    return {'name': name, 'flavorid': name, 'vcpus': flavor['vcpus'],
            'memory_mb': flavor['ram'], 'root_gb': flavor['disk']}


def engine_templates(python):
    """``{(operation, flavor) | 'service': message}``, serialised by Nova."""
    keys, specs = [], []
    for kind, (event_type, state) in ENGINE_EVENTS.items():
        for name in ENGINE_FLAVORS:
            keys.append((kind, name))
            specs.append({'event_type': event_type, 'host': 'cmp1',
                          'node': 'cmp1', 'state': state,
                          'project': PROJECT,
                          'flavor': _flavor_payload(name)})
    keys.append('service')
    specs.append({'event_type': 'service.update', 'host': 'cmp1',
                  'disabled': True, 'disabled_reason': 'bench'})
    messages = nova_messages(python, specs)
    if [m['event_type'] for m in messages] != [
            s['event_type'] for s in specs]:
        sys.exit('nova_notify.py --dump did not return one message per '
                 'template')
    return dict(zip(keys, messages))


def engine_messages(templates, ops):
    """``(publisher id, event type, payload)`` of every operation.

    Nova's payload for the operation's event type and flavor, with the
    instance uuid, host and node, name and metadata (or, for a service,
    host and disabled flag) of this operation; every flavor field is
    Nova's.
    """
    out = []
    for op in ops:
        if op.kind == 'service':
            msg = templates['service']
            data = dict(msg['payload']['nova_object.data'], host=op.host,
                        disabled=op.disabled,
                        disabled_reason='bench' if op.disabled else None)
        else:
            msg = templates[(op.kind, op.flavor)]
            metadata = {follow.ORCHESTRATION_KEY: op.oid} if op.oid else {}
            data = dict(msg['payload']['nova_object.data'], uuid=op.uuid,
                        host=op.host, node=op.host, metadata=metadata,
                        display_name='bench-' + op.uuid[:8])
        payload = dict(msg['payload'])
        payload['nova_object.data'] = data
        out.append(('nova-compute:' + op.host, msg['event_type'], payload))
    return out


def write_inventory(path, seed, n_hosts, per_host):
    """A static inventory file; ``(hosts, disabled, servers)`` in it.

    Racks of 40 hosts, zones of 25 racks (one availability zone each),
    about 1% of the hosts disabled, and ``per_host`` servers per host
    already running, on random hosts (``servers``: uuid -> (host,
    flavor)).
    """
    rng = random.Random(seed)
    hosts, disabled, entries = [], set(), []
    ratios = {'vcpus': gen.RATIOS[gen.VCPU], 'memory_mb': gen.RATIOS[gen.MEM],
              'disk_gb': gen.RATIOS[gen.DISK]}
    for i in range(n_hosts):
        rack = i // RACK_SIZE
        zone = rack // ZONE_RACKS
        vcpus, ram_gb, disk_gb = ENGINE_SHAPES[rack % len(ENGINE_SHAPES)]
        name = 'z%02d-r%03d-h%02d' % (zone, rack, i % RACK_SIZE)
        enabled = rng.random() >= DISABLED_SHARE
        hosts.append(name)
        if not enabled:
            disabled.add(name)
        entries.append({
            'name': name, 'rack': 'r%03d' % rack, 'zone': 'z%02d' % zone,
            'availability_zone': 'az%d' % zone, 'vcpus': vcpus,
            'memory_mb': ram_gb * 1024, 'disk_gb': disk_gb,
            'reserved': {'memory_mb': gen.RESERVED[gen.MEM]},
            'allocation_ratios': ratios, 'enabled': enabled})
    servers = {}
    for i in range(n_hosts * per_host):
        servers[_uuid(rng)] = (rng.choice(hosts), rng.choice(ENGINE_FLAVORS))
    doc = {
        'levels': list(gen.LEVELS),
        'flavors': {name: dict(gen.FLAVORS[name], id=str(i + 1))
                    for i, name in enumerate(ENGINE_FLAVORS)},
        'hosts': entries,
        'servers': [{'name': 'old-%06d' % i, 'id': sid, 'host': host,
                     'flavor': flavor, 'project': PROJECT}
                    for i, (sid, (host, flavor)) in enumerate(
                        servers.items())]}
    dumper = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)
    with open(path, 'w') as handle:
        yaml.dump(doc, handle, Dumper=dumper, default_flow_style=None)
    return hosts, disabled, servers


def make_engine(workdir, inventory, tag, snapshot=None):
    """An endpoint with a rebuilt model and SQLite storage of its own.

    The model is built from ``snapshot`` when given (an earlier load of the
    same inventory: parsing 5,000 hosts takes seconds), else from the file.
    """
    conf = cfg.ConfigOpts()
    valet_conf.register_all(conf)
    conf([], project='valet', default_config_files=[])
    conf.set_override('levels', list(gen.LEVELS), group='inventory')
    conf.set_override('connection', 'sqlite:///' + os.path.join(
        workdir, tag + '.sqlite'), group='database')
    storage = sql_driver.SqlStorage(conf)
    storage.upgrade()
    endpoint = service.EngineEndpoint(
        conf, storage, static.StaticInventory(conf, path=inventory))
    endpoint.rebuild(snapshot)
    return endpoint


def create_plans(endpoint, seed, planned, size):
    """Plans of ``size`` servers in a host diversity group, through
    ``create_plan``; ``[(orchestration id, host, flavor)]``."""
    rng = random.Random(seed)
    out = []
    for number, start in enumerate(range(0, planned, size)):
        stack = 'bench-stack-%04d' % number
        group = 'bench-ha-%04d' % number
        resources = {}
        for j in range(min(size, planned - start)):
            resources[_uuid(rng)] = {
                'name': '%s-%03d' % (stack, j), 'type': translate.SERVER_TYPE,
                'properties': {
                    'flavor': rng.choice(ENGINE_FLAVORS),
                    'metadata': {'valet': {'groups': [group]}}}}
        plan = endpoint.create_plan({}, plan={
            'plan_name': stack, 'stack_id': stack, 'project_id': PROJECT,
            'resources': resources, 'locations': None,
            'groups': {group: {'name': group, 'type': 'diversity',
                               'level': 'host'}}})
        for oid, placement in plan['placements'].items():
            out.append((oid, placement['location'],
                        resources[oid]['properties']['flavor']))
    return out


def _significant(demand):
    return {rc: v for rc, v in demand.items() if v}


def check_engine(endpoint, script, planned=()):
    """What differs between the engine's model (and storage) and the
    script's expected result; an empty list when nothing does."""
    dc = endpoint.dc
    problems = []
    if len(dc.servers) != len(script.servers):
        problems.append('the model holds %d servers, expected %d'
                        % (len(dc.servers), len(script.servers)))
    used = collections.defaultdict(collections.Counter)
    for mid, (host, flavor) in script.servers.items():
        demand = gen.DEMAND[flavor]
        used[host].update(demand)
        server = dc.servers.get(mid)
        if server is None:
            problems.append('server %s missing (expected on %s)'
                            % (mid, host))
        elif server.host != host:
            problems.append('server %s on %s, expected %s'
                            % (mid, server.host, host))
        elif _significant(server.demand) != _significant(demand):
            problems.append('server %s demands %s, expected %s (%s)'
                            % (mid, server.demand, demand, flavor))
    extra = sorted(set(dc.servers) - set(script.servers))
    if extra:
        problems.append('%d unexpected servers in the model: %s'
                        % (len(extra), ', '.join(extra[:3])))
    for name, spec in dc.hosts.items():
        if spec.enabled == (name in script.disabled):
            problems.append('host %s is %s' % (
                name, 'enabled' if spec.enabled else 'disabled'))
        capacity, free = dc.capacity(name), dc.free(name)
        for rc in capacity:
            if abs(capacity[rc] - free[rc] - used[name][rc]) > 1e-6:
                problems.append('host %s uses %s %s, expected %s' % (
                    name, capacity[rc] - free[rc], rc, used[name][rc]))
    for nova_uuid, oid in script.bound.items():
        if endpoint.bindings.get(nova_uuid) != oid:
            problems.append('server %s is not bound to planned %s'
                            % (nova_uuid, oid))
    if planned:
        stored = {p.orchestration_id: p
                  for p in endpoint.storage.list_placements()}
        resource_of = {oid: u for u, oid in script.bound.items()}
        for oid, _host, _flavor in planned:
            p = stored.get(oid)
            want = (script.servers.get(oid, (None,))[0],
                    resource_of.get(oid))
            got = (p.location, p.resource_id) if p else None
            if got != want:
                problems.append('placement %s stored as (location, '
                                'resource id) %s, expected %s'
                                % (oid, got, want))
    return problems


class Applier(Counter):
    """Applies every record to an engine, timing the apply alone."""

    def __init__(self, endpoint, target):
        super().__init__(target)
        self.endpoint = endpoint
        self.apply_seconds = 0.0
        self.resyncs = 0

    def __call__(self, event):
        started = time.perf_counter()
        try:
            if self.endpoint.handle_event(event):
                self.resyncs += 1
        finally:
            self.apply_seconds += time.perf_counter() - started
            # Counted even when it raised: the check reports it.
            super().__call__(event)


class _StorageCalls:
    """Counts and times the placement reads and writes of an engine."""

    NAMES = ('get_placement', 'update_placement')

    def __init__(self, storage):
        self.counts = collections.Counter()
        self.seconds = collections.Counter()
        for name in self.NAMES:
            setattr(storage, name, self._counted(name, getattr(storage,
                                                               name)))

    def _counted(self, name, method):
        def counted(*args, **kwargs):
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.counts[name] += 1
                self.seconds[name] += time.perf_counter() - started
        return counted

    def __str__(self):
        return 'storage: %s' % ', '.join(
            '%d %s (%.2f s, %.1f ms each)' % (
                self.counts[n], n, self.seconds[n],
                1000 * self.seconds[n] / self.counts[n])
            if self.counts[n] else '0 %s' % n for n in self.NAMES)


class _Warnings(logging.Handler):
    """Counts valet's warnings (a dropped event) and keeps the first."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0
        self.first = []

    def emit(self, record):
        self.count += 1
        if len(self.first) < 3:
            self.first.append(record.getMessage())


def _verdict(endpoint, script, planned, warnings, extra=()):
    problems = list(extra) + check_engine(endpoint, script, planned)
    if warnings.count:
        problems.append('%d warnings from valet, first: %s'
                        % (warnings.count, ' | '.join(warnings.first)))
    if problems:
        return 'FAIL: %d problem(s): %s' % (
            len(problems), '; '.join(problems[:5]))
    counts = script.counts
    return 'ok: %d servers = %d + %d planned + %d created - %d deleted; ' \
        '%d moved, %d hosts disabled' % (
            len(endpoint.dc.servers), script.initial, len(planned),
            counts['create'] - counts['bind'], counts['delete'],
            counts['resize'] + counts['migrate'], len(script.disabled))


def engine_variant(args, conf, transport, exchange, topic, templates,
                   world, planned_count, results):
    """One variant: directly on one engine, then over the broker on a
    second engine built the same way."""
    hosts, disabled, servers = (world['hosts'], world['disabled'],
                                world['servers'])
    label = 'engine+plans' if planned_count else 'engine'
    count = args.engine_count
    for mode in ('direct', 'broker'):
        warnings = _Warnings()
        valet_log = logging.getLogger('valet')
        valet_log.addHandler(warnings)
        valet_log.propagate = False
        try:
            started = time.monotonic()
            endpoint = make_engine(world['workdir'], world['inventory'],
                                   label + '-' + mode, world['snapshot'])
            built = time.monotonic() - started
            # The first engine read the file; the others reuse its load.
            world['snapshot'] = endpoint.snapshot
            planned = []
            if planned_count:
                started = time.monotonic()
                planned = create_plans(endpoint, args.seed + 1, planned_count,
                                       args.plan_size)
                results['%s create_plan (servers)' % label] = (
                    len(planned), time.monotonic() - started, None)
            calls = _StorageCalls(endpoint.storage)
            script = engine_script(args.seed + 2, count, hosts, disabled,
                                   servers, planned)
            messages = engine_messages(templates, script.ops)
            print('%s %s: %d hosts, %d servers, model built in %.1f s; '
                  'burst %s' % (label, mode, len(endpoint.dc.hosts),
                                len(endpoint.dc.servers), built,
                                dict(sorted(script.counts.items()))),
                  file=sys.stderr, flush=True)
            if mode == 'direct':
                _direct(args, endpoint, script, planned, messages, warnings,
                        label, results, calls)
            else:
                _broker(args, conf, transport, exchange, topic, endpoint,
                        script, planned, messages, warnings, label, results,
                        calls)
            endpoint.storage.dispose()
        finally:
            valet_log.removeHandler(warnings)
            valet_log.propagate = True


def _direct(args, endpoint, script, planned, messages, warnings, label,
            results, calls):
    records = [notifications.to_event(event_type, payload)
               for _pub, event_type, payload in messages]
    profile = cProfile.Profile() if args.profile else None
    resyncs = 0
    started = time.perf_counter()
    if profile:
        profile.enable()
    for record in records:
        if endpoint.handle_event(record):
            resyncs += 1
    if profile:
        profile.disable()
    seconds = time.perf_counter() - started
    extra = ['%d resyncs requested' % resyncs] if resyncs else []
    check = _verdict(endpoint, script, planned, warnings, extra)
    results['%s direct handle_event' % label] = (len(records), seconds, check,
                                                 str(calls))
    if profile:
        print('\nprofile of %s direct handle_event:' % label)
        pstats.Stats(profile, stream=sys.stdout).sort_stats(
            'cumulative').print_stats(25)


def _broker(args, conf, transport, exchange, topic, endpoint, script,
            planned, messages, warnings, label, results, calls):
    # Declare the pool queue, fill it, then drain it into the engine.
    stop(run_listener(conf, transport, Counter(1))[0])
    results['%s publish' % label] = (
        len(messages), send(args.url, exchange, topic, messages), None)
    applier = Applier(endpoint, len(messages))
    listener, started = run_listener(conf, transport, applier)
    applier.done.wait(args.timeout)
    stop(listener)
    stats = listener.stats
    extra = []
    if applier.count != len(messages) or stats['delivered'] != len(
            messages):
        extra.append('%d of %d records delivered (listener: %s)' % (
            stats['delivered'], len(messages), dict(stats)))
    if applier.resyncs:
        extra.append('%d resyncs requested' % applier.resyncs)
    check = _verdict(endpoint, script, planned, warnings, extra)
    last = applier.last if applier.last is not None else time.monotonic()
    results['%s drain (total)' % label] = (applier.count, last - started,
                                           check)
    results['%s handle_event in listener' % label] = (
        applier.count, applier.apply_seconds, None, str(calls))


def measure_engine(args, conf, transport, exchange, topic, python,
                   results):
    templates = engine_templates(python)
    with tempfile.TemporaryDirectory(prefix='valet-bench-') as workdir:
        inventory = os.path.join(workdir, 'inventory.yaml')
        started = time.monotonic()
        hosts, disabled, servers = write_inventory(
            inventory, args.seed, args.hosts, args.servers_per_host)
        print('inventory: %d hosts, %d servers written in %.1f s'
              % (len(hosts), len(servers), time.monotonic() - started),
              file=sys.stderr, flush=True)
        world = {'workdir': workdir, 'inventory': inventory,
                 'hosts': hosts, 'disabled': disabled, 'servers': servers,
                 'snapshot': None}
        for planned in (0, args.planned) if args.planned else (0,):
            engine_variant(args, conf, transport, exchange, topic,
                           templates, world, planned, results)
