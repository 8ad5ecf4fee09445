"""The verdict of a decision does not depend on how fast the clock runs.

A slowed machine is simulated by a ``time.perf_counter`` that jumps an
hour at every call: every wall-clock check the solver makes is past its
deadline. The node budgets alone must decide whether a placement is found
(and which first placement); the clock may only cut the improvement phase.
"""

import itertools
from unittest import mock

from valet.engine.model import groups as groups_mod
from valet.engine.solver import budget as budget_mod
from valet.engine.solver import order as order_mod
from valet.engine.solver import phases
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import search
from valet.engine.solver import SolverOptions
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import group
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server

GB = 1024


def _slow_clock():
    hours = itertools.count(0.0, 3600.0)
    return mock.patch('time.perf_counter', side_effect=lambda: next(hours))


class TestClockNeverDecides(base.SolverTestCase):

    def _many_servers(self):
        # 48 servers need at least 48 search nodes: past the first
        # wall-clock check (every 32 nodes).
        dc = make_dc(racks=4, hosts_per_rack=4, vcpus=16)
        groups = [diversity('D', 'rack')] + [
            affinity('A%d' % i, 'host', parents=['D']) for i in range(4)]
        servers = [server('a%d-%d' % (i, j), 2, GB, groups=['A%d' % i])
                   for i in range(4) for j in range(6)]
        servers += [server('s%d' % i, 1, GB) for i in range(24)]
        return dc, request(servers, groups)

    def test_feasible_request_placed_with_the_clock_always_late(self):
        dc, req = self._many_servers()
        with _slow_clock():
            decision = self.place(dc, req)
        self.assertEqual(48, len(decision.assignment))

    def test_first_placement_is_the_same_at_any_speed(self):
        dc, req = self._many_servers()
        normal = self.place(dc, req, improve=False)
        with _slow_clock():
            slowed = self.place(dc, req, improve=False)
        self.assertEqual(normal.assignment, slowed.assignment)

    def test_slow_clock_only_cuts_improvement(self):
        dc, req = self._many_servers()
        full = self.place(dc, req)
        with _slow_clock():
            slowed = self.place(dc, req)
        first = self.place(dc, req, improve=False)
        # The slowed answer is at least the first placement, at most the
        # fully improved one (new hosts opened is the first objective).
        opened = [len(set(d.assignment.values()))
                  for d in (full, slowed, first)]
        self.assertLessEqual(opened[0], opened[1])
        self.assertLessEqual(opened[1], opened[2])

    def test_impossible_request_proven_the_same_at_any_speed(self):
        # Five rack-diverse members on four racks: a count proves it.
        dc = make_dc(racks=4, hosts_per_rack=2)
        req = request([server('d%d' % i, 1, groups=['D']) for i in range(5)]
                      + [server('x%d' % i, 1) for i in range(40)],
                      [diversity('D', 'rack')])
        normal = self.infeasible(dc, req)
        with _slow_clock():
            slowed = self.infeasible(dc, req)
        self.assertTrue(normal.proven_infeasible)
        self.assertEqual(normal.explanation, slowed.explanation)


class TestImprovementStall(base.SolverTestCase):

    def test_stall_stops_after_nodes_without_improvement(self):
        budget = budget_mod.Budget(SolverOptions(), 10, None, floor=0)
        budget.stall = 3
        self.assertEqual([True, True, True, False],
                         [budget.spend() for _ in range(4)])
        # A cheaper placement starts the count again.
        budget.improved()
        self.assertTrue(budget.spend())

    def test_stalled_improvement_keeps_the_best_placement(self):
        # Twelve vCPUs of soft affinity on 8-vCPU hosts, one of them
        # three quarters full, one half full: the improvement phase proves
        # one violation and one new host optimal by searching on (no count
        # does). (With both three quarters full, the case before, the
        # group's own host and what it leaves are counted at the root
        # now: two new hosts; and five soft-diverse members on two racks
        # before that: two racks, no running host, two new hosts.)
        dc = make_dc(racks=2, hosts_per_rack=2,
                     existing=[placed('o0', 'r0h0', 6),
                               placed('o1', 'r1h1', 4)])
        req = request([server('s%d' % k, vcpus, groups=['g'])
                       for k, vcpus in enumerate([2, 2, 1, 4, 2, 1])],
                      [group('g', groups_mod.SOFT_AFFINITY, 'host')])
        full = self.place(dc, req)
        self.assertTrue(full.optimal)
        self.patch(phases, 'STALL', 0)
        self.patch(phases, 'STALL_FLOOR', 1)
        stalled = self.place(dc, req)
        first = self.place(dc, req, improve=False)
        # Cut short: fewer nodes, no claim of optimality, and the best
        # placement found (here the first) is the answer.
        self.assertLess(stalled.stats['nodes'], full.stats['nodes'])
        self.assertFalse(stalled.optimal)
        self.assertEqual(first.assignment, stalled.assignment)
        self.assertEqual(full.objective['soft_violations'],
                         stalled.objective['soft_violations'])


class TestImprovementGoesOnFromTheFirstPlacement(base.SolverTestCase):
    """The improvement phase resumes the first search at its placement
    instead of walking the tree down again from the root."""

    def _search(self):
        dc = make_dc(existing=[base.placed('o%d' % k, 'r%dh%d' % (k % 2, k),
                                           1 + k) for k in range(4)])
        req = request([server('a%d' % k, 2 + k % 3, groups=['D'])
                       for k in range(4)] + [server('b%d' % k, 3)
                                             for k in range(3)],
                      [diversity('D')])
        prob = problem_mod.Problem(dc, req)
        found = search.Search(prob, SolverOptions())
        # Nothing proven at the root: the first placement is kept.
        found.root_bound = -1
        order = order_mod.initial_order(prob)[0]
        return prob, found, order

    def _budget(self):
        return budget_mod.Budget(SolverOptions(), 1, None, floor=0)

    def test_resumed_search_proves_what_a_fresh_one_does(self):
        prob, kept, order = self._search()
        status, first, cost = kept.dfs(order, self._budget(), keep=True)
        self.assertEqual('found', status)
        self.assertEqual(first, kept.assign)
        resumed = self._budget()
        got = kept.resume(order, resumed, cost)
        kept.drop()
        _, fresh, _ = self._search()
        fresh_budget = self._budget()
        want = fresh.dfs(order, fresh_budget, bound=cost)
        self.assertEqual('exhausted', got[0])
        self.assertEqual(want[0], got[0])
        self.assertEqual(want[2], got[2])
        self.assertLess(resumed.nodes, fresh_budget.nodes)

    def test_drop_puts_the_search_back_at_the_root(self):
        prob, kept, order = self._search()
        kept.dfs(order, self._budget(), keep=True)
        self.assertNotEqual([-1] * len(order), kept.assign)
        kept.drop()
        self.assertEqual([-1] * len(order), kept.assign)
        self.assertEqual(0, kept.new_hosts)
        self.assertTrue((kept.free == prob.free).all())
        self.assertTrue((kept.count == prob.base_count).all())
        self.assertTrue((kept.opens == kept.was_empty).all())
