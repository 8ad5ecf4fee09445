"""Spread with max skew: the solver, its explanations and the validator.

The last class compares the solver with an exhaustive search on small
generated instances (every assignment, judged by the independent
validator); ``bench/tests/test_at_most.py`` compares it with the CP-SAT
model of ``bench/exact.py``.
"""

import itertools
import random

from valet.engine.model import groups as groups_mod
from valet.engine.solver import validator
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server


def spread(name, skew, level='host', parents=()):
    return groups_mod.Group(name=name, kind=groups_mod.SPREAD, level=level,
                            parents=tuple(parents), max_skew=skew)


def counts(dc, assignment, ids, level):
    out = {}
    for sid in ids:
        host = assignment[sid]
        dom = host if level == 'host' else dc.hosts[host].domains[level]
        out[dom] = out.get(dom, 0) + 1
    return out


class TestSpread(base.SolverTestCase):

    def test_rack_spread_evenly(self):
        dc = make_dc(racks=3)
        ids = ['s%d' % k for k in range(7)]
        req = request([server(s, 1, groups=['g']) for s in ids],
                      [spread('g', 1, 'rack')])
        decision = self.place(dc, req)
        self.assertEqual([2, 2, 3], sorted(counts(
            dc, decision.assignment, ids, 'rack').values()))

    def test_larger_skew_allows_consolidation(self):
        dc = make_dc(racks=2, hosts_per_rack=2)
        ids = ['s%d' % k for k in range(4)]
        req = request([server(s, 1, groups=['g']) for s in ids],
                      [spread('g', 2, 'rack')])
        decision = self.place(dc, req)
        per_rack = sorted(counts(dc, decision.assignment, ids,
                                 'rack').values())
        self.assertIn(per_rack, ([1, 3], [2, 2]))
        # One host per rack is enough: (4, 0) would be a skew of 4.
        self.assertEqual(2, decision.objective['new_hosts'])
        self.assertTrue(decision.optimal)

    def test_placed_members_are_counted(self):
        existing = [placed('a', 'r0h0', groups=['g']),
                    placed('b', 'r0h1', groups=['g'])]
        dc = make_dc(racks=2, hosts_per_rack=2, existing=existing,
                     groups=[spread('g', 1, 'rack')])
        decision = self.place(dc, request(
            [server('c', 1, groups=['g']), server('d', 1, groups=['g'])]))
        self.assertEqual({'r1'}, {self.rack_of(dc, decision.assignment[s])
                                  for s in 'cd'})

    def test_full_eligible_domain_still_counts(self):
        # r1's hosts are full: with max skew 1 only one member fits in r0.
        existing = [placed('big%d' % k, 'r1h%d' % k, vcpus=8)
                    for k in range(2)]
        dc = make_dc(racks=2, hosts_per_rack=2, existing=existing)
        self.place(dc, request([server('a', 1, groups=['g'])],
                               [spread('g', 1, 'rack')]))
        decision = self.infeasible(dc, request(
            [server('a', 1, groups=['g']), server('b', 1, groups=['g'])],
            [spread('g', 1, 'rack')]))
        self.assertIn('the request is impossible',
                      decision.explanation['summary'])

    def test_zone_restricted_members_only_count_their_zone(self):
        dc = make_dc(racks=2, hosts_per_rack=2, zones=2)
        ids = ['s%d' % k for k in range(3)]
        req = request([server(s, 1, groups=['g'], availability_zone='z0')
                       for s in ids], [spread('g', 1, 'rack')])
        decision = self.place(dc, req)
        self.assertEqual({'r0'}, {self.rack_of(dc, decision.assignment[s])
                                  for s in ids})

    def test_skew_must_be_a_positive_whole_number(self):
        for bad in (None, 0, 1.5, True):
            self.assertInvalid('valet.request.bad_group', make_dc(), request(
                [server('a', groups=['g'])],
                [groups_mod.Group('g', groups_mod.SPREAD, max_skew=bad)]))
        self.assertInvalid('valet.request.bad_group', make_dc(), request(
            [server('a', groups=['g'])],
            [groups_mod.Group('g', groups_mod.AFFINITY, max_skew=1)]))


class TestValidatorSpread(base.SolverTestCase):

    def test_catches_skew(self):
        dc = make_dc(racks=2)
        req = request([server(s, 1, groups=['g']) for s in 'abc'],
                      [spread('g', 1, 'rack')])
        found = validator.validate(
            dc, req, {'a': 'r0h0', 'b': 'r0h1', 'c': 'r0h2'})
        self.assertEqual(['spread'], [v.code for v in found])
        self.assertEqual([], validator.validate(
            dc, req, {'a': 'r0h0', 'b': 'r1h1', 'c': 'r0h2'}))

    def test_drift_domain_without_newcomers_is_not_judged(self):
        existing = [placed(s, 'r0h0', groups=['g']) for s in 'abc']
        dc = make_dc(racks=2, existing=existing,
                     groups=[spread('g', 1, 'rack')])
        req = request([server('d', 1, groups=['g'])])
        self.assertEqual([], validator.validate(dc, req, {'d': 'r1h0'}))
        self.assertEqual(['spread'], [v.code for v in validator.validate(
            dc, req, {'d': 'r0h1'})])


class TestAgainstExhaustiveSearch(base.SolverTestCase):
    """Same feasibility and the same fewest new hosts as trying every
    assignment (validated independently) on small generated instances."""

    def test_generated_instances(self):
        rng = random.Random(16)
        hosts = ['r%dh%d' % (r, h) for r in range(3) for h in range(2)]
        for case in range(20):
            groups = [spread('g', rng.choice([1, 2]),
                             rng.choice(['host', 'rack']))]
            if rng.random() < 0.3:
                groups.append(affinity('p', 'host', parents=['g']))
            existing = [placed('o%d' % k, rng.choice(hosts),
                               rng.choice([2, 6]), groups=['g'])
                        for k in range(rng.randint(0, 2))]
            servers = []
            for k in range(rng.randint(2, 4)):
                member = rng.choice([['g'], ['g'], ['p'], []])
                member = [n for n in member
                          if n in {grp.name for grp in groups}]
                servers.append(server('s%d' % k, rng.choice([1, 4, 6]),
                                      groups=member))
            dc = make_dc(racks=3, hosts_per_rack=2, existing=existing,
                         groups=[groups[0]])
            req = request(servers, groups)
            best = None
            ids = [s.id for s in servers]
            for combo in itertools.product(hosts, repeat=len(ids)):
                assignment = dict(zip(ids, combo))
                if validator.validate(dc, req, assignment):
                    continue
                new = len({h for h in combo if not dc.servers_on(h)})
                best = new if best is None else min(best, new)
            decision = self.decide(dc, req)
            self.assertEqual(best is not None, decision.feasible,
                             'case %d' % case)
            if decision.feasible and decision.optimal:
                self.assertEqual(best, decision.objective['new_hosts'],
                                 'case %d' % case)
