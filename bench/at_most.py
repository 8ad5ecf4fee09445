"""Benchmark instances with at-most groups ("no more than k per domain")
and spread groups ("spread evenly, at most s ahead of the emptiest").

Seeded like the other instances (``bench/generator.py``): the same data
centres, and requests whose servers join one or two at-most groups at
host level (k from 1 to 4) or rack level (4 to 12), some of them also in a host
diversity group or in affinity pairs nested in the at-most group, and
some placed servers already members (they count against k). Small ones
(at most 30 servers, 60 hosts) go to the exact model too. With
``kind=SPREAD`` the groups are spread groups instead (max skew 1 to 3 at
host or rack level); with ``kind=SOFT`` soft-affinity or soft-diversity
groups (weight 1 to 5, at host or rack level).
"""

import dataclasses
import random

from bench import generator as gen
from valet.engine.model import groups as g
from valet.engine.model import request as r

# bench.solver_compare builds these instances against older trees too,
# whose model has no at-most groups: their solver then refuses the kind.
AT_MOST = getattr(g, 'AT_MOST', 'at-most')
SPREAD = getattr(g, 'SPREAD', 'spread')
SOFT_AFFINITY = getattr(g, 'SOFT_AFFINITY', 'soft-affinity')
SOFT_DIVERSITY = getattr(g, 'SOFT_DIVERSITY', 'soft-diversity')
# Either soft kind, drawn per group.
SOFT = 'soft'


def _limit_group(name, level, limit, kind=AT_MOST):
    field = {SPREAD: 'max_skew', AT_MOST: 'max_per_domain'}.get(
        kind, 'weight')
    try:
        return g.Group(name, kind, level, **{field: limit})
    except TypeError:
        return g.Group(name, kind, level)


def _request(rng, spec, n_servers, stack, mix, kind=AT_MOST):
    limits = []
    for k in range(rng.choice([1, 1, 2])):
        level = rng.choice(['host', 'host', 'rack'])
        group_kind = kind
        if kind == SOFT:
            group_kind = rng.choice([SOFT_AFFINITY, SOFT_DIVERSITY])
            limit = rng.randint(1, 5)
        elif kind == SPREAD:
            limit = rng.randint(1, 3)
        else:
            # Racks are few: rack limits large enough to be feasible
            # mostly.
            limit = (rng.randint(1, 4) if level == 'host'
                     else rng.randint(4, 12))
        limits.append(_limit_group('%s-most%d' % (stack, k), level, limit,
                                   group_kind))
    groups = list(limits)
    div = g.Group('%s-div' % stack, g.DIVERSITY, 'host')
    servers, pair = [], 0
    while len(servers) < n_servers:
        flavor = gen._pick(rng, mix)
        member = [rng.choice(limits).name] if rng.random() < 0.8 else []
        roll = rng.random()
        if roll < 0.2 and member:
            member.append(div.name)
            if div not in groups:
                groups.append(div)
        elif roll < 0.35 and member and len(servers) + 2 <= n_servers:
            name = '%s-pair%d' % (stack, pair)
            pair += 1
            groups.append(g.Group(name, g.AFFINITY, 'host',
                                  parents=(member[0],)))
            for _ in range(2):
                servers.append(r.ServerRequest(
                    id='%s-s%d' % (stack, len(servers)),
                    demand=dict(gen.DEMAND[flavor]), groups=(name,)))
            continue
        servers.append(r.ServerRequest(
            id='%s-s%d' % (stack, len(servers)),
            demand=dict(gen.DEMAND[flavor]), groups=tuple(member)))
    return r.PlacementRequest(servers=servers, groups=groups, stack=stack,
                              project='tenant'), limits


def _with_placed_members(rng, spec, limits):
    """A few servers already running join the request's at-most groups."""
    servers = list(spec.servers)
    for group in limits:
        for _ in range(rng.randint(0, 3)):
            k = rng.randrange(len(servers))
            servers[k] = dataclasses.replace(
                servers[k], groups=tuple(servers[k].groups) + (group.name,))
    return dataclasses.replace(spec, servers=servers,
                               groups=list(spec.groups) + list(limits))


def instances(seed, count, hosts=(24, 60), servers=(5, 30), prefix='most',
              kind=AT_MOST):
    """``count`` instances; every other one tight (new hosts needed)."""
    out = []
    for i in range(count):
        rng = random.Random(seed * 7919 + i)
        n_hosts = rng.randint(*hosts)
        n_servers = rng.randint(*servers)
        tight = i % 2 == 1
        spec = gen.make_dc(seed * 7919 + i, n_hosts,
                           profile=gen.TIGHT if tight else gen.MIXED,
                           named=False)
        req, limits = _request(rng, spec, n_servers, '%s%02d' % (prefix, i),
                               gen.BIG_MIX if tight else gen.REQUEST_MIX,
                               kind)
        if rng.random() < 0.5:
            spec = _with_placed_members(rng, spec, limits)
        out.append(gen.Instance('%s-%02d%s-%dh-%ds' % (
            prefix, i, 't' if tight else '', n_hosts, n_servers),
            'small' if n_hosts <= 60 and n_servers <= 30 else 'medium',
            spec, req))
    return out
