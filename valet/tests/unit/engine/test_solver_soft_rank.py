"""The soft affinity ranking against its formula worked out in full, on
search states part way into random placements (units kept together by
hard affinity, units a hard diversity group keeps apart, domains at the
host and rack levels)."""

import random

import numpy as np

from valet.engine.solver import problem as problem_mod
from valet.engine.solver import search as search_mod
from valet.engine.solver import SolverOptions
from valet.engine.solver.rules import soft
from valet.engine.solver.rules import soft_affinity
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server
from valet.tests.unit.engine.test_solver_soft import together
from valet.tests.unit.engine.test_solver_soft_speed import place_some


def _instance(rng):
    hosts = ['r%dh%d' % (r, h) for r in range(3) for h in range(3)]
    level = rng.choice(['host', 'rack'])
    groups = [together('t', level, rng.choice([1, 3])),
              base.affinity('p', 'host', parents=['t']),
              base.diversity('d', rng.choice(['host', 'rack']))]
    existing = [placed('o%d' % k, rng.choice(hosts), rng.choice([2, 6]),
                       groups=['t'])
                for k in range(rng.randint(0, 3))]
    servers = []
    for k in range(rng.randint(3, 8)):
        names = ['t'] + rng.sample(['p', 'd'], rng.randint(0, 1))
        servers.append(server('s%d' % k, rng.choice([1, 2, 4]),
                              ram=rng.choice([512, 1024, 4096]),
                              groups=names))
    dc = make_dc(racks=3, hosts_per_rack=3, existing=existing,
                 groups=groups)
    return dc, request(servers, groups)


def _rank_by_formula(tracker, i):
    """The ranking as first written: every piece a new array."""
    p, search = tracker.p, tracker.search
    mine = tracker.unit_of[i]
    counts = list(tracker.left)
    own = counts[mine]
    counts[mine] = 0
    dom = tracker.domains
    free = np.maximum(search.free, 0) * p.usable[:, None]
    if tracker.rule.level:
        into = np.zeros((len(tracker.count), p.slots))
        into[dom, np.arange(p.slots)] = 1.0
        free = into @ free
    inside = free - tracker.left_demand[mine]
    fits = (inside >= -soft.EPS).all(axis=1)
    inside = np.maximum(inside, 0)
    order = sorted([k for k, n in enumerate(counts) if n > 0],
                   key=lambda k: tracker.left_size[k] / counts[k])

    def fit(rows, kept):
        if not kept:
            return np.zeros(len(rows))
        cum = np.cumsum(tracker.left_demand[kept], axis=0) - soft.EPS
        held = np.full(len(rows), len(kept))
        for c in range(cum.shape[1]):
            held = np.minimum(held, np.searchsorted(
                cum[:, c], rows[:, c], side='right'))
        return np.concatenate(([0.0], np.cumsum(
            [float(counts[k]) for k in kept])))[held]

    away = fit(free, tracker._kept(order, 0))
    here = fit(inside, tracker._kept(order, tracker.bits[mine]))
    count = tracker.count if (tracker.rule.level or tracker.per_host) else (
        tracker.count[dom])
    ends_away = count + away
    ends_here = count + np.where(fits, here + own, 0)
    value = np.empty(len(ends_away))
    for d in range(len(value)):
        others = np.delete(ends_away, d)
        value[d] = max(ends_here[d], others.max() if others.size else 0)
    if tracker.rule.level:
        value = value[dom]
    return (value.max() - value) * tracker.weight


class TestSoftAffinityRank(base.SolverTestCase):

    def test_rank_is_the_formula(self):
        rng = random.Random(21)
        seen = apart = 0
        for _ in range(120):
            dc, req = _instance(rng)
            problem = problem_mod.Problem(dc, req)
            if problem.blocked:
                continue
            search = search_mod.Search(problem, SolverOptions())
            i = place_some(rng, search)
            if i is None:
                continue
            for tracker in search.server_soft[i]:
                # (the plain ranking, without units or diversity sets,
                # is another formula.)
                if (not isinstance(tracker.rule, soft_affinity.SoftAffinity)
                        or tracker.plain):
                    continue
                expected = _rank_by_formula(tracker, i)
                # Twice: the second reads the rows the first filled.
                for _ in range(2):
                    self.assertEqual(expected.tolist(),
                                     tracker.rank(i).tolist())
                seen += 1
                apart += bool(tracker.bits[tracker.unit_of[i]])
        self.assertGreater(seen, 40)
        self.assertGreater(apart, 5)
