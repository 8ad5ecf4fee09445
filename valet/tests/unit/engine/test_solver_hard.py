"""Requests a one-at-a-time scheduler gets wrong, and explained failures.

Each hard case is first shown to defeat :func:`greedy`, a Nova-like
scheduler that takes the servers in request order and puts each on the
best-fitting host (least VCPU left, ties by name) where the placement so
far is still valid (the independent validator decides), never revisiting
a choice. The solver, which searches the whole request, must succeed.
"""

from valet.engine.model import request as request_mod
from valet.engine.solver import validator
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import exclusivity
from valet.tests.unit.engine.base import host
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server

GB = 1024


def greedy(dc, req):
    """A one-at-a-time best-fit placement, or None when it gets stuck."""
    assignment = {}
    names = sorted(dc.hosts)
    for position, srv in enumerate(req.servers):
        partial = request_mod.PlacementRequest(
            servers=req.servers[:position + 1], groups=req.groups,
            kind=req.kind, stack=req.stack)
        ranked = sorted(names, key=lambda h: (
            dc.free(h)['VCPU'] - sum(
                s.demand.get('VCPU', 0) for s in req.servers[:position]
                if assignment.get(s.id) == h), h))
        for name in ranked:
            trial = dict(assignment, **{srv.id: name})
            if not validator.validate(dc, partial, trial):
                assignment = trial
                break
        else:
            return None
    return assignment


class TestGreedyFails(base.SolverTestCase):

    def assertGreedyFailsSolverSucceeds(self, dc, req):
        self.assertIsNone(greedy(dc, req))
        return self.place(dc, req)

    def test_greedy_helper_places_easy_requests(self):
        dc = make_dc()
        req = request([server('a', 2), server('b', 6, groups=['D']),
                       server('c', 6, groups=['D'])], [diversity('D')])
        assignment = greedy(dc, req)
        self.assertIsNotNone(assignment)
        validator.assert_valid(dc, req, assignment)

    def test_large_affinity_group_listed_after_small_servers(self):
        # Only "big" has the memory for group A, and it is also the best
        # fit (fewest VCPU) for the small servers that come first.
        dc = base.build([
            host('big', 'r0', vcpus=8, ram=64 * GB),
            host('wide1', 'r0', vcpus=16, ram=8 * GB),
            host('wide2', 'r1', vcpus=16, ram=8 * GB)])
        req = request([server('s1', 2, GB), server('s2', 2, GB),
                       server('a1', 4, 16 * GB, groups=['A']),
                       server('a2', 4, 16 * GB, groups=['A'])],
                      [affinity('A')])
        decision = self.assertGreedyFailsSolverSucceeds(dc, req)
        self.assertEqual({'big'}, self.hosts_of(decision, ['a1', 'a2']))
        self.assertEqual(1, len(self.hosts_of(decision, ['s1', 's2'])))
        self.assertEqual(2, decision.objective['new_hosts'])
        self.assertTrue(decision.optimal)

    def test_large_affinity_group_among_many_small_servers(self):
        hosts = [host('big', 'r0', vcpus=12, ram=96 * GB)]
        hosts += [host('w%d' % k, 'r%d' % (k % 2), vcpus=32, ram=12 * GB)
                  for k in range(4)]
        dc = base.build(hosts)
        small = [server('s%d' % k, 1, GB) for k in range(10)]
        group = [server('a%d' % k, 3, 20 * GB, groups=['A'])
                 for k in range(4)]
        req = request(small + group, [affinity('A')])
        decision = self.assertGreedyFailsSolverSucceeds(dc, req)
        self.assertEqual({'big'}, self.hosts_of(
            decision, [s.id for s in group]))

    def test_diversity_and_exclusivity_on_a_tight_rack(self):
        # m1, m2 need a rack of their own (E) and two hosts in it (D).
        # Best fit puts x1 and x2 one in each rack, and then no rack is
        # left for E; x1 and x2 fit together in either rack.
        dc = base.build([
            host('r0h0', 'r0', vcpus=6), host('r0h1', 'r0', vcpus=8),
            host('r1h0', 'r1', vcpus=7), host('r1h1', 'r1', vcpus=8)])
        req = request([server('x1', 6), server('x2', 6),
                       server('m1', 6, groups=['E', 'D']),
                       server('m2', 6, groups=['E', 'D'])],
                      [exclusivity('E', 'rack'), diversity('D')])
        decision = self.assertGreedyFailsSolverSucceeds(dc, req)
        m_racks = self.racks_of(dc, decision, ['m1', 'm2'])
        x_racks = self.racks_of(dc, decision, ['x1', 'x2'])
        self.assertEqual(1, len(m_racks))
        self.assertFalse(m_racks & x_racks)
        self.assertEqual(2, len(self.hosts_of(decision, ['m1', 'm2'])))

    def test_rack_diversity_with_few_racks(self):
        # Three racks for three members; only r2 has memory for d3, and it
        # is the best fit by VCPU for d1.
        dc = base.build([
            host('r0h0', 'r0', vcpus=8, ram=4 * GB),
            host('r1h0', 'r1', vcpus=8, ram=4 * GB),
            host('r2h0', 'r2', vcpus=4, ram=64 * GB)])
        req = request([server('d1', 2, GB, groups=['D']),
                       server('d2', 2, GB, groups=['D']),
                       server('d3', 2, 32 * GB, groups=['D'])],
                      [diversity('D', 'rack')])
        decision = self.assertGreedyFailsSolverSucceeds(dc, req)
        self.assertEqual('r2h0', decision.assignment['d3'])
        self.assertEqual(3, len(self.racks_of(dc, decision,
                                              ['d1', 'd2', 'd3'])))

    def test_rack_diversity_of_affinity_pairs_with_few_racks(self):
        groups = [diversity('D', 'rack'),
                  affinity('P', 'host', parents=['D']),
                  affinity('Q', 'host', parents=['D'])]
        dc = base.build([
            host('r0h0', 'r0', vcpus=8, ram=8 * GB),
            host('r0h1', 'r0', vcpus=8, ram=8 * GB),
            host('r1h0', 'r1', vcpus=6, ram=64 * GB)])
        req = request([server('p1', 3, GB, groups=['P']),
                       server('p2', 3, GB, groups=['P']),
                       server('q1', 3, 20 * GB, groups=['Q']),
                       server('q2', 3, 20 * GB, groups=['Q'])], groups)
        decision = self.assertGreedyFailsSolverSucceeds(dc, req)
        self.assertEqual({'r1h0'}, self.hosts_of(decision, ['q1', 'q2']))
        self.assertEqual(1, len(self.hosts_of(decision, ['p1', 'p2'])))


