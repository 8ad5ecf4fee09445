"""Shortcuts of the search's start and candidate walk answer what the plain
formulas answer: empty hosts' symmetry keys kept between walks (read
again once an undo has been on the host), per-server tracker lists
shared by servers with the same rules, and soft affinity units of one
member whose left demand apply and undo leave alone."""

import copy
import random

import hypothesis
from hypothesis import strategies as st
import numpy as np
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import search as search_mod
from valet.engine.solver import SolverOptions
from valet.engine.solver.rules import soft_affinity
from valet.tests.unit.engine import base
from valet.tests.unit.engine import test_solver_soft_speed as soft_speed
from valet.tests.unit.engine import test_solver_vector_steps as vector_steps

SETTINGS = hypothesis.settings(
    max_examples=min(60, hypothesis.settings().max_examples),
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
    deadline=None)


def _problem(seed):
    dc, req = soft_speed._instance(random.Random(seed))
    problem = problem_mod.Problem(dc, req)
    return None if problem.blocked else problem


def _walk(rng, search, steps, check):
    """Apply and undo servers on random feasible hosts, calling
    check(i) for a server left to place between steps."""
    placed = []
    for _ in range(steps):
        left = [k for k in range(len(search.p.servers))
                if search.assign[k] < 0]
        if left:
            check(rng.choice(left))
        if placed and (not left or rng.random() < 0.4):
            i, h, token = placed.pop()
            search.undo(i, h, token)
            continue
        if not left:
            break
        i = rng.choice(left)
        hosts = search.feasible_mask(i).nonzero()[0]
        if hosts.size:
            h = int(rng.choice(hosts))
            placed.append((i, h, search.apply(i, h)))


class TestCandidateKeys(base.SolverTestCase):

    def test_kept_keys_are_the_keys_read_now(self):
        for seed in range(80):
            problem = _problem(seed)
            if problem is None:
                continue
            # Fractional room and demands.
            problem.free = problem.free * 1.3
            problem.demand = problem.demand * 0.37
            search = search_mod.Search(problem, SolverOptions())

            def check(i):
                self.assertEqual(vector_steps._candidates_by_key(search, i),
                                 list(search.candidates(i)))
                self._check_keys(search)

            _walk(random.Random(seed), search, 30, check)

    def test_an_undo_that_leaves_a_rounding_drops_the_key(self):
        seen = 0
        for seed in range(40):
            problem = _problem(seed)
            if problem is None:
                continue
            search = search_mod.Search(problem, SolverOptions())
            empty = [h for h in range(problem.slots)
                     if not search.count[h] and h not in search.special]
            if not empty:
                continue
            h, i = empty[0], 0
            # (0.9 - 0.2) + 0.2 is not 0.9.
            search.free[h] = 0.9
            search.demand_rows = list(search.demand_rows)
            search.demand_rows[i] = np.full(search.free.shape[1], 0.2)
            # Its key as a walk would keep it.
            search.room_keys[h] = search.symmetry_key(h)
            before = search.free[h].tobytes()
            search.undo(i, h, search.apply(i, h))
            self.assertNotEqual(before, search.free[h].tobytes())
            self._check_keys(search)
            self.assertEqual(vector_steps._candidates_by_key(search, i),
                             list(search.candidates(i)))
            seen += 1
        self.assertGreater(seen, 10)

    def _check_keys(self, search):
        for h, key in enumerate(search.room_keys):
            if (key is not None and not search.count[h]
                    and h not in search.special):
                self.assertEqual(search.symmetry_key(h), key)


class TestSharedRuleSets(base.SolverTestCase):

    @hypothesis.given(st.integers(0, 10 ** 6))
    @SETTINGS
    def test_per_server_lists_are_the_filters(self, seed):
        problem = _problem(seed)
        hypothesis.assume(problem is not None)
        # The first search indexes the rule sets, the second reuses them.
        for _ in range(2):
            search = search_mod.Search(problem, SolverOptions())
            trackers = search.trackers
            for i, cs in enumerate(problem.server_rules):
                mine = [trackers[c] for c in cs]
                self.assertEqual(mine, search.server_trackers[i])
                self.assertEqual([t for t in mine if t.rule.soft],
                                 search.server_soft[i])
                self.assertEqual([t for t in mine if hasattr(t, 'bias')],
                                 search.server_bias[i])
                self.assertEqual([t for t in mine if not t.rule.soft],
                                 search.server_masks[i])


def _rank_with_every_row_kept(tracker, i):
    """rank with the left demand and size of every unit kept current, one
    member units included (what apply and undo did before)."""
    ref = copy.copy(tracker)
    ref.left_demand = tracker.left_demand.copy()
    ref.left_size = list(tracker.left_size)
    for k, n in enumerate(tracker.left):
        if tracker._demand_rows[k] is None and n == 0:
            # Its member placed: d - d.
            ref.left_demand[k] -= ref.left_demand[k]
            ref.left_size[k] -= ref.left_size[k]
    return soft_affinity._Tracker.rank(ref, i)


class TestOneMemberUnits(base.SolverTestCase):

    @hypothesis.given(st.integers(0, 10 ** 6))
    @SETTINGS
    def test_rank_is_the_rank_with_every_row_kept(self, seed):
        problem = _problem(seed)
        hypothesis.assume(problem is not None)
        search = search_mod.Search(problem, SolverOptions())
        search.free *= 1.3
        trackers = [t for t in search.soft_trackers
                    if isinstance(t, soft_affinity._Tracker)
                    and not t.plain]
        hypothesis.assume(trackers)
        rng = random.Random(seed)

        def check(i):
            for tracker in trackers:
                if i not in tracker.unit_of:
                    continue
                for k, row in enumerate(tracker._demand_rows):
                    if row is None and tracker.left[k]:
                        m = tracker.rule.structure(problem)[0][k][0]
                        self.assertEqual(problem.demand[m].tolist(),
                                         tracker.left_demand[k].tolist())
                self.assertEqual(
                    _rank_with_every_row_kept(tracker, i).tobytes(),
                    tracker.rank(i).tobytes())

        _walk(rng, search, 20, check)

    def test_unit_sums_are_the_members_sums(self):
        seen = 0
        for seed in range(60):
            problem = _problem(seed)
            if problem is None:
                continue
            for rule in problem.constraints:
                if not isinstance(rule, soft_affinity.SoftAffinity):
                    continue
                units = rule.structure(problem)[0]
                demand, size = rule.unit_sums(problem)
                self.assertEqual(
                    [problem.demand[list(u)].sum(axis=0).tolist()
                     for u in units], demand.tolist())
                self.assertEqual(
                    [float(problem.size[list(u)].sum()) for u in units],
                    size.tolist())
                seen += any(len(u) > 1 for u in units)
        self.assertGreater(seen, 5)
