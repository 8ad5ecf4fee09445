"""At most k per domain: the solver, its explanations and the validator.

The last class compares the solver with an exhaustive search on small
generated instances (every assignment, judged by the independent
validator); ``bench/tests/test_at_most.py`` compares it with the CP-SAT
model of ``bench/exact.py`` on larger ones.
"""

import random

from valet.engine.model import groups as groups_mod
from valet.engine.solver.budget import Budget
from valet.engine.solver import order as order_mod
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import search as search_mod
from valet.engine.solver import SolverOptions
from valet.engine.solver import validator
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server


def at_most(name, k, level='host', parents=()):
    return groups_mod.Group(name=name, kind=groups_mod.AT_MOST, level=level,
                            parents=tuple(parents), max_per_domain=k)


def per_domain(dc, assignment, ids, level):
    counts = {}
    for sid in ids:
        host = assignment[sid]
        dom = host if level == 'host' else dc.hosts[host].domains[level]
        counts[dom] = counts.get(dom, 0) + 1
    return counts


class TestAtMost(base.SolverTestCase):

    def test_host_level_limit_spreads_over_more_hosts(self):
        dc = make_dc()
        ids = ['s%d' % k for k in range(6)]
        req = request([server(s, 1, groups=['g']) for s in ids],
                      [at_most('g', 2)])
        decision = self.place(dc, req)
        counts = per_domain(dc, decision.assignment, ids, 'host')
        self.assertLessEqual(max(counts.values()), 2)
        # Six one-vCPU servers fit one host; two per host need three.
        self.assertEqual(3, decision.objective['new_hosts'])
        self.assertTrue(decision.optimal)

    def test_rack_level_limit(self):
        dc = make_dc(racks=3)
        ids = ['s%d' % k for k in range(6)]
        req = request([server(s, 1, groups=['g']) for s in ids],
                      [at_most('g', 2, 'rack')])
        decision = self.place(dc, req)
        counts = per_domain(dc, decision.assignment, ids, 'rack')
        self.assertEqual([2, 2, 2], sorted(counts.values()))

    def test_too_many_members_is_proven_impossible(self):
        dc = make_dc(racks=2)
        req = request([server('s%d' % k, 1, groups=['g']) for k in range(7)],
                      [at_most('g', 3, 'rack')])
        decision = self.infeasible(dc, req)
        self.assertTrue(decision.proven_infeasible)
        entry = [g for g in decision.explanation['groups']
                 if g['group'] == 'g'][0]
        self.assertEqual('at-most', entry['kind'])
        self.assertEqual(6, entry['room'])
        self.assertIn('at most 3 per rack', decision.explanation['summary'])

    def test_placed_members_count(self):
        dc = make_dc(racks=1, hosts_per_rack=2, existing=[
            placed('a', 'r0h0', groups=['g']),
            placed('b', 'r0h0', groups=['g'])], groups=[at_most('g', 2)])
        decision = self.place(dc, request([server('c', 1, groups=['g'])],
                                          [at_most('g', 2)]))
        self.assertEqual('r0h1', decision.assignment['c'])

    def test_drift_is_kept_but_not_grown(self):
        # Three placed members on one host under k = 2 (drift): a new
        # member goes elsewhere and the decision is valid.
        existing = [placed(s, 'r0h0', groups=['g']) for s in 'abc']
        dc = make_dc(racks=1, hosts_per_rack=2, existing=existing,
                     groups=[at_most('g', 2)])
        decision = self.place(dc, request([server('d', 1, groups=['g'])]))
        self.assertEqual('r0h1', decision.assignment['d'])

    def test_funnel_names_the_rule(self):
        existing = [placed(s, 'r0h%d' % (k // 2), groups=['g'])
                    for k, s in enumerate('abcd')]
        dc = make_dc(racks=1, hosts_per_rack=2, existing=existing,
                     groups=[at_most('g', 2)])
        decision = self.infeasible(dc, request([server('e', 1,
                                                       groups=['g'])]))
        funnel = decision.explanation['servers'][0]['ruled_out']
        self.assertIn({'filter': 'at-most:g', 'hosts': 2, 'level': 'host'},
                      funnel)

    def test_nested_affinity_pairs_count_as_members(self):
        dc = make_dc(racks=1, hosts_per_rack=4)
        groups = [at_most('g', 2), affinity('p0', parents=['g']),
                  affinity('p1', parents=['g'])]
        servers = [server('a0', 1, groups=['p0']),
                   server('a1', 1, groups=['p0']),
                   server('b0', 1, groups=['p1']),
                   server('b1', 1, groups=['p1'])]
        decision = self.place(dc, request(servers, groups))
        a = decision.assignment
        self.assertEqual(a['a0'], a['a1'])
        self.assertEqual(a['b0'], a['b1'])
        self.assertNotEqual(a['a0'], a['b0'])

    def test_group_nested_by_the_request_brings_its_servers(self):
        # a, b, c share a host in affinity group p; the request nests p in
        # an at-most 2 group: their host is over the limit (kept), so d
        # goes elsewhere.
        existing = [placed(s, 'r0h0', groups=['p']) for s in 'abc']
        dc = make_dc(racks=1, hosts_per_rack=2, existing=existing,
                     groups=[affinity('p')])
        req = request([server('d', 1, groups=['g'])],
                      [at_most('g', 2), affinity('p', parents=['g'])])
        self.assertEqual('r0h1', self.place(dc, req).assignment['d'])

    def test_limit_must_be_a_positive_whole_number(self):
        for bad in (None, 0, -1, 2.5, True, '2'):
            self.assertInvalid('valet.request.bad_group', make_dc(), request(
                [server('a', groups=['g'])],
                [groups_mod.Group('g', groups_mod.AT_MOST,
                                  max_per_domain=bad)]))

    def test_limit_only_for_at_most(self):
        self.assertInvalid('valet.request.bad_group', make_dc(), request(
            [server('a', groups=['g'])],
            [groups_mod.Group('g', groups_mod.DIVERSITY, max_per_domain=2)]))

    def test_restating_another_limit_conflicts(self):
        dc = make_dc(groups=[at_most('g', 2)])
        self.assertInvalid('valet.request.group_conflict', dc, request(
            [server('a', groups=['g'])], [at_most('g', 3)]))


class TestValidatorAtMost(base.SolverTestCase):

    def test_catches_too_many_new_members(self):
        dc = make_dc()
        req = request([server(s, 1, groups=['g']) for s in 'abc'],
                      [at_most('g', 2)])
        found = validator.validate(dc, req, dict.fromkeys('abc', 'r0h0'))
        self.assertEqual(['at-most'], [v.code for v in found])
        self.assertEqual(('a', 'b', 'c'), found[0].servers)

    def test_tolerates_old_drift_and_blames_newcomers(self):
        existing = [placed(s, 'r0h0', groups=['g']) for s in 'abc']
        dc = make_dc(existing=existing, groups=[at_most('g', 2)])
        req = request([server('d', 1, groups=['g'])])
        self.assertEqual([], validator.validate(dc, req, {'d': 'r0h1'}))
        found = validator.validate(dc, req, {'d': 'r0h0'})
        self.assertEqual([('at-most', ('d',))],
                         [(v.code, v.servers) for v in found])


class TestAgainstExhaustiveSearch(base.SolverTestCase):
    """Same feasibility and the same fewest new hosts as trying every
    assignment (validated independently) on small generated instances."""

    def _instance(self, rng):
        existing = []
        hosts = ['r%dh%d' % (r, h) for r in range(2) for h in range(2)]
        groups = [at_most('g', rng.choice([1, 2, 3]),
                          rng.choice(['host', 'rack']))]
        if rng.random() < 0.5:
            groups.append(diversity('d', 'host'))
        if rng.random() < 0.3:
            groups.append(affinity('p', 'host', parents=['g']))
        for k in range(rng.randint(0, 2)):
            existing.append(placed('o%d' % k, rng.choice(hosts),
                                   rng.choice([2, 4]), groups=['g']))
        servers = []
        for k in range(rng.randint(3, 5)):
            member = rng.choice([['g'], ['g'], ['g', 'd'], ['p'], []])
            member = [n for n in member
                      if n in {grp.name for grp in groups}]
            servers.append(server('s%d' % k, rng.choice([1, 2, 4]),
                                  groups=member))
        dc = make_dc(racks=2, hosts_per_rack=2, existing=existing,
                     groups=[groups[0]])
        return dc, request(servers, groups), hosts

    @staticmethod
    def _best(dc, req, hosts):
        return base.fewest(dc, req, hosts,
                           lambda a: base.new_hosts(dc, a))

    def test_generated_instances(self):
        rng = random.Random(13)
        for case in range(24):
            dc, req, hosts = self._instance(rng)
            best = self._best(dc, req, hosts)
            decision = self.decide(dc, req)
            self.assertEqual(best is not None, decision.feasible,
                             'case %d' % case)
            if decision.feasible:
                self.assertTrue(decision.optimal, 'case %d' % case)
                self.assertEqual(best, decision.objective['new_hosts'],
                                 'case %d' % case)


class TestRootBoundAskedLater(base.SolverTestCase):
    """A host-level at-most group's bound on new hosts is asked only
    when the first placement is not proven without it, on a view of the
    root: it answers what asking it at the start did."""

    def test_later_bound_is_the_start_bound(self):
        rng = random.Random(17)
        raised = 0
        for case in range(60):
            hosts = ['r%dh%d' % (r, h) for r in range(2) for h in range(4)]
            existing = [placed('o%d' % k, rng.choice(hosts), rng.randint(1, 6))
                        for k in range(rng.randint(1, 6))]
            groups = [at_most('g', rng.randint(1, 3))]
            dc = make_dc(racks=2, hosts_per_rack=4, existing=existing)
            servers = [server('s%d' % k, rng.choice([1, 2, 4]), groups=['g'])
                       for k in range(rng.randint(2, 8))]
            req = request(servers, groups)
            whole = search_mod.Search(problem_mod.Problem(dc, req),
                                      SolverOptions())
            if whole.p.blocked or not whole.consolidate:
                continue
            want = whole.root_lower_bound()
            search = search_mod.Search(problem_mod.Problem(dc, req),
                                       SolverOptions())
            later = []
            bound = search.root_lower_bound(later)
            self.assertTrue(any(type(t.rule).__name__ == 'AtMost'
                                for t in later), 'case %d' % case)
            # After a first placement kept in place, as phases asks it.
            search.root_bound = -1
            order = order_mod.initial_order(search.p)[0]
            _, best, _ = search.dfs(order, Budget(
                SolverOptions(), search.p.slots, None, floor=1000),
                keep=True)
            if best is None:
                continue
            self.assertEqual(want, search.root_bound_later(later, bound),
                             'case %d' % case)
            raised += want > bound
        # The group's own bound mattered in some cases.
        self.assertGreater(raised, 5)
