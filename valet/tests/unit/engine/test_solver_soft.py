"""Soft affinity and soft diversity: the solver, its objective and bounds,
explanations and the validator's own count.

The last class compares the solver with an exhaustive search on small
generated instances (every assignment, judged and counted by the
independent validator); ``bench/tests/test_soft.py`` compares it with the
CP-SAT model of ``bench/exact.py`` on larger ones.
"""

import random

from valet.engine.model import errors
from valet.engine.model import groups as groups_mod
from valet.engine.solver import validator
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server


def soft(name, kind, level='host', weight=None, parents=()):
    return groups_mod.Group(name=name, kind=kind, level=level,
                            parents=tuple(parents), weight=weight)


def together(name, level='host', weight=None, parents=()):
    return soft(name, groups_mod.SOFT_AFFINITY, level, weight, parents)


def apart(name, level='host', weight=None, parents=()):
    return soft(name, groups_mod.SOFT_DIVERSITY, level, weight, parents)


class SoftTestCase(base.SolverTestCase):

    def decide(self, dc, req, **opts):
        """Every feasible decision also reports what the validator counts.
        """
        decision = super().decide(dc, req, **opts)
        self.assertEqual([], validator.check_objective(dc, req, decision))
        if decision.feasible:
            bound = decision.objective['bound']
            self.assertLessEqual(bound['soft_violations'],
                                 decision.objective['soft_violations'])
            if decision.optimal:
                self.assertEqual(bound['soft_violations'],
                                 decision.objective['soft_violations'])
                self.assertEqual(bound['new_hosts'],
                                 decision.objective['new_hosts'])
        return decision


