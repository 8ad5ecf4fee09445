"""The solver and the group rules, static filters and capacities.

Default data centre (``base.make_dc()``): racks r0 and r1, four hosts each
(``r0h0`` .. ``r1h3``), 8 VCPU, 16384 MB and 100 GB per host, all in zone
z0. Every feasible decision below has passed the independent validator.
"""

from valet.engine.model import groups as g
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import exclusivity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server


class TestAffinity(base.SolverTestCase):

    def test_host_affinity_within_request(self):
        dc = make_dc()
        req = request([server('a', 2, groups=['A']),
                       server('b', 2, groups=['A']),
                       server('c', 2, groups=['A'])], [affinity('A')])
        decision = self.place(dc, req)
        self.assertEqual(1, len(self.hosts_of(decision, 'abc')))
        self.assertTrue(decision.optimal)
        self.assertEqual(1, decision.objective['new_hosts'])

    def test_host_affinity_too_big_for_one_host(self):
        dc = make_dc()
        req = request([server('a', 5, groups=['A']),
                       server('b', 5, groups=['A'])], [affinity('A')])
        self.infeasible(dc, req)

    def test_rack_affinity_within_request(self):
        dc = make_dc()
        # 6 VCPU each: one per host, all three in one rack.
        req = request([server(s, 6, groups=['A']) for s in 'abc'],
                      [affinity('A', 'rack')])
        decision = self.place(dc, req)
        self.assertEqual(3, len(self.hosts_of(decision, 'abc')))
        self.assertEqual(1, len(self.racks_of(dc, decision, 'abc')))

    def test_rack_affinity_larger_than_rack(self):
        dc = make_dc()
        req = request([server(s, 6, groups=['A']) for s in 'abcde'],
                      [affinity('A', 'rack')])
        self.infeasible(dc, req)

    def test_host_affinity_joins_placed_members(self):
        # Consolidation alone would pick r0h0, which already runs something.
        dc = make_dc(existing=[placed('busy', 'r0h0'),
                               placed('old', 'r1h2', groups=['A'])],
                     groups=[affinity('A')])
        req = request([server('new', 2, groups=['A'])])
        decision = self.place(dc, req)
        self.assertEqual('r1h2', decision.assignment['new'])

    def test_rack_affinity_joins_placed_members(self):
        dc = make_dc(existing=[placed('busy', 'r0h0'),
                               placed('old', 'r1h2', vcpus=8,
                                      groups=['A'])],
                     groups=[affinity('A', 'rack')])
        req = request([server('n1', 4, groups=['A']),
                       server('n2', 4, groups=['A'])])
        decision = self.place(dc, req)
        self.assertEqual({'r1'}, self.racks_of(dc, decision, ['n1', 'n2']))
        self.assertNotIn('r1h2', self.hosts_of(decision, ['n1', 'n2']))

    def test_affinity_with_placed_members_but_no_room(self):
        dc = make_dc(existing=[placed('old', 'r1h2', vcpus=7,
                                      groups=['A'])],
                     groups=[affinity('A')])
        req = request([server('new', 2, groups=['A'])])
        self.infeasible(dc, req)

    def test_affinity_drift_new_members_go_to_one_old_domain(self):
        dc = make_dc(existing=[placed('o1', 'r0h1', groups=['A']),
                               placed('o2', 'r1h1', groups=['A'])],
                     groups=[affinity('A')])
        req = request([server('n1', 2, groups=['A']),
                       server('n2', 2, groups=['A'])])
        decision = self.place(dc, req)
        hosts = self.hosts_of(decision, ['n1', 'n2'])
        self.assertEqual(1, len(hosts))
        self.assertTrue(hosts <= {'r0h1', 'r1h1'})


