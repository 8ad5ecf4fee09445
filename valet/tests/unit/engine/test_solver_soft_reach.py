"""What the soft groups' bounds start from, against their formulas: the
members each domain is open to, and the units' demands and sizes."""

import random

import numpy as np

from valet.engine.solver import problem as problem_mod
from valet.engine.solver.rules import base as rules_base
from valet.engine.solver.rules import soft_affinity
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server
from valet.tests.unit.engine.test_solver_soft import apart
from valet.tests.unit.engine.test_solver_soft import together


def _problems(seed, cases):
    rng = random.Random(seed)
    hosts = ['r%dh%d' % (r, h) for r in range(3) for h in range(3)]
    for _ in range(cases):
        groups = [together('t', rng.choice(['host', 'rack'])),
                  apart('a', rng.choice(['host', 'rack'])),
                  base.affinity('p', 'host', parents=['t'])]
        # Full hosts some members no longer fit on.
        existing = [placed('o%d' % k, rng.choice(hosts),
                           rng.choice([2, 6, 8]))
                    for k in range(rng.randint(0, 4))]
        servers = []
        for k in range(rng.randint(2, 8)):
            names = [rng.choice(['t', 'a'])]
            if names == ['t'] and rng.random() < 0.3:
                names.append('p')
            servers.append(server('s%d' % k, rng.choice([1, 2, 4, 6]),
                                  groups=names))
        dc = make_dc(racks=3, hosts_per_rack=3, existing=existing,
                     groups=groups)
        problem = problem_mod.Problem(dc, request(servers, groups))
        if not problem.blocked:
            yield problem


class TestSoftStart(base.SolverTestCase):

    def test_reachable_is_the_members_per_domain(self):
        hosts_level = 0
        for problem in _problems(31, 60):
            for rule in problem.constraints:
                if not rule.soft:
                    continue
                dom = problem.domain[rule.level]
                masks = rules_base.member_masks(problem, rule.members)
                expected = np.zeros(len(rule.placed), dtype=np.int64)
                for d in range(len(expected)):
                    expected[d] = sum(bool((mask & (dom == d)).any())
                                      for mask in masks)
                open_hosts = np.zeros(problem.slots, dtype=bool)
                for mask in masks:
                    open_hosts |= mask & (dom >= 0)
                self.assertEqual(expected.tolist(),
                                 rule.reachable(problem).tolist())
                self.assertEqual(np.int64, rule.reachable(problem).dtype)
                self.assertEqual(open_hosts.tolist(),
                                 rule.open_hosts(problem).tolist())
                hosts_level += rule.per_host(problem)
        self.assertGreater(hosts_level, 20)

    def test_unit_sums_are_the_members_sums(self):
        units_seen = 0
        for problem in _problems(32, 60):
            for rule in problem.constraints:
                if not isinstance(rule, soft_affinity.SoftAffinity):
                    continue
                units = rule.structure(problem)[0]
                demand, size = soft_affinity._unit_sums(problem, units)
                for k, unit in enumerate(units):
                    self.assertEqual(
                        problem.demand[list(unit)].sum(axis=0).tolist(),
                        demand[k].tolist())
                    self.assertEqual(problem.size[list(unit)].sum(),
                                     size[k])
                    units_seen += len(unit) > 1
        self.assertGreater(units_seen, 10)
