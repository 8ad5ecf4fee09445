"""Soft groups' root figures (rules/soft*.py): worked out once per problem,
in one step, and the same as counting member by member; and the
improvement phase's stall limit for requests with soft groups."""

import random

import fixtures
import numpy as np

from valet.engine.solver import phases
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import SolverOptions
from valet.engine.solver import search as search_mod
from valet.engine.solver.rules.base import EPS
from valet.objects import group_kinds
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server
from valet.tests.unit.engine.test_solver_soft import apart
from valet.tests.unit.engine.test_solver_soft import together


def _reachable_one_by_one(problem, rule):
    dom = problem.domain[rule.level]
    reach = np.zeros(len(rule.placed), dtype=np.int64)
    for i in rule.members:
        ok = problem.static[i] & np.all(
            problem.free >= problem.demand[i] - EPS, axis=1)
        reach[np.unique(dom[ok & (dom >= 0)])] += 1
    return reach


def _soft_rules(problem):
    return [c for c in problem.constraints
            if c.kind in (group_kinds.SOFT_AFFINITY,
                          group_kinds.SOFT_DIVERSITY)]


class TestReachable(base.SolverTestCase):

    def _instance(self, rng):
        hosts = ['r%dh%d' % (r, h) for r in range(3) for h in range(3)]
        groups = [together('t', rng.choice(['host', 'rack']),
                           rng.choice([1, 3])),
                  apart('a', rng.choice(['host', 'rack']), 2)]
        existing = [placed('o%d' % k, rng.choice(hosts),
                           rng.choice([2, 6, 8]),
                           groups=[rng.choice(['t', 'a'])])
                    for k in range(rng.randint(0, 4))]
        servers = []
        for k in range(rng.randint(1, 6)):
            extra = {}
            if rng.random() < 0.3:
                # Some hosts ruled out by name: the static mask counts.
                extra['excluded_hosts'] = rng.sample(hosts, 3)
            servers.append(server('s%d' % k, rng.choice([1, 4, 7]),
                                  groups=[rng.choice(['t', 'a'])],
                                  **extra))
        dc = make_dc(racks=3, hosts_per_rack=3, existing=existing,
                     groups=groups)
        return dc, request(servers, groups)

    def test_the_same_as_member_by_member(self):
        rng = random.Random(5)
        seen = 0
        for case in range(40):
            dc, req = self._instance(rng)
            problem = problem_mod.Problem(dc, req)
            for rule in _soft_rules(problem):
                expected = _reachable_one_by_one(problem, rule)
                self.assertEqual(expected.tolist(),
                                 rule.reachable(problem).tolist(),
                                 'case %d %s' % (case, rule.name))
                seen += bool(expected.any())
        self.assertGreater(seen, 10)

    def test_worked_out_once(self):
        dc = make_dc(racks=2, hosts_per_rack=2)
        req = request([server('s%d' % k, 2, groups=['a', 't'])
                       for k in range(3)],
                      [apart('a', 'host', 2), together('t', 'rack', 1)])
        problem = problem_mod.Problem(dc, req)
        for rule in _soft_rules(problem):
            self.assertIs(rule.reachable(problem),
                          rule.reachable(problem))
            first = rule.lower_bound(problem)
            calls = []
            rule.reachable = lambda p: calls.append(p)
            self.assertEqual(first, rule.lower_bound(problem))
            self.assertEqual([], calls)


class TestStall(base.SolverTestCase):
    """The improvement phase of a request with soft groups gives up after
    max(STALL_FLOOR, STALL per server) nodes without a cheaper placement;
    without soft groups it has no such limit."""

    def _spy(self):
        seen = []
        resume = search_mod.Search.resume

        def spy(search, order, budget, bound):
            seen.append((len(order), budget.stall))
            return resume(search, order, budget, bound)

        self.useFixture(fixtures.MonkeyPatch(
            'valet.engine.solver.search.Search.resume', spy))
        return seen

    def _two_preferences(self, groups):
        # Two preferences that want the one big host: the first placement
        # is not proven optimal, so the phase runs.
        hosts = [base.host('big', 'r0', vcpus=24)] + [
            base.host('h%d' % k, 'r%d' % (k % 2), vcpus=4)
            for k in range(4)]
        dc = base.build(hosts, existing=[placed('o0', 'h0', 1),
                                         placed('o1', 'h1', 1)],
                        groups=groups)
        servers = [server('a%d' % k, 4, groups=['ta']) for k in range(4)]
        servers += [server('b%d' % k, 4, groups=['tb'])
                    for k in range(4)]
        return dc, request(servers, groups)

    def test_soft_groups_stall(self):
        seen = self._spy()
        dc, req = self._two_preferences([together('ta', 'host', 2),
                                         together('tb', 'host', 3)])
        decision = self.decide(dc, req)
        self.assertTrue(decision.feasible)
        self.assertEqual([(8, max(phases.STALL_FLOOR,
                                  8 * phases.STALL))], seen)
        self.assertLessEqual(decision.stats['nodes'],
                             8 + 1 + max(phases.STALL_FLOOR,
                                         8 * phases.STALL))

    def test_no_stall_without_soft_groups(self):
        seen = self._spy()
        dc, req = self._two_preferences([])
        req = request([server('a%d' % k, 3) for k in range(9)], [])
        self.decide(dc, req)
        for _, stall in seen:
            self.assertIsNone(stall)


