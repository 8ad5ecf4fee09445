"""``valet.engine.capacity``: how many more copies of a server fit.

Every count the module calls exact is checked against the solver itself:
that many copies are placed (and validated), one more is refused. The
model must be left as it was.
"""

import random

from valet.engine import capacity
from valet.engine.model import errors
from valet.engine.model import groups as groups_mod
from valet.engine.model import request as request_mod
from valet.engine import solver
from valet.tests.unit.engine import base

G = base.group


def probe(groups=(), vcpus=3, **kw):
    return base.server('probe', vcpus=vcpus, ram=512, disk=1,
                       groups=groups, **kw)


class CapacityTestCase(base.SolverTestCase):

    def count(self, dc, server, groups=(), **kw):
        before = base.snapshot(dc)
        answer = capacity.count(dc, server, groups, **kw)
        self.assertModelUnchanged(before, dc)
        return answer

    def copies(self, server, n):
        return [request_mod.ServerRequest(
            id='copy%03d' % i, demand=dict(server.demand),
            groups=server.groups,
            availability_zone=server.availability_zone,
            extra_specs=dict(server.extra_specs)) for i in range(n)]

    def assertSolverAgrees(self, dc, server, groups, answer):
        """``answer.count`` copies fit; one more does not (exact), or at
        most ``answer.count`` do (an upper bound)."""
        opts = dict(max_nodes=20000, time_budget=1e9)
        if answer.count:
            self.place(dc, base.request(self.copies(server, answer.count),
                                        groups), **opts)
        more = self.decide(dc, base.request(
            self.copies(server, answer.count + 1), groups), **opts)
        self.assertFalse(more.feasible, 'solver placed %d copies, '
                         'capacity said %d' % (answer.count + 1,
                                               answer.count))


