"""The fixed costs of the proofs and the new-host bound on small requests
(valet/engine/solver/size_counts.py, proofs.py, rules/base.py,
rules/diversity.py).

Every resource class's size counts are counted together, the bound's
counts stop once they reach what a placement found opens, the model's
room is kept per model generation and the root masks are read from the
problem's cache: each must give the values the plain formulas give.
"""

import hypothesis
from hypothesis import strategies as st
import numpy as np

from valet.engine.solver import problem as problem_mod
from valet.engine.solver import proofs
from valet.engine.solver import root_view
from valet.engine.solver import search
from valet.engine.solver import size_counts
from valet.engine.solver import SolverOptions
from valet.engine.solver.rules import base as rules_base
from valet.engine.solver.rules.base import EPS
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server
from valet.tests.unit.engine.test_solver_size_counts import masks_and_asked

_ADD = np.add.reduce


def _plain_by_size(need, masks, row_masks=None):
    """``by_size`` as first written: a stable argsort of the negated
    demands, the union grown size by size."""
    order = (-need).argsort(kind='stable')
    ranked = need[order].tolist()
    out = []
    for k, size in enumerate(ranked):
        if size <= EPS or (k and size == ranked[k - 1]):
            continue
        rows = order[[j for j, v in enumerate(ranked) if v >= size - EPS]]
        where = np.zeros(len(masks.unique[0]), dtype=bool)
        for r in rows.tolist():
            for m in ([masks.index[r]] if row_masks is None
                      else row_masks[r]):
                where |= masks.unique[m]
        out.append((size, rows.tolist(), where))
    return out


def _plain_steps(need, column, masks, hosts, row_masks=None):
    out = []
    for size, big, where in _plain_by_size(need, masks, row_masks):
        room = column[where & hosts]
        out.append((size, sorted(big), float(_ADD(need[big])),
                    float(_ADD(room)),
                    int(_ADD(np.floor(room / size + EPS)))))
    return out


@st.composite
def _cases(draw):
    hosts = draw(st.integers(1, 10))
    rows = draw(st.integers(1, 9))
    classes = draw(st.integers(1, 3))
    kinds = draw(st.integers(1, 4))
    if draw(st.booleans()):
        values = st.integers(0, 40).map(float)
    else:
        values = st.floats(0, 40, allow_nan=False).map(
            lambda v: round(v, 2))

    def matrix(n):
        return np.array(draw(st.lists(
            st.lists(values, min_size=classes, max_size=classes),
            min_size=n, max_size=n)), dtype=float)

    need, room = matrix(rows), matrix(hosts)
    masks, asked = masks_and_asked(draw, hosts, rows, kinds)
    several = draw(st.booleans())
    row_masks = ([sorted({k % kinds, (k * 7 + 3) % kinds})
                  for k in range(rows)] if several else None)
    return need, room, masks, asked, row_masks


class TestClassSteps(base.SolverTestCase):

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(_cases())
    def test_every_class_as_the_plain_formula(self, case):
        need, room, masks, hosts, row_masks = case
        exact = size_counts.whole(need) and size_counts.whole(room)
        got = size_counts.class_steps(need, room, masks, hosts, row_masks,
                                      exact=exact)
        self.assertEqual(need.shape[1], len(got))
        for c, found in enumerate(got):
            self.assertEqual(
                _plain_steps(need[:, c], room[:, c], masks, hosts,
                             row_masks),
                [(s, sorted(b.tolist()), t, h, f)
                 for s, b, t, h, f in found], c)

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(_cases())
    def test_by_size_as_the_stable_argsort(self, case):
        need, _, masks, _, row_masks = case
        for c in range(need.shape[1]):
            got = size_counts.by_size(need[:, c], masks, row_masks)
            expect = _plain_by_size(need[:, c], masks, row_masks)
            self.assertEqual([(s, b) for s, b, _ in expect],
                             [(s, b.tolist()) for s, b, _ in got])
            for (_, _, want), (_, _, where) in zip(expect, got):
                np.testing.assert_array_equal(want, where)

    def test_ties_keep_row_order(self):
        masks = proofs._Masks([np.ones(2, dtype=bool)], [0] * 5)
        need = np.array([1.0, 3.0, 1.0, 3.0, 0.0])
        got = size_counts.by_size(need, masks)
        self.assertEqual([[1, 3], [1, 3, 0, 2]],
                         [big.tolist() for _, big, _ in got])

    def test_no_rows(self):
        masks = proofs._Masks([np.ones(2, dtype=bool)], [])
        self.assertEqual([[], []], size_counts.class_steps(
            np.zeros((0, 2)), np.ones((2, 2)), masks,
            np.ones(2, dtype=bool), exact=True))


