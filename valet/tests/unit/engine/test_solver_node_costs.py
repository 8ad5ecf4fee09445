"""The search's per-node shortcuts answer as the plain formulas do."""

import hypothesis
from hypothesis import strategies as st
import numpy as np

from valet.engine import solver
from valet.engine.model import groups as groups_mod
from valet.engine.solver import budget as budget_mod
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import proofs
from valet.engine.solver import search as search_mod
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import group
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server

SETTINGS = hypothesis.settings(
    max_examples=min(100, hypothesis.settings().max_examples),
    suppress_health_check=[hypothesis.HealthCheck.too_slow])


def spread_mask_by_sorting(tracker):
    """The spread rule's mask as first written: sort the eligible
    domains' counts at every node."""
    rule, p = tracker.rule, tracker.p
    count, eligible = tracker.count, rule.eligible
    judged = count > rule.placed   # members placed here by the search
    fullest = int(count[judged].max()) if judged.any() else -1
    top = np.maximum(fullest, count + 1)
    floor = top - rule.skew
    low = np.sort(count[eligible])
    below = np.searchsorted(low, floor, side='left')
    sums = np.concatenate(([0], np.cumsum(low)))
    water = below * floor - sums[below]
    need = water - (eligible & (count < floor))
    ok = need <= tracker.left - 1
    safe, has = p.domain_index(rule.level)
    return has & ok[safe]


def _spread_problem(level, skew, existing, members):
    dc = make_dc(racks=3, hosts_per_rack=3, vcpus=64, ram=1 << 17,
                 existing=existing,
                 groups=[group('sp', groups_mod.SPREAD, level,
                               max_skew=skew)] if existing else ())
    req = request([server('m%d' % k, groups=('sp',))
                   for k in range(members)],
                  groups=[group('sp', groups_mod.SPREAD, level,
                                max_skew=skew)])
    return problem_mod.Problem(dc, req)


