"""Placement quality with rack-affinity groups, against the exact model.

Rack affinity is where a search that places one server after another opens
too many hosts: the rack is chosen by the first member, the rest must
follow. This generates small seeded instances (the engine benchmark's data
centres, 40 to 60 hosts in racks of 20 to 40, two in three tight) whose
requests hold rack-affinity groups in three shapes:

``plain``
    one or two rack-affinity groups of 6 to 16 servers, beside plain ones;
``nested``
    two rack-affinity groups of 4 to 10 nested in a rack-diversity group
    (two racks);
``running``
    a rack-affinity group some placed servers already belong to (their rack
    is fixed).

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


def _servers(rng, stack, count, groups, mix, start=0):
    return [r.ServerRequest(id='%s-s%d' % (stack, start + k),
                            demand=dict(gen.DEMAND[gen._pick(rng, mix)]),
                            groups=tuple(groups))
            for k in range(count)]


def make(seed, index):
    """One instance: (name, spec, request)."""
    rng = random.Random(seed * 6007 + index)
    shape = SHAPES[index % len(SHAPES)]
    # Two in three tight (few used hosts with room, large flavors): the
    # rack's empty hosts then decide the count.
    tight = (index // len(SHAPES)) % 3 != 0
    n_hosts = rng.randint(40, 60)
    spec = gen.make_dc(seed * 6007 + index, n_hosts,
                       profile=gen.TIGHT if tight else gen.MIXED,
                       named=False)
    mix = gen.BIG_MIX if tight else gen.REQUEST_MIX
    stack = 'ra%02d' % index
    groups, servers = [], []
    if shape == 'nested':
        div = g.Group('%s-div' % stack, g.DIVERSITY, 'rack')
        groups.append(div)
        for k in range(2):
            aff = g.Group('%s-aff%d' % (stack, k), g.AFFINITY, 'rack',
                          parents=(div.name,))
            groups.append(aff)
            servers += _servers(rng, stack, rng.randint(4, 10), [aff.name],
                                mix, len(servers))
    else:
        for k in range(1 if shape == 'running' else rng.randint(1, 2)):
            aff = g.Group('%s-aff%d' % (stack, k), g.AFFINITY, 'rack')
            groups.append(aff)
            servers += _servers(rng, stack, rng.randint(6, 16), [aff.name],
                                mix, len(servers))
    servers += _servers(rng, stack, rng.randint(2, 10), [], mix,
                        len(servers))
    if shape == 'running':
        # Placed servers of one rack join the group: its rack is fixed.
        placed = list(spec.servers)
        rack = rng.choice(sorted({h.domains['rack'] for h in spec.hosts}))
        on_rack = {h.name for h in spec.hosts if h.domains['rack'] == rack}
        picks = [k for k, s in enumerate(placed) if s.host in on_rack]
        for k in rng.sample(picks, min(2, len(picks))):
            placed[k] = dataclasses.replace(
                placed[k], groups=tuple(placed[k].groups) + (
                    groups[0].name,))
        spec = dataclasses.replace(spec, servers=placed,
                                   groups=list(spec.groups) + groups[:1])
    req = r.PlacementRequest(servers=servers, groups=groups, stack=stack,
                             project='tenant')
    name = 'rack-%02d%s-%s-%dh-%ds' % (index, 't' if tight else '', shape,
                                       n_hosts, len(servers))
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
        out.write('%-34s valet %-5s exact %-5s%s\n' % (
            name, mine, best, '' if info.get('optimal') else ' (not proven)'))
        out.flush()
    return rows


def summary(rows, out=sys.stdout):
    both = [(m, b) for _, m, b, _ in rows if m is not None and b is not None]
    equal = sum(1 for m, b in both if m <= b)
    excess = max((m - b for m, b in both), default=0)
    missed = sum(1 for _, m, b, _ in rows if m is None and b is not None)
    out.write('rack affinity: equal to the optimum on %d of %d (%.0f%%), '
              'largest excess %d, no placement where one exists %d\n' % (
                  equal, len(both), 100.0 * equal / max(len(both), 1),
                  excess, missed))
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
