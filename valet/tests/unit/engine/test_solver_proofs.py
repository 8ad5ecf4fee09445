"""Counting proofs before the search (valet/engine/solver/proofs.py).

An impossible request must be proven by a count after a handful of nodes,
not by a search through every choice; the same counts over the hosts in
use bound the new hosts, so that a first placement meeting the bound is
answered at once, without an improvement phase.
"""

import numpy as np

from valet.engine.model import groups as groups_mod
from valet.engine.solver import phases
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import proofs
from valet.engine.solver.rules import counts
from valet.engine.solver.rules import spread
from valet.engine.solver import size_counts
from valet.engine.solver import search
from valet.engine.solver import SolverOptions
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import exclusivity
from valet.tests.unit.engine.base import group
from valet.tests.unit.engine.base import host
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server


def few_nodes(req):
    # A first descent, then the probe: no search through the choices.
    return len(req.servers) + phases.PROBE_SLACK


def _spread_with_an_affinity_pair():
    """8 hosts; a host-affinity pair in a host spread of skew 1 with two
    more members: infeasible."""
    dc = base.build([host('h%d' % i, vcpus=8 + i) for i in range(8)])
    groups = [group('S', groups_mod.SPREAD, max_skew=1),
              affinity('P', parents=['S'])]
    req = request([server('a', 1, groups=['P']),
                   server('b', 1, groups=['P']),
                   server('c', 1, groups=['S']),
                   server('d', 1, groups=['S'])], groups)
    return dc, req


def spy_rechecks(case):
    """The groups each problem compiled from now on ignores."""
    ignored = []
    real = problem_mod.Problem

    def spy(dc, request, ignore_groups=frozenset(), **kw):
        ignored.append(frozenset(ignore_groups))
        return real(dc, request, ignore_groups=ignore_groups, **kw)

    case.patch(problem_mod, 'Problem', spy)
    return ignored