class TestDiversity(base.SolverTestCase):

    def test_host_diversity_within_request(self):
        dc = make_dc()
        req = request([server(s, 1, groups=['D']) for s in 'abcd'],
                      [diversity('D')])
        decision = self.place(dc, req)
        self.assertEqual(4, len(self.hosts_of(decision, 'abcd')))

    def test_host_diversity_more_members_than_hosts(self):
        dc = make_dc(racks=1, hosts_per_rack=3)
        req = request([server(s, 1, groups=['D']) for s in 'abcd'],
                      [diversity('D')])
        self.infeasible(dc, req)

    def test_rack_diversity_within_request(self):
        dc = make_dc()
        req = request([server('a', 1, groups=['D']),
                       server('b', 1, groups=['D'])],
                      [diversity('D', 'rack')])
        decision = self.place(dc, req)
        self.assertEqual(2, len(self.racks_of(dc, decision, 'ab')))

    def test_rack_diversity_more_members_than_racks(self):
        dc = make_dc()
        req = request([server(s, 1, groups=['D']) for s in 'abc'],
                      [diversity('D', 'rack')])
        self.infeasible(dc, req)

    def test_host_diversity_avoids_placed_members(self):
        dc = make_dc(racks=1, hosts_per_rack=3,
                     existing=[placed('o1', 'r0h0', groups=['D']),
                               placed('o2', 'r0h1', groups=['D'])],
                     groups=[diversity('D')])
        # Consolidation would prefer a used host; diversity forbids both.
        decision = self.place(dc, request([server('n', 1, groups=['D'])]))
        self.assertEqual('r0h2', decision.assignment['n'])
        self.infeasible(dc, request([server('n1', 1, groups=['D']),
                                     server('n2', 1, groups=['D'])]))

    def test_rack_diversity_avoids_placed_members(self):
        dc = make_dc(racks=3, existing=[placed('o1', 'r0h0', groups=['D']),
                                        placed('o2', 'r2h0', groups=['D'])],
                     groups=[diversity('D', 'rack')])
        decision = self.place(dc, request([server('n', 1, groups=['D'])]))
        self.assertEqual('r1', self.rack_of(dc, decision.assignment['n']))

    def test_non_members_may_share_with_diversity_members(self):
        dc = make_dc(racks=1, hosts_per_rack=2)
        req = request([server('a', 1, groups=['D']),
                       server('b', 1, groups=['D']),
                       server('x', 1)], [diversity('D')])
        decision = self.place(dc, req)
        self.assertEqual(2, len(self.hosts_of(decision, 'abx')))
        self.assertEqual(2, decision.objective['new_hosts'])


class TestExclusivity(base.SolverTestCase):

    def test_host_exclusivity_within_request(self):
        dc = make_dc(racks=1, hosts_per_rack=3)
        req = request([server('e1', 1, groups=['E']),
                       server('e2', 1, groups=['E']),
                       server('x', 1), server('y', 1)],
                      [exclusivity('E')])
        decision = self.place(dc, req)
        e_hosts = self.hosts_of(decision, ['e1', 'e2'])
        self.assertFalse(e_hosts & self.hosts_of(decision, 'xy'))
        # Fewest new hosts: one for E, one for the others.
        self.assertEqual(2, decision.objective['new_hosts'])

    def test_host_exclusivity_avoids_busy_hosts(self):
        dc = make_dc(racks=1, hosts_per_rack=2,
                     existing=[placed('busy', 'r0h0')])
        req = request([server('e', 1, groups=['E'])], [exclusivity('E')])
        decision = self.place(dc, req)
        self.assertEqual('r0h1', decision.assignment['e'])

    def test_host_exclusivity_no_free_host(self):
        dc = make_dc(racks=1, hosts_per_rack=2,
                     existing=[placed('b0', 'r0h0'), placed('b1', 'r0h1')])
        req = request([server('e', 1, groups=['E'])], [exclusivity('E')])
        self.infeasible(dc, req)

    def test_rack_exclusivity(self):
        dc = make_dc(existing=[placed('busy', 'r0h3')])
        req = request([server('e1', 8, groups=['E']),
                       server('e2', 8, groups=['E']),
                       server('x', 1)], [exclusivity('E', 'rack')])
        decision = self.place(dc, req)
        self.assertEqual({'r1'}, self.racks_of(dc, decision, ['e1', 'e2']))
        self.assertEqual('r0', self.rack_of(dc, decision.assignment['x']))

    def test_exclusive_hosts_stay_dedicated(self):
        # r0h0 holds E; consolidation would put outsiders there otherwise.
        dc = make_dc(racks=1, hosts_per_rack=3,
                     existing=[placed('old', 'r0h0', groups=['E']),
                               placed('other', 'r0h1')],
                     groups=[exclusivity('E')])
        decision = self.place(dc, request([server('x', 1)]))
        self.assertNotEqual('r0h0', decision.assignment['x'])
        decision = self.place(dc, request([server('e', 1, groups=['E'])]))
        self.assertEqual('r0h0', decision.assignment['e'])

    def test_exclusive_rack_stays_dedicated(self):
        dc = make_dc(existing=[placed('old', 'r1h0', groups=['E'])],
                     groups=[exclusivity('E', 'rack')])
        decision = self.place(dc, request([server(s, 1) for s in 'xyz']))
        self.assertEqual({'r0'}, self.racks_of(dc, decision, 'xyz'))
        decision = self.place(dc, request([server('e', 1, groups=['E'])]))
        self.assertEqual('r1h0', decision.assignment['e'])
        dc = make_dc(racks=1, existing=[placed('old', 'r0h0',
                                               groups=['E'])],
                     groups=[exclusivity('E', 'rack')])
        self.infeasible(dc, request([server('x', 1)]))

    def test_host_exclusive_member_leaves_its_rack_open(self):
        # A rack-level exclusivity group elsewhere must not make E's
        # host-level member close its whole rack to outsiders.
        dc = make_dc(racks=1, hosts_per_rack=2,
                     existing=[placed('old', 'r0h0', groups=['E'])],
                     groups=[exclusivity('E'), exclusivity('R', 'rack')])
        decision = self.place(dc, request([server('x', 1)]))
        self.assertEqual('r0h1', decision.assignment['x'])

    def test_member_of_one_kept_from_a_host_of_two_groups(self):
        # 'old' is in E and F (drift): its host is F's as much as E's, so
        # a new member of E alone must go elsewhere.
        dc = make_dc(racks=1, hosts_per_rack=2,
                     existing=[placed('old', 'r0h0', groups=['E', 'F'])],
                     groups=[exclusivity('E'), exclusivity('F')])
        decision = self.place(dc, request([server('e', 1, groups=['E'])]))
        self.assertEqual('r0h1', decision.assignment['e'])

    def test_two_exclusivity_groups_keep_apart(self):
        dc = make_dc(racks=1, hosts_per_rack=2)
        req = request([server('a', 1, groups=['E1']),
                       server('b', 1, groups=['E2'])],
                      [exclusivity('E1'), exclusivity('E2')])
        decision = self.place(dc, req)
        self.assertEqual(2, len(self.hosts_of(decision, 'ab')))


