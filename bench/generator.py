"""Seeded synthetic data centres and requests for the benchmark.

Everything here is reproducible from a seed: the same seed gives the same
hosts, the same pre-existing servers and the same requests. A data centre
is kept as a :class:`DCSpec` (plain host specs, placed servers and group
definitions) so that every solver run can build a fresh
:class:`~valet.engine.model.datacenter.DataCenter` from it.
"""

import dataclasses
import random

from valet.engine.model import datacenter
from valet.engine.model import groups as g
from valet.engine.model import host as host_mod
from valet.engine.model import request as r
from valet.engine.model import resources
from valet.engine.model import topology

LEVELS = ('host', 'rack', 'zone')
VCPU, MEM, DISK = resources.VCPU, resources.MEMORY_MB, resources.DISK_GB

FLAVORS = {
    'm1.tiny': {'vcpus': 1, 'ram': 512, 'disk': 1},
    'm1.small': {'vcpus': 1, 'ram': 2048, 'disk': 20},
    'm1.medium': {'vcpus': 2, 'ram': 4096, 'disk': 40},
    'm1.large': {'vcpus': 4, 'ram': 8192, 'disk': 80},
    'm1.xlarge': {'vcpus': 8, 'ram': 16384, 'disk': 160},
    # Custom shapes: one CPU-heavy, one memory-heavy, so that no single
    # resource class is always the bottleneck.
    'c1.xlarge': {'vcpus': 16, 'ram': 16384, 'disk': 80},
    'r1.large': {'vcpus': 4, 'ram': 65536, 'disk': 80},
}
DEMAND = {name: resources.flavor_demand(f) for name, f in FLAVORS.items()}

# Host shapes (vcpus, RAM in GB, disk in GB).
SHAPES = ((32, 128, 960), (64, 256, 1920), (96, 512, 3840))
RATIOS = {VCPU: 4.0, MEM: 1.0, DISK: 1.0}
RESERVED = {MEM: 2048}

# Flavor mixes: what tenants already run, and what requests ask for.
FILL_MIX = (('m1.tiny', 1), ('m1.small', 4), ('m1.medium', 4),
            ('m1.large', 3), ('m1.xlarge', 2), ('c1.xlarge', 1),
            ('r1.large', 1))
REQUEST_MIX = (('m1.small', 3), ('m1.medium', 4), ('m1.large', 3),
               ('m1.xlarge', 2), ('c1.xlarge', 1), ('r1.large', 1))
SMALL_MIX = (('m1.tiny', 1), ('m1.small', 3), ('m1.medium', 2))

BIG_MIX = (('m1.large', 3), ('m1.xlarge', 3), ('c1.xlarge', 2),
           ('r1.large', 2))

# Share of hosts that are empty, partly used and nearly full.
MIXED = (0.3, 0.45, 0.25)
# Most used hosts nearly full: requests need new hosts, which makes the
# objective matter.
TIGHT = (0.4, 0.1, 0.5)


@dataclasses.dataclass
class DCSpec:
    """What a data centre is made of; ``build()`` makes a fresh model."""

    hosts: list
    servers: list
    groups: list
    racks: list = dataclasses.field(default_factory=list)
    zones: list = dataclasses.field(default_factory=list)
    named: dict = dataclasses.field(default_factory=dict)
    levels: tuple = LEVELS

    def build(self):
        return datacenter.DataCenter.build(
            self.hosts, self.servers, self.groups,
            topology=topology.Topology(self.levels))


@dataclasses.dataclass
class Instance:
    """One benchmark case: a name, a data-centre factory and a request."""

    name: str
    kind: str            # small, hard, medium, large or growth
    spec: DCSpec
    request: r.PlacementRequest
    note: str = ''

    def make_dc(self):
        return self.spec.build()

    @property
    def hosts(self):
        return len(self.spec.hosts)

    @property
    def servers(self):
        return len(self.request.servers)