class TestSpreadMask(base.SolverTestCase):

    @hypothesis.given(st.sampled_from(['host', 'rack']),
                      st.integers(1, 3),
                      st.lists(st.integers(0, 8), max_size=6),
                      st.integers(1, 7),
                      st.lists(st.integers(0, 26), min_size=1, max_size=24))
    # A domain whose only newcomer is taken back is no longer judged.
    @hypothesis.example('host', 2, [5, 7, 7, 2, 1, 8], 7,
                        [2, 16, 21, 5, 5, 24, 4, 4, 26, 10, 9])
    @SETTINGS
    def test_counted_mask_matches_sorting(self, level, skew, on, members,
                                          steps):
        existing = [placed('o%d' % k, 'r%dh%d' % (h // 3, h % 3),
                           groups=('sp',)) for k, h in enumerate(on)]
        p = _spread_problem(level, skew, existing, members)
        hypothesis.assume(not p.blocked)
        s = search_mod.Search(p, solver.SolverOptions())
        tracker = [t for t in s.trackers if t.rule.kind == 'spread'][0]
        done = []
        # Place members on hosts the mask allows (any when none) and take
        # some back, as the search does: the mask agrees at every step.
        for step in steps:
            if step % 3 == 0 and done:
                i, h, undo = done.pop()
                s.undo(i, h, undo)
            elif len(done) < members:
                i = len(done)
                mask = tracker.mask(i)
                allowed = mask.nonzero()[0]
                h = int(allowed[step % len(allowed)]) if len(
                    allowed) else step % p.slots
                done.append((i, h, s.apply(i, h)))
            i = min(len(done), members - 1)
            np.testing.assert_array_equal(
                spread_mask_by_sorting(tracker), tracker.mask(i))
        for i, h, undo in reversed(done):
            s.undo(i, h, undo)
        np.testing.assert_array_equal(tracker.count, tracker.rule.placed)
        np.testing.assert_array_equal(
            spread_mask_by_sorting(tracker), tracker.mask(0))


class TestSearchState(base.SolverTestCase):

    def test_opens_follows_apply_and_undo(self):
        dc = make_dc(existing=[placed('o', 'r0h0')])
        p = problem_mod.Problem(dc, request(
            [server('a'), server('b'), server('c')]))
        s = search_mod.Search(p, solver.SolverOptions())

        def plain():
            # Empty hosts none of the request's servers is on.
            on = np.zeros(p.slots, dtype=bool)
            on[[h for h in s.assign if h >= 0]] = True
            return s.was_empty & ~on

        undos = []
        for i, h in ((0, 1), (1, 1), (2, 0)):
            undos.append((i, h, s.apply(i, h)))
            np.testing.assert_array_equal(plain(), s.opens)
        self.assertEqual(1, s.new_hosts)
        for i, h, undo in reversed(undos):
            s.undo(i, h, undo)
            np.testing.assert_array_equal(plain(), s.opens)
        self.assertEqual(0, s.new_hosts)

    def test_improvement_drops_candidates_that_cannot_beat_at_once(self):
        # Two servers on an empty data centre: the first placement opens
        # one host, which nothing beats. Going on from it, every depth's
        # candidates were ranked before that cost was known: each depth
        # is dropped whole, not host by host.
        p = problem_mod.Problem(make_dc(), request(
            [server('a'), server('b')]))
        s = search_mod.Search(p, solver.SolverOptions())
        s.root_bound = 0        # unproven: the first search keeps its tree
        order = [0, 1]
        status, best, cost = s.dfs(order, budget_mod.Budget(
            solver.SolverOptions(), p.slots, None), keep=True)
        self.assertEqual('found', status)
        self.assertEqual(search_mod.PRIMARY, cost)
        asked = []
        real = s._cannot_beat
        s._cannot_beat = lambda *a: asked.append(a) or real(*a)
        status, better, _ = s.resume(order, budget_mod.Budget(
            solver.SolverOptions(), p.slots, None), cost)
        self.assertEqual('exhausted', status)
        self.assertIsNone(better)
        self.assertEqual([], asked)
        self.assertEqual([-1, -1], s.assign)
        np.testing.assert_array_equal(p.free, s.free)


class TestCountedBound(base.SolverTestCase):

    def _bound(self, enough):
        # Three servers a host each, one host in use with room for none.
        dc = make_dc(existing=[placed('o', 'r0h0', vcpus=8)])
        p = problem_mod.Problem(dc, request(
            [server('a', 8), server('b', 8), server('c', 8)]))
        s = search_mod.Search(p, solver.SolverOptions())
        asked = []
        facts = proofs._facts(p, s)
        real = facts.diversity
        facts.diversity = lambda *a, **k: asked.append(a) or real(*a, **k)
        in_use = p.usable & (p.base_count > 0)
        return proofs.lower_bound(p, s, in_use, enough), asked

    def test_stops_once_a_count_reaches_the_placement_found(self):
        full, asked = self._bound(None)
        self.assertEqual(3, full)
        self.assertEqual(1, len(asked))
        # A placement opening 3 is met by the size count: the diversity
        # count after it is not asked, and the bound is the same.
        bound, asked = self._bound(3)
        self.assertEqual(3, bound)
        self.assertEqual([], asked)
        bound, asked = self._bound(4)
        self.assertEqual(3, bound)
        self.assertEqual(1, len(asked))


class TestCompileSharing(base.SolverTestCase):

    def test_alike_servers_share_masks_and_others_do_not(self):
        p = problem_mod.Problem(make_dc(), request(
            [server('a', 2), server('b', 2),
             server('c', 2, candidate_hosts={'r0h1'}), server('d', 3)]))
        self.assertIs(p.static[0], p.static[1])
        self.assertIs(p.static_reasons[0], p.static_reasons[1])
        self.assertEqual(['r0h1'], [p.dc.host_name(h) for h in
                                    p.static[2].nonzero()[0]])
        self.assertEqual(8, int(p.static[3].sum()))
        np.testing.assert_array_equal(p.demand[0], p.demand[1])
        self.assertEqual(3, p.demand[3][list(p.dc.resource_classes).index(
            base.VCPU)])

    def test_a_bad_demand_equal_to_a_good_one_is_still_refused(self):
        # True == 1 and hashes alike: the shared vectors must not let it in.
        req = request([server('a', vcpus=1), base.request_mod.ServerRequest(
            id='b', demand={base.VCPU: True, base.RAM: 512,
                            base.DISK: 1})])
        self.assertInvalid('valet.request.bad_demand', make_dc(), req)


class TestPerHost(base.SolverTestCase):

    def test_items_an_empty_host_takes_by_every_resource_class(self):
        need = np.array([[2.0, 1.0], [3.0, 1.0], [4.0, 5.0]])
        per_host = proofs._Facts._per_host
        # VCPU: 2 + 3 fit in 5; the other class: 1 + 1 fit in 6, not 5.
        self.assertEqual(2, per_host(need, np.array([5.0, 6.0]), []))
        self.assertEqual(1, per_host(need, np.array([5.0, 1.5]), []))
        self.assertEqual(3, per_host(need, np.array([9.0, 7.0]), []))
        # Items 0 and 1 are units of one diversity group: one of them.
        self.assertEqual(2, per_host(need, np.array([9.0, 7.0]),
                                     [[0, 1, None]]))