class TestNesting(base.SolverTestCase):

    def test_affinity_in_affinity(self):
        dc = make_dc()
        groups = [affinity('outer', 'rack'),
                  affinity('inner', 'host', parents=['outer'])]
        req = request([server('a', 4, groups=['inner']),
                       server('b', 4, groups=['inner']),
                       server('c', 6, groups=['outer']),
                       server('d', 6, groups=['outer'])], groups)
        decision = self.place(dc, req)
        self.assertEqual(decision.assignment['a'], decision.assignment['b'])
        self.assertEqual(1, len(self.racks_of(dc, decision, 'abcd')))

    def test_affinity_in_diversity(self):
        dc = make_dc(racks=3, hosts_per_rack=2)
        groups = [diversity('D', 'rack')] + [
            affinity('A%d' % k, 'host', parents=['D']) for k in range(3)]
        servers = [server('s%d%d' % (k, m), 3, groups=['A%d' % k])
                   for k in range(3) for m in range(2)]
        decision = self.place(dc, request(servers, groups))
        for k in range(3):
            self.assertEqual(1, len(self.hosts_of(
                decision, ['s%d0' % k, 's%d1' % k])))
        self.assertEqual(3, len(self.racks_of(
            dc, decision, [s.id for s in servers])))

    def test_affinity_chain_forms_one_diversity_unit(self):
        # a-b linked by A1 and b-c by A2 (all in D): one unit, one host.
        dc = make_dc(racks=1, hosts_per_rack=3)
        groups = [diversity('D'), affinity('A1'), affinity('A2')]
        req = request([server('a', 1, groups=['D', 'A1']),
                       server('b', 1, groups=['D', 'A1', 'A2']),
                       server('c', 1, groups=['D', 'A2']),
                       server('d', 1, groups=['D'])], groups)
        decision = self.place(dc, req)
        self.assertEqual(1, len(self.hosts_of(decision, 'abc')))
        self.assertNotEqual(decision.assignment['a'],
                            decision.assignment['d'])

    def test_affinity_chain_through_a_non_member(self):
        # a and c are in diversity group D, b is not; A1 = {a, b} and
        # A2 = {b, c} force a, b and c onto one host, so a and c form one
        # unit of D (the chain runs through b). Regression: units used to
        # be built from D's members only, and this was "proven infeasible".
        dc = make_dc(racks=1, hosts_per_rack=3)
        groups = [diversity('D'), affinity('A1'), affinity('A2')]
        req = request([server('a', 1, groups=['D', 'A1']),
                       server('b', 1, groups=['A1', 'A2']),
                       server('c', 1, groups=['D', 'A2'])], groups)
        decision = self.decide(dc, req)
        self.assertFalse(decision.proven_infeasible)
        self.assertTrue(decision.feasible)
        self.assertEqual(1, len(self.hosts_of(decision, 'abc')))

    def test_affinity_in_exclusivity(self):
        dc = make_dc(racks=1, hosts_per_rack=3,
                     existing=[placed('busy', 'r0h0')])
        groups = [exclusivity('E'), affinity('A', parents=['E'])]
        req = request([server('a', 2, groups=['A']),
                       server('b', 2, groups=['A']),
                       server('x', 1)], groups)
        decision = self.place(dc, req)
        self.assertEqual(decision.assignment['a'], decision.assignment['b'])
        self.assertNotIn(decision.assignment['a'], {'r0h0'})
        self.assertNotEqual(decision.assignment['a'],
                            decision.assignment['x'])

    def test_exclusivity_inherited_by_enclosing_affinity(self):
        # Only a is in E, but A pulls b along: b is a member of E too, so
        # the outsider x may not share their host.
        dc = make_dc(racks=1, hosts_per_rack=2)
        groups = [exclusivity('E'), affinity('A')]
        req = request([server('a', 1, groups=['A', 'E']),
                       server('b', 1, groups=['A']),
                       server('x', 1)], groups)
        decision = self.place(dc, req)
        self.assertEqual(decision.assignment['a'], decision.assignment['b'])
        self.assertNotEqual(decision.assignment['a'],
                            decision.assignment['x'])

    def test_inherited_rack_exclusivity_dedicates_the_rack(self):
        dc = make_dc()
        groups = [exclusivity('E', 'rack'), affinity('A')]
        req = request([server('a', 1, groups=['A', 'E']),
                       server('b', 1, groups=['A']),
                       server('x', 1)], groups)
        decision = self.place(dc, req)
        self.assertNotEqual(self.rack_of(dc, decision.assignment['a']),
                            self.rack_of(dc, decision.assignment['x']))

    def test_no_inheritance_from_lower_exclusivity(self):
        # E at host level, A at rack level: b need not join E, it just may
        # not share a's host; it stays in a's rack.
        dc = make_dc(racks=2, hosts_per_rack=2)
        groups = [exclusivity('E'), affinity('A', 'rack')]
        req = request([server('a', 1, groups=['A', 'E']),
                       server('b', 1, groups=['A'])], groups)
        decision = self.place(dc, req)
        self.assertNotEqual(decision.assignment['a'],
                            decision.assignment['b'])
        self.assertEqual(1, len(self.racks_of(dc, decision, 'ab')))

    def test_inherited_exclusivity_of_placed_servers_without_drift(self):
        # SOLVER BUG reproducer (kept failing on purpose): o1 is in E (rack
        # exclusivity) and A (rack affinity); o2 is in A only, so by
        # inheritance o2 is a member of E and rack r0 holds only members of
        # E. A new member of E may join r0 (the validator agrees). The
        # solver only looks at placed servers of groups the request touches
        # (A is not) and of the model's group_servers('E') (which has no
        # inheritance), so it counts o2 as an outsider and answers proven
        # infeasible.
        dc = make_dc(racks=1, hosts_per_rack=3,
                     groups=[exclusivity('E', 'rack'), affinity('A', 'rack')],
                     existing=[placed('o1', 'r0h0', groups=['E', 'A']),
                               placed('o2', 'r0h1', groups=['A'])])
        decision = self.decide(dc, request([server('n', groups=['E'])]))
        self.assertFalse(decision.proven_infeasible)
        self.assertTrue(decision.feasible)

    def test_inherited_exclusivity_of_placed_servers_with_drift(self):
        # SOLVER BUG reproducer (kept failing on purpose): host affinity A
        # has drifted over r0h0 (o1, also in host exclusivity E) and r0h1
        # (o2). o2 inherits E, so r0h1 is dedicated to E; the solver puts
        # the outsider n on r0h1 and the validator reports an exclusivity
        # violation (same cause as the test above).
        dc = make_dc(racks=1, hosts_per_rack=3,
                     groups=[exclusivity('E'), affinity('A')],
                     existing=[placed('o1', 'r0h0', groups=['E', 'A']),
                               placed('o2', 'r0h1', groups=['A'])])
        decision = self.place(dc, request([server('n')]))
        self.assertEqual('r0h2', decision.assignment['n'])

    def test_inherited_exclusivity_among_placed_servers_blocks_nothing(self):
        # The group definitions came after the servers: o2 inherits E from
        # its affinity partner o1 and shares r0h1 with the outsider x, a
        # breach the request did not make. Found by the group-order
        # property test: every request was refused as "impossible".
        dc = make_dc(racks=1, hosts_per_rack=3,
                     groups=[exclusivity('E'), affinity('A')],
                     existing=[placed('o1', 'r0h0', groups=['E', 'A']),
                               placed('o2', 'r0h1', groups=['A']),
                               placed('x', 'r0h1')])
        decision = self.place(dc, request([server('n')]))
        self.assertEqual('r0h2', decision.assignment['n'])
        # A request that does make a placed server a member still may not.
        dc.place(placed('o3', 'r0h2', groups=['B']))
        dc.place(placed('y', 'r0h2'))
        req = request([server('m', groups=['B', 'E'])], [affinity('B')])
        self.infeasible(dc, req)

    def test_inheritance_reaches_drifted_domains(self):
        # SOLVER BUG reproducer (kept failing on purpose): host affinity A
        # has drifted over r0h0 (o1, next to the unrelated x) and r0h1
        # (o2). The request nests a new exclusivity group E in A, so o1
        # and o2 inherit E and r0h0 would hold member o1 and outsider x:
        # every placement of n breaks E (the validator says so for each
        # host), the request is infeasible. The solver only checks the
        # domain n lands on and puts n on r0h1.
        dc = make_dc(racks=1, hosts_per_rack=3, groups=[affinity('A')],
                     existing=[placed('x', 'r0h0'),
                               placed('o1', 'r0h0', groups=['A']),
                               placed('o2', 'r0h1', groups=['A'])])
        req = request([server('n', groups=['E'])],
                      [exclusivity('E', parents=['A'])])
        self.infeasible(dc, req)

    def test_overlapping_affinity_groups_merge(self):
        dc = make_dc(racks=1, hosts_per_rack=3,
                     existing=[placed('busy', 'r0h0', vcpus=6)])
        groups = [affinity('A1'), affinity('A2')]
        req = request([server('a', 2, groups=['A1']),
                       server('x', 2, groups=['A1', 'A2']),
                       server('b', 2, groups=['A2'])], groups)
        decision = self.place(dc, req)
        self.assertEqual(1, len(self.hosts_of(decision, 'axb')))
        self.assertNotEqual('r0h0', decision.assignment['a'])

    def test_overlapping_affinity_groups_too_big_together(self):
        dc = make_dc(racks=1, hosts_per_rack=3)
        groups = [affinity('A1'), affinity('A2')]
        req = request([server('a', 4, groups=['A1']),
                       server('x', 1, groups=['A1', 'A2']),
                       server('b', 4, groups=['A2'])], groups)
        self.infeasible(dc, req)

    def test_nested_group_against_placed_members(self):
        # A (host, in D rack) already runs in r0: a new A member joins it,
        # a new D unit avoids r0.
        groups = [diversity('D', 'rack'), affinity('A', parents=['D'])]
        dc = make_dc(existing=[placed('o', 'r0h1', groups=['A'])],
                     groups=groups)
        req = request([server('a', 1, groups=['A']),
                       server('u', 1, groups=['D'])])
        decision = self.place(dc, req)
        self.assertEqual('r0h1', decision.assignment['a'])
        self.assertEqual('r1', self.rack_of(dc, decision.assignment['u']))

    def test_request_nests_group_with_placed_members_in_new_parent(self):
        # a, b, c run together in affinity group p; the request nests p in
        # a new host diversity group g, so d (in g) must avoid their host.
        existing = [placed(s, 'r0h0', groups=['p']) for s in 'abc']
        dc = make_dc(racks=1, hosts_per_rack=2, existing=existing,
                     groups=[affinity('p')])
        decision = self.place(dc, request(
            [server('d', 1, groups=['g'])],
            [diversity('g'), affinity('p', parents=['g'])]))
        self.assertEqual('r0h1', decision.assignment['d'])


