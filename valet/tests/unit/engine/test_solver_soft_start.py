"""A search's start with fewer steps answers what the plain steps did:
the root's new-host bound (rules that cannot raise it not asked), the
initial order (union-find without a call per lone server) and the soft
trackers' shared all-hosts mask."""

import numpy as np

from valet.engine.solver import order as order_mod
from valet.engine.solver import search as search_mod
from valet.engine.solver import SolverOptions
from valet.engine.solver.rules import soft
from valet.engine.solver.rules import soft_affinity
from valet.tests.unit.engine import base
from valet.tests.unit.engine.test_solver_vector_steps import _problems


def _root_bound_every_rule(search):
    """root_lower_bound asking every rule."""
    p = search.p
    bound = search.lower_bound()
    in_use = p.usable & (search.count > 0)
    for tracker in search.trackers:
        bound = max(bound, tracker.root_bound(in_use))
    return bound


def _order_by_plain_union_find(problem):
    """initial_order's order and clusters as first written."""
    n = len(problem.servers)
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for rule in problem.constraints:
        if rule.together:
            for m in rule.members[1:]:
                parent[find(m)] = find(rule.members[0])
    clusters = {}
    for i in range(n):
        clusters.setdefault(find(i), []).append(i)
    options = [int(np.count_nonzero(mask)) for mask in problem.static]
    sizes = problem.size.tolist()
    rules = [len(cs) for cs in problem.server_rules]

    def key(members):
        few = min(options[m] for m in members)
        return (0 if few <= 2 else 1, -sum(sizes[m] for m in members),
                -max(rules[m] for m in members), min(members))

    order = []
    for members in sorted(clusters.values(), key=key):
        order.extend(sorted(members, key=lambda m: (-sizes[m], m)))
    return order, clusters


class TestSoftStart(base.SolverTestCase):

    def test_root_bound_is_every_rules_max(self):
        seen = 0
        for _, problem in _problems(31, 60):
            search = search_mod.Search(problem, SolverOptions())
            if not search.consolidate:
                continue
            self.assertEqual(_root_bound_every_rule(search),
                             search.root_lower_bound())
            seen += 1
        self.assertGreater(seen, 20)

    def test_soft_affinity_root_bound_opens_one_host_at_most(self):
        seen = 0
        for _, problem in _problems(32, 60):
            search = search_mod.Search(problem, SolverOptions())
            in_use = problem.usable & (search.count > 0)
            for tracker in search.trackers:
                if isinstance(tracker.rule, soft_affinity.SoftAffinity):
                    self.assertIn(tracker.root_bound(in_use),
                                  range(tracker.root_bound_most + 1))
                    seen += 1
        self.assertGreater(seen, 20)

    def test_initial_order_is_the_plain_union_find(self):
        for _, problem in _problems(33, 60):
            order, clusters, find = order_mod.initial_order(problem)
            want_order, want_clusters = _order_by_plain_union_find(problem)
            self.assertEqual(want_order, order)
            self.assertEqual(want_clusters, clusters)
            for i in range(len(problem.servers)):
                self.assertIn(i, clusters[find(i)])

    def test_soft_masks_are_every_host_and_read_only(self):
        for _, problem in _problems(34, 20):
            search = search_mod.Search(problem, SolverOptions())
            for tracker in search.soft_trackers:
                mask = tracker.mask(0)
                self.assertTrue(mask.all())
                self.assertEqual(problem.slots, len(mask))
                self.assertFalse(mask.flags.writeable)
                self.assertIs(soft._everywhere(problem), mask)