class TestSoftAffinity(SoftTestCase):

    def test_members_that_fit_one_host_share_it(self):
        dc = make_dc()
        ids = ['s%d' % k for k in range(4)]
        req = request([server(s, 2, groups=['g']) for s in ids],
                      [together('g')])
        decision = self.place(dc, req)
        self.assertEqual(1, len({decision.assignment[s] for s in ids}))
        self.assertEqual(0, decision.objective['soft_violations'])
        self.assertEqual({'g': {'kind': 'soft-affinity', 'level': 'host',
                                'weight': 1, 'violations': 0}},
                         decision.objective['soft'])
        self.assertTrue(decision.optimal)

    def test_too_many_for_one_host_is_placed_with_violations(self):
        # Eight vCPUs per host: six 2-vCPU members leave two outside the
        # fullest host whatever the search does; never a refusal.
        dc = make_dc()
        req = request([server('s%d' % k, 2, groups=['g']) for k in range(6)],
                      [together('g', weight=3)])
        decision = self.place(dc, req)
        self.assertEqual(2, decision.objective['soft']['g']['violations'])
        self.assertEqual(6, decision.objective['soft_violations'])
        self.assertTrue(decision.optimal)
        self.assertEqual({'soft_violations': 6, 'new_hosts': 2},
                         decision.objective['bound'])

    def test_placed_members_count_where_they_run(self):
        # Consolidation alone would use r0h0 (already running a server).
        dc = make_dc(existing=[placed('o', 'r0h0'),
                               placed('m', 'r1h2', groups=['g'])],
                     groups=[together('g')])
        decision = self.place(dc, request([server('s', 1, groups=['g'])],
                                          [together('g')]))
        self.assertEqual('r1h2', decision.assignment['s'])
        self.assertEqual(0, decision.objective['soft_violations'])

    def test_first_placement_goes_where_most_members_can_end(self):
        # The placed member's host has room for one more: filling it
        # first strands two; three together elsewhere leave one outside.
        # No improvement phase: the ranking alone must see it.
        dc = make_dc(existing=[placed('m', 'r0h0', 6, groups=['g'])],
                     groups=[together('g')])
        req = request([server('s%d' % k, 2, groups=['g']) for k in range(3)],
                      [together('g')])
        decision = self.place(dc, req, improve=False)
        hosts = {decision.assignment['s%d' % k] for k in range(3)}
        self.assertEqual(1, len(hosts))
        self.assertNotIn('r0h0', hosts)
        self.assertEqual(1, decision.objective['soft_violations'])
        # Counting proves one unavoidable: r0h0 holds two at most.
        self.assertTrue(decision.optimal)

    def test_hard_diversity_inside_is_counted_in_the_bound(self):
        # Two of the three must be on different hosts: one violation is
        # unavoidable, proven by counting alone (no improvement phase).
        dc = make_dc()
        req = request([server('a', groups=['g', 'd']),
                       server('b', groups=['g', 'd']),
                       server('c', groups=['g'])],
                      [together('g'), base.diversity('d')])
        decision = self.place(dc, req, improve=False)
        self.assertEqual(1, decision.objective['soft_violations'])
        self.assertEqual(1, decision.objective['bound']['soft_violations'])
        self.assertTrue(decision.optimal)

    def test_pairs_and_diversity_inside_shape_the_first_placement(self):
        # Eight vCPUs per host. The largest member first would fill a host
        # with itself and the pair (three members); the ranking sees that
        # the pair, one of the diverse two and the small one make four
        # without it, and the bound (the pair packed as one unit, the
        # diverse two as one) proves four the most: two violations, proven
        # with no improvement phase.
        dc = make_dc()
        req = request([server('x', 4, groups=['g']),
                       server('p1', 2, groups=['g', 'p']),
                       server('p2', 2, groups=['g', 'p']),
                       server('d1', groups=['g', 'd']),
                       server('d2', groups=['g', 'd']),
                       server('s', groups=['g'])],
                      [together('g'), affinity('p'), base.diversity('d')])
        decision = self.place(dc, req, improve=False)
        self.assertEqual(2, decision.objective['soft_violations'])
        self.assertEqual(2, decision.objective['bound']['soft_violations'])
        self.assertTrue(decision.optimal)
        host = decision.assignment['p1']
        self.assertEqual(['d', 'p1', 'p2', 's'], sorted(
            s if s[0] != 'd' else 'd' for s, h in
            decision.assignment.items() if h == host))

    def test_a_new_host_at_the_fewest_violations_is_proven(self):
        # r0h0 and r0h1 have room for four vCPUs each, enough for the six
        # of the three members in all but one host: together (no
        # violation) they open one, proven without an improvement search.
        dc = make_dc(existing=[placed('o1', 'r0h0', 4),
                               placed('o2', 'r0h1', 4)])
        req = request([server('s%d' % k, 2, groups=['g']) for k in range(3)],
                      [together('g')])
        decision = self.place(dc, req, improve=False)
        self.assertEqual(0, decision.objective['soft_violations'])
        self.assertEqual(1, decision.objective['new_hosts'])
        self.assertEqual(1, decision.objective['bound']['new_hosts'])
        self.assertTrue(decision.optimal)

    def test_rack_level(self):
        dc = make_dc(racks=3, hosts_per_rack=2, vcpus=4)
        ids = ['s%d' % k for k in range(4)]
        req = request([server(s, 2, groups=['g']) for s in ids],
                      [together('g', 'rack')])
        decision = self.place(dc, req)
        racks = {dc.hosts[decision.assignment[s]].domains['rack']
                 for s in ids}
        self.assertEqual(1, len(racks))

    def test_heavier_preference_wins(self):
        dc = make_dc(existing=[placed('a', 'r0h1', groups=['light']),
                               placed('b', 'r1h1', groups=['heavy'])],
                     groups=[together('light', weight=2),
                             together('heavy', weight=5)])
        req = request([server('s', 1, groups=['light', 'heavy'])],
                      [together('light', weight=2),
                       together('heavy', weight=5)])
        decision = self.place(dc, req)
        self.assertEqual('r1h1', decision.assignment['s'])
        self.assertEqual(2, decision.objective['soft_violations'])
        self.assertEqual(1, decision.objective['soft']['light'][
            'violations'])