def _pick(rng, mix):
    names = [name for name, _ in mix]
    weights = [w for _, w in mix]
    return rng.choices(names, weights)[0]


def _usable(spec):
    return {rc: spec.usable(rc) for rc in (VCPU, MEM, DISK)}


def _fits(free, demand):
    return all(free[rc] >= demand.get(rc, 0) for rc in free)


def host_spec(name, shape, rack, zone, enabled=True, **extra):
    vcpus, ram_gb, disk_gb = shape
    return host_mod.HostSpec(
        name=name,
        capacity={VCPU: vcpus, MEM: ram_gb * 1024, DISK: disk_gb},
        domains={'rack': rack, 'zone': zone},
        allocation_ratios=dict(RATIOS), reserved=dict(RESERVED),
        enabled=enabled, availability_zone=zone, **extra)


def _rack_sizes(rng, n_hosts):
    """Rack sizes of 20 to 40 hosts adding up to ``n_hosts``."""
    sizes = []
    left = n_hosts
    while left > 0:
        if left <= 40:
            sizes.append(left)
            break
        size = rng.randint(20, 40)
        if left - size < 20:
            size = left - 20
        sizes.append(size)
        left -= size
    return sizes


def make_hosts(rng, n_hosts, disabled=0.01):
    """Hosts in racks of 20-40, racks in zones; mostly one shape per rack."""
    sizes = _rack_sizes(rng, n_hosts)
    n_racks = len(sizes)
    if n_racks <= 2:
        per_zone = n_racks
    elif n_racks <= 6:
        per_zone = (n_racks + 1) // 2
    else:
        per_zone = rng.randint(4, 12)
    hosts, racks, zones = [], [], []
    for ri, size in enumerate(sizes):
        rack = 'r%04d' % ri
        zone = 'az%d' % (ri // per_zone + 1)
        racks.append(rack)
        if zone not in zones:
            zones.append(zone)
        rack_shape = rng.choice(SHAPES)
        for hi in range(size):
            shape = rack_shape if rng.random() < 0.8 else rng.choice(SHAPES)
            hosts.append(host_spec('%sh%02d' % (rack, hi), shape, rack, zone,
                                   enabled=rng.random() >= disabled))
    return hosts, racks, zones


class _Filler:
    """Places pre-existing servers while tracking what each host has left."""

    def __init__(self, hosts):
        self.hosts = {h.name: h for h in hosts}
        self.usable = {h.name: _usable(h) for h in hosts}
        self.free = {h.name: dict(self.usable[h.name]) for h in hosts}
        self.on = {h.name: [] for h in hosts}
        self.made = 0
        self.count = 0

    def place(self, host, flavor, groups=(), stack='old', project='tenant'):
        demand = DEMAND[flavor]
        free = self.free[host]
        if not _fits(free, demand):
            return None
        for rc in free:
            free[rc] -= demand.get(rc, 0)
        server = datacenter.PlacedServer(
            id='p%06d' % self.made, host=host, demand=dict(demand),
            groups=tuple(groups), project=project, stack=stack)
        self.made += 1
        self.count += 1
        self.on[host].append(server)
        return server

    def unplace_last(self, host):
        server = self.on[host].pop()
        self.count -= 1
        for rc, amount in server.demand.items():
            self.free[host][rc] += amount

    def util(self, host):
        usable = self.usable[host]
        return max(1.0 - self.free[host][rc] / usable[rc]
                   for rc in usable if usable[rc] > 0)

    def servers(self):
        placed = [s for on in self.on.values() for s in on]
        return sorted(placed, key=lambda s: s.id)


def _named_groups(rng, filler, hosts, racks):
    """Named groups of earlier stacks, with members already running.

    Returns (groups, named, pinned hosts that fill must leave alone).
    """
    by_rack = {}
    for h in hosts:
        if h.enabled:
            by_rack.setdefault(h.domains['rack'], []).append(h.name)
    groups, named, pinned = [], {}, set()
    rack_names = [rk for rk in racks if by_rack.get(rk)]

    # Host exclusivity: a few hosts dedicated to one tenant.
    ex = g.Group('named-ex-h', g.EXCLUSIVITY, 'host')
    dedicated = rng.sample(by_rack[rack_names[-1]],
                           min(3, len(by_rack[rack_names[-1]])))
    for name in dedicated:
        filler.place(name, 'm1.large', (ex.name,), stack='old-ex')
        pinned.add(name)
    groups.append(ex)
    named['ex-h'] = ex.name

    # Host affinity: two servers that later ones must join.
    aff = g.Group('named-aff-h', g.AFFINITY, 'host')
    home = rng.choice([n for n in by_rack[rack_names[0]] if n not in pinned])
    for _ in range(2):
        filler.place(home, 'm1.medium', (aff.name,), stack='old-aff')
    groups.append(aff)
    named['aff-h'] = aff.name

    # Host diversity: three servers on three hosts.
    div = g.Group('named-div-h', g.DIVERSITY, 'host')
    spread = [n for n in by_rack[rack_names[0]] if n not in pinned]
    for name in rng.sample(spread, min(3, len(spread))):
        filler.place(name, 'm1.small', (div.name,), stack='old-div')
    groups.append(div)
    named['div-h'] = div.name

    # Rack diversity: one member in each of the first racks, leaving room.
    if len(rack_names) >= 3:
        rdiv = g.Group('named-div-r', g.DIVERSITY, 'rack')
        for rack in rack_names[:max(1, len(rack_names) // 3)]:
            name = rng.choice([n for n in by_rack[rack] if n not in pinned])
            filler.place(name, 'm1.medium', (rdiv.name,), stack='old-rdiv')
        groups.append(rdiv)
        named['div-r'] = rdiv.name

    # Rack exclusivity: a whole rack kept for one tenant (large DCs only).
    if len(rack_names) >= 8:
        rex = g.Group('named-ex-r', g.EXCLUSIVITY, 'rack')
        rack = rack_names[-2]
        for name in by_rack[rack][:4]:
            filler.place(name, 'm1.xlarge', (rex.name,), stack='old-rex')
        # Disabled hosts of the rack too: nothing else may run there.
        pinned.update(h.name for h in hosts if h.domains['rack'] == rack)
        groups.append(rex)
        named['ex-r'] = rex.name
    return groups, named, pinned


def fill(rng, filler, hosts, profile=MIXED, pinned=(), per_host=None):
    """Pre-existing load: empty, partly used and nearly full hosts.

    With ``per_host`` the number of placed servers is then trimmed or
    topped up to exactly ``per_host`` times the number of hosts.
    """
    pinned = set(pinned)
    free_hosts = [h.name for h in hosts if h.name not in pinned]
    active = []
    for name in free_hosts:
        kind = rng.choices(('empty', 'partial', 'full'), profile)[0]
        if kind == 'empty':
            continue
        target = (rng.uniform(0.2, 0.7) if kind == 'partial'
                  else rng.uniform(0.85, 0.97))
        misses = 0
        while misses < 6:
            flavor = _pick(rng, FILL_MIX)
            if filler.place(name, flavor) is None:
                misses += 1
            elif filler.util(name) > target:
                filler.unplace_last(name)
                misses += 1
        if filler.on[name]:
            active.append(name)
    if per_host is None or not active:
        return
    want = per_host * len(hosts)
    # Trim or top up on hosts that already run something, so empty hosts
    # stay empty.
    misses = 0
    while filler.count > want and misses < 10 * want:
        name = rng.choice(active)
        if len(filler.on[name]) > 1 and filler.on[name][-1].stack == 'old':
            filler.unplace_last(name)
        else:
            misses += 1
    misses = 0
    while filler.count < want and misses < 10 * want:
        if filler.place(rng.choice(active), _pick(rng, SMALL_MIX)) is None:
            misses += 1


def make_dc(seed, n_hosts, profile=MIXED, per_host=None, named=True):
    """A seeded data centre of ``n_hosts`` hosts with mixed free capacity."""
    rng = random.Random(seed)
    hosts, racks, zones = make_hosts(rng, n_hosts)
    filler = _Filler(hosts)
    groups, named_map, pinned = [], {}, set()
    if named:
        groups, named_map, pinned = _named_groups(rng, filler, hosts, racks)
    fill(rng, filler, hosts, profile, pinned, per_host)
    return DCSpec(hosts=hosts, servers=filler.servers(), groups=groups,
                  racks=racks, zones=zones, named=named_map)


# ------------------------------------------------------------------ requests
PATTERNS = (('plain', 6), ('hdiv', 2), ('rdiv', 2), ('haff', 2),
            ('raff', 1), ('hex', 1), ('nested', 2), ('affdiv', 1),
            ('named', 2))


class _RequestBuilder:
    """Adds servers and groups pattern by pattern."""

    def __init__(self, rng, spec, stack, mix=REQUEST_MIX):
        self.rng = rng
        self.spec = spec
        self.stack = stack
        self.mix = mix
        self.servers = []
        self.groups = []
        self.n_groups = 0

    def group(self, kind, level, parents=()):
        self.n_groups += 1
        grp = g.Group('%s-%s%d' % (self.stack, kind[:3], self.n_groups),
                      kind, level, parents=tuple(parents))
        self.groups.append(grp)
        return grp.name

    def server(self, flavor, groups=(), az=None):
        sid = '%s-s%03d' % (self.stack, len(self.servers))
        self.servers.append(r.ServerRequest(
            id=sid, demand=dict(DEMAND[flavor]), groups=tuple(groups),
            availability_zone=az))

    def add(self, pattern, room):
        rng = self.rng
        n_racks = len(self.spec.racks)
        if pattern in ('rdiv', 'nested') and n_racks < 2:
            pattern = 'hdiv'
        if pattern == 'plain':
            for _ in range(min(room, rng.randint(1, 4))):
                az = None
                if len(self.spec.zones) > 1 and rng.random() < 0.15:
                    az = rng.choice(self.spec.zones)
                self.server(_pick(rng, self.mix), az=az)
        elif pattern == 'hdiv':
            name = self.group(g.DIVERSITY, 'host')
            for _ in range(min(room, rng.randint(2, 6))):
                self.server(_pick(rng, self.mix), (name,))
        elif pattern == 'rdiv':
            name = self.group(g.DIVERSITY, 'rack')
            for _ in range(min(room, rng.randint(2, min(4, n_racks)))):
                self.server(_pick(rng, self.mix), (name,))
        elif pattern == 'haff':
            name = self.group(g.AFFINITY, 'host')
            for _ in range(min(room, rng.randint(2, 4))):
                self.server(_pick(rng, SMALL_MIX), (name,))
        elif pattern == 'raff':
            name = self.group(g.AFFINITY, 'rack')
            for _ in range(min(room, rng.randint(2, 6))):
                self.server(_pick(rng, self.mix), (name,))
        elif pattern == 'hex':
            # Dedicated hosts, often also spread over distinct hosts.
            ex = self.group(g.EXCLUSIVITY, 'host')
            names = (ex,)
            if rng.random() < 0.5:
                names = (ex, self.group(g.DIVERSITY, 'host'))
            for _ in range(min(room, rng.randint(1, 3))):
                self.server('m1.xlarge', names)
        elif pattern == 'nested':
            # Pairs kept together on a host, pairs on distinct racks.
            div = self.group(g.DIVERSITY, 'rack')
            pairs = rng.randint(2, min(3, n_racks))
            for _ in range(min(pairs, max(1, room // 2))):
                aff = self.group(g.AFFINITY, 'host', parents=(div,))
                for _ in range(2):
                    self.server(_pick(rng, SMALL_MIX), (aff,))
        elif pattern == 'affdiv':
            # Diversity inside affinity: distinct hosts of one rack.
            aff = self.group(g.AFFINITY, 'rack')
            div = self.group(g.DIVERSITY, 'host', parents=(aff,))
            for _ in range(min(room, rng.randint(2, 4))):
                self.server(_pick(rng, self.mix), (div,))
        elif pattern == 'named':
            choices = sorted(self.spec.named)
            if not choices:
                return self.add('plain', room)
            which = rng.choice(choices)
            name = self.spec.named[which]
            if which == 'aff-h':
                self.server('m1.small', (name,))
            elif which.startswith('ex'):
                for _ in range(min(room, rng.randint(1, 2))):
                    self.server('m1.large', (name,))
            else:
                for _ in range(min(room, 2)):
                    self.server(_pick(rng, self.mix), (name,))


def make_request(seed, spec, n_servers, stack='stack', patterns=PATTERNS,
                 kind=r.CREATE, mix=REQUEST_MIX):
    """A stack of ``n_servers`` servers with a seeded mix of group patterns."""
    rng = random.Random(seed)
    builder = _RequestBuilder(rng, spec, stack, mix)
    while len(builder.servers) < n_servers:
        builder.add(_pick(rng, patterns), n_servers - len(builder.servers))
    return r.PlacementRequest(servers=builder.servers[:n_servers],
                              groups=_used_groups(builder),
                              kind=kind, stack=stack, project='tenant')


def _used_groups(builder):
    # A pattern cut short may leave a group without members; keep only the
    # groups some server reaches (directly or through nesting).
    by_name = {grp.name: grp for grp in builder.groups}
    used = set()
    stack = [n for s in builder.servers for n in s.groups]
    while stack:
        name = stack.pop()
        if name in used or name not in by_name:
            continue
        used.add(name)
        stack.extend(by_name[name].parents)
    return [grp for grp in builder.groups if grp.name in used]


def single_server(spec, flavor='m1.large', stack='adhoc'):
    server = r.ServerRequest(id='%s-s000' % stack, demand=dict(DEMAND[flavor]))
    return r.PlacementRequest(servers=[server], kind=r.ADHOC, stack=stack,
                              project='tenant')


# ------------------------------------------------------------- instance sets
def small_instances(seed, count):
    """Small cases (<= 30 servers, <= 60 hosts) for quality against exact.

    Every other one is tight (few used hosts with room, larger flavors),
    so that new hosts are needed and the objective tells solvers apart.
    """
    out = []
    for i in range(count):
        rng = random.Random(seed * 1000 + i)
        n_hosts = rng.randint(24, 60)
        n_servers = rng.randint(5, 30)
        tight = i % 2 == 1
        spec = make_dc(seed * 1000 + i, n_hosts,
                       profile=TIGHT if tight else MIXED)
        req = make_request(seed * 1000 + i + 1, spec, n_servers,
                           stack='sm%02d' % i,
                           mix=BIG_MIX if tight else REQUEST_MIX)
        out.append(Instance('small-%02d%s-%dh-%ds' % (
            i, 't' if tight else '', n_hosts, n_servers), 'small', spec,
            req))
    return out


def medium_instances(seed, sizes):
    out = []
    for i, (n_hosts, n_servers) in enumerate(sizes):
        spec = make_dc(seed * 77 + i, n_hosts)
        req = make_request(seed * 77 + i + 1, spec, n_servers,
                           stack='md%02d' % i)
        out.append(Instance('medium-%dh-%ds' % (n_hosts, n_servers),
                            'medium', spec, req))
    return out


def large_spec(seed, n_hosts, per_host=10):
    return make_dc(seed * 31 + n_hosts, n_hosts, per_host=per_host)


def stack_request(seed, spec, n_servers=50):
    """The mixed-group stack used on large data centres (same seed, same
    patterns whatever the size, so growth rows are comparable)."""
    return make_request(seed * 13 + 5, spec, n_servers, stack='big')


# ------------------------------------------------------------------ hard set
def _demand(vcpus, ram_gb, disk_gb):
    return {VCPU: vcpus, MEM: int(ram_gb * 1024), DISK: disk_gb}


class _Crafted:
    """A hand-made data centre: hosts with exactly the free room wanted."""

    def __init__(self):
        self.hosts = []
        self.servers = []
        self.racks = []
        self.zones = []

    def host(self, name, shape, rack, zone, free=None):
        """``free`` = (vcpus, RAM GB, disk GB) left; None keeps it empty."""
        spec = host_spec(name, shape, rack, zone)
        self.hosts.append(spec)
        if rack not in self.racks:
            self.racks.append(rack)
        if zone not in self.zones:
            self.zones.append(zone)
        if free is not None:
            usable = _usable(spec)
            load = _demand(*free)
            demand = {rc: int(usable[rc] - load[rc]) for rc in usable}
            self.servers.append(datacenter.PlacedServer(
                id='load-%s' % name, host=name, demand=demand,
                stack='old'))
        return name

    def spec(self):
        return DCSpec(hosts=self.hosts, servers=self.servers, groups=[],
                      racks=self.racks, zones=self.zones)


def _request(stack, servers, groups=()):
    reqs = [r.ServerRequest(id='%s-%s' % (stack, sid), demand=demand,
                            groups=tuple(grps), availability_zone=az)
            for sid, demand, grps, az in servers]
    return r.PlacementRequest(servers=reqs, groups=list(groups),
                              stack=stack, project='tenant')


def hard_instances():
    """Feasible cases built to defeat a one-server-at-a-time search."""
    out = []

    # (a) Small servers arrive first and, spread onto the emptiest host,
    # take the only host that can hold a later large host-affinity group.
    c = _Crafted()
    c.host('a-h0', SHAPES[1], 'r0', 'az1')
    for k in range(1, 4):
        c.host('a-h%d' % k, SHAPES[0], 'r0', 'az1', free=(64, 16, 400))
    aff = g.Group('a-aff', g.AFFINITY, 'host')
    servers = [('small%d' % k, dict(DEMAND['m1.medium']), (), None)
               for k in range(3)]
    servers += [('big%d' % k, _demand(16, 62, 100), (aff.name,), None)
                for k in range(4)]
    out.append(Instance('hard-a-affinity-after-smalls', 'hard', c.spec(),
                        _request('ha', servers, [aff]),
                        'large host-affinity group after small servers'))

    # (b) Dedicated, distinct hosts on a tight rack: three empty hosts for
    # three exclusive servers, and plain servers that must go elsewhere.
    c = _Crafted()
    for k in range(3):
        c.host('b-h%d' % k, SHAPES[1], 'r0', 'az1')
    c.host('b-h3', SHAPES[1], 'r0', 'az1', free=(128, 64, 800))
    ex = g.Group('b-ex', g.EXCLUSIVITY, 'host')
    div = g.Group('b-div', g.DIVERSITY, 'host')
    servers = [('plain%d' % k, dict(DEMAND['m1.large']), (), None)
               for k in range(3)]
    servers += [('ded%d' % k, dict(DEMAND['m1.xlarge']),
                 (ex.name, div.name), None) for k in range(3)]
    out.append(Instance('hard-b-exclusive-diverse-rack', 'hard', c.spec(),
                        _request('hb', servers, [ex, div]),
                        'host exclusivity + diversity on a tight rack'))

    # (c) Rack diversity with few racks: the best-fit first choice for the
    # big member takes the only rack the zone-pinned member can use.
    c = _Crafted()
    c.host('c-r1h0', SHAPES[2], 'r1', 'az1')
    c.host('c-r1h1', SHAPES[0], 'r1', 'az1', free=(16, 12, 100))
    for rack in ('r2', 'r3'):
        for k in range(4):
            c.host('c-%sh%d' % (rack, k), SHAPES[1], rack, 'az2',
                   free=(156, 154, 1720))
    div = g.Group('c-div', g.DIVERSITY, 'rack')
    servers = [('big', _demand(32, 120, 200), (div.name,), None),
               ('pinned', dict(DEMAND['m1.large']), (div.name,), 'az1')]
    out.append(Instance('hard-c-rack-diversity-strand', 'hard', c.spec(),
                        _request('hc', servers, [div]),
                        'rack diversity, a zone-pinned member'))

    # (d) Bin packing where first-fit-decreasing with best fit fails:
    # 16,16,12,12,12,12 vCPUs into two hosts with 40 free each.
    c = _Crafted()
    for k in range(2):
        c.host('d-h%d' % k, SHAPES[0], 'r0', 'az1', free=(40, 100, 800))
    servers = [('v%d' % k, _demand(size, 2, 20), (), None)
               for k, size in enumerate((16, 16, 12, 12, 12, 12))]
    out.append(Instance('hard-d-binpack', 'hard', c.spec(),
                        _request('hd', servers),
                        'two hosts, a packing best-fit misses'))

    # (e) Rack exclusivity with a single empty rack: plain servers listed
    # first must not land on it.
    c = _Crafted()
    for k in range(4):
        c.host('e-r0h%d' % k, SHAPES[1], 'r0', 'az1', free=(200, 150, 1500))
        c.host('e-r1h%d' % k, SHAPES[1], 'r1', 'az1')
    ex = g.Group('e-ex', g.EXCLUSIVITY, 'rack')
    servers = [('plain%d' % k, dict(DEMAND['m1.large']), (), None)
               for k in range(4)]
    servers += [('ded%d' % k, dict(DEMAND['m1.xlarge']), (ex.name,), None)
                for k in range(3)]
    out.append(Instance('hard-e-rack-exclusive', 'hard', c.spec(),
                        _request('he', servers, [ex]),
                        'rack exclusivity, one empty rack'))

    # (f) Nested affinity in diversity: two host-affinity pairs on distinct
    # racks; each of two racks has one host big enough for a pair, and
    # large plain servers listed first are drawn to those hosts.
    c = _Crafted()
    for rack in ('r0', 'r1'):
        c.host('f-%sh0' % rack, SHAPES[1], rack, 'az1')
        for k in range(1, 4):
            c.host('f-%sh%d' % (rack, k), SHAPES[1], rack, 'az1',
                   free=(100, 70, 800))
    for k in range(2):
        c.host('f-r2h%d' % k, SHAPES[1], 'r2', 'az1', free=(100, 150, 800))
    div = g.Group('f-div', g.DIVERSITY, 'rack')
    pairs = [g.Group('f-aff%d' % k, g.AFFINITY, 'host', parents=(div.name,))
             for k in range(2)]
    servers = [('plain%d' % k, _demand(8, 140, 100), (), None)
               for k in range(2)]
    for k, pair in enumerate(pairs):
        servers += [('p%d%d' % (k, m), _demand(8, 60, 50), (pair.name,),
                     None) for m in range(2)]
    out.append(Instance('hard-f-nested-pairs', 'hard', c.spec(),
                        _request('hf', servers, [div] + pairs),
                        'affinity pairs in rack diversity'))

    # (g) Rack affinity that only the emptier rack can hold, after small
    # servers that a spreading scheduler sends there.
    c = _Crafted()
    for k in range(3):
        c.host('g-r0h%d' % k, SHAPES[1], 'r0', 'az1', free=(100, 60, 800))
        c.host('g-r1h%d' % k, SHAPES[1], 'r1', 'az1', free=(200, 114, 1500))
    aff = g.Group('g-aff', g.AFFINITY, 'rack')
    servers = [('small%d' % k, dict(DEMAND['m1.medium']), (), None)
               for k in range(6)]
    servers += [('big%d' % k, _demand(8, 56, 100), (aff.name,), None)
                for k in range(6)]
    out.append(Instance('hard-g-rack-affinity', 'hard', c.spec(),
                        _request('hg', servers, [aff]),
                        'rack affinity needing the emptier rack'))
    return out
