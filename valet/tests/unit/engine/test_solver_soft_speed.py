"""The improvement phase's per-node shortcuts for soft groups (search.py,
rules/soft*.py) answer what the plain formulas answer: which hosts can
still beat the best cost, whether a tried host cannot, a host's added
violations, and the soft affinity ranking's cached pieces."""

import random

import numpy as np

from valet.engine.solver import problem as problem_mod
from valet.engine.solver import search as search_mod
from valet.engine.solver import SolverOptions
from valet.engine.solver.rules import soft
from valet.engine.solver.rules import soft_affinity
from valet.engine.solver.rules.base import EPS
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server
from valet.tests.unit.engine.test_solver_soft import apart
from valet.tests.unit.engine.test_solver_soft import together


def _instance(rng):
    hosts = ['r%dh%d' % (r, h) for r in range(3) for h in range(3)]
    groups = [together('t', rng.choice(['host', 'rack']),
                       rng.choice([1, 3])),
              apart('a', rng.choice(['host', 'rack']), rng.choice([1, 2])),
              base.affinity('p', 'host', parents=['t'])]
    existing = [placed('o%d' % k, rng.choice(hosts), rng.choice([2, 6]),
                       groups=[rng.choice(['t', 'a'])])
                for k in range(rng.randint(0, 3))]
    servers = []
    for k in range(rng.randint(3, 7)):
        names = rng.sample(['t', 'a', 'p'], rng.randint(1, 2))
        if 'p' in names and 't' not in names:
            names.append('t')
        servers.append(server('s%d' % k, rng.choice([1, 2, 4]),
                              groups=names))
    dc = make_dc(racks=3, hosts_per_rack=3, existing=existing,
                 groups=groups)
    return dc, request(servers, groups)


def _can_beat_by_formula(search, i, best_cost, need):
    """The cost bound per host worked out in full (no masks, every
    opening host's bound)."""
    base_cost = search.cost()
    lb_used = search.bound_for(need)
    if base_cost + lb_used * search.w_new >= best_cost:
        return np.zeros(search.p.slots, dtype=bool)
    cost = base_cost + search.opens * search.w_new
    for tracker in search.server_soft[i]:
        cost = cost + tracker.penalty(i) * search.soft_unit
    ok = cost + lb_used * search.w_new < best_cost
    maybe = (search.opens & ~ok & search.p.usable).nonzero()[0]
    if maybe.size:
        lbs = search.bounds_for(need[None, :] - np.maximum(
            search.free[maybe], 0))
        ok[maybe] = cost[maybe] + lbs * search.w_new < best_cost
    return ok


def _cannot_beat_by_formula(search, i, h, need, best_cost):
    opens = bool(search.opens[h])
    if opens:
        need = need - np.maximum(search.free[h], 0)
    cost = search.cost() + opens * search.w_new
    p = search.p
    for tracker in search.server_soft[i]:
        cost += (tracker.added(p.domain[tracker.rule.level, h])
                 * tracker.rule.weight * search.soft_unit)
    return cost + search.bound_for(need) * search.w_new >= best_cost


def _searches(seed, cases):
    """Search states part way into a placement, with a server to place."""
    rng = random.Random(seed)
    for _ in range(cases):
        dc, req = _instance(rng)
        problem = problem_mod.Problem(dc, req)
        if problem.blocked:
            continue
        search = search_mod.Search(problem, SolverOptions())
        i = place_some(rng, search)
        if i is not None:
            yield rng, search, i


def place_some(rng, search):
    """Place a random part of the servers on random feasible hosts; a
    server still to place, or None."""
    order = list(range(len(search.p.servers)))
    rng.shuffle(order)
    for i in order[:rng.randint(0, len(order) - 1)]:
        hosts = search.feasible_mask(i).nonzero()[0]
        if not hosts.size:
            break
        search.apply(i, int(rng.choice(hosts)))
    left = [i for i in order if search.assign[i] < 0]
    return rng.choice(left) if left else None


