"""Rack-affinity groups take the domain that opens fewest hosts.

Each case is one a search ranking only the member at hand gets wrong: the
first member's best-fitting host is in a rack where the rest of the group
(or another group) must open more hosts. ``improve=False`` checks the
first placement (the ranking itself); the default search must agree.
"""

import dataclasses
from unittest import mock

import numpy as np

from valet.engine.solver import decision as d
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import rack_choice
from valet.engine.solver.rules import affinity as affinity_rule
from valet.engine.solver import search as search_mod
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import build
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import host
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server


def _hosts(spec):
    """Hosts from {rack: [vcpus per host]} (plenty of memory and disk)."""
    return [host('%sh%d' % (rack, k), rack=rack, vcpus=vcpus, ram=65536,
                 disk=1000)
            for rack, sizes in sorted(spec.items())
            for k, vcpus in enumerate(sizes)]


class TestRackChoice(base.SolverTestCase):

    def check(self, dc, req, new_hosts):
        """The first placement and the searched one open ``new_hosts``."""
        for improve in (False, True):
            decision = self.place(dc, req, improve=improve)
            self.assertEqual(new_hosts, decision.objective['new_hosts'],
                             (improve, decision.assignment))
        return decision

    def test_the_rack_with_a_large_empty_host(self):
        # r0h0 has 4 VCPU left and r0 only 8-VCPU empty hosts; r1's empty
        # host holds the whole group. Best fit for the first member (6)
        # is an 8-VCPU host of r0, and the rest must follow: 3 new hosts.
        dc = build(_hosts({'r0': [8, 8, 8, 8], 'r1': [8, 32]}),
                   [placed('o0', 'r0h0', vcpus=4),
                    placed('o1', 'r1h0', vcpus=8)])
        req = request([server('a', 6, groups=['A']),
                       server('b', 6, groups=['A']),
                       server('c', 6, groups=['A']),
                       server('d', 4, groups=['A'])],
                      [affinity('A', 'rack')])
        decision = self.check(dc, req, 1)
        self.assertEqual({'r1h1'}, self.hosts_of(decision, 'abcd'))

    def test_the_empty_host_the_rest_of_the_group_fits(self):
        # A placed member fixes r0: of its empty hosts, open the one the
        # whole group fits on, not the best fit for the first member.
        dc = build(_hosts({'r0': [8, 8, 8, 32], 'r1': [32]}),
                   [placed('old', 'r0h0', vcpus=8, groups=['A'])],
                   [affinity('A', 'rack')])
        req = request([server(s, 6, groups=['A']) for s in 'abcd'])
        decision = self.check(dc, req, 1)
        self.assertEqual({'r0h3'}, self.hosts_of(decision, 'abcd'))

    def test_the_rack_another_group_needs_less(self):
        # A opens one host in either rack; B (held apart from A) fits the
        # room r0h0 has left and nothing in r1 runs. Best fit puts A's
        # first member on r0h0, and B then opens a host in r1.
        dc = build(_hosts({'r0': [8, 8], 'r1': [16]}),
                   [placed('o0', 'r0h0', vcpus=2)])
        req = request([server('a1', 6, groups=['A']),
                       server('a2', 6, groups=['A']),
                       server('b1', 3, groups=['B']),
                       server('b2', 3, groups=['B'])],
                      [diversity('D', 'rack'),
                       affinity('A', 'rack', parents=['D']),
                       affinity('B', 'rack', parents=['D'])])
        decision = self.check(dc, req, 1)
        self.assertEqual({'r1h0'}, self.hosts_of(decision, ['a1', 'a2']))
        self.assertEqual({'r0h0'}, self.hosts_of(decision, ['b1', 'b2']))

    def test_the_rest_of_the_request_shares_the_new_host(self):
        # A plain server fits no host in use: the group's new host should
        # be the one it can share (r1's), not r0's small one.
        dc = build(_hosts({'r0': [8, 8], 'r1': [8, 16]}),
                   [placed('o0', 'r0h0', vcpus=8),
                    placed('o1', 'r1h0', vcpus=8)])
        req = request([server('a', 6, groups=['A']),
                       server('b', 2, groups=['A']),
                       server('p', 7)],
                      [affinity('A', 'rack')])
        decision = self.check(dc, req, 1)
        self.assertEqual({'r1h1'}, self.hosts_of(decision, 'abp'))

    def test_spreading_is_not_ranked(self):
        dc = build(_hosts({'r0': [8, 8], 'r1': [8, 32]}))
        req = request([server(s, 6, groups=['A']) for s in 'ab'],
                      [affinity('A', 'rack')])
        decision = self.place(dc, req, objective='spread')
        self.assertEqual(1, len(self.racks_of(dc, decision, 'ab')))


