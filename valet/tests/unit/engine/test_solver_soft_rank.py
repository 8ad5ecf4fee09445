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


def _instance(rng, fractional=False):
    hosts = ['r%dh%d' % (r, h) for r in range(3) for h in range(3)]
    level = rng.choice(['host', 'rack'])
    groups = [together('t', level, rng.choice([1, 3])),
              base.affinity('p', 'host', parents=['t']),
              base.diversity('d', rng.choice(['host', 'rack']))]
    existing = [placed('o%d' % k, rng.choice(hosts), rng.choice([2, 6]),
                       groups=['t'])
                for k in range(rng.randint(0, 3))]
    servers = []
    # Fractional demands, tiny ones among them: running sums in (0, EPS]
    # and what is left of a unit's sums off by a rounding.
    vcpus = [1e-10, 0.1, 0.3, 1e-10, 1.5] if fractional else [1, 2, 4]
    disks = [0, 1e-10, 1e-10, 0.7, 2] if fractional else [1]
    for k in range(rng.randint(3, 8)):
        names = ['t'] + rng.sample(['p', 'd'], rng.randint(0, 1))
        servers.append(server('s%d' % k, rng.choice(vcpus),
                              ram=rng.choice([512, 1024, 4096]),
                              disk=rng.choice(disks), groups=names))
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


def _room_just_short(rng, tracker, i):
    """The free room of some hosts, those with the most members first,
    made what i's unit demands less at most EPS in one resource class
    (the room left in [-EPS, 0]: clipped to 0 it holds tiny units, not
    as it is), plenty in the others."""
    need = tracker.left_demand[tracker.unit_of[i]]
    free = tracker.search.free
    most = np.argsort(-tracker.count.take(tracker.domains), kind='stable')
    for h in most[:3].tolist():
        free[h] = need + 1e5
        c = rng.randrange(len(need))
        free[h, c] = need[c] - rng.choice([0.0, 1e-10, 1e-9])


class TestSoftAffinityRank(base.SolverTestCase):

    def test_rank_is_the_formula(self):
        self._check_rank(random.Random(21), fractional=False)

    def test_rank_is_the_formula_with_fractional_demands(self):
        self._check_rank(random.Random(22), fractional=True)

    def _check_rank(self, rng, fractional):
        seen = apart = 0
        for _ in range(120):
            dc, req = _instance(rng, fractional)
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
                # (whole demands: the room left is not clipped.)
                self.assertEqual(not fractional, soft_affinity._whole_demands(
                    problem, tracker.rule))
                if fractional:
                    _room_just_short(rng, tracker, i)
                expected = _rank_by_formula(tracker, i)
                # Twice: the second reads the rows the first filled.
                for _ in range(2):
                    self.assertEqual(expected.tolist(),
                                     tracker.rank(i).tolist())
                seen += 1
                apart += bool(tracker.bits[tracker.unit_of[i]])
        self.assertGreater(seen, 40)
        self.assertGreater(apart, 5)
