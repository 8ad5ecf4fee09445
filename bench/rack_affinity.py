"""Placement quality with rack-affinity groups, against the exact model.

Rack affinity is where a search that places one server after another opens
too many hosts: the rack is chosen by the first member, the rest must
follow. This generates small seeded instances where the rack decides the
count: two to four racks (40 to 60 hosts), each with its own host shape,
its own share of empty hosts and its used hosts filled to its own level,
so that racks differ in the room left on hosts in use and in the size of
their empty hosts. Every rack-affinity group is larger than the room on
the used hosts of any rack (it opens at least one host wherever it goes)
and fits, empty hosts included, in at least one rack. The requests hold
them in three shapes:

``plain``
    one or two rack-affinity groups beside a few plain servers;
``nested``
    two rack-affinity groups nested in a rack-diversity group (distinct
    racks);
``running``
    a rack-affinity group placed servers already belong to (their rack,
    one with little room, is fixed), and one in two times a second group
    free to choose.

and compares the new hosts valet's placement opens with the CP-SAT
optimum (``bench/exact.py``). Usage::

    python -m bench.rack_affinity [--count 30] [--seed 1]

Printed: per instance both counts, then how many placements equal the
optimum and the largest excess.
"""

import argparse
import dataclasses
import random
import sys

from valet.engine.model import groups as g
from valet.engine.model import request as r

from bench import exact
from bench import generator as gen
from bench import view as view_mod

SHAPES = ('plain', 'nested', 'running')
RCS = (gen.VCPU, gen.MEM, gen.DISK)
# At most this many servers per request (the exact model stays quick).
MAX_SERVERS = 30