class TestInvalidRequests(base.SolverTestCase):

    def setUp(self):
        super().setUp()
        self.dc = make_dc()

    def invalid(self, code, servers, groups=(), dc=None):
        return self.assertInvalid(code, dc or self.dc,
                                  request(servers, groups))

    def test_unknown_level(self):
        self.invalid('valet.request.unknown_level',
                     [server('a', groups=['A'])], [affinity('A', 'pod')])

    def test_unknown_kind(self):
        self.invalid('valet.request.unknown_kind',
                     [server('a', groups=['X'])],
                     [base.group('X', 'anti-affinity')])

    def _nested(self, child_kind, parent_kind, child_level='host',
                parent_level='host'):
        return [base.group('P', parent_kind, parent_level),
                base.group('C', child_kind, child_level, parents=['P'])]

    def test_illegal_nesting_kinds(self):
        for child, parent in [(g.DIVERSITY, g.DIVERSITY),
                              (g.EXCLUSIVITY, g.DIVERSITY),
                              (g.DIVERSITY, g.EXCLUSIVITY),
                              (g.EXCLUSIVITY, g.EXCLUSIVITY)]:
            err = self.invalid('valet.request.illegal_nesting',
                               [server('a', groups=['C'])],
                               self._nested(child, parent))
            self.assertEqual('C', err.details['group'])

    def test_child_level_higher_than_parent(self):
        for kind in g.KINDS:
            self.invalid('valet.request.illegal_nesting',
                         [server('a', groups=['C'])],
                         self._nested(g.AFFINITY, kind, 'rack', 'host'))

    def test_diversity_and_exclusivity_in_affinity_are_legal(self):
        for kind in (g.DIVERSITY, g.EXCLUSIVITY):
            self.place(self.dc, request([server('a', groups=['C'])],
                                        self._nested(kind, g.AFFINITY,
                                                     'host', 'rack')))

    def test_cycle(self):
        groups = [affinity('A', parents=['B']), affinity('B', parents=['C']),
                  affinity('C', parents=['A'])]
        err = self.invalid('valet.request.group_cycle',
                           [server('a', groups=['A'])], groups)
        self.assertEqual(4, len(err.details['groups']))

    def test_self_cycle(self):
        self.invalid('valet.request.group_cycle',
                     [server('a', groups=['A'])],
                     [affinity('A', parents=['A'])])

    def test_two_exclusivity_groups_at_one_level(self):
        self.invalid('valet.request.multiple_exclusivity',
                     [server('a', groups=['E1', 'E2'])],
                     [exclusivity('E1'), exclusivity('E2')])

    def test_two_exclusivity_groups_at_different_levels(self):
        self.place(self.dc, request([server('a', groups=['E1', 'E2'])],
                                    [exclusivity('E1'),
                                     exclusivity('E2', 'rack')]))

    def test_two_exclusivity_groups_through_inheritance(self):
        self.invalid('valet.request.multiple_exclusivity',
                     [server('a', groups=['A', 'E1']),
                      server('b', groups=['A', 'E2'])],
                     [affinity('A'), exclusivity('E1'), exclusivity('E2')])

    def test_two_exclusivity_groups_through_nesting(self):
        self.invalid('valet.request.multiple_exclusivity',
                     [server('a', groups=['A', 'E2'])],
                     [exclusivity('E1'), affinity('A', parents=['E1']),
                      exclusivity('E2')])

    def test_unknown_group(self):
        self.invalid('valet.request.unknown_group',
                     [server('a', groups=['nope'])])

    def test_unknown_parent_group(self):
        self.invalid('valet.request.unknown_group',
                     [server('a', groups=['A'])],
                     [affinity('A', parents=['nope'])])

    def test_model_group_needs_no_definition(self):
        dc = make_dc(groups=[diversity('D')])
        decision = self.place(dc, request([server('a', groups=['D']),
                                           server('b', groups=['D'])]))
        self.assertEqual(2, len(self.hosts_of(decision, 'ab')))

    def test_group_kind_conflicts_with_model(self):
        dc = make_dc(groups=[diversity('D')])
        self.invalid('valet.request.group_conflict',
                     [server('a', groups=['D'])], [affinity('D')], dc=dc)

    def test_group_level_conflicts_with_model(self):
        dc = make_dc(groups=[diversity('D')])
        self.invalid('valet.request.group_conflict',
                     [server('a', groups=['D'])], [diversity('D', 'rack')],
                     dc=dc)

    def test_group_restated_as_in_model(self):
        dc = make_dc(groups=[diversity('D')])
        self.place(dc, request([server('a', groups=['D'])], [diversity('D')]))

    def test_negative_demand(self):
        self.invalid('valet.request.bad_demand', [server('a', vcpus=-1)])

    def test_non_numeric_demands(self):
        for bad in ('2', None, float('nan'), float('inf'), True):
            req = request([base.request_mod.ServerRequest(
                id='a', demand={'VCPU': bad})])
            self.assertInvalid('valet.request.bad_demand', self.dc, req)

    def test_missing_demand(self):
        for missing in ({}, None):
            req = request([base.request_mod.ServerRequest(
                id='a', demand=missing)])
            self.assertInvalid('valet.request.bad_demand', self.dc, req)

    def test_zero_demand_is_valid(self):
        self.place(self.dc, request([server('a', 0, 0, 0)]))

    def test_duplicate_server_ids(self):
        self.invalid('valet.request.duplicate_server',
                     [server('a'), server('b'), server('a')])

    def test_create_of_a_placed_server(self):
        dc = make_dc(existing=[placed('a', 'r0h0')])
        self.invalid('valet.request.server_exists', [server('a')], dc=dc)


