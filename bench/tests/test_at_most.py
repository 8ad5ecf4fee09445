"""Valet's solver against the exact CP-SAT model on at-most and spread
instances.

Run with ``python -m unittest bench.tests.test_at_most`` (needs OR-Tools,
``bench/requirements.txt``). On generated small instances with at-most
groups, and with spread groups: the same feasibility, valid placements (the validator), and new
hosts within the stated gap: equal wherever valet says its answer is
optimal, at most one more (or 25 %) otherwise.
"""

import unittest

from bench import at_most
from bench import exact
from bench import view as view_mod
from valet.engine import solver
from valet.engine.solver import validator

# The stated gap where valet does not claim optimality.
GAP_HOSTS = 1
GAP_SHARE = 0.25
# Only the node budget stops the search: the answer does not depend on
# how busy the machine is.
OPTIONS = solver.SolverOptions(time_budget=120)


class TestAtMostAgainstExact(unittest.TestCase):

    def test_generated_instances(self):
        self.check(at_most.instances(seed=3, count=16))

    def test_generated_spread_instances(self):
        self.check(at_most.instances(seed=5, count=16, prefix='spread',
                                     kind=at_most.SPREAD))

    def check(self, instances):
        checked = 0
        for inst in instances:
            dc = inst.make_dc()
            ref, info = exact.solve(dc, inst.request, time_limit=20)
            if ref is None and not info['proven_infeasible']:
                continue        # the reference could not tell in time
            decision = solver.decide(dc, inst.request, OPTIONS)
            self.assertEqual(ref is not None, decision.feasible, inst.name)
            checked += 1
            if ref is None:
                self.assertTrue(decision.proven_infeasible, inst.name)
                continue
            self.assertEqual([], validator.validate(dc, inst.request, ref),
                             inst.name)
            self.assertEqual([], validator.validate(
                dc, inst.request, decision.assignment), inst.name)
            mine = view_mod.new_hosts(dc, decision.assignment)
            best = view_mod.new_hosts(dc, ref)
            self.assertGreaterEqual(mine, best if info['optimal'] else 0,
                                    inst.name)
            if decision.optimal and info['optimal']:
                self.assertEqual(best, mine, inst.name)
            else:
                self.assertLessEqual(
                    mine, best + max(GAP_HOSTS, GAP_SHARE * best), inst.name)
        self.assertGreaterEqual(checked, 12)


if __name__ == '__main__':
    unittest.main()