def _pairs(seed):
    """Host-affinity pairs, a host diversity group and singles on hosts
    partly in use (the bound's unit counts have work to do)."""
    rng = np.random.default_rng(seed)
    existing = [placed('old%d' % h, 'r0h%d' % h, int(rng.integers(1, 7)))
                for h in range(5)]
    dc = make_dc(racks=1, hosts_per_rack=8, existing=existing)
    groups, servers = [diversity('D')], []
    for k in range(3):
        groups.append(affinity('P%d' % k))
        for j in range(2):
            names = ['P%d' % k] + (['D'] if j == 0 else [])
            servers.append(server('p%d_%d' % (k, j),
                                  int(rng.integers(1, 4)),
                                  ram=int(rng.choice([512, 2048])),
                                  groups=names))
    servers += [server('s%d' % k, int(rng.integers(1, 5)))
                for k in range(3)]
    return dc, request(servers, groups)


class TestBoundStopsAtEnough(base.SolverTestCase):

    def _facts(self, seed):
        p = problem_mod.Problem(*_pairs(seed))
        facts = proofs._facts(p, search.Search(p, SolverOptions()))
        in_use = p.usable & (p.base_count > 0)
        masks = proofs._Masks([m & in_use for m in facts.masks().unique],
                              facts.masks().index)
        return p, facts, masks, in_use, p.usable & ~in_use

    def test_counts_reach_enough_or_their_whole_value(self):
        seen = set()
        for seed in range(15):
            p, facts, masks, in_use, empty = self._facts(seed)
            for count in (facts.unit_classes, facts.size_classes):
                whole = count(masks, in_use, empty)
                seen.add(whole)
                for enough in range(0, whole + 2):
                    got = count(masks, in_use, empty, enough)
                    # Stopped early: at least enough, never above the
                    # whole count.
                    self.assertLessEqual(got, whole)
                    self.assertGreaterEqual(got, min(enough, whole))
        self.assertGreater(len(seen), 1, seen)

    def test_bound_with_enough_as_without_up_to_enough(self):
        for seed in range(15):
            p, facts, _, in_use, _ = self._facts(seed)
            whole = proofs.lower_bound(p, facts.s, in_use)
            for enough in range(0, whole + 2):
                got = proofs.lower_bound(p, facts.s, in_use, enough)
                self.assertEqual(min(whole, enough), min(got, enough))
                self.assertLessEqual(got, whole)


class TestModelRoom(base.SolverTestCase):

    def test_room_kept_per_generation_when_nothing_moves(self):
        dc, req = _pairs(2)
        p = problem_mod.Problem(dc, req)
        room = proofs._room(p)
        np.testing.assert_array_equal(np.maximum(p.free, 0), room)
        self.assertFalse(room.flags.writeable)
        self.assertIs(room, proofs._room(problem_mod.Problem(dc, req)))
        self.assertEqual(size_counts.whole(room),
                         proofs._room_whole(p, room))
        # A new generation: its own room.
        dc.generation += 1
        again = proofs._room(problem_mod.Problem(dc, req))
        self.assertIsNot(room, again)
        np.testing.assert_array_equal(room, again)

    def test_room_of_a_problem_that_moves_its_own(self):
        dc, req = _pairs(2)
        p = problem_mod.Problem(dc, req)
        p.moving = {'x'}
        p.free = p.free - 1.5
        room = proofs._room(p)
        np.testing.assert_array_equal(np.maximum(p.free, 0), room)
        self.assertFalse(proofs._room_whole(p, room))