class TestCapacity(base.SolverTestCase):

    def test_exact_fit(self):
        dc = make_dc(racks=1, hosts_per_rack=1)
        decision = self.place(dc, request([server('a', 8, 16384, 100)]))
        self.assertEqual('r0h0', decision.assignment['a'])

    def test_each_resource_class_binds(self):
        dc = make_dc(racks=1, hosts_per_rack=1)
        for vcpus, ram, disk in [(9, 1, 1), (1, 16385, 1), (1, 1, 101)]:
            self.infeasible(dc, request([server('a', vcpus, ram, disk)]))

    def test_sum_over_servers(self):
        dc = make_dc(racks=1, hosts_per_rack=2)
        decision = self.place(dc, request([server(s, 4) for s in 'abcd']))
        self.assertEqual(2, len(self.hosts_of(decision, 'abcd')))
        self.infeasible(dc, request([server(s, 4) for s in 'abcde']))

    def test_placed_servers_use_capacity(self):
        dc = make_dc(racks=1, hosts_per_rack=2,
                     existing=[placed('o1', 'r0h0', vcpus=6),
                               placed('o2', 'r0h1', vcpus=4)])
        decision = self.place(dc, request([server('a', 4)]))
        self.assertEqual('r0h1', decision.assignment['a'])
        self.infeasible(dc, request([server('a', 3), server('b', 3)]))

    def test_consolidates_on_used_hosts(self):
        dc = make_dc(existing=[placed('o', 'r1h2', vcpus=2)])
        decision = self.place(dc, request([server('a', 2), server('b', 2)]))
        self.assertEqual({'r1h2'}, self.hosts_of(decision, 'ab'))
        self.assertEqual(0, decision.objective['new_hosts'])

    def test_allocation_ratio(self):
        dc = base.build([base.host('h', allocation_ratios={'VCPU': 2.0})])
        decision = self.place(dc, request([server('a', 10), server('b', 6)]))
        self.assertEqual({'h'}, self.hosts_of(decision, 'ab'))
        self.infeasible(dc, request([server('a', 17)]))

    def test_reserved_and_standby(self):
        dc = base.build([base.host('h', reserved={'MEMORY_MB': 4096},
                                   standby_percent={'VCPU': 25})])
        self.place(dc, request([server('a', 6, 12288)]))
        self.infeasible(dc, request([server('a', 7)]))
        self.infeasible(dc, request([server('a', 1, 12289)]))

    def test_unknown_resource_class(self):
        dc = make_dc()
        req = request([server('a', extra_demand={'CUSTOM_GPU': 1})])
        decision = self.infeasible(dc, req)
        self.assertIn('CUSTOM_GPU', decision.explanation['summary'])

    def test_custom_resource_class(self):
        hosts = base.make_hosts(1, 3)
        hosts[2].capacity['CUSTOM_GPU'] = 2
        dc = base.build(hosts)
        req = request([server('a', extra_demand={'CUSTOM_GPU': 1}),
                       server('b', extra_demand={'CUSTOM_GPU': 1})])
        decision = self.place(dc, req)
        self.assertEqual({'r0h2'}, self.hosts_of(decision, 'ab'))
        req = request([server(s, extra_demand={'CUSTOM_GPU': 1})
                       for s in 'abc'])
        self.infeasible(dc, req)

    def test_disabled_hosts(self):
        hosts = base.make_hosts(1, 3)
        hosts[0].enabled = hosts[1].enabled = False
        dc = base.build(hosts)
        decision = self.place(dc, request([server('a'), server('b')]))
        self.assertEqual({'r0h2'}, self.hosts_of(decision, 'ab'))
        hosts[2].enabled = False
        self.infeasible(base.build(hosts), request([server('a')]))

    def test_disabled_host_does_not_count_for_rack_affinity(self):
        hosts = base.make_hosts(2, 2)
        hosts[0].enabled = False           # r0h0
        dc = base.build(hosts)
        req = request([server(s, 8, groups=['A']) for s in 'ab'],
                      [affinity('A', 'rack')])
        decision = self.place(dc, req)
        self.assertEqual({'r1'}, self.racks_of(dc, decision, 'ab'))


