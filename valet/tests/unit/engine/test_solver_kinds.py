"""Request kinds, applying decisions, determinism and the objectives."""

from valet.engine import solver
from valet.engine.model import request as request_mod
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import exclusivity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server

UPDATE = request_mod.UPDATE
REPLAN = request_mod.REPLAN
MIGRATE = request_mod.MIGRATE
ADHOC = request_mod.ADHOC


class TestCreateAndAdhoc(base.SolverTestCase):

    def test_create_places_every_server(self):
        dc = make_dc()
        req = request([server('s%d' % k, 3) for k in range(6)])
        decision = self.place(dc, req)
        self.assertEqual({'s%d' % k for k in range(6)},
                         set(decision.assignment))
        self.assertEqual([], decision.removed)
        self.assertEqual([], decision.moved)
        # 18 VCPU on 8-VCPU hosts: three hosts at least, and it is proved.
        self.assertEqual(3, decision.objective['new_hosts'])
        self.assertTrue(decision.optimal)

    def test_create_empty_request(self):
        decision = self.place(make_dc(), request([]))
        self.assertEqual({}, decision.assignment)

    def test_adhoc(self):
        dc = make_dc(existing=[placed('o', 'r1h1', vcpus=4)])
        decision = self.place(dc, request([server('a', 2)], kind=ADHOC))
        self.assertEqual({'a': 'r1h1'}, decision.assignment)

    def test_adhoc_with_candidate_hosts(self):
        dc = make_dc(existing=[placed('o', 'r1h1', vcpus=4)])
        decision = self.place(dc, request(
            [server('a', 2, candidate_hosts={'r0h2', 'r0h3'})], kind=ADHOC))
        self.assertIn(decision.assignment['a'], {'r0h2', 'r0h3'})
        decision = self.place(dc, request(
            [server('a', 5, candidate_hosts={'r1h1', 'r1h2'})], kind=ADHOC))
        self.assertEqual('r1h2', decision.assignment['a'])
        self.infeasible(dc, request(
            [server('a', 5, candidate_hosts={'r1h1'})], kind=ADHOC))

    def test_adhoc_places_exactly_one_server(self):
        self.assertInvalid('valet.request.adhoc_size', make_dc(),
                           request([server('a'), server('b')], kind=ADHOC))

    def test_unknown_kind(self):
        self.assertInvalid('valet.request.unknown_kind', make_dc(),
                           request([server('a')], kind='teleport'))