class TestImprovementShortcuts(base.SolverTestCase):

    def _best_costs(self, rng, search):
        # Around the current cost: a few new hosts and soft violations
        # more, where the shortcuts' thresholds lie.
        cost = search.cost()
        return sorted({cost + k * search.w_new + m * search.soft_unit
                       + rng.choice([-1, 0, 1])
                       for k in range(4) for m in range(4)})

    def test_can_beat_is_the_formula(self):
        seen = 0
        for rng, search, i in _searches(11, 60):
            need = search.deficit()
            for best in self._best_costs(rng, search):
                expected = _can_beat_by_formula(search, i, best, need)
                # The search's answer holds the feasible hosts only.
                expected &= search.feasible_mask(i)
                got = search._can_beat(i, best, need)
                self.assertEqual(expected.tolist(), got.tolist(), best)
                seen += bool(expected.any()) and not expected.all()
        self.assertGreater(seen, 20)

    def test_cannot_beat_is_the_formula(self):
        seen = 0
        for rng, search, i in _searches(12, 60):
            need = search.deficit()
            for best in self._best_costs(rng, search):
                for h in search.feasible_mask(i).nonzero()[0].tolist():
                    expected = _cannot_beat_by_formula(search, i, h, need,
                                                       best)
                    self.assertEqual(
                        expected, search._cannot_beat(i, h, need, best))
                    seen += not expected
        self.assertGreater(seen, 20)

    def test_added_on_and_adds_are_the_weighted_counts(self):
        for rng, search, i in _searches(13, 30):
            p = search.p
            for tracker in search.server_soft[i]:
                weight = tracker.rule.weight
                self.assertEqual(
                    (tracker.adds(i) * weight).tolist(),
                    tracker.penalty(i).tolist())
                for h in range(p.slots):
                    d = p.domain[tracker.rule.level, h]
                    self.assertEqual(tracker.added(d) * weight,
                                     tracker.added_on(h))


class TestAffinityRankingPieces(base.SolverTestCase):

    def test_fits_is_the_smallest_count_over_classes(self):
        rng = np.random.default_rng(3)
        for _ in range(50):
            rows = rng.integers(0, 6)
            cum = np.cumsum(rng.integers(1, 5, size=(rows, 3)),
                            axis=0) - EPS
            free = rng.integers(0, 12, size=(7, 3)).astype(float)
            expected = np.full(len(free), rows)
            for c in range(3):
                expected = np.minimum(expected, np.searchsorted(
                    cum[:, c], free[:, c], side='right'))
            self.assertEqual(expected.tolist(),
                             soft.fits(cum, free, rows).tolist())

    def test_sums_and_members_left_are_the_members(self):
        for rng, search, i in _searches(14, 30):
            p = search.p
            for tracker in search.server_soft[i]:
                rule = tracker.rule
                if not isinstance(rule, soft_affinity.SoftAffinity):
                    continue
                units = rule.structure(p)[0]
                demand, size = rule.unit_sums(p)
                for k, unit in enumerate(units):
                    self.assertEqual(
                        p.demand[list(unit)].sum(axis=0).tolist(),
                        demand[k].tolist())
                    self.assertEqual(p.size[list(unit)].sum(), size[k])
                left = tuple(m for m in tracker.by_size
                             if search.assign[m] < 0)
                expected = np.cumsum(p.demand[list(left)], axis=0) - EPS
                self.assertEqual(expected.tolist(),
                                 tracker._sizes_left(left).tolist())
                # Kept: asked again, the same array.
                self.assertIs(tracker._sizes_left(left),
                              tracker._sizes_left(left))


class TestSymmetryKey(base.SolverTestCase):

    def test_empty_alike_hosts_share_a_key(self):
        dc = make_dc(racks=2, hosts_per_rack=2,
                     existing=[placed('o0', 'r0h0', 2)])
        req = request([server('s0', groups=['g']),
                       server('s1', groups=['g'])],
                      [apart('g', 'rack')])
        problem = problem_mod.Problem(dc, req)
        search = search_mod.Search(problem, SolverOptions())
        slot = dc.slot_of
        keys = {h: search.symmetry_key(slot(h))
                for h in ('r0h0', 'r0h1', 'r1h0', 'r1h1')}
        # A running host is its own; empty ones share a key per rack.
        self.assertEqual(('host', slot('r0h0')), keys['r0h0'])
        self.assertEqual(keys['r1h0'], keys['r1h1'])
        self.assertNotEqual(keys['r0h1'], keys['r1h0'])
        token = search.apply(0, slot('r1h0'))
        self.assertEqual(('host', slot('r1h0')),
                         search.symmetry_key(slot('r1h0')))
        search.undo(0, slot('r1h0'), token)
        self.assertEqual(keys['r1h1'], search.symmetry_key(slot('r1h0')))