class TestStaticFilters(base.SolverTestCase):

    def test_availability_zone(self):
        dc = make_dc(racks=2, zones=2)
        decision = self.place(dc, request([server('a', availability_zone='z1'),
                                           server('b', availability_zone='z0')]))
        self.assertEqual('r1', self.rack_of(dc, decision.assignment['a']))
        self.assertEqual('r0', self.rack_of(dc, decision.assignment['b']))

    def test_availability_zone_host_part_is_ignored(self):
        dc = make_dc(racks=2, zones=2, existing=[placed('o', 'r1h3')])
        decision = self.place(dc, request(
            [server('a', availability_zone='z1:r1h0')]))
        self.assertEqual('r1h3', decision.assignment['a'])

    def test_unknown_availability_zone(self):
        decision = self.infeasible(make_dc(), request(
            [server('a', availability_zone='nowhere')]))
        funnel = decision.explanation['servers'][0]
        self.assertEqual('availability_zone',
                         funnel['ruled_out'][0]['filter'])

    def test_zone_with_group(self):
        dc = make_dc(racks=4, hosts_per_rack=1, zones=2)
        req = request([server(s, groups=['D'], availability_zone='z0')
                       for s in 'ab'], [diversity('D', 'rack')])
        decision = self.place(dc, req)
        self.assertEqual({'r0', 'r2'}, self.racks_of(dc, decision, 'ab'))

    def _aggregate_dc(self):
        hosts = base.make_hosts(1, 4)
        hosts[1].aggregates = {'fast': {'disk': 'ssd', 'cores': '16'}}
        hosts[2].aggregates = {'slow': {'disk': 'hdd'},
                               'big': {'cores': '64', 'disk': 'nvme'}}
        hosts[3].aggregates = {'gpu': {'gpu': 'true'}}
        return base.build(hosts)

    def test_aggregate_extra_specs(self):
        dc = self._aggregate_dc()
        cases = [
            ({'aggregate_instance_extra_specs:disk': 'ssd'}, {'r0h1'}),
            ({'disk': 'nvme'}, {'r0h2'}),
            ({'disk': '<or> ssd <or> hdd'}, {'r0h1', 'r0h2'}),
            ({'cores': '>= 32'}, {'r0h2'}),
            ({'cores': '= 16'}, {'r0h1', 'r0h2'}),
            ({'disk': 's!= ssd'}, {'r0h2'}),
            ({'gpu': '<in> ru'}, {'r0h3'}),
            ({'disk': '<all-in> hdd nvme'}, {'r0h2'}),
        ]
        for specs, allowed in cases:
            decision = self.place(dc, request([server('a',
                                                      extra_specs=specs)]))
            self.assertIn(decision.assignment['a'], allowed, specs)

    def test_other_scopes_are_ignored(self):
        dc = self._aggregate_dc()
        self.place(dc, request([server('a', extra_specs={
            'hw:cpu_policy': 'dedicated', 'quota:disk': 'nope'})]))

    def test_aggregate_extra_specs_unmatched(self):
        dc = self._aggregate_dc()
        decision = self.infeasible(dc, request([server('a', extra_specs={
            'disk': 'tape'})]))
        funnel = decision.explanation['servers'][0]
        self.assertEqual(['extra_specs'],
                         [s['filter'] for s in funnel['ruled_out']])

    def test_traits(self):
        hosts = base.make_hosts(1, 3)
        hosts[1].traits = frozenset({'HW_GPU'})
        hosts[2].traits = frozenset({'HW_GPU', 'CUSTOM_FPGA'})
        dc = base.build(hosts)
        decision = self.place(dc, request([server('a', extra_specs={
            'trait:HW_GPU': 'required', 'trait:CUSTOM_FPGA': 'forbidden'})]))
        self.assertEqual('r0h1', decision.assignment['a'])
        decision = self.place(dc, request([server('a', extra_specs={
            'trait:HW_GPU': 'forbidden'})]))
        self.assertEqual('r0h0', decision.assignment['a'])
        self.infeasible(dc, request([server('a', extra_specs={
            'trait:HW_NOPE': 'required'})]))

    def test_candidate_and_excluded_hosts(self):
        dc = make_dc()
        decision = self.place(dc, request([server(
            'a', candidate_hosts={'r1h1', 'r1h2', 'ghost'},
            excluded_hosts={'r1h1'})]))
        self.assertEqual('r1h2', decision.assignment['a'])
        self.infeasible(dc, request([server(
            'a', candidate_hosts={'r1h1'}, excluded_hosts={'r1h1'})]))

    def test_static_filters_with_affinity(self):
        hosts = base.make_hosts(1, 3)
        hosts[2].traits = frozenset({'HW_GPU'})
        dc = base.build(hosts)
        req = request([server('a', groups=['A'],
                              extra_specs={'trait:HW_GPU': 'required'}),
                       server('b', groups=['A'])], [affinity('A')])
        decision = self.place(dc, req)
        self.assertEqual({'r0h2'}, self.hosts_of(decision, 'ab'))