class TestRootMasksRead(base.SolverTestCase):

    def test_union_and_masks_as_root_feasible(self):
        dc, req = _pairs(4)
        p = problem_mod.Problem(dc, req)
        view = root_view.RootView(p, SolverOptions())
        # Some masks worked out before, some not.
        rules_base.root_feasible(view, 0)
        members = list(range(len(p.servers)))
        expect = np.zeros(p.slots, dtype=bool)
        for i in members:
            expect |= search.Search(p, SolverOptions()).feasible_mask(i)
        np.testing.assert_array_equal(
            expect, rules_base.root_union(view, members))
        masks = proofs._Facts(p, view).masks()
        fresh = search.Search(p, SolverOptions())
        for i in members:
            np.testing.assert_array_equal(fresh.feasible_mask(i), masks[i])

    def test_all_masks_as_root_feasible_one_by_one(self):
        for seed in range(4):
            dc, req = _pairs(seed)
            p = problem_mod.Problem(dc, req)
            view = root_view.RootView(p, SolverOptions())
            rules_base.root_feasible(view, seed)
            got = rules_base.root_feasible_all(view)
            fresh = search.Search(p, SolverOptions())
            self.assertEqual(len(p.servers), len(got))
            for i, mask in enumerate(got):
                # The problem's cached array, as root_feasible has it.
                self.assertIs(rules_base.root_feasible(view, i), mask)
                np.testing.assert_array_equal(fresh.feasible_mask(i), mask)
            self.assertTrue(rules_base.has_hard_rules(p))

    def test_all_masks_once_placed_are_the_searchs(self):
        dc, req = _pairs(1)
        p = problem_mod.Problem(dc, req)
        s = search.Search(p, SolverOptions())
        first = s.feasible_mask(0).nonzero()[0][0]
        s.apply(0, int(first))
        got = rules_base.root_feasible_all(s)
        for i in range(len(p.servers)):
            np.testing.assert_array_equal(s.feasible_mask(i), got[i])

    def test_no_hard_rules(self):
        dc = make_dc(racks=1, hosts_per_rack=2)
        p = problem_mod.Problem(dc, request([server('a'), server('b')], []))
        self.assertFalse(rules_base.has_hard_rules(p))

    def test_diversity_owned_units(self):
        dc = make_dc(racks=1, hosts_per_rack=4, existing=[
            placed('old', 'r0h1', groups=['D'])])
        req = request([server('a', groups=['D']), server('b', groups=['D'])],
                      [diversity('D')])
        p = problem_mod.Problem(dc, req)
        rule = [c for c in p.constraints if c.kind == 'diversity'][0]
        self.assertEqual(frozenset(rule.owner[rule.owner >= 0].tolist()),
                         rule.owned)
        self.assertTrue(rule.owned)


def _hold_plain(facts, level, hosts, members):
    """``_hold`` as first written: each class's room per host anew."""
    p = facts.p
    dom = p.domain[level]
    keep = hosts & (dom >= 0)
    ndom = p.dc.domain_count(level)
    least = p.demand[members].min(axis=0)
    hold = np.full(ndom, len(members), dtype=np.int64)
    for c in np.flatnonzero(least > EPS):
        per_host = np.floor(facts.room[keep, c] / least[c] + EPS)
        hold = np.minimum(hold, np.bincount(
            dom[keep], weights=per_host, minlength=ndom).astype(np.int64))
    return hold