class TestSoftDiversity(SoftTestCase):

    def test_soft_violations_come_before_new_hosts(self):
        # Without the preference both fit r0h0, which runs a server
        # already: no new host. Apart, one of them opens a host.
        dc = make_dc(existing=[placed('o', 'r0h0')])
        plain = self.place(dc, request([server('a'), server('b')]))
        self.assertEqual(0, plain.objective['new_hosts'])
        req = request([server('a', groups=['g']), server('b', groups=['g'])],
                      [apart('g')])
        decision = self.place(dc, req)
        self.assertNotEqual(decision.assignment['a'],
                            decision.assignment['b'])
        self.assertEqual(0, decision.objective['soft_violations'])
        self.assertEqual(1, decision.objective['new_hosts'])
        self.assertTrue(decision.optimal)

    def test_new_hosts_at_the_fewest_violations_are_proven(self):
        # Three apart with no violation need three hosts; r0h0 is the only
        # one running servers: two new hosts at the fewest violations,
        # proven before any improvement search.
        dc = make_dc(existing=[placed('o', 'r0h0')])
        req = request([server('s%d' % k, groups=['g']) for k in range(3)],
                      [apart('g')])
        decision = self.place(dc, req, improve=False)
        self.assertEqual(0, decision.objective['soft_violations'])
        self.assertEqual(2, decision.objective['new_hosts'])
        self.assertEqual(2, decision.objective['bound']['new_hosts'])
        self.assertTrue(decision.optimal)

    def test_more_members_than_domains_is_no_refusal(self):
        dc = make_dc(racks=2, hosts_per_rack=2)
        req = request([server('s%d' % k, groups=['g']) for k in range(5)],
                      [apart('g', 'rack', weight=4)])
        decision = self.place(dc, req)
        self.assertEqual(3, decision.objective['soft']['g']['violations'])
        self.assertEqual(12, decision.objective['soft_violations'])
        # Counting proves three unavoidable: optimal without a search.
        self.assertTrue(decision.optimal)

    def test_spread_objective_minimises_soft_violations_too(self):
        dc = make_dc(racks=2, hosts_per_rack=2)
        req = request([server('s%d' % k, groups=['g']) for k in range(4)],
                      [apart('g', 'rack')])
        decision = self.place(dc, req, objective='spread')
        self.assertEqual(2, decision.objective['soft_violations'])
        self.assertFalse(decision.optimal)
        self.assertEqual({'soft_violations': 2}, decision.objective['bound'])

    def test_members_placed_count(self):
        dc = make_dc(racks=1, hosts_per_rack=3, existing=[
            placed('o1', 'r0h0', groups=['g']),
            placed('o2', 'r0h1', groups=['g'])], groups=[apart('g')])
        decision = self.place(dc, request([server('s', groups=['g'])],
                                          [apart('g')]))
        self.assertEqual('r0h2', decision.assignment['s'])

    def test_hard_rules_still_hold(self):
        # A hard affinity pair inside a soft-diversity group: together,
        # and counted as one violation.
        dc = make_dc()
        req = request([server('a', groups=['p']), server('b', groups=['p']),
                       server('c', groups=['g'])],
                      [apart('g'), affinity('p', parents=['g'])])
        decision = self.place(dc, req)
        self.assertEqual(decision.assignment['a'], decision.assignment['b'])
        self.assertEqual(1, decision.objective['soft']['g']['violations'])


class TestRequestChecks(base.SolverTestCase):

    def test_weight_on_a_hard_group_is_rejected(self):
        group = groups_mod.Group(name='g', kind=groups_mod.AFFINITY,
                                 weight=3)
        req = request([server('a', groups=['g'])], [group])
        err = self.assertRaises(errors.InvalidRequest, self.decide,
                                make_dc(), req)
        self.assertEqual('valet.request.bad_group', err.code)

    def test_weight_out_of_range_is_rejected(self):
        req = request([server('a', groups=['g'])], [together('g', weight=0)])
        err = self.assertRaises(errors.InvalidRequest, self.decide,
                                make_dc(), req)
        self.assertEqual('valet.request.bad_group', err.code)

    def test_another_weight_is_a_group_conflict(self):
        dc = make_dc(groups=[together('g', weight=2)])
        req = request([server('a', groups=['g'])], [together('g', weight=3)])
        err = self.assertRaises(errors.InvalidRequest, self.decide, dc, req)
        self.assertEqual('valet.request.group_conflict', err.code)


class TestExplanations(SoftTestCase):

    def test_soft_group_is_never_a_cause(self):
        # Three 4-vCPU servers in a host affinity group cannot share an
        # 8-vCPU host; the soft group around them is no part of why.
        dc = make_dc()
        req = request([server('s%d' % k, 4, groups=['p', 'g'])
                       for k in range(3)],
                      [affinity('p'), together('g'), apart('d')])
        decision = self.infeasible(dc, req)
        self.assertTrue(decision.proven_infeasible)
        why = decision.explanation
        self.assertEqual(['p'], why['conflict']['groups'])
        self.assertEqual(['p'], [e['group'] for e in why['groups']])
        for entry in why['servers']:
            for step in entry['ruled_out']:
                self.assertNotIn('soft', step['filter'])
        self.assertNotIn('soft', why['summary'])

    def test_soft_only_request_never_fails(self):
        dc = make_dc(racks=1, hosts_per_rack=1)
        req = request([server('s%d' % k, groups=['g', 'd'])
                       for k in range(3)],
                      [together('g', 'rack'), apart('d')])
        decision = self.place(dc, req)
        self.assertEqual(2, decision.objective['soft']['d']['violations'])