class TestUpdate(base.SolverTestCase):

    def stack_dc(self, **kw):
        """Stack s: a (2) and gone (6) on r0; t's o (5) shares a's host."""
        return make_dc(racks=1, hosts_per_rack=3, existing=[
            placed('a', 'r0h0', 2, stack='s'),
            placed('gone', 'r0h1', 6, stack='s'),
            placed('o', 'r0h0', 5, stack='t')], **kw)

    def test_kept_servers_stay_and_removed_are_reported(self):
        dc = self.stack_dc()
        req = request([server('a', 2), server('n', 1)], kind=UPDATE,
                      stack='s')
        decision = self.place(dc, req)
        self.assertEqual('r0h0', decision.assignment['a'])
        self.assertEqual(['gone'], decision.removed)
        self.assertEqual([], decision.moved)
        self.assertEqual(0, decision.objective['moves'])
        # n fits on a's host (1 VCPU free) and so opens nothing.
        self.assertEqual('r0h0', decision.assignment['n'])

    def test_removed_servers_room_is_reused(self):
        dc = self.stack_dc()
        # Two 8-VCPU servers need two empty hosts: r0h2, and r0h1 once
        # gone has left it.
        req = request([server('a', 2), server('n1', 8), server('n2', 8)],
                      kind=UPDATE, stack='s')
        decision = self.place(dc, req)
        self.assertEqual({'r0h1', 'r0h2'},
                         self.hosts_of(decision, ['n1', 'n2']))
        self.assertEqual(['gone'], decision.removed)

    def test_kept_server_moves_only_when_it_must(self):
        dc = self.stack_dc()
        # a joins a new host-affinity group with b (4): a's host has only 1
        # VCPU free, so a has to move, and says so.
        req = request([server('a', 2, groups=['A']),
                       server('b', 4, groups=['A'])], [affinity('A')],
                      kind=UPDATE, stack='s')
        decision = self.place(dc, req)
        self.assertEqual(['a'], decision.moved)
        self.assertEqual(1, decision.objective['moves'])
        self.assertEqual(decision.assignment['a'], decision.assignment['b'])
        self.assertNotEqual('r0h0', decision.assignment['a'])

    def test_kept_server_resized_in_place(self):
        dc = self.stack_dc()
        req = request([server('a', 3)], kind=UPDATE, stack='s')
        decision = self.place(dc, req)
        self.assertEqual({'a': 'r0h0'}, decision.assignment)
        self.assertEqual([], decision.moved)

    def test_kept_server_resized_beyond_its_host_moves(self):
        dc = self.stack_dc()
        req = request([server('a', 4)], kind=UPDATE, stack='s')
        decision = self.place(dc, req)
        self.assertEqual(['a'], decision.moved)
        self.assertNotEqual('r0h0', decision.assignment['a'])

    def test_update_with_no_servers_removes_the_stack(self):
        dc = self.stack_dc()
        decision = self.place(dc, request([], kind=UPDATE, stack='s'))
        self.assertEqual(['a', 'gone'], sorted(decision.removed))
        self.assertEqual({}, decision.assignment)

    def test_update_needs_a_stack(self):
        self.assertInvalid('valet.request.no_stack', self.stack_dc(),
                           request([server('a')], kind=UPDATE))

    def test_update_cannot_take_another_stacks_server(self):
        self.assertInvalid('valet.request.server_exists', self.stack_dc(),
                           request([server('o', 5)], kind=UPDATE, stack='s'))

    def test_update_keeps_diversity_with_kept_members(self):
        dc = make_dc(racks=1, hosts_per_rack=3, groups=[diversity('D')],
                     existing=[placed('a', 'r0h0', stack='s', groups=['D'])])
        req = request([server('a', groups=['D']), server('b', groups=['D']),
                       server('c', groups=['D'])], kind=UPDATE, stack='s')
        decision = self.place(dc, req)
        self.assertEqual('r0h0', decision.assignment['a'])
        self.assertEqual(3, len(self.hosts_of(decision, 'abc')))
        self.assertEqual([], decision.moved)