class RuleTest(CapacityTestCase):

    def test_capacity_only(self):
        dc = base.make_dc(racks=2, hosts_per_rack=2,
                          existing=[base.placed('x', 'r0h0', vcpus=4)])
        answer = self.count(dc, probe())
        # 8 vcpus a host, 3 each: 2 a host, 1 where 4 are used.
        self.assertEqual((7, True), (answer.count, answer.exact))
        self.assertEqual({'r0h0': 1, 'r0h1': 2, 'r1h0': 2, 'r1h1': 2},
                         {d['name']: d['count'] for d in answer.domains})
        self.assertEqual('r0h1', answer.domains[0]['name'])

    def test_report_level(self):
        dc = base.make_dc(racks=2, hosts_per_rack=2,
                          existing=[base.placed('x', 'r0h0', vcpus=4)])
        answer = self.count(dc, probe(), level='rack')
        self.assertEqual([{'name': 'r1', 'count': 4},
                          {'name': 'r0', 'count': 3}], answer.domains)

    def test_diversity(self):
        groups = [base.diversity('d', 'rack')]
        dc = base.make_dc(racks=3, hosts_per_rack=2, groups=groups,
                          existing=[base.placed('m', 'r0h0', groups=['d'])])
        answer = self.count(dc, probe(['d']), groups)
        self.assertEqual((2, True), (answer.count, answer.exact))
        self.assertEqual(['d'], answer.rules)
        self.assertSolverAgrees(dc, probe(['d']), groups, answer)

    def test_at_most(self):
        groups = [G('k', groups_mod.AT_MOST, 'rack', max_per_domain=3)]
        dc = base.make_dc(racks=2, hosts_per_rack=2, groups=groups,
                          existing=[base.placed('m', 'r1h0', groups=['k'])])
        answer = self.count(dc, probe(['k']), groups)
        self.assertEqual(3 + 2, answer.count)
        self.assertSolverAgrees(dc, probe(['k']), groups, answer)

    def test_exclusivity(self):
        groups = [base.exclusivity('x', 'rack')]
        dc = base.make_dc(racks=3, hosts_per_rack=1, groups=groups,
                          existing=[base.placed('o', 'r0h0'),
                                    base.placed('m', 'r1h0', groups=['x'])])
        answer = self.count(dc, probe(['x']), groups)
        # r0 holds an outsider; r1 (a member) and r2 (empty) are open.
        self.assertEqual({'r1h0': 2, 'r2h0': 2},
                         {d['name']: d['count'] for d in answer.domains})
        self.assertSolverAgrees(dc, probe(['x']), groups, answer)

    def test_other_exclusivity_groups_keep_outsiders_out(self):
        groups = [base.exclusivity('x', 'rack')]
        dc = base.make_dc(racks=2, hosts_per_rack=2, groups=groups,
                          existing=[base.placed('m', 'r1h0', groups=['x'])])
        answer = self.count(dc, probe())
        self.assertEqual({'r0h0', 'r0h1'},
                         {d['name'] for d in answer.domains})
        self.assertSolverAgrees(dc, probe(), groups, answer)

    def test_affinity_partners_become_exclusivity_members(self):
        # The copies join x and a; a's placed member on r0h0 then counts
        # as a member of x (affinity takes on its members' exclusivity),
        # so r0h0 is open to them.
        groups = [base.exclusivity('x', 'host'), base.affinity('a', 'host')]
        dc = base.make_dc(racks=1, hosts_per_rack=2, groups=groups,
                          existing=[base.placed('p', 'r0h0', groups=['a'])])
        answer = self.count(dc, probe(['x', 'a']), groups)
        self.assertEqual([{'name': 'r0h0', 'count': 2}], answer.domains)
        self.assertSolverAgrees(dc, probe(['x', 'a']), groups, answer)

    def test_placed_partners_inherit_exclusivity(self):
        groups = [base.affinity('a', 'rack'),
                  base.exclusivity('x', 'rack')]
        dc = base.make_dc(racks=2, hosts_per_rack=2, groups=groups,
                          existing=[base.placed('p0', 'r1h1',
                                                groups=['a', 'x']),
                                    base.placed('p1', 'r1h0',
                                                groups=['a'])])
        answer = self.count(dc, probe(['a', 'x']), groups)
        self.assertEqual(4, answer.count)
        self.assertSolverAgrees(dc, probe(['a', 'x']), groups, answer)

    def test_affinity_without_members_takes_one_domain(self):
        groups = [base.affinity('a', 'rack')]
        dc = base.make_dc(racks=2, hosts_per_rack=[2, 3], groups=groups)
        answer = self.count(dc, probe(['a']), groups, level='rack')
        self.assertEqual((6, True), (answer.count, answer.exact))
        self.assertEqual([{'name': 'r1', 'count': 6},
                          {'name': 'r0', 'count': 4}], answer.domains)
        self.assertSolverAgrees(dc, probe(['a']), groups, answer)

    def test_affinity_with_members_stays_with_them(self):
        groups = [base.affinity('a', 'rack')]
        dc = base.make_dc(racks=2, hosts_per_rack=2, groups=groups,
                          existing=[base.placed('m', 'r0h1', vcpus=5,
                                                groups=['a'])])
        answer = self.count(dc, probe(['a']), groups)
        self.assertEqual(2 + 1, answer.count)
        self.assertSolverAgrees(dc, probe(['a']), groups, answer)

    def test_spread_water_fills(self):
        groups = [G('s', groups_mod.SPREAD, 'rack', max_skew=1)]
        # r0 takes one copy (its host is nearly full); the others may be
        # at most one ahead of it.
        dc = base.make_dc(racks=3, hosts_per_rack=1, groups=groups,
                          existing=[base.placed('f', 'r0h0', vcpus=5)])
        answer = self.count(dc, probe(['s']), groups)
        self.assertEqual((1 + 2 + 2, True), (answer.count, answer.exact))
        self.assertSolverAgrees(dc, probe(['s']), groups, answer)

    def test_soft_groups_never_limit(self):
        soft = groups_mod.Group(name='near', kind=groups_mod.SOFT_AFFINITY,
                                level='rack', weight=3)
        dc = base.make_dc(racks=2, hosts_per_rack=2, groups=[soft])
        self.assertEqual(8, self.count(dc, probe(['near']), [soft]).count)

    def test_zone_and_disabled_hosts(self):
        hosts = base.make_hosts(racks=2, hosts_per_rack=2, zones=2)
        hosts[0].enabled = False
        dc = base.build(hosts)
        answer = self.count(dc, probe(availability_zone='z0'))
        self.assertEqual({'r0h1': 2},
                         {d['name']: d['count'] for d in answer.domains})

    def test_nested_groups_count_their_parents(self):
        groups = [base.diversity('outer', 'rack'),
                  base.affinity('inner', 'host', parents=['outer'])]
        dc = base.make_dc(racks=2, hosts_per_rack=2, groups=groups,
                          existing=[base.placed('m', 'r0h0',
                                                groups=['outer'])])
        answer = self.count(dc, probe(['inner']), groups)
        # The copies are one unit of the diversity group (inner keeps
        # them on one host): a host of the other rack takes two.
        self.assertEqual(2, answer.count)
        self.assertEqual(['r1h0', 'r1h1'],
                         sorted(d['name'] for d in answer.domains))
        self.assertSolverAgrees(dc, probe(['inner']), groups, answer)

    def test_diversity_alone_counts_one_per_domain(self):
        groups = [base.diversity('outer', 'rack')]
        dc = base.make_dc(racks=2, hosts_per_rack=2, groups=groups,
                          existing=[base.placed('m', 'r0h0',
                                                groups=['outer'])])
        self.assertEqual(1, self.count(dc, probe(['outer']), groups).count)

    def test_two_exclusivity_groups_at_one_level_are_refused(self):
        groups = [base.exclusivity('x1', 'rack'),
                  base.exclusivity('x2', 'rack')]
        err = self.assertRaises(errors.InvalidRequest, capacity.count,
                                base.make_dc(groups=groups),
                                probe(['x1', 'x2']), groups)
        self.assertEqual('valet.request.multiple_exclusivity', err.code)

    def test_budget_leaves_an_upper_bound(self):
        groups = [base.diversity('d', 'rack')]
        dc = base.make_dc(racks=2, hosts_per_rack=2, groups=groups)
        full = self.count(dc, probe(['d']), groups)
        cut = self.count(dc, probe(['d']), groups, work_budget=1)
        self.assertEqual((2, True, []), (full.count, full.exact,
                                         full.skipped))
        self.assertEqual((8, False, ['d']), (cut.count, cut.exact,
                                             cut.skipped))
        self.assertGreater(cut.work, 0)

    def test_spread_with_a_limit_above_is_an_upper_bound(self):
        groups = [G('s', groups_mod.SPREAD, 'host', max_skew=1),
                  G('k', groups_mod.AT_MOST, 'rack', max_per_domain=1)]
        server = probe(['s', 'k'])
        dc = base.make_dc(racks=2, hosts_per_rack=2, groups=groups)
        answer = self.count(dc, server, groups)
        self.assertFalse(answer.exact)
        placed = self.decide(dc, base.request(
            self.copies(server, answer.count + 1), groups))
        self.assertFalse(placed.feasible)

    def test_no_demand_is_refused(self):
        server = base.server('probe', vcpus=0, ram=0, disk=0)
        dc = base.make_dc()
        err = self.assertRaises(errors.InvalidRequest, capacity.count, dc,
                                server)
        self.assertEqual('valet.capacity.no_demand', err.code)

    def test_unknown_group_is_refused(self):
        err = self.assertRaises(errors.InvalidRequest, capacity.count,
                                base.make_dc(), probe(['ghost']))
        self.assertEqual('valet.request.unknown_group', err.code)


