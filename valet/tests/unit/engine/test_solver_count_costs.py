"""What the counts of the new-host bound and the proofs cost
(valet/engine/solver/proofs.py, rules/base.py).

The bound is asked on every request that places: its counts must give
the values they always gave, with less work (each mask's union, domains
and room once, not once per size or per member).
"""

import numpy as np

from valet.engine.solver import problem as problem_mod
from valet.engine.solver import proofs
from valet.engine.solver.rules import base as rules_base
from valet.engine.solver.rules.base import EPS
from valet.engine.solver import search
from valet.engine.solver import size_counts
from valet.engine.solver import SolverOptions
from valet.objects import group_kinds
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server


def _unit_classes_per_size(facts, masks, in_use, empty):
    """``unit_classes`` as it was written first: every size anew (the
    union of all its items' masks, every diversity unit worked out)."""
    p = facts.p
    items = proofs._host_units(p)
    if len(items) == len(p.servers):
        return 0
    need = np.array([p.demand[m].sum(axis=0) for m in items])
    apart = []
    for _, rule in facts._rules(group_kinds.DIVERSITY):
        if rule.shared or len(apart) >= proofs.APART_RULES:
            continue
        apart.append([next((rule.unit[i] for i in m if i in rule.unit),
                           None) for m in items])
    most = (facts.room[empty].max(axis=0) if empty.any()
            else np.zeros(need.shape[1]))
    bound = 0
    for c in range(need.shape[1]):
        for size in sorted(set(need[need[:, c] > EPS, c].tolist()),
                           reverse=True):
            big = [k for k in range(len(items))
                   if need[k, c] >= size - EPS]
            where = masks.union([i for k in big for i in items[k]])
            room = facts.room[where & in_use, c]
            extra = len(big) - int(np.floor(room / size + EPS).sum())
            if extra <= 0:
                continue
            per = facts._per_host(need[big], most,
                                  [[u[k] for k in big] for u in apart])
            if per <= 0:
                return len(p.servers) + 1
            bound = max(bound, -(-extra // per))
    return bound


def _pairs(seed, pairs=4, singles=3):
    """Host-affinity pairs (some in a host diversity group) and single
    servers of random sizes, on hosts partly in use."""
    rng = np.random.default_rng(seed)
    existing = [placed('old%d' % h, 'r0h%d' % h, int(rng.integers(1, 7)))
                for h in range(5)]
    dc = make_dc(racks=1, hosts_per_rack=8, existing=existing)
    groups, servers = [diversity('D')], []
    for k in range(pairs):
        groups.append(affinity('P%d' % k))
        for j in range(2):
            names = ['P%d' % k] + (['D'] if j == 0 and k % 2 else [])
            servers.append(server('p%d_%d' % (k, j),
                                  int(rng.integers(1, 4)),
                                  ram=int(rng.choice([512, 2048])),
                                  groups=names))
    servers += [server('s%d' % k, int(rng.integers(1, 5)))
                for k in range(singles)]
    return dc, request(servers, groups)


class TestUnitClasses(base.SolverTestCase):

    def _facts(self, dc, req):
        p = problem_mod.Problem(dc, req)
        root = search.Search(p, SolverOptions())
        facts = proofs._facts(p, root)
        in_use = p.usable & (p.base_count > 0)
        masks = proofs._Masks([m & in_use for m in facts.masks().unique],
                              facts.masks().index)
        return facts, masks, in_use, p.usable & ~in_use

    def test_same_bound_as_a_count_per_size(self):
        seen = set()
        for seed in range(12):
            facts, masks, in_use, empty = self._facts(*_pairs(seed))
            got = facts.unit_classes(masks, in_use, empty)
            self.assertEqual(
                _unit_classes_per_size(facts, masks, in_use, empty), got,
                seed)
            seen.add(got)
        # The cases are not all trivial.
        self.assertGreater(len(seen), 1, seen)

    def test_diversity_units_only_when_a_size_is_short(self):
        # Nothing placed: the hosts in use take nothing, so a size is
        # short and the diversity units are asked once.
        facts, masks, in_use, empty = self._facts(*_pairs(1))
        calls = []
        real = facts._apart_units
        self.patch(facts, '_apart_units',
                   lambda items: calls.append(1) or real(items))
        facts.unit_classes(masks, in_use, empty)
        self.assertLessEqual(len(calls), 1)
        # Room enough on the hosts in use: never asked.
        dc = make_dc(racks=1, hosts_per_rack=4, existing=[
            placed('old%d' % h, 'r0h%d' % h) for h in range(4)])
        req = request([server('a', groups=['P']), server('b', groups=['P'])],
                      [affinity('P')])
        facts, masks, in_use, empty = self._facts(dc, req)
        self.patch(facts, '_apart_units', lambda items: self.fail('asked'))
        self.assertEqual(0, facts.unit_classes(masks, in_use, empty))


class TestPieces(base.SolverTestCase):

    def test_by_size_rows_of_several_masks(self):
        rng = np.random.default_rng(5)
        unique = [rng.random(10) < 0.3 for _ in range(4)]
        masks = proofs._Masks(unique, [0, 1, 2, 3])
        rows = [[0, 2], [1], [3], [2]]
        need = np.array([3.0, 5.0, 1.0, 3.0])
        got = list(size_counts.by_size(need, masks, rows))
        self.assertEqual([5.0, 3.0, 1.0], [g[0] for g in got])
        for size, big, where in got:
            expect = np.flatnonzero(need >= size)
            self.assertEqual(sorted(expect.tolist()), sorted(big.tolist()))
            union = np.zeros(10, dtype=bool)
            for r in expect:
                for k in rows[r]:
                    union |= unique[k]
            self.assertTrue(np.array_equal(union, where))

    def test_item_demand_sums_items_and_keeps_single_rows(self):
        demand = np.array([[1.0, 512.0], [2.0, 256.0], [4.0, 1.0]])
        got = proofs._item_demand(demand, [[1, 2], [0]])
        self.assertEqual([[6.0, 257.0], [1.0, 512.0]], got.tolist())
        # A copy: the problem's demand stays as it was.
        got[1, 0] = 9.0
        self.assertEqual(1.0, demand[0, 0])

    def test_root_union_adds_each_shared_mask_once(self):
        dc = make_dc(racks=1, hosts_per_rack=6)
        req = request([server('x%d' % i, 2) for i in range(5)])
        p = problem_mod.Problem(dc, req)
        root = search.Search(p, SolverOptions())
        expect = np.zeros(p.slots, dtype=bool)
        for i in range(5):
            expect |= rules_base.root_feasible(root, i)
        ors = []

        class Spy(np.ndarray):
            def __ior__(self, other):
                ors.append(1)
                return np.ndarray.__ior__(self, other)

        real = np.zeros
        self.patch(rules_base.np, 'zeros',
                   lambda *a, **kw: real(*a, **kw).view(Spy))
        got = rules_base.root_union(root, range(5))
        self.assertTrue(np.array_equal(expect, got))
        # Five alike servers: one mask.
        self.assertEqual(1, len(ors))

    def test_affinity_room_only_on_a_common_domain(self):
        # The pair's masks share no host: no room needs counting.
        dc = make_dc(racks=1, hosts_per_rack=2)
        req = request([server('a', 8, groups=['P']),
                       server('b', 8, groups=['P']), server('c', 8)],
                      [affinity('P')])
        p = problem_mod.Problem(dc, req)
        facts = proofs._facts(p, search.Search(p, SolverOptions()))
        self.patch(facts, '_domain_room',
                   lambda level, hosts: self.fail('room counted'))
        self.assertEqual('P', facts.affinity(p.usable)[0]['group'])

    def test_diversity_domains_once_per_mask_and_level(self):
        # Two host diversity groups over the same alike servers.
        dc = make_dc(racks=2, hosts_per_rack=3)
        req = request([server('x%d' % i, groups=['D', 'E'])
                       for i in range(3)], [diversity('D'), diversity('E')])
        p = problem_mod.Problem(dc, req)
        facts = proofs._facts(p, search.Search(p, SolverOptions()))
        calls = []
        real = facts._domains
        self.patch(facts, '_domains',
                   lambda level, hosts: calls.append(level) or real(
                       level, hosts))
        self.assertEqual(0, facts.diversity(p.usable, count=True))
        distinct = len(set(facts.masks().index.tolist()))
        self.assertEqual(distinct, len(calls))