class TestRefute(base.SolverTestCase):

    def test_diversity_over_clean_hosts_is_counted(self):
        # Three members need three hosts with nothing else on them; ten
        # hosts run a server each, two are empty.
        dc = make_dc(racks=1, hosts_per_rack=12, existing=[
            placed('old%d' % i, 'r0h%d' % i) for i in range(10)])
        req = request([server('x%d' % i, 4, groups=['D', 'E'])
                       for i in range(3)] + [server('p', 1)],
                      [diversity('D'), exclusivity('E')])
        prob = problem_mod.Problem(dc, req)
        found = proofs.refute(prob, search.Search(prob, SolverOptions()))
        self.assertEqual(1, len(found), found)
        self.assertEqual(('D', 'diversity', 3, 2, ['D', 'E']), (
            found[0]['group'], found[0]['kind'], found[0]['units'],
            found[0]['domains'], found[0]['groups']))
        # Without the exclusivity group the count holds no more.
        req = request([server('x%d' % i, 4, groups=['D'])
                       for i in range(3)], [diversity('D')])
        prob = problem_mod.Problem(dc, req)
        self.assertEqual([], proofs.refute(
            prob, search.Search(prob, SolverOptions())))

    def test_exclusivity_groups_need_distinct_clean_hosts(self):
        dc = make_dc(racks=1, hosts_per_rack=4, existing=[
            placed('old%d' % i, 'r0h%d' % i) for i in range(3)])
        req = request([server('a', 1, groups=['E1']),
                       server('b', 1, groups=['E2'])],
                      [exclusivity('E1'), exclusivity('E2')])
        prob = problem_mod.Problem(dc, req)
        found = proofs.refute(prob, search.Search(prob, SolverOptions()))
        self.assertEqual(['exclusivity'], [e['kind'] for e in found])
        self.assertEqual((2, 1), (found[0]['domains_needed'],
                                  found[0]['domains']))

    def test_capacity_total_is_counted(self):
        # Every server fits on a host alone; together they need 42 VCPU of
        # the 38 free. The search alone tries packings for 100,000 nodes.
        dc = base.build([host('h%d' % i, vcpus=8 + i) for i in range(4)])
        req = request([server('s%d' % i, 3 + i % 2, ram=100 * (i + 1))
                       for i in range(12)])
        decision = self.infeasible(dc, req)
        self.assertTrue(decision.proven_infeasible)
        self.assertLessEqual(decision.stats['nodes'], few_nodes(req))
        why = decision.explanation
        self.assertEqual({'groups': [], 'capacity_only': True,
                          'minimal': True}, why['conflict'])
        self.assertIn('12 servers need 42 VCPU together but the hosts they '
                      'may use have 38 free', why['summary'])
        self.assertTrue(why['summary'].startswith('the request is '
                                                  'impossible'))

    def test_big_servers_are_counted_per_host(self):
        # Five 5-VCPU servers, four hosts of 8 or 9 VCPU: the total fits,
        # one per host does not.
        dc = base.build([host('h%d' % i, vcpus=8 + i % 2) for i in range(4)])
        req = request([server('s%d' % i, 5, ram=100 * (i + 1))
                       for i in range(5)])
        decision = self.infeasible(dc, req)
        self.assertLessEqual(decision.stats['nodes'], few_nodes(req))
        self.assertIn('5 servers need at least 5 VCPU each but the hosts '
                      'they may use have room for 4 such servers',
                      decision.explanation['summary'])

    def test_spread_with_an_affinity_pair_is_counted(self):
        # A host-affinity pair in a host spread of skew 1 puts two members
        # on one host: every other of the 8 hosts then needs one, and
        # there are only 4 members. Counted while compiling: no search.
        dc, req = _spread_with_an_affinity_pair()
        decision = self.infeasible(dc, req)
        self.assertTrue(decision.proven_infeasible)
        self.assertEqual(0, decision.stats['nodes'])
        entries = [e for e in decision.explanation['groups']
                   if e['group'] == 'S']
        self.assertEqual(['spread'], [e['kind'] for e in entries])
        self.assertIn('cannot be spread', decision.explanation['summary'])
        self.assertEqual(['P', 'S'],
                         decision.explanation['conflict']['groups'])

    def test_proofs_asked_at_the_first_dead_end(self):
        # The first server that finds no host stops the search with the
        # proof: no backtracking through the choices before it.
        dc = base.build([host('h%d' % i, vcpus=8 + i) for i in range(4)])
        req = request([server('s%d' % i, 3 + i % 2, ram=100 * (i + 1))
                       for i in range(12)])
        prob = problem_mod.Problem(dc, req)
        calls = []
        real = proofs.refute
        self.patch(proofs, 'refute',
                   lambda *a: calls.append(1) or real(*a))
        full = phases.solve(prob, SolverOptions(), None)
        verdict = phases.solve(prob, SolverOptions(), None, verdict=True)
        self.assertEqual([1, 1], calls)
        for result in (full, verdict):
            self.assertTrue(result['proven_infeasible'])
            self.assertLess(result['nodes'], len(req.servers))
        self.assertEqual(full['proofs'], verdict['proofs'])

    def test_conflict_never_rechecks_the_request_itself(self):
        # The proof names every group the members join: the deletion
        # filter starts from all of them, which is the request as asked
        # (its search already proved it impossible). The diversity count
        # is kept from reducing the set itself: rechecks only.
        dc = make_dc(racks=1, hosts_per_rack=12, existing=[
            placed('old%d' % i, 'r0h%d' % i) for i in range(10)])
        req = request([server('x%d' % i, 4, groups=['D', 'E'])
                       for i in range(3)] + [server('p', 1)],
                      [diversity('D'), exclusivity('E')])
        self.patch(proofs._Facts, '_diversity_recount', lambda *a: None)
        ignored = spy_rechecks(self)
        decision = self.infeasible(dc, req)
        self.assertEqual({'groups': ['D', 'E'], 'capacity_only': False,
                          'minimal': True},
                         decision.explanation['conflict'])
        # The request's own problem, then one recheck per group.
        self.assertEqual([frozenset(), {'D'}, {'E'}], ignored)

    def test_diversity_refusal_reduces_the_conflict_by_its_count(self):
        # Three members of D but E leaves two clean hosts: the count says
        # itself which groups it needs (M, at most three a host, plays no
        # part), so nothing is compiled again (not minimal: no search).
        dc = make_dc(racks=1, hosts_per_rack=12, existing=[
            placed('old%d' % i, 'r0h%d' % i) for i in range(10)])
        groups = [diversity('D'), exclusivity('E'),
                  group('M', groups_mod.AT_MOST, max_per_domain=3)]
        req = request([server('x%d' % i, 4, groups=['D', 'E', 'M'])
                       for i in range(3)] + [server('p', 1)], groups)
        ignored = spy_rechecks(self)
        decision = self.infeasible(dc, req)
        self.assertEqual({'groups': ['D', 'E'], 'capacity_only': False,
                          'minimal': False},
                         decision.explanation['conflict'])
        self.assertEqual([frozenset()], ignored)
        for entry in decision.explanation['groups']:
            self.assertNotIn('recount', entry)
        # The set holds: those two alone still refuse; without either
        # the request is placed.
        self.infeasible(dc, request(
            [server('x%d' % i, 4, groups=['D', 'E']) for i in range(3)]
            + [server('p', 1)], groups[:2]))
        for keep in ('D', 'E'):
            self.place(dc, request(
                [server('x%d' % i, 4, groups=[keep]) for i in range(3)]
                + [server('p', 1)], [g for g in groups if g.name == keep]))

    def test_diversity_count_of_tied_members_is_rechecked(self):
        # Units of two (an affinity pair in D): the count does not reduce
        # the set itself, the rechecks do (minimal).
        dc = make_dc(racks=1, hosts_per_rack=12, existing=[
            placed('old%d' % i, 'r0h%d' % i) for i in range(10)])
        groups = [diversity('D'), exclusivity('E'),
                  affinity('P', parents=['D'])]
        req = request([server('a', 1, groups=['P', 'E']),
                       server('b', 1, groups=['P', 'E'])]
                      + [server('x%d' % i, 4, groups=['D', 'E'])
                         for i in range(2)], groups)
        ignored = spy_rechecks(self)
        decision = self.infeasible(dc, req)
        self.assertTrue(decision.explanation['conflict']['minimal'])
        self.assertGreater(len(ignored), 1)

    def test_counts_while_compiling_reduce_the_conflict_alone(self):
        # The spread count names the pair and the group; it says itself
        # that neither goes, so nothing is compiled again (the set is
        # reduced by the count, not checked by a search: not minimal).
        dc, req = _spread_with_an_affinity_pair()
        ignored = spy_rechecks(self)
        decision = self.infeasible(dc, req)
        self.assertEqual({'groups': ['P', 'S'], 'capacity_only': False,
                          'minimal': False},
                         decision.explanation['conflict'])
        self.assertEqual([frozenset()], ignored)

    def test_feasible_requests_never_ask(self):
        # A first descent without backtracking: the proofs are not asked.
        dc = make_dc()
        req = request([server('s%d' % i, 1, groups=['D'])
                       for i in range(4)], [diversity('D')])
        calls = []
        real = proofs.refute
        self.patch(proofs, 'refute',
                   lambda *a: calls.append(1) or real(*a))
        self.place(dc, req)
        self.assertEqual([], calls)