class TestHold(base.SolverTestCase):

    def test_as_the_plain_formula(self):
        seen = set()
        for seed in range(12):
            rng = np.random.default_rng(seed)
            existing = [placed('old%d' % h, 'r%dh%d' % (h % 2, h // 2),
                               int(rng.integers(1, 7)),
                               ram=int(rng.integers(1, 9)) * 1024)
                        for h in range(6)]
            dc = make_dc(racks=2, hosts_per_rack=4, existing=existing)
            servers = [server('s%d' % k, int(rng.integers(0, 4)),
                              ram=int(rng.choice([0, 512, 4096])),
                              disk=int(rng.integers(0, 3)))
                       for k in range(5)]
            p = problem_mod.Problem(dc, request(servers))
            facts = proofs._Facts(p, root_view.RootView(
                p, SolverOptions()))
            for level in (0, 1):
                for members in ([0], [1, 2], list(range(5))):
                    hosts = rng.random(p.slots) < 0.7
                    want = _hold_plain(facts, level, hosts, members)
                    got = facts._hold(level, hosts, members)
                    np.testing.assert_array_equal(want, got)
                    self.assertEqual(want.dtype, got.dtype)
                    seen.add(tuple(got.tolist()))
        self.assertGreater(len(seen), 3)


class TestDomains(base.SolverTestCase):

    def test_as_the_plain_formula(self):
        # The host level's ids are the host indices (read as they are);
        # the rack level's are counted.
        dc = make_dc(racks=3, hosts_per_rack=4)
        p = problem_mod.Problem(dc, request([server('s', 1)]))
        facts = proofs._Facts(p, root_view.RootView(p, SolverOptions()))
        self.assertTrue(rules_base.own_domains(p, 0))
        self.assertFalse(rules_base.own_domains(p, 1))
        rng = np.random.default_rng(3)
        for level in (0, 1):
            for _ in range(5):
                hosts = rng.random(p.slots) < 0.4
                dom = p.domain[level]
                want = np.zeros(p.dc.domain_count(level), dtype=bool)
                want[dom[hosts & (dom >= 0)]] = True
                np.testing.assert_array_equal(
                    want, facts._domains(level, hosts))


def _affinity_explain_plain(rule, problem):
    """``Affinity.explain``'s room per domain as first written: every
    host's room, zero off the members' static masks."""
    ok_hosts = np.ones(problem.slots, dtype=bool)
    for m in rule.members:
        ok_hosts &= problem.static[m]
    dom = problem.domain[rule.level]
    need = problem.demand[rule.members].sum(axis=0)
    free = np.where(ok_hosts[:, None], np.maximum(problem.free, 0), 0)
    valid = dom >= 0
    ndom = problem.dc.domain_count(rule.level)
    dom_free = np.stack([np.bincount(dom[valid], weights=free[valid][:, c],
                                     minlength=ndom)
                         for c in range(free.shape[1])], axis=1)
    if rule.allowed is not None:
        keep = np.zeros(ndom, dtype=bool)
        keep[rule.allowed] = True
        dom_free = np.where(keep[:, None], dom_free, 0)
    if np.all(dom_free >= need - EPS, axis=1).any():
        return []
    best = int(np.argmax((dom_free / np.maximum(need, EPS)).min(
        axis=1))) if ndom else 0
    return [problem.vector(need),
            problem.vector(dom_free[best]) if ndom else {}]


class TestAffinityExplain(base.SolverTestCase):

    def test_room_as_the_plain_formula(self):
        outcomes = set()
        for seed in range(20):
            rng = np.random.default_rng(seed)
            existing = [placed('old%d' % h, 'r%dh%d' % (h % 2, h // 2),
                               int(rng.integers(1, 8)),
                               ram=int(rng.integers(1, 15)) * 1024,
                               groups=['A1'] if h == 0 and seed % 2 else ())
                        for h in range(8)]
            dc = make_dc(racks=2, hosts_per_rack=4, existing=existing,
                         groups=[affinity('A1', level='rack')])
            servers = []
            for k in range(4):
                extra = {}
                if k == 1 and seed % 3 == 0:
                    extra['candidate_hosts'] = frozenset(
                        ['r0h0', 'r1h1', 'r1h2'])
                servers.append(server(
                    's%d' % k, int(rng.integers(1, 5)),
                    ram=int(rng.integers(1, 9)) * 1024,
                    groups=['A0'] if k < 2 else ['A1'], **extra))
            p = problem_mod.Problem(dc, request(
                servers, [affinity('A0'), affinity('A1', level='rack')]))
            for rule in p.constraints:
                if rule.kind != 'affinity':
                    continue
                got = rule.explain(p, None)
                want = _affinity_explain_plain(rule, p)
                if not want:
                    self.assertEqual([], got)
                else:
                    self.assertEqual(want, [got[0]['needs'],
                                            got[0]['most_room']])
                outcomes.add(bool(want))
        self.assertEqual({True, False}, outcomes)
