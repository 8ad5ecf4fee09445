"""The joint bound of two soft-affinity groups (``solver/soft_joint.py``):
never above the true fewest weighted violations (every assignment of
small generated instances, judged and counted by the validator), and
above the groups' own bounds summed where they compete for one host."""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from valet.engine.solver import phases
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import search as search_mod
from valet.engine.solver import soft_hosts
from valet.engine.solver import soft_joint
from valet.engine.solver import SolverOptions
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server
from valet.tests.unit.engine.test_solver_soft import together

HOSTS = ['r0h0', 'r0h1', 'r1h0', 'r1h1']


def _bounds(dc, req):
    """(joint bound, the soft rules' own bounds summed)."""
    problem = problem_mod.Problem(dc, req)
    rules = [c for c in problem.constraints if c.soft]
    own = sum(r.weight * r.lower_bound(problem) for r in rules)
    return soft_joint.root(problem, rules), own


def _fewest(dc, req, hosts):
    """The fewest weighted soft violations of any valid assignment to
    ``hosts`` (the others are ruled out by name)."""
    return base.fewest(dc, req, hosts,
                       lambda a: base.soft_cost(dc, req, a))


def _competing(weight_a=5, weight_b=3):
    """One empty host holds four of either group, not both; the others
    keep room for two."""
    existing = [placed('o%d' % k, h, 4) for k, h in enumerate(HOSTS[1:])]
    groups = [together('a', weight=weight_a), together('b', weight=weight_b)]
    dc = make_dc(racks=2, hosts_per_rack=2, existing=existing)
    servers = ([server('a%d' % k, 2, groups=['a']) for k in range(4)]
               + [server('b%d' % k, 2, groups=['b']) for k in range(4)])
    return dc, request(servers, groups)


class TestJointBound(base.SolverTestCase):

    def test_groups_competing_for_one_host(self):
        # Alone each group fits the empty host (no violation); together
        # one of them keeps two members on a host at most: b, the lighter,
        # loses two (3 x 2).
        dc, req = _competing()
        self.assertEqual((6, 0), _bounds(dc, req))

    def test_the_heavier_group_is_the_one_kept_whole(self):
        dc, req = _competing(weight_a=2, weight_b=7)
        self.assertEqual((4, 0), _bounds(dc, req))

    def test_the_decision_reports_the_joint_bound(self):
        dc, req = _competing()
        decision = self.place(dc, req)
        self.assertEqual(6, decision.objective['soft_violations'])
        self.assertEqual(6, decision.objective['bound']['soft_violations'])
        self.assertTrue(decision.optimal)

    def test_rules_asked_later_wait_for_the_soft_gap_to_close(self):
        # A hard diversity group's bound on new hosts is left for later;
        # the first placement leaves a soft gap the joint bound closes,
        # and the groups' own new host proves it: the diversity group is
        # never asked, and asking it would not raise the bound.
        dc, req = _competing()
        req.groups.append(base.diversity('d', 'host'))
        for s in (req.servers[0], req.servers[4]):
            s.groups = s.groups + ('d',)
        asked = []
        real = search_mod.Search.root_bound_later

        def root_bound_later(search, later, bound, root=None):
            asked.append(later)
            return real(search, later, bound, root)

        self.patch(search_mod.Search, 'root_bound_later', root_bound_later)
        problem = problem_mod.Problem(dc, req)
        found = phases.solve(problem, SolverOptions(), None)
        self.assertTrue(found['proven'])
        self.assertEqual(6, found['soft_root'])
        self.assertEqual([], asked)
        later = []
        search = search_mod.Search(problem, SolverOptions())
        search.root_lower_bound(later)
        self.assertTrue(later)
        # The groups' own new host; asking every rule gives no more.
        self.assertEqual(1, found['hosts_root'])
        self.assertLessEqual(search.root_lower_bound(), 1)

    def test_groups_of_different_levels_are_not_joined(self):
        dc, req = _competing()
        req.groups[1] = together('b', level='rack', weight=3)
        joint, own = _bounds(dc, req)
        self.assertEqual(own, joint)

    def test_knapsack_is_the_fractional_best(self):
        import numpy as np
        worth = np.array([5.0, 3.0, 4.0, 1.0])
        weight = np.array([2.0, 3.0, 0.0, 4.0])
        # 4 free, then 5 (2 of room), then 3 of 3 by 2/3 of its weight.
        self.assertAlmostEqual(4 + 5 + 2.0,
                               soft_joint._knapsack(worth, weight, 4.0))

    @settings(max_examples=150, deadline=None, database=None)
    @given(st.data())
    def test_never_above_the_fewest_violations(self, data):
        # Three hosts, one of them roomy: the groups often compete for it.
        draw = data.draw
        hosts = HOSTS[:3]
        existing = [placed('o%d' % k, h, draw(st.sampled_from(used)),
                           groups=draw(st.sampled_from([[], ['a'], ['b']])))
                    for k, (h, used) in enumerate(zip(
                        hosts, ([0, 1], [5, 6], [4, 6])))]
        existing = [s for s in existing if s.demand['VCPU']]
        groups = [together('a', weight=draw(st.sampled_from([1, 2, 5]))),
                  together('b', level=draw(st.sampled_from(
                      ['host'] * 4 + ['rack'])),
                      weight=draw(st.sampled_from([1, 3])))]
        if draw(st.booleans()):
            groups.append(base.diversity('d', 'host'))
        names = {g.name for g in groups}
        kinds = [['a']] * draw(st.integers(2, 3)) + [['b']] * draw(
            st.integers(2, 3))
        kinds += draw(st.lists(st.sampled_from(
            [['a', 'b'], ['a', 'd'], ['b', 'd'], []]), max_size=6 - len(
                kinds)))
        servers = [server('s%d' % k, draw(st.sampled_from([2, 2, 1, 3])),
                          ram=draw(st.sampled_from([512, 4096])),
                          groups=[m for m in member if m in names])
                   for k, member in enumerate(kinds)]
        dc = make_dc(racks=2, hosts_per_rack=[2, 1], existing=existing,
                     groups=groups[:2])
        req = request(servers, groups)
        fewest = _fewest(dc, req, hosts)
        if fewest is None:
            return
        joint, own = _bounds(dc, req)
        self.assertGreaterEqual(joint, own)
        self.assertLessEqual(joint, fewest)