class TestDiversityRootBound(base.SolverTestCase):
    """Soft diversity above the host level: each domain its fewest
    violations needs opens a host unless it runs one a member may use."""

    def test_racks_without_running_hosts_open_one_each(self):
        dc = make_dc(racks=2, hosts_per_rack=2)
        req = request([server('s%d' % k, groups=['g']) for k in range(5)],
                      [apart('g', 'rack', 4)])
        decision = self.place(dc, req)
        self.assertEqual({'soft_violations': 12, 'new_hosts': 2},
                         decision.objective['bound'])
        # Proven at the first placement: no improvement phase.
        self.assertTrue(decision.optimal)
        self.assertEqual(5, decision.stats['nodes'])

    def test_a_running_host_a_member_may_use_counts(self):
        # r0 runs a server with room; r1 runs one on a full host, which
        # no member may use: one new host, in r1.
        dc = make_dc(racks=2, hosts_per_rack=2,
                     existing=[placed('o0', 'r0h0', 2),
                               placed('o1', 'r1h0', 8)])
        req = request([server('s%d' % k, groups=['g']) for k in range(3)],
                      [apart('g', 'rack')])
        decision = self.place(dc, req)
        self.assertEqual({'soft_violations': 1, 'new_hosts': 1},
                         decision.objective['bound'])
        self.assertTrue(decision.optimal)
        self.assertEqual(1, decision.objective['new_hosts'])


class TestAffinityTrackerState(base.SolverTestCase):
    """Soft affinity's tracker: the usable free room per domain (one
    product) is the per-host sum, and its start is shared by the searches
    of one problem, never changed by them."""

    def _search(self, level):
        existing = [placed('o0', 'r0h0', 3, groups=['t']),
                    placed('o1', 'r1h2', 5)]
        dc = make_dc(racks=2, hosts_per_rack=3, existing=existing,
                     groups=[together('t', level)])
        servers = [server('s%d' % k, 1 + k % 3, groups=['t', 'p'])
                   for k in range(4)]
        servers += [server('x%d' % k, 2, groups=['t']) for k in range(3)]
        req = request(servers, [together('t', level),
                                base.affinity('p', 'host', parents=['t'])])
        problem = problem_mod.Problem(dc, req)
        search = search_mod.Search(problem, SolverOptions())
        tracker = [t for t in search.soft_trackers
                   if t.rule.kind == group_kinds.SOFT_AFFINITY][0]
        return problem, search, tracker

    def test_room_is_the_sum_over_usable_hosts(self):
        for level in ('host', 'rack'):
            problem, search, tracker = self._search(level)
            search.apply(4, 1)
            search.apply(5, 4)
            dom = tracker._domains()
            room = tracker._room(dom)
            free = np.maximum(search.free, 0) * problem.usable[:, None]
            if level == 'host':
                expected = free
            else:
                expected = np.stack(
                    [np.bincount(dom, weights=free[:, c],
                                 minlength=len(tracker.count))
                     for c in range(free.shape[1])], axis=1)
            self.assertEqual(expected.tolist(), room.tolist(), level)

    def test_start_is_shared_and_kept(self):
        problem, search, tracker = self._search('rack')
        rule = tracker.rule
        start = [a.copy() for a in rule.start_state(problem)[4:]]
        for i in range(4):
            search.apply(i, i)
        self.assertLess(sum(tracker.left), start[0].sum())
        again = search_mod.Search(problem, search.options)
        other = [t for t in again.soft_trackers if t.rule is rule][0]
        self.assertIs(tracker.unit_of, other.unit_of)
        for a, b in zip(start, rule.start_state(problem)[4:]):
            self.assertEqual(a.tolist(), b.tolist())
        self.assertEqual(start[0].tolist(), other.left)