class SolverAgreementTest(CapacityTestCase):
    """Generated small clouds: every exact count is the solver's."""

    KINDS = (None, groups_mod.DIVERSITY, groups_mod.AT_MOST,
             groups_mod.EXCLUSIVITY, groups_mod.AFFINITY, groups_mod.SPREAD)

    def instance(self, rng):
        racks = rng.randint(1, 3)
        per_rack = [rng.randint(1, 3) for _ in range(racks)]
        hosts = base.make_hosts(racks, per_rack, vcpus=rng.choice([4, 6]))
        groups = []
        for index in range(rng.randint(0, 2)):
            kind = rng.choice(self.KINDS[1:])
            groups.append(G('g%d' % index, kind,
                            rng.choice(['host', 'rack']),
                            max_per_domain=(rng.randint(1, 2)
                                            if kind == groups_mod.AT_MOST
                                            else None)))
        existing = []
        for i in range(rng.randint(0, 4)):
            existing.append(base.placed(
                'p%d' % i, rng.choice(hosts).name, vcpus=rng.randint(1, 2),
                groups=[g.name for g in groups if rng.random() < 0.5]))
        try:
            dc = base.build(hosts, existing, groups)
        except errors.ModelError:
            return None
        server = probe([g.name for g in groups], vcpus=rng.randint(1, 3))
        return dc, server, groups

    def test_generated(self):
        # Two groups of any hard kind at host or rack level, members
        # placed or not; the cases that found the unit and inheritance
        # rules are among them.
        rng = random.Random(7)
        checked = 0
        for _ in range(40):
            made = self.instance(rng)
            if made is None:
                continue
            dc, server, groups = made
            try:
                answer = self.count(dc, server, groups)
            except errors.InvalidRequest:
                continue
            if answer.count > 12:
                continue
            if answer.exact:
                self.assertSolverAgrees(dc, server, groups, answer)
            else:
                more = self.decide(dc, base.request(
                    self.copies(server, answer.count + 1), groups))
                self.assertFalse(more.feasible)
            checked += 1
        self.assertGreater(checked, 25)


class SolverOptionsTest(CapacityTestCase):

    def test_budget_is_work_not_time(self):
        # Same answer whatever the clock: the count never reads it.
        dc = base.make_dc(racks=3, hosts_per_rack=3)
        first = self.count(dc, probe())
        again = self.count(dc, probe())
        self.assertEqual(first, again)
        self.assertEqual(solver.SolverOptions().max_work, 3000000)