class TestValidator(base.SolverTestCase):

    def test_soft_violations_are_counted_not_refused(self):
        dc = make_dc(existing=[placed('o', 'r1h0', groups=['d'])],
                     groups=[apart('d')])
        req = request([server('a', groups=['g', 'd']),
                       server('b', groups=['g', 'd']),
                       server('c', groups=['g'])],
                      [together('g', weight=2), apart('d')])
        assignment = {'a': 'r0h0', 'b': 'r0h0', 'c': 'r0h1'}
        self.assertEqual([], validator.validate(dc, req, assignment))
        counted = validator.soft_violations(dc, req, assignment)
        self.assertEqual(1, counted['g']['violations'])
        self.assertEqual(2, counted['g']['weight'])
        self.assertEqual(1, counted['d']['violations'])
        assignment['a'] = 'r1h0'
        counted = validator.soft_violations(dc, req, assignment)
        self.assertEqual(2, counted['g']['violations'])
        # o and a share r1h0: the placed member counts where it runs.
        self.assertEqual(1, counted['d']['violations'])

    def test_groups_the_decision_does_not_touch_are_not_counted(self):
        dc = make_dc(existing=[placed('o1', 'r0h0', groups=['d']),
                               placed('o2', 'r0h0', groups=['d'])],
                     groups=[apart('d')])
        req = request([server('a')])
        self.assertEqual({}, validator.soft_violations(dc, req,
                                                       {'a': 'r0h0'}))

    def test_a_misreported_count_is_caught(self):
        dc = make_dc()
        req = request([server('s%d' % k, 2, groups=['g']) for k in range(6)],
                      [together('g', weight=3)])
        decision = self.place(dc, req)
        self.assertEqual([], validator.check_objective(dc, req, decision))
        decision.objective['soft']['g']['violations'] -= 1
        found = validator.check_objective(dc, req, decision)
        self.assertEqual(['soft_count'], [v.code for v in found])
        decision.objective['soft']['g']['violations'] += 1
        decision.objective['soft_violations'] = 3
        found = validator.check_objective(dc, req, decision)
        self.assertEqual(['soft_count'], [v.code for v in found])
        del decision.objective['soft']['g']
        decision.objective['soft_violations'] = 6
        self.assertEqual(['g'], [v.group for v in validator.check_objective(
            dc, req, decision)])


class TestAgainstExhaustiveSearch(SoftTestCase):
    """Same feasibility and the same lexicographic optimum (weighted soft
    violations, then new hosts) as trying every assignment, judged and
    counted by the validator, on small generated instances."""

    def _instance(self, rng):
        hosts = ['r%dh%d' % (r, h) for r in range(2) for h in range(2)]
        groups = [together('t', rng.choice(['host', 'rack']),
                           rng.choice([1, 2, 5])),
                  apart('a', rng.choice(['host', 'rack']),
                        rng.choice([1, 3]))]
        if rng.random() < 0.4:
            groups.append(base.diversity('d', 'host'))
        if rng.random() < 0.3:
            groups.append(affinity('p', 'host', parents=['t']))
        existing = []
        for k in range(rng.randint(0, 2)):
            existing.append(placed('o%d' % k, rng.choice(hosts),
                                   rng.choice([2, 4]),
                                   groups=[rng.choice(['t', 'a'])]))
        names = {grp.name for grp in groups}
        servers = []
        for k in range(rng.randint(3, 5)):
            member = rng.choice([['t'], ['a'], ['t', 'a'], ['a', 'd'],
                                 ['p'], []])
            servers.append(server('s%d' % k, rng.choice([1, 2, 4]),
                                  groups=[n for n in member if n in names]))
        dc = make_dc(racks=2, hosts_per_rack=2, existing=existing,
                     groups=groups[:2])
        return dc, request(servers, groups), hosts

    @staticmethod
    def _best(dc, req, hosts):
        return base.fewest(dc, req, hosts, lambda a: (
            base.soft_cost(dc, req, a), base.new_hosts(dc, a)))

    def test_generated_instances(self):
        rng = random.Random(17)
        for case in range(24):
            dc, req, hosts = self._instance(rng)
            best = self._best(dc, req, hosts)
            decision = self.decide(dc, req)
            self.assertEqual(best is not None, decision.feasible,
                             'case %d' % case)
            if decision.feasible:
                mine = (decision.objective['soft_violations'],
                        decision.objective['new_hosts'])
                self.assertTrue(decision.optimal, 'case %d' % case)
                self.assertEqual(best, mine, 'case %d' % case)