class TestReplanAndMigrate(base.SolverTestCase):

    def test_replan_within_candidates(self):
        dc = make_dc(existing=[placed('a', 'r0h0', 2), placed('b', 'r0h0'),
                               placed('c', 'r1h0')])
        req = request([], kind=REPLAN, target='a',
                      candidate_hosts={'r1h0', 'r1h1'})
        decision = self.place(dc, req)
        self.assertEqual({'a': 'r1h0'}, decision.assignment)
        self.assertEqual(['a'], decision.moved)

    def test_replan_may_keep_the_server_where_it_is(self):
        dc = make_dc(existing=[placed('a', 'r0h0', 2), placed('b', 'r0h0')])
        decision = self.place(dc, request([], kind=REPLAN, target='a'))
        self.assertEqual({'a': 'r0h0'}, decision.assignment)
        self.assertEqual([], decision.moved)

    def test_replan_respects_excluded_hosts(self):
        dc = make_dc(racks=1, hosts_per_rack=3,
                     existing=[placed('a', 'r0h0', 2), placed('b', 'r0h1')])
        req = request([], kind=REPLAN, target='a',
                      excluded_hosts={'r0h0', 'r0h1'})
        decision = self.place(dc, req)
        self.assertEqual({'a': 'r0h2'}, decision.assignment)

    def test_replan_keeps_the_targets_groups(self):
        dc = make_dc(racks=1, hosts_per_rack=3, groups=[diversity('D')],
                     existing=[placed('a', 'r0h0', groups=['D']),
                               placed('b', 'r0h1', groups=['D'])])
        req = request([], kind=REPLAN, target='a',
                      candidate_hosts={'r0h1', 'r0h2'})
        decision = self.place(dc, req)
        self.assertEqual({'a': 'r0h2'}, decision.assignment)

    def test_replan_of_an_unknown_server(self):
        self.assertInvalid('valet.request.unknown_server', make_dc(),
                           request([], kind=REPLAN, target='ghost'))

    def test_migrate_leaves_current_and_excluded_hosts(self):
        dc = make_dc(racks=1, hosts_per_rack=3,
                     existing=[placed('a', 'r0h0', 2), placed('b', 'r0h1')])
        decision = self.place(dc, request([], kind=MIGRATE, target='a'))
        self.assertEqual({'a': 'r0h1'}, decision.assignment)
        self.assertEqual(['a'], decision.moved)
        decision = self.place(dc, request([], kind=MIGRATE, target='a',
                                          excluded_hosts={'r0h1'}))
        self.assertEqual({'a': 'r0h2'}, decision.assignment)
        self.infeasible(dc, request([], kind=MIGRATE, target='a',
                                    excluded_hosts={'r0h1', 'r0h2'}))

    def test_migrate_takes_host_affinity_partner_along(self):
        dc = make_dc(racks=1, hosts_per_rack=3, groups=[affinity('A')],
                     existing=[placed('a', 'r0h0', 2, groups=['A']),
                               placed('b', 'r0h0', 2, groups=['A']),
                               placed('o', 'r0h1', 1)])
        decision = self.place(dc, request([], kind=MIGRATE, target='a'))
        self.assertEqual(decision.assignment['a'], decision.assignment['b'])
        self.assertNotEqual('r0h0', decision.assignment['a'])
        self.assertEqual(['a', 'b'], sorted(decision.moved))

    def test_migrate_within_rack_affinity_leaves_partner(self):
        dc = make_dc(groups=[affinity('A', 'rack')],
                     existing=[placed('a', 'r0h0', 2, groups=['A']),
                               placed('b', 'r0h0', 2, groups=['A'])])
        decision = self.place(dc, request([], kind=MIGRATE, target='a'))
        self.assertEqual({'a'}, set(decision.assignment))
        self.assertEqual('r0', self.rack_of(dc, decision.assignment['a']))

    def test_migrate_out_of_an_exclusive_host(self):
        dc = make_dc(racks=1, hosts_per_rack=3, groups=[exclusivity('E')],
                     existing=[placed('a', 'r0h0', groups=['E']),
                               placed('o', 'r0h1')])
        decision = self.place(dc, request([], kind=MIGRATE, target='a'))
        self.assertEqual({'a': 'r0h2'}, decision.assignment)


class TestApplyDecision(base.SolverTestCase):

    def test_second_request_sees_the_first(self):
        dc = make_dc(racks=1, hosts_per_rack=3)
        first = request([server('a', 6, groups=['D']),
                         server('b', 6, groups=['D'])], [diversity('D')],
                        stack='s1')
        decision = self.place(dc, first)
        generation = dc.generation
        solver.apply_decision(dc, first, decision)
        self.assertGreater(dc.generation, generation)
        self.assertIn('D', dc.groups)
        for sid in 'ab':
            self.assertEqual(decision.assignment[sid], dc.servers[sid].host)
            self.assertEqual('s1', dc.servers[sid].stack)
        # A new member of D avoids both hosts; capacity is taken too.
        second = request([server('c', 1, groups=['D'])], stack='s2')
        decision2 = self.place(dc, second)
        self.assertNotIn(decision2.assignment['c'],
                         self.hosts_of(decision, 'ab'))
        self.infeasible(dc, request([server('d', 3, groups=['D']),
                                     server('e', 1, groups=['D'])]))

    def test_apply_update_then_create(self):
        dc = make_dc(racks=1, hosts_per_rack=2,
                     existing=[placed('a', 'r0h0', 4, stack='s'),
                               placed('gone', 'r0h1', 8, stack='s')])
        update = request([server('a', 4)], kind=UPDATE, stack='s')
        decision = self.place(dc, update)
        solver.apply_decision(dc, update, decision)
        self.assertNotIn('gone', dc.servers)
        decision = self.place(dc, request([server('n', 8)]))
        self.assertEqual('r0h1', decision.assignment['n'])

    def test_apply_migrate(self):
        dc = make_dc(racks=1, hosts_per_rack=2,
                     existing=[placed('a', 'r0h0', 4)])
        req = request([], kind=MIGRATE, target='a')
        decision = self.place(dc, req)
        solver.apply_decision(dc, req, decision)
        self.assertEqual('r0h1', dc.servers['a'].host)
        self.assertEqual(dc.free('r0h0')['VCPU'], 8.0)

    def test_infeasible_decision_cannot_be_applied(self):
        dc = make_dc(racks=1, hosts_per_rack=1)
        req = request([server('a', 9)])
        decision = self.infeasible(dc, req)
        self.assertRaises(base.errors.ModelError, solver.apply_decision,
                          dc, req, decision)