def _forced_open():
    """Two soft-affinity groups, each filling an empty host of its own,
    and a server too big for what they leave there or on the running
    hosts: three new hosts at no violation."""
    existing = [placed('o0', 'r1h0', 6), placed('o1', 'r1h1', 6)]
    groups = [together('a', weight=5), together('b', weight=3)]
    dc = make_dc(racks=2, hosts_per_rack=[2, 3], existing=existing)
    servers = ([server('a%d' % k, 2, groups=['a']) for k in range(3)]
               + [server('b%d' % k, 2, groups=['b']) for k in range(3)]
               + [server('x', 4)])
    return dc, request(servers, groups)


class TestHostsAtSoftRoot(base.SolverTestCase):

    def test_groups_on_hosts_of_their_own_and_a_big_server(self):
        dc, req = _forced_open()
        problem = problem_mod.Problem(dc, req)
        rules = [c for c in problem.constraints if c.soft]
        self.assertEqual(3, soft_hosts.at_soft_root(problem, rules, 0))
        # One violation of b allowed: two of its members on a host leave
        # room for the big one there.
        self.assertEqual(2, soft_hosts.at_soft_root(problem, rules, 3))

    def test_groups_one_host_holds_together_open_one(self):
        # Both groups fit one empty host together (4 + 4 vCPUs): one new
        # host, not one each.
        existing = [placed('o0', 'r1h0', 6), placed('o1', 'r1h1', 6)]
        groups = [together('a', weight=5), together('b', weight=3)]
        dc = make_dc(racks=2, hosts_per_rack=2, existing=existing)
        req = request([server('a%d' % k, 2, groups=['a']) for k in range(2)]
                      + [server('b%d' % k, 2, groups=['b'])
                         for k in range(2)], groups)
        problem = problem_mod.Problem(dc, req)
        rules = [c for c in problem.constraints if c.soft]
        self.assertEqual(1, soft_hosts.at_soft_root(problem, rules, 0))
        decision = self.place(dc, req)
        self.assertEqual((0, 1), (decision.objective['soft_violations'],
                                  decision.objective['new_hosts']))

    def test_the_first_placement_is_proven(self):
        # Proven before any improvement: one node per server (the
        # counting bound alone finds 2 new hosts; the phase would search).
        dc, req = _forced_open()
        decision = self.place(dc, req)
        self.assertEqual(3, decision.objective['new_hosts'])
        self.assertEqual({'soft_violations': 0, 'new_hosts': 3},
                         decision.objective['bound'])
        self.assertTrue(decision.optimal)
        self.assertEqual(len(req.servers), decision.stats['nodes'])

    @settings(max_examples=150, deadline=None, database=None)
    @given(st.data())
    def test_never_above_the_fewest_new_hosts_at_the_fewest_violations(
            self, data):
        # Two running hosts, mostly full, two empty ones; two host-level
        # groups.
        draw = data.draw
        existing = [placed('o%d' % k, h, draw(st.sampled_from([4, 5, 6, 7])),
                           ram=draw(st.sampled_from([512, 8192])),
                           groups=draw(st.sampled_from([[], ['a'], ['b']])))
                    for k, h in enumerate(HOSTS[2:])]
        groups = [together('a', weight=draw(st.sampled_from([1, 2, 5]))),
                  together('b', weight=draw(st.sampled_from([1, 3])))]
        if draw(st.booleans()):
            groups.append(base.diversity('d', 'host'))
        names = {g.name for g in groups}
        kinds = [['a']] * draw(st.integers(1, 2)) + [['b']] * draw(
            st.integers(1, 2))
        kinds += draw(st.lists(st.sampled_from(
            [['a', 'b'], ['a', 'd'], ['b', 'd'], []]), max_size=5 - len(
                kinds)))
        servers = [server('s%d' % k, draw(st.sampled_from([1, 2, 3, 4])),
                          ram=draw(st.sampled_from([512, 4096, 8192])),
                          groups=[m for m in member if m in names])
                   for k, member in enumerate(kinds)]
        dc = make_dc(racks=2, hosts_per_rack=2, existing=existing,
                     groups=groups[:2])
        req = request(servers, groups)
        fewest = _fewest_hosts(dc, req)
        problem = problem_mod.Problem(dc, req)
        rules = [c for c in problem.constraints if c.soft]
        soft_root = soft_joint.root(problem, rules)
        if fewest is None or fewest[0] != soft_root:
            # No placement at the bound: any count holds of none.
            return
        self.assertLessEqual(
            soft_hosts.at_soft_root(problem, rules, soft_root), fewest[1])


def _fewest_hosts(dc, req):
    """(fewest weighted soft violations, fewest new hosts at that many)
    of any valid assignment."""
    return base.fewest(dc, req, HOSTS, lambda a: (
        base.soft_cost(dc, req, a), base.new_hosts(dc, a)))
