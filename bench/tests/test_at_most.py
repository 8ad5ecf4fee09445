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
from bench.tests import against_exact
from bench import view as view_mod

# The stated gap where valet does not claim optimality.
GAP_HOSTS = 1
GAP_SHARE = 0.25


class TestAtMostAgainstExact(unittest.TestCase):

    def test_generated_instances(self):
        self.check(at_most.instances(seed=3, count=16))

    def test_generated_spread_instances(self):
        self.check(at_most.instances(seed=5, count=16, prefix='spread',
                                     kind=at_most.SPREAD))

    def check(self, instances):
        for inst, dc, decision, ref, info in against_exact.compared(
                self, instances):
            mine = view_mod.new_hosts(dc, decision.assignment)
            best = view_mod.new_hosts(dc, ref)
            self.assertGreaterEqual(mine, best if info['optimal'] else 0,
                                    inst.name)
            if decision.optimal and info['optimal']:
                self.assertEqual(best, mine, inst.name)
            else:
                self.assertLessEqual(
                    mine, best + max(GAP_HOSTS, GAP_SHARE * best), inst.name)


if __name__ == '__main__':
    unittest.main()