class TestDeterminismAndObjectives(base.SolverTestCase):

    def mixed(self):
        groups = [diversity('D', 'rack'), affinity('A', parents=['D']),
                  exclusivity('E')]
        servers = ([server('a%d' % k, 2, groups=['A']) for k in range(3)] +
                   [server('d%d' % k, 3, groups=['D']) for k in range(2)] +
                   [server('e%d' % k, 1, groups=['E']) for k in range(3)] +
                   [server('x%d' % k, k + 1) for k in range(5)])
        existing = [placed('o1', 'r0h1', 3), placed('o2', 'r2h0', 5)]
        return (lambda: make_dc(racks=3, existing=existing),
                request(servers, groups))

    def test_same_input_same_assignment(self):
        new_dc, req = self.mixed()
        dc = new_dc()
        first = self.place(dc, req)
        again = self.place(dc, req)
        other = self.place(new_dc(), req)
        self.assertEqual(first.assignment, again.assignment)
        self.assertEqual(first.assignment, other.assignment)
        self.assertEqual(first.objective, other.objective)

    def test_same_input_same_infeasible_explanation(self):
        dc = make_dc()
        req = request([server(s, 1, groups=['D']) for s in 'abc'],
                      [diversity('D', 'rack')])
        first = self.infeasible(dc, req)
        again = self.infeasible(dc, req)
        self.assertEqual(first.explanation, again.explanation)

    def test_spread_uses_the_emptiest_hosts(self):
        dc = make_dc(racks=1, hosts_per_rack=4, existing=[
            placed('o0', 'r0h0', 6), placed('o1', 'r0h1', 4),
            placed('o2', 'r0h2', 2)])
        decision = self.place(dc, request([server('a', 1)]),
                              objective='spread')
        self.assertEqual('r0h3', decision.assignment['a'])
        decision = self.place(dc, request([server('a', 1)]))
        self.assertEqual('r0h0', decision.assignment['a'])

    def test_spread_over_empty_hosts(self):
        dc = make_dc(racks=1, hosts_per_rack=4)
        req = request([server(s, 1) for s in 'abcd'])
        spread = self.place(dc, req, objective='spread')
        self.assertEqual(4, len(self.hosts_of(spread, 'abcd')))
        packed = self.place(dc, req)
        self.assertEqual(1, len(self.hosts_of(packed, 'abcd')))

    def test_unknown_objective(self):
        self.assertInvalid('valet.request.unknown_objective', make_dc(),
                           request([server('a')]), objective='random')

    def test_decision_leaves_the_model_alone(self):
        # SolverTestCase.decide checks this on every call; spelled out here
        # for an update, which frees capacity while it searches.
        dc = make_dc(racks=1, hosts_per_rack=3, existing=[
            placed('a', 'r0h0', 2, stack='s'),
            placed('gone', 'r0h1', 6, stack='s')])
        before = base.snapshot(dc)
        req = request([server('a', 8), server('n', 8)], kind=UPDATE,
                      stack='s')
        decision = solver.decide(dc, req)
        self.assertTrue(decision.feasible)
        self.assertModelUnchanged(before, dc)
        self.assertEqual(6.0, dc.free('r0h0')['VCPU'])
        self.assertIn('gone', dc.servers)

    def test_to_dict(self):
        decision = self.place(make_dc(), request([server('a')]))
        out = decision.to_dict()
        self.assertEqual(decision.assignment, out['assignment'])
        self.assertTrue(out['feasible'])