class TestExplanations(base.SolverTestCase):

    def filters(self, entry):
        return [step['filter'] for step in entry['ruled_out']]

    def test_server_too_big_for_every_host(self):
        dc = make_dc()
        decision = self.infeasible(dc, request([server('ok', 1),
                                                server('huge', 9)]))
        self.assertTrue(decision.proven_infeasible)
        entries = decision.explanation['servers']
        self.assertEqual(['huge'], [e['server'] for e in entries])
        self.assertIn('capacity:VCPU', self.filters(entries[0]))
        self.assertEqual(8, entries[0]['hosts'])
        self.assertEqual(0, entries[0]['remaining'])
        self.assertIn('huge', decision.explanation['summary'])
        self.assertIn('capacity:VCPU', decision.explanation['summary'])

    def test_memory_and_disk_named_in_funnel(self):
        dc = make_dc()
        decision = self.infeasible(dc, request([server('m', 1, 20000)]))
        self.assertIn('capacity:MEMORY_MB',
                      self.filters(decision.explanation['servers'][0]))
        decision = self.infeasible(dc, request([server('d', 1, 1, 500)]))
        self.assertIn('capacity:DISK_GB',
                      self.filters(decision.explanation['servers'][0]))

    def test_affinity_group_larger_than_any_host(self):
        dc = make_dc()
        req = request([server(s, 3, groups=['A']) for s in 'abc'],
                      [affinity('A')])
        decision = self.infeasible(dc, req)
        entries = [e for e in decision.explanation['groups']
                   if e['group'] == 'A']
        self.assertEqual(1, len(entries))
        self.assertEqual('affinity', entries[0]['kind'])
        self.assertEqual('host', entries[0]['level'])
        self.assertEqual(9.0, entries[0]['needs']['VCPU'])
        self.assertEqual({'groups': ['A'], 'capacity_only': False,
                          'minimal': True},
                         decision.explanation['conflict'])
        self.assertIn('A', decision.explanation['summary'])

    def test_more_diversity_members_than_racks(self):
        dc = make_dc(racks=3)
        req = request([server(s, 1, groups=['D']) for s in 'abcd'],
                      [diversity('D', 'rack')])
        decision = self.infeasible(dc, req)
        self.assertTrue(decision.proven_infeasible)
        entries = [e for e in decision.explanation['groups']
                   if e['group'] == 'D']
        self.assertEqual(1, len(entries))
        self.assertEqual('diversity', entries[0]['kind'])
        self.assertEqual('rack', entries[0]['level'])
        self.assertEqual(4, entries[0]['units'])
        self.assertEqual(3, entries[0]['domains'])

    def test_minimal_conflict_set(self):
        # One host per rack: A wants a and b in one rack, D on two hosts.
        # Either group alone is fine; I (innocent) plays no part.
        dc = make_dc(racks=3, hosts_per_rack=1)
        groups = [affinity('A', 'rack'), diversity('D'),
                  diversity('I', 'rack')]
        req = request([server('a', 1, groups=['A', 'D']),
                       server('b', 1, groups=['A', 'D']),
                       server('c', 1, groups=['I']),
                       server('d', 1, groups=['I'])], groups)
        decision = self.infeasible(dc, req)
        conflict = decision.explanation['conflict']
        self.assertEqual(['A', 'D'], sorted(conflict['groups']))
        self.assertTrue(conflict['minimal'])
        self.assertFalse(conflict['capacity_only'])
        summary = decision.explanation['summary']
        self.assertIn('A', summary)
        self.assertIn('D', summary)
        # Each of the two alone is satisfiable.
        for keep in ('A', 'D'):
            kept = [grp for grp in groups if grp.name in (keep, 'I')]
            self.place(dc, request([
                server(s.id, 1, groups=[n for n in s.groups
                                        if n in (keep, 'I')])
                for s in req.servers], kept))

    def test_capacity_only_conflict(self):
        dc = make_dc(racks=1, hosts_per_rack=2)
        req = request([server(s, 5, groups=['D']) for s in 'abc'],
                      [diversity('D', 'rack')])
        decision = self.infeasible(dc, req)
        self.assertEqual({'groups': [], 'capacity_only': True,
                          'minimal': True},
                         decision.explanation['conflict'])

    def test_explanation_shape(self):
        dc = make_dc()
        decision = self.infeasible(dc, request([server('huge', 9)]))
        self.assertEqual({'servers', 'groups', 'search', 'conflict',
                          'proven', 'reason', 'summary'},
                         set(decision.explanation))
        self.assertEqual({}, decision.assignment)

    def test_counting_proof_is_not_blamed_on_the_budget(self):
        # 20 members of a host-diversity group, 14 hosts: the count proves
        # it, even with a budget too small to search at all.
        dc = make_dc(racks=2, hosts_per_rack=7)
        req = request([server('s%02d' % i, 1, groups=['D'],
                              name='web-%02d' % i) for i in range(20)],
                      [diversity('D')])
        decision = self.infeasible(dc, req, max_nodes=5, max_work=50,
                                   explain_conflicts=False)
        why = decision.explanation
        self.assertTrue(decision.proven_infeasible)
        self.assertEqual((True, 'infeasible'), (why['proven'], why['reason']))
        self.assertNotIn('not proven', why['summary'])
        self.assertNotIn('budget', why['summary'])
        self.assertTrue(why['summary'].startswith('the request is impossible'),
                        why['summary'])
        self.assertIn('20 members (web-00, web-01', why['summary'])
        self.assertIn('only 14 hosts', why['summary'])

    def test_budget_stop_says_so(self):
        # Every server fits alone and no count rules the request out; a
        # budget of 100 nodes stops the search before it proves anything.
        dc = base.build([base.host('h%d' % i, vcpus=v)
                         for i, v in enumerate([12, 12, 8, 10, 12])])
        req = request([server('s%d' % i, v) for i, v in enumerate(
            [7, 7, 6, 7, 4, 7, 6, 4, 4])])
        decision = self.infeasible(dc, req, max_nodes=100, max_work=1000,
                                   improve=False, explain_conflicts=False)
        why = decision.explanation
        self.assertFalse(decision.proven_infeasible)
        self.assertEqual((False, 'search_budget'),
                         (why['proven'], why['reason']))
        self.assertIn('not proven impossible', why['summary'])

    def test_server_named_by_name_in_summary(self):
        dc = make_dc()
        decision = self.infeasible(dc, request([server('o-1', 9,
                                                       name='db-primary')]))
        self.assertIn('server db-primary (o-1): no host',
                      decision.explanation['summary'])
        self.assertEqual('infeasible', decision.explanation['reason'])

    def test_failure_found_only_in_search(self):
        # Every server has candidates on its own; together they do not
        # fit (3 x 6 VCPU on two 8-VCPU hosts).
        dc = make_dc(racks=1, hosts_per_rack=2)
        decision = self.infeasible(dc, request([server(s, 6)
                                                for s in 'abc']))
        self.assertEqual([], decision.explanation['servers'])
        self.assertIsNotNone(decision.explanation['search'])
        self.assertTrue(decision.explanation['search']['proven'])
        self.assertTrue(decision.proven_infeasible)