class TestCompileCounts(base.SolverTestCase):
    """Counts the at-most and spread rules make while compiling
    (valet/engine/solver/rules/counts.py)."""

    def test_affinity_unit_over_the_limit(self):
        # Two members held on one host by P, at most one per host: no
        # search, and the conflict is the two groups (I plays no part).
        dc = make_dc()
        groups = [group('A', groups_mod.AT_MOST, max_per_domain=1),
                  affinity('P', parents=['A']), diversity('I')]
        req = request([server('a', 1, groups=['P']),
                       server('b', 1, groups=['P']),
                       server('c', 1, groups=['A']),
                       server('d', 1, groups=['I']),
                       server('e', 1, groups=['I'])], groups)
        ignored = spy_rechecks(self)
        decision = self.infeasible(dc, req)
        self.assertTrue(decision.proven_infeasible)
        self.assertEqual(0, decision.stats['nodes'])
        entry = [e for e in decision.explanation['groups']
                 if e['group'] == 'A'][0]
        self.assertEqual(('at-most', 2, 1), (
            entry['kind'], entry['members'], entry['max_per_domain']))
        self.assertNotIn('recount', entry)
        self.assertIn('held in one host by affinity (P)', entry['reason'])
        self.assertEqual(['A', 'P'],
                         decision.explanation['conflict']['groups'])
        self.assertEqual([frozenset()], ignored)

    def test_member_count_keeps_the_groups_that_bring_members(self):
        # At most one per rack over two racks: four members through Q1,
        # Q2 and Q3 (nested in A) and x. Without Q1 three are left, still
        # too many; without Q2 or Q3 then two, which fit.
        dc = make_dc(racks=2)
        groups = [group('A', groups_mod.AT_MOST, 'rack', max_per_domain=1),
                  affinity('Q1', parents=['A']),
                  affinity('Q2', parents=['A']),
                  affinity('Q3', parents=['A'])]
        req = request([server('x', 1, groups=['A'])] + [
            server('q%d' % k, 1, groups=['Q%d' % k]) for k in (1, 2, 3)],
            groups)
        ignored = spy_rechecks(self)
        decision = self.infeasible(dc, req)
        self.assertEqual(0, decision.stats['nodes'])
        self.assertEqual({'groups': ['A', 'Q2', 'Q3'],
                          'capacity_only': False, 'minimal': False},
                         decision.explanation['conflict'])
        self.assertEqual([frozenset()], ignored)
        # A recheck keeping only those still refuses, and without any of
        # them the request is placed.
        self.infeasible(dc, request(
            [server('x', 1, groups=['A'])] + [
                server('q%d' % k, 1, groups=['Q%d' % k] if k > 1 else [])
                for k in (1, 2, 3)], [g for g in groups if g.name != 'Q1']))
        for drop in ('Q2', 'Q3'):
            self.place(dc, request(
                [server('x', 1, groups=['A'])] + [
                    server('q%d' % k, 1, groups=['Q%d' % k] if 'Q%d' % k
                           not in (drop, 'Q1') else []) for k in (1, 2, 3)],
                [g for g in groups if g.name not in (drop, 'Q1')]))

    def test_closures_as_a_recheck_compiles_them(self):
        # What the counts' recount reads is what a problem ignoring the
        # same groups compiles, for every subset of the groups.
        dc = make_dc(racks=2, existing=[
            placed('old', 'r0h0', groups=['Q1'])],
            groups=[group('A', groups_mod.AT_MOST, 'rack'),
                    affinity('Q1', 'rack', parents=['A'])])
        groups = [group('A', groups_mod.AT_MOST, 'rack'),
                  affinity('Q1', 'rack', parents=['A']),
                  affinity('Q2', parents=['Q1']),
                  diversity('D')]
        req = request([server('a', 1, groups=['Q2', 'D']),
                       server('b', 1, groups=['Q1']),
                       server('c', 1, groups=['A', 'D'])], groups)
        full = problem_mod.Problem(dc, req)
        names = sorted(full.touched_groups)
        for bits in range(1 << len(names)):
            ignored = frozenset(n for k, n in enumerate(names)
                                if bits >> k & 1)
            mine = counts.closures(full, ignored)
            theirs = problem_mod.Problem(dc, req, ignore_groups=ignored)
            for name in ('A', 'Q1', 'Q2'):
                self.assertEqual(theirs.members(name),
                                 counts.members(mine, name), (ignored, name))