def _rack_sizes(rng):
    n_racks = rng.choice((2, 3, 3, 4))
    total = rng.randint(40, 60)
    sizes = [total // n_racks] * n_racks
    for k in range(total - sum(sizes)):
        sizes[k] += 1
    # Uneven racks: move a few hosts from one to another.
    for _ in range(n_racks):
        a, b = rng.sample(range(n_racks), 2)
        step = rng.randint(0, 4)
        if sizes[a] - step >= 8:
            sizes[a] -= step
            sizes[b] += step
    return sizes


def make_spec(rng):
    """A data centre whose racks are mostly full at various levels."""
    hosts, racks, rack_of = [], [], {}
    for ri, size in enumerate(_rack_sizes(rng)):
        rack = 'r%02d' % ri
        racks.append(rack)
        shape = rng.choice(gen.SHAPES)
        for hi in range(size):
            own = shape if rng.random() < 0.8 else rng.choice(gen.SHAPES)
            hosts.append(gen.host_spec('%sh%02d' % (rack, hi), own, rack,
                                       'az1'))
            rack_of[hosts[-1].name] = rack
    filler = gen._Filler(hosts)
    for rack in racks:
        names = [h.name for h in hosts if rack_of[h.name] == rack]
        empty = rng.uniform(0.1, 0.5)
        used = [n for n in names if rng.random() >= empty] or names[:1]
        # The room left on the rack's used hosts (memory, GB), different
        # from rack to rack, in uneven shares.
        room = rng.choice((16, 48, 96, 160)) * 1024
        shares = [rng.random() for _ in used]
        for name, share in zip(used, shares):
            leave = room * share / sum(shares)
            target = 1.0 - leave / filler.usable[name][gen.MEM]
            for mix in (gen.FILL_MIX, gen.SMALL_MIX, (('m1.tiny', 1),)):
                misses = 0
                while misses < 4:
                    if filler.place(name, gen._pick(rng, mix)) is None:
                        misses += 1
                    elif filler.util(name) > target:
                        filler.unplace_last(name)
                        misses += 1
    spec = gen.DCSpec(hosts=hosts, servers=filler.servers(), groups=[],
                      racks=racks, zones=['az1'])
    return spec, filler, rack_of


def _room(filler, rack_of):
    """Per rack: room on used hosts and on empty ones (dicts), counted in
    whole m1.large servers (scraps no requested flavor uses are left out)."""
    unit = gen.DEMAND['m1.large']
    used, empty = {}, {}
    for rack in set(rack_of.values()):
        used[rack] = dict.fromkeys(RCS, 0.0)
        empty[rack] = dict.fromkeys(RCS, 0.0)
    for name, free in filler.free.items():
        box = (used if filler.on[name] else empty)[rack_of[name]]
        fit = min(int(free[rc] // unit[rc]) for rc in RCS)
        for rc in RCS:
            box[rc] += fit * unit[rc]
    return used, empty


def _beyond(demand, room, slack=1.0):
    return any(demand[rc] > slack * room[rc] for rc in RCS)


def _group_flavors(rng, used, empty, racks, most):
    """Flavors of one group too large for the used room of every rack in
    ``racks`` and small enough for some rack's whole room."""
    flavors, demand = [], dict.fromkeys(RCS, 0.0)
    while len(flavors) < most:
        if flavors and all(_beyond(demand, used[rk]) for rk in racks):
            break
        flavor = gen._pick(rng, gen.BIG_MIX)
        flavors.append(flavor)
        for rc in RCS:
            demand[rc] += gen.DEMAND[flavor].get(rc, 0)
    whole = {rk: {rc: used[rk][rc] + empty[rk][rc] for rc in RCS}
             for rk in racks}
    # A little more than needed, then trimmed back to what fits somewhere.
    extra = rng.randint(1, 6)
    for _ in range(min(extra, most - len(flavors))):
        flavor = gen._pick(rng, gen.BIG_MIX)
        flavors.append(flavor)
        for rc in RCS:
            demand[rc] += gen.DEMAND[flavor].get(rc, 0)
    while flavors and all(_beyond(demand, whole[rk], 0.8) for rk in racks):
        flavor = flavors.pop()
        for rc in RCS:
            demand[rc] -= gen.DEMAND[flavor].get(rc, 0)
    return flavors or ['m1.large']


def _add(servers, stack, flavors, groups):
    for flavor in flavors:
        servers.append(r.ServerRequest(
            id='%s-s%02d' % (stack, len(servers)),
            demand=dict(gen.DEMAND[flavor]), groups=tuple(groups)))


def make(seed, index):
    """One instance: (name, spec, request)."""
    rng = random.Random(seed * 6007 + index)
    shape = SHAPES[index % len(SHAPES)]
    spec, filler, rack_of = make_spec(rng)
    used, empty = _room(filler, rack_of)
    racks = list(spec.racks)
    # For ``running``: the rack with the least room on used hosts.
    fixed = min(racks, key=lambda rk: (used[rk][gen.MEM], rk))
    stack = 'ra%02d' % index
    groups, servers = [], []
    if shape == 'nested':
        div = g.Group('%s-div' % stack, g.DIVERSITY, 'rack')
        groups.append(div)
        for k in range(2):
            aff = g.Group('%s-aff%d' % (stack, k), g.AFFINITY, 'rack',
                          parents=(div.name,))
            groups.append(aff)
            _add(servers, stack, _group_flavors(rng, used, empty, racks, 12),
                 [aff.name])
    else:
        n_groups = 1 if shape == 'running' else rng.randint(1, 2)
        if shape == 'running' and rng.random() < 0.5:
            n_groups = 2
        for k in range(n_groups):
            aff = g.Group('%s-aff%d' % (stack, k), g.AFFINITY, 'rack')
            groups.append(aff)
            within = [fixed] if shape == 'running' and k == 0 else racks
            most = 14 if n_groups == 1 else 11
            _add(servers, stack, _group_flavors(rng, used, empty, within,
                                                most), [aff.name])
    _add(servers, stack, [gen._pick(rng, gen.BIG_MIX) for _ in range(
        min(rng.randint(2, 6), MAX_SERVERS - len(servers)))], [])
    if shape == 'running':
        placed = list(spec.servers)
        picks = [k for k, s in enumerate(placed) if rack_of[s.host] == fixed]
        for k in rng.sample(picks, min(2, len(picks))):
            placed[k] = dataclasses.replace(
                placed[k], groups=tuple(placed[k].groups) + (
                    groups[0].name,))
        spec = dataclasses.replace(spec, servers=placed,
                                   groups=list(spec.groups) + groups[:1])
    req = r.PlacementRequest(servers=servers, groups=groups, stack=stack,
                             project='tenant')
    name = 'rack-%02d-%s-%dh-%dr-%ds' % (
        index, shape, len(spec.hosts), len(racks), len(servers))
    return name, spec, req


def measure(seed=1, count=30, time_limit=20.0, out=sys.stdout):
    """Rows (name, valet new hosts, exact new hosts, exact optimal)."""
    from valet.engine.solver import decide
    rows = []
    for index in range(count):
        name, spec, req = make(seed, index)
        dc = spec.build()
        decision = decide(dc, req)
        mine = (view_mod.new_hosts(dc, decision.assignment)
                if decision.feasible else None)
        ref, info = exact.solve(dc, req, time_limit=time_limit, workers=2)
        best = view_mod.new_hosts(dc, ref) if ref else None
        rows.append((name, mine, best, bool(info.get('optimal'))))
        out.write('%-36s valet %-5s exact %-5s%s\n' % (
            name, mine, best, '' if info.get('optimal') else ' (not proven)'))
        out.flush()
    return rows


def summary(rows, out=sys.stdout):
    both = [(m, b) for _, m, b, _ in rows if m is not None and b is not None]
    equal = sum(1 for m, b in both if m <= b)
    excess = max((m - b for m, b in both), default=0)
    missed = sum(1 for _, m, b, _ in rows if m is None and b is not None)
    opening = sum(1 for _, b in both if b > 0)
    out.write('rack affinity: equal to the optimum on %d of %d (%.0f%%), '
              'largest excess %d, no placement where one exists %d '
              '(optimum opens hosts on %d)\n' % (
                  equal, len(both), 100.0 * equal / max(len(both), 1),
                  excess, missed, opening))
    return equal, len(both), excess, missed


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.rack_affinity')
    parser.add_argument('--count', type=int, default=30)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--exact-time-limit', type=float, default=20.0)
    args = parser.parse_args(argv)
    summary(measure(args.seed, args.count, args.exact_time_limit))
    return 0


if __name__ == '__main__':
    sys.exit(main())
