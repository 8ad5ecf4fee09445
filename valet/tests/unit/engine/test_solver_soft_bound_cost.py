"""The cheaper soft bounds (``solver/soft_joint.py``,
``solver/soft_hosts.py``) give what they gave as first written
(``soft_bounds_reference.py``), and stopped at ``enough`` they still
reach it whenever the whole bound does."""

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np

from valet.engine.solver import phases
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import search as search_mod
from valet.engine.solver import soft_hosts
from valet.engine.solver import soft_joint
from valet.engine.solver import SolverOptions
from valet.objects import group_kinds
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server
from valet.tests.unit.engine import soft_bounds_reference as reference
from valet.tests.unit.engine.test_solver_soft import together
from valet.tests.unit.engine.test_solver_soft_joint import _forced_open

HOSTS = ['r0h0', 'r0h1', 'r1h0', 'r1h1', 'r1h2']


def _draw_problem(draw):
    """Running hosts mostly full, empty ones, two or three soft-affinity
    groups (host or rack level) competing for them."""
    existing = [placed('o%d' % k, h, draw(st.sampled_from([0, 4, 5, 6, 7])),
                       ram=draw(st.sampled_from([512, 8192])),
                       groups=draw(st.sampled_from([[], ['a'], ['b']])))
                for k, h in enumerate(HOSTS[:4])]
    existing = [s for s in existing if s.demand['VCPU']]
    groups = [together('a', weight=draw(st.sampled_from([1, 2, 5]))),
              together('b', weight=draw(st.sampled_from([1, 3]))),
              together('c', level=draw(st.sampled_from(['host', 'rack'])),
                       weight=draw(st.sampled_from([1, 4])))]
    if draw(st.booleans()):
        groups.append(base.diversity('d', 'host'))
    names = {g.name for g in groups}
    kinds = [['a']] * draw(st.integers(1, 4)) + [['b']] * draw(
        st.integers(1, 4)) + [['c']] * draw(st.integers(0, 3))
    kinds += draw(st.lists(st.sampled_from(
        [['a', 'b'], ['a', 'd'], ['b', 'c'], ['c', 'd'], []]), max_size=4))
    servers = [server('s%d' % k, draw(st.sampled_from([1, 2, 3, 4])),
                      ram=draw(st.sampled_from([0, 512, 4096, 8192])),
                      groups=[m for m in member if m in names])
               for k, member in enumerate(kinds)]
    dc = make_dc(racks=2, hosts_per_rack=[2, 3], existing=existing,
                 groups=groups[:2])
    problem = problem_mod.Problem(dc, request(servers, groups))
    return problem, [c for c in problem.constraints if c.soft]


class TestSameBounds(base.SolverTestCase):

    @settings(max_examples=200, deadline=None, database=None)
    @given(st.data())
    def test_the_joint_bound_is_the_reference_one(self, data):
        problem, rules = _draw_problem(data.draw)
        # root() only adds up the pairs' gains: the pairs are what changed.
        pairs = [(a, b) for k, a in enumerate(rules) for b in rules[k + 1:]
                 if a.kind == b.kind == group_kinds.SOFT_AFFINITY
                 and a.level == b.level and len(a.members)
                 and len(b.members)]
        for a, b in pairs:
            self.assertEqual(reference.pair_bound(problem, a, b),
                             soft_joint.pair_bound(problem, a, b))
        whole = soft_joint.root(problem, rules)
        enough = data.draw(st.integers(0, whole + 3))
        self.assertEqual(min(whole, enough), min(
            enough, soft_joint.root(problem, rules, enough=enough)))

    @settings(max_examples=200, deadline=None, database=None)
    @given(st.data())
    def test_the_new_hosts_bound_is_the_reference_one(self, data):
        problem, rules = _draw_problem(data.draw)
        soft_root = soft_joint.root(problem, rules) + data.draw(
            st.integers(0, 4))
        whole = reference.at_soft_root(problem, rules, soft_root)
        self.assertEqual(whole,
                         soft_hosts.at_soft_root(problem, rules, soft_root))
        enough = data.draw(st.integers(0, whole + 2))
        found = soft_hosts.at_soft_root(problem, rules, soft_root,
                                        enough=enough)
        self.assertEqual(min(whole, enough), min(enough, found))
        self.assertLessEqual(found, whole)

    @settings(max_examples=150, deadline=None, database=None)
    @given(st.data())
    def test_rules_asked_after_the_soft_bounds_keep_the_hosts_bound(
            self, data):
        # With a soft gap the rules' later bounds on new hosts wait for
        # the soft bounds and are asked only if the placement is still
        # not proven: the bound reported is still at least what every
        # rule asked at the root gives, and no more than the placement
        # opens.
        problem, _ = _draw_problem(data.draw)
        found = phases.solve(problem, SolverOptions(), None)
        if not found['feasible']:
            return
        root = search_mod.Search(problem, SolverOptions())
        self.assertGreaterEqual(found['hosts_root'], root.root_lower_bound())
        opened = len({h for h in found['assignment']
                      if problem.base_count[h] == 0})
        self.assertLessEqual(found['hosts_root'], opened)

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.lists(st.tuples(st.integers(0, 9),
                              st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0,
                                               7.0, 512.0, 4096.0])),
                    min_size=1, max_size=12),
           st.sampled_from([0.0, 1.0, 2.5, 6.0, 13.0, 8192.0]))
    def test_the_knapsack_is_the_reference_one(self, items, room):
        worth = [float(w) for w, _ in items]
        weight = [size for _, size in items]
        self.assertEqual(
            reference._knapsack(np.array(worth), np.array(weight), room),
            soft_joint._knapsack(worth, weight, room))

    def test_enough_stops_at_the_groups_own_hosts(self):
        # Two groups on hosts of their own and a big server: three new
        # hosts; asked for two, the groups' own two answer.
        dc, req = _forced_open()
        problem = problem_mod.Problem(dc, req)
        rules = [c for c in problem.constraints if c.soft]
        self.assertEqual(3, soft_hosts.at_soft_root(problem, rules, 0,
                                                    enough=3))
        self.assertEqual(2, soft_hosts.at_soft_root(problem, rules, 0,
                                                    enough=2))
        self.assertEqual(2, soft_hosts.at_soft_root(problem, rules, 0,
                                                    enough=1))