class TestBound(base.SolverTestCase):

    def bounds(self, dc, req):
        prob = problem_mod.Problem(dc, req)
        root = search.Search(prob, SolverOptions())
        in_use = prob.usable & (prob.base_count > 0)
        return root.root_lower_bound(), proofs.lower_bound(prob, root,
                                                           in_use)

    def test_size_classes(self):
        # Four hosts in use with 3 VCPU free each (12 in total) and two
        # 4-VCPU servers: only empty hosts take them. The resource total
        # says 0 new hosts, the size count 1.
        dc = make_dc(racks=1, hosts_per_rack=6, existing=[
            placed('old%d' % i, 'r0h%d' % i, 5) for i in range(4)])
        req = request([server('big0', 4), server('big1', 4),
                       server('small', 1)])
        self.assertEqual((0, 1), self.bounds(dc, req))
        decision = self.place(dc, req)
        self.assertEqual(1, decision.objective['new_hosts'])
        self.assertTrue(decision.optimal)

    def test_diversity_units_matched_to_hosts_in_use(self):
        # Three rack-diversity members, hosts in use in two racks only.
        dc = make_dc(racks=3, hosts_per_rack=2, existing=[
            placed('old0', 'r0h0'), placed('old1', 'r1h0')])
        req = request([server('d%d' % i, 1, groups=['D'])
                       for i in range(3)], [diversity('D', 'rack')])
        self.assertEqual((0, 1), self.bounds(dc, req))
        decision = self.place(dc, req)
        self.assertEqual(1, decision.objective['new_hosts'])
        self.assertTrue(decision.optimal)

    def _pairs(self, apart):
        # Two empty 8-VCPU hosts (racks r0, r1), two in use with 5 free
        # (r2); two 5-VCPU servers and two host-affinity pairs of 2+2,
        # in rack diversity D if ``apart``. An empty host takes one pair
        # and a 5 (9) or two 5s (10) never: only the two pairs together,
        # which D keeps apart.
        hosts = [host('r0h0', 'r0'), host('r1h0', 'r1'),
                 host('r2h0', 'r2'), host('r2h1', 'r2')]
        dc = base.build(hosts, [placed('old0', 'r2h0', 3),
                                placed('old1', 'r2h1', 3)])
        parents = ['D'] if apart else []
        groups = [affinity('P%d' % k, parents=parents) for k in range(2)]
        groups += [diversity('D', 'rack')] if apart else []
        req = request([server('plain%d' % k, 5) for k in range(2)] + [
            server('p%d%d' % (k, m), 2, groups=['P%d' % k])
            for k in range(2) for m in range(2)], groups)
        return dc, req

    def test_affinity_pairs_kept_apart_count_as_one_item_a_host(self):
        dc, req = self._pairs(apart=True)
        self.assertEqual(2, self.bounds(dc, req)[1])
        decision = self.place(dc, req)
        self.assertEqual(2, decision.objective['new_hosts'])
        self.assertTrue(decision.optimal)

    def test_affinity_pairs_share_an_empty_host_without_diversity(self):
        dc, req = self._pairs(apart=False)
        self.assertEqual(1, self.bounds(dc, req)[1])
        decision = self.place(dc, req)
        self.assertEqual(1, decision.objective['new_hosts'])

    def test_exclusivity_needs_a_clean_host(self):
        dc = make_dc(racks=1, hosts_per_rack=3, existing=[
            placed('old0', 'r0h0'), placed('old1', 'r0h1')])
        req = request([server('e', 1, groups=['E']), server('p', 1)],
                      [exclusivity('E')])
        self.assertEqual(1, self.bounds(dc, req)[1])


