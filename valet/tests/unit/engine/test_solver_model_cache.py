"""Stored exclusivity groups and the per-generation cache (model_cache.py).

Placed members of exclusivity groups the request does not touch, in no
other group, are counted per domain from a cache kept per model
generation; the decision must be the same as compiling them one by one,
and must see every change of the model.
"""

import numpy as np

from valet.engine.model import groups as groups_mod
from valet.engine.solver import model_cache
from valet.engine.solver import problem as problem_mod
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import exclusivity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server


def stored_groups(count, hosts_per_rack=8):
    """A model with ``count`` host-exclusivity groups, one host each."""
    groups = [exclusivity('X%d' % k) for k in range(count)]
    existing = [placed('x%d-%d' % (k, m), 'r0h%d' % k, groups=['X%d' % k])
                for k in range(count) for m in range(2)]
    return make_dc(racks=1, hosts_per_rack=hosts_per_rack,
                   existing=existing, groups=groups)


def exclusivity_rule(prob):
    rules = [c for c in prob.constraints if c.kind == groups_mod.EXCLUSIVITY]
    return rules[0]


class TestStoredExclusivity(base.SolverTestCase):

    def test_counted_like_one_by_one(self):
        dc = stored_groups(5)
        req = request([server('a', 1), server('b', 1, groups=['X1'])])
        fast = problem_mod.Problem(dc, req)
        # A recheck ignoring a group compiles without the cache.
        slow = problem_mod.Problem(dc, req, ignore_groups={'unrelated'})
        self.assertTrue(fast.isolated)
        self.assertEqual({}, slow.isolated)
        np.testing.assert_array_equal(exclusivity_rule(slow).any_member,
                                      exclusivity_rule(fast).any_member)
        self.assertEqual(sorted(exclusivity_rule(slow).count),
                         sorted(exclusivity_rule(fast).count))
        decision = self.place(dc, req)
        self.assertEqual('r0h1', decision.assignment['b'])
        self.assertNotIn(decision.assignment['a'],
                         {'r0h%d' % k for k in range(5)})

    def test_second_decision_walks_no_member(self):
        dc = stored_groups(6)
        req = request([server('a', 1)])
        self.place(dc, req)
        calls = []
        real = problem_mod.g.closure
        self.patch(problem_mod.g, 'closure',
                   lambda *a, **k: calls.append(a[0]) or real(*a, **k))
        self.place(dc, req)
        self.assertEqual([], [c for c in calls if c and c[0][0] == 'X'])

    def test_a_changed_model_is_seen(self):
        dc = stored_groups(2, hosts_per_rack=3)
        req = request([server('a', 1)])
        self.assertEqual('r0h2', self.place(dc, req).assignment['a'])
        dc.place(placed('x2', 'r0h2', groups=['X1']))
        self.infeasible(dc, req)

    def test_kept_answers_match_a_fresh_compile(self):
        dc = stored_groups(5)
        for req in (request([server('a', 1)]),
                    request([server('a', 1), server('b', 1, groups=['X2'])]),
                    request([server('c', 1, groups=['N'])],
                            groups=[exclusivity('N')])):
            problem_mod.Problem(dc, req)            # fills the cache
            kept = problem_mod.Problem(dc, req)
            model_cache._MODELS.clear()
            fresh = problem_mod.Problem(dc, req)
            self.assertEqual(fresh.exclusivity_groups(),
                             kept.exclusivity_groups())
            for mine, theirs in zip(
                    [c for c in kept.constraints
                     if c.kind == groups_mod.EXCLUSIVITY],
                    [c for c in fresh.constraints
                     if c.kind == groups_mod.EXCLUSIVITY]):
                np.testing.assert_array_equal(theirs.total, mine.total)
                np.testing.assert_array_equal(theirs.any_member,
                                              mine.any_member)
                self.assertEqual(sorted(theirs.count), sorted(mine.count))
