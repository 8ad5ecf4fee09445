"""The root bounds asked once the first placement is found answer what
asking them at the start did: a soft-affinity bound told a value it
cannot pass (``enough``) is the plain bound, the search's soft bound given
a placement is the plain sum, and the new-host bound with the rules that
read only the problem or its root masks asked later (after a placement
too) is ``root_lower_bound``'s."""

import random

from valet.engine.solver.budget import Budget
from valet.engine.solver import order as order_mod
from valet.engine.solver import phases
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import search as search_mod
from valet.engine.solver import SolverOptions
from valet.engine.solver.rules import soft_affinity
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server
from valet.tests.unit.engine.test_solver_soft import together


def _instance(rng):
    """A soft-affinity group whose bound any term may set: members kept
    to a few hosts by name (the reach), apart by hard diversity (the
    diversity term), big ones (the room and the packing)."""
    hosts = ['r%dh%d' % (r, h) for r in range(3) for h in range(3)]
    groups = [together('t', rng.choice(['host', 'rack']),
                       rng.choice([1, 3])),
              base.diversity('d', rng.choice(['host', 'rack']))]
    existing = [placed('o%d' % k, rng.choice(hosts), rng.choice([2, 6]),
                       groups=['t'])
                for k in range(rng.randint(0, 3))]
    servers = []
    for k in range(rng.randint(2, 7)):
        extra = {}
        if rng.random() < 0.4:
            extra['candidate_hosts'] = set(rng.sample(hosts,
                                                      rng.randint(1, 3)))
        names = ['t', 'd'] if rng.random() < 0.4 else ['t']
        servers.append(server('s%d' % k, rng.choice([1, 2, 4, 7]),
                              groups=names, **extra))
    dc = make_dc(racks=3, hosts_per_rack=3, existing=existing,
                 groups=groups)
    return dc, request(servers, groups)


def _twice(seed, cases):
    """(rng, problem, fresh) per case: ``fresh()`` makes the problem
    again, with no bound worked out yet."""
    rng = random.Random(seed)
    for _ in range(cases):
        dc, req = _instance(rng)
        problem = problem_mod.Problem(dc, req)
        if not problem.blocked:
            yield rng, problem, lambda: problem_mod.Problem(dc, req)


def _asked_later(seed, cases):
    """(root_lower_bound of a whole search, a fresh search of the same
    problem, the rules it put aside in ``later``, its bound without them)
    per consolidating case."""
    for _, problem, fresh in _twice(seed, cases):
        whole = search_mod.Search(problem, SolverOptions())
        if not whole.consolidate:
            continue
        search = search_mod.Search(fresh(), SolverOptions())
        later = []
        bound = search.root_lower_bound(later)
        yield whole.root_lower_bound(), search, later, bound


def _soft_affinity(problem):
    return [(k, rule) for k, rule in enumerate(problem.constraints)
            if isinstance(rule, soft_affinity.SoftAffinity)]


class TestSoftRootLater(base.SolverTestCase):

    def test_enough_gives_the_plain_bound(self):
        stopped = full = 0
        for rng, problem, fresh in _twice(41, 120):
            for k, rule in _soft_affinity(problem):
                plain = rule.lower_bound(problem)
                # At the bound (a placement as good as it) or above it
                # (no placement goes below it).
                enough = plain + rng.choice([0, 0, 1, 2])
                again = fresh()
                other = again.constraints[k]
                self.assertEqual(plain, other.lower_bound(again, enough))
                if '_reach' in other.__dict__:
                    full += 1
                else:
                    stopped += 1
                # The per-domain counts asked afterwards are the plain
                # ones, however the bound was found.
                self.assertEqual(rule.most(problem).tolist(),
                                 other.most(again).tolist())
        # Both ways taken, the early stop often.
        self.assertGreater(stopped, 10)
        self.assertGreater(full, 10)

    def test_early_stop_leaves_the_other_terms_unasked(self):
        # Once the packing's bound reaches enough, neither the reach nor
        # the full per-domain counts are worked out.
        seen = 0
        for _, problem, fresh in _twice(42, 80):
            for k, rule in _soft_affinity(problem):
                plain = rule.lower_bound(problem)
                packed = rule._bound_at(rule.placed + rule.packing(problem))
                if packed != plain:
                    continue
                again = fresh()
                other = again.constraints[k]
                other.lower_bound(again, plain)
                self.assertNotIn('_reach', other.__dict__)
                self.assertIsNone(other.__dict__.get('_most'))
                seen += 1
        self.assertGreater(seen, 10)

    def test_soft_root_given_a_placement_is_the_plain_sum(self):
        seen = 0
        for _, problem, fresh in _twice(43, 60):
            found = phases.solve(problem, SolverOptions(), None,
                                 verdict=True)
            if not found['feasible']:
                continue
            plain = search_mod.Search(fresh(), SolverOptions())
            want = sum(t.rule.weight * t.rule.lower_bound(plain.p)
                       for t in plain.soft_trackers)
            self.assertEqual(want, plain.soft_root)
            later = search_mod.Search(fresh(), SolverOptions())
            self.assertEqual(want, later.soft_root_below(
                found['assignment']))
            self.assertEqual(want, later.soft_root)
            seen += 1
        self.assertGreater(seen, 20)

    def test_new_hosts_with_some_rules_asked_later(self):
        seen = 0
        for want, search, later, bound in _asked_later(44, 160):
            for tracker in later:
                self.assertTrue(getattr(tracker, 'root_bound_later', False)
                                or tracker.root_bound_at_root)
            self.assertEqual(want, search.root_bound_later(later, bound))
            seen += bool(later)
        self.assertGreater(seen, 10)

    def test_rules_asked_later_answer_for_the_root_after_a_placement(self):
        # Asked once the first placement is in place (as phases does), a
        # rule that reads root masks is asked on a root view: the main
        # search's masks are those of the placed state by then.
        seen = 0
        for want, search, later, bound in _asked_later(45, 160):
            # Below any cost: the first placement is kept in place.
            search.root_bound = -1
            order = order_mod.initial_order(search.p)[0]
            status, best, _ = search.dfs(
                order, Budget(SolverOptions(), search.p.slots, None,
                              floor=1000), keep=True)
            if best is None or not any(
                    getattr(t, 'root_bound_at_root', False) for t in later):
                continue
            self.assertEqual(len(order), search.n_placed)
            self.assertEqual(want, search.root_bound_later(later, bound))
            seen += want > bound
        self.assertGreater(seen, 5)

    def test_a_rule_asked_later_still_opens_its_host(self):
        # Room enough on the hosts in use, but none holds the group's two
        # members together: the group's own bound opens a host.
        existing = [placed('o%d' % k, 'r0h%d' % k, 4) for k in range(4)]
        groups = [together('t')]
        dc = make_dc(racks=1, hosts_per_rack=6, existing=existing,
                     groups=groups)
        req = request([server('s0', 3, groups=['t']),
                       server('s1', 3, groups=['t'])], groups)
        problem = problem_mod.Problem(dc, req)
        self.assertEqual(1, search_mod.Search(
            problem, SolverOptions()).root_lower_bound())
        search = search_mod.Search(problem_mod.Problem(dc, req),
                                   SolverOptions())
        later = []
        self.assertEqual(0, search.root_lower_bound(later))
        self.assertEqual(1, len(later))
        self.assertEqual(1, search.root_bound_later(later, 0))
        # And the decision opens it, proven.
        decision = self.decide(dc, req)
        self.assertEqual(0, decision.objective['soft_violations'])
        self.assertEqual(1, decision.objective['new_hosts'])
        self.assertTrue(decision.optimal)