class TestPieces(base.SolverTestCase):

    def test_matching(self):
        self.assertEqual(2, proofs._matching([[0], [0, 1]]))
        self.assertEqual(1, proofs._matching([[0], [0]]))
        # An augmenting path moves the first row off column 0.
        self.assertEqual(2, proofs._matching([[0, 1], [0]]))
        self.assertEqual(3, proofs._matching([[0, 1], [1, 2], [0]]))
        self.assertEqual(0, proofs._matching([]))
        # Rows with as many columns as there are rows always match.
        self.assertEqual(2, proofs._matching([[5, 6], [5]]))

    def test_by_size_unions_grow_with_smaller_sizes(self):
        rng = np.random.default_rng(3)
        unique = [rng.random(12) < 0.3 for _ in range(4)]
        masks = proofs._Masks(unique, [0, 1, 2, 3, 1, 0, 2])
        need = np.array([4.0, 2.0, 4.0, 1.0, 0.0, 2.0, 3.0])
        got = list(size_counts.by_size(need, masks))
        self.assertEqual([4.0, 3.0, 2.0, 1.0], [g[0] for g in got])
        for size, big, where in got:
            expect = np.flatnonzero(need >= size)
            self.assertEqual(sorted(expect.tolist()), sorted(big.tolist()))
            self.assertTrue(np.array_equal(masks.union(expect), where))

    def test_matching_work_cap(self):
        self.patch(proofs, 'MATCH_WORK', 3)
        self.assertIsNone(proofs._matching([[0], [0], [0], [0]]))

    def test_spread_fits(self):
        eligible = np.ones(3, dtype=bool)
        hold = np.full(3, 10)
        # 3 members over 3 empty domains, skew 1: one each.
        self.assertTrue(spread.fits(
            np.zeros(3, dtype=np.int64), eligible, eligible, hold, 1, 3, 1))
        # A pair in one domain: the other two need one each (3 > 2 left).
        self.assertFalse(spread.fits(
            np.zeros(3, dtype=np.int64), eligible, eligible, hold, 1, 3, 2))
        # A full domain that takes nothing keeps the floor at its count.
        take = np.array([False, True, True])
        hold = np.where(take, 10, 0)
        self.assertFalse(spread.fits(
            np.zeros(3, dtype=np.int64), eligible, take, hold, 1, 3, 1))
        self.assertTrue(spread.fits(
            np.zeros(3, dtype=np.int64), eligible, take, hold, 1, 2, 1))