def _packing(dc, req):
    """(search, its first three hosts, their free room, which are in use):
    what ``rack_choice.pack`` takes."""
    search = search_mod.Search(problem_mod.Problem(dc, req),
                               d.SolverOptions())
    hosts = np.arange(3)
    return (search, hosts, search.free[hosts].copy(),
            rack_choice.in_use(search)[hosts].copy())


class TestPack(base.SolverTestCase):

    def test_first_fit_decreasing_counts_opened_hosts(self):
        dc = build(_hosts({'r0': [8, 8, 16]}), [placed('o', 'r0h0', 4)])
        req = request([server(s, v) for s, v in
                       (('a', 2), ('b', 6), ('c', 6), ('d', 4))])
        search, hosts, free, opened = _packing(dc, req)
        # b, c on the 16 (largest empty), d on r0h0's 4, a on the 16.
        self.assertEqual(1, rack_choice.pack(search, range(4), hosts, free,
                                             opened))
        self.assertEqual([True, False, True], list(opened))
        # No room left: None, or one host elsewhere with ``spill``.
        self.assertIsNone(rack_choice.pack(search, [0], hosts, free * 0,
                                           opened))
        self.assertEqual(1, rack_choice.pack(search, [0], hosts, free * 0,
                                             opened, spill=True))

    def test_like_members_see_the_host_the_last_one_took(self):
        # Four like members: two fill r0h0's 8, the other two go on one
        # of the empty hosts (the 16), whose room then shrinks for them.
        dc = build(_hosts({'r0': [16, 8, 16]}), [placed('o', 'r0h0', 8)])
        req = request([server(s, 4) for s in 'abcd'])
        search, hosts, free, opened = _packing(dc, req)
        self.assertEqual(1, rack_choice.pack(search, range(4), hosts, free,
                                             opened))
        self.assertEqual([0, 8, 8], list(free[:, 0]))
        self.assertEqual([True, False, True], list(opened))


class TestDomains(base.SolverTestCase):

    def setUp(self):
        super().setUp()
        hosts = _hosts({'r0': [8, 8], 'r1': [16], 'r2': [4]})
        hosts[1] = dataclasses.replace(hosts[1], enabled=False)
        self.dc = build(hosts, [placed('o', 'r0h0', 2)])
        req = request([server('a', 2, groups=['A'])],
                      [affinity('A', 'rack')])
        self.search = search_mod.Search(problem_mod.Problem(self.dc, req),
                                        d.SolverOptions())
        self.p = self.search.p
        self.level = self.p.topology.index('rack')
        self.lv = rack_choice.levels(self.p, self.level, {})

    def test_room_per_domain_over_usable_hosts(self):
        room = self.lv.room(self.search.free)
        dom = self.p.domain[self.level]
        for k in range(self.lv.count):
            on = (dom == k) & self.p.usable
            np.testing.assert_array_equal(
                np.maximum(self.search.free[on], 0).sum(axis=0), room[k])
        # r0h1 is disabled: r0 has r0h0's 6 VCPU left only.
        self.assertEqual(6, room[int(dom[0]), 0])

    def test_hosts_and_within(self):
        dom = self.p.domain[self.level]
        r0 = int(dom[0])
        self.assertEqual([0], list(self.lv.hosts()[r0]))
        within = self.lv.within(r0)
        self.assertEqual([True, True, False, False], list(within))
        self.assertRaises(ValueError, within.__setitem__, 0, False)


class TestMemo(base.SolverTestCase):

    def test_the_same_state_is_looked_at_once(self):
        dc = build(_hosts({'r0': [8, 8], 'r1': [8, 32]}),
                   [placed('o0', 'r0h0', vcpus=4)])
        req = request([server(s, 6, groups=['A']) for s in 'abc'],
                      [affinity('A', 'rack')])
        search = search_mod.Search(problem_mod.Problem(dc, req),
                                   d.SolverOptions())
        tracker = [t for t in search.trackers
                   if isinstance(t, affinity_rule._Tracker)][0]
        idx = search.feasible_mask(0).nonzero()[0]
        real = rack_choice.bias
        with mock.patch.object(rack_choice, 'bias',
                               side_effect=real) as looked:
            first = tracker.bias(0, idx)
            self.assertIs(first, tracker.bias(0, idx))
            self.assertEqual(1, looked.call_count)
            # Another state: looked at again.
            search.free[3, 0] -= 1
            tracker.bias(0, idx)
            self.assertEqual(2, looked.call_count)
        self.assertIsNotNone(first)
