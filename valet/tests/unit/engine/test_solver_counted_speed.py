"""Shortcuts of the search and the counts answer as the plain formulas do:
the resource bound's host filter, the unit partition kept per problem,
the spread tracker's shared start and the symmetry keys."""

import hypothesis
from hypothesis import strategies as st
import numpy as np

from valet.engine import solver
from valet.engine.model import groups as groups_mod
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import rack_choice
from valet.engine.solver import search as search_mod
from valet.engine.solver.rules import counts
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import group
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server

SETTINGS = hypothesis.settings(
    max_examples=min(100, hypothesis.settings().max_examples),
    suppress_health_check=[hypothesis.HealthCheck.too_slow])


def can_beat_plain(s, i, best_cost, need):
    """The host filter as first written: every host's cost and bound."""
    base_cost = s.cost()
    lb_used = s.bound_for(need)
    if base_cost + lb_used * s.w_new >= best_cost:
        return np.zeros(s.p.slots, dtype=bool)
    opens = s.opens
    cost = base_cost + opens * s.w_new
    cur = s.current_slot[i]
    if cur >= 0:
        cost = cost + (np.arange(s.p.slots) != cur) * s.w_move
    ok = cost + lb_used * s.w_new < best_cost
    maybe = (opens & ~ok & s.p.usable).nonzero()[0]
    if maybe.size:
        lbs = s.bounds_for(need[None, :] - np.maximum(s.free[maybe], 0))
        ok[maybe] = cost[maybe] + lbs * s.w_new < best_cost
    return ok


class TestCanBeat(base.SolverTestCase):

    @hypothesis.given(st.lists(st.integers(0, 7), max_size=5),
                      st.lists(st.integers(1, 6), min_size=1, max_size=8),
                      st.lists(st.integers(0, 7), max_size=8),
                      st.integers(0, 4), st.integers(0, 3))
    @SETTINGS
    def test_matches_every_host_formula(self, on, sizes, steps, best_hosts,
                                        best_moves):
        existing = [placed('o%d' % k, 'r%dh%d' % (h // 4, h % 4),
                           vcpus=4) for k, h in enumerate(on)]
        dc = make_dc(existing=existing)
        p = problem_mod.Problem(dc, request(
            [server('m%d' % k, vcpus=v) for k, v in enumerate(sizes)]))
        s = search_mod.Search(p, solver.SolverOptions())
        done = []
        for i, step in enumerate(steps[:len(sizes) - 1]):
            allowed = s.feasible_mask(i).nonzero()[0]
            if not len(allowed):
                break
            h = int(allowed[step % len(allowed)])
            done.append((i, h, s.apply(i, h)))
        i = len(done)
        mask = s.feasible_mask(i)
        need = s.deficit()
        best_cost = best_hosts * s.w_new + best_moves + s.cost()
        np.testing.assert_array_equal(
            mask & can_beat_plain(s, i, best_cost, need),
            s._can_beat(i, best_cost, need))
        for i, h, undo in reversed(done):
            s.undo(i, h, undo)


class TestUnits(base.SolverTestCase):

    def _problem(self):
        groups = [affinity('a1'), affinity('a2'), affinity('r', 'rack')]
        servers = [server('s0', groups=('a1',)),
                   server('s1', groups=('a1', 'a2')),
                   server('s2', groups=('a2',)),
                   server('s3', groups=('r',)),
                   server('s4', groups=('r',)),
                   server('s5')]
        return problem_mod.Problem(make_dc(), request(servers, groups))

    def test_kept_partition_matches_a_fresh_one(self):
        p = self._problem()
        fresh = dict(p.closures)        # not the problem's: not kept
        for level in (0, 1):
            for members in (range(6), [5, 2, 0], [3]):
                want = counts.units(p, fresh, list(members), level)
                self.assertEqual(want, counts.units(
                    p, p.closures, list(members), level))
                # Asked again: the kept partition answers the same.
                self.assertEqual(want, counts.units(
                    p, p.closures, list(members), level))
        self.assertEqual([[0, 1, 2], [3], [4], [5]],
                         counts.units(p, p.closures, range(6), 0))
        self.assertEqual([[0, 1, 2], [3, 4], [5]],
                         counts.units(p, p.closures, range(6), 1))


class TestSharedStarts(base.SolverTestCase):

    def test_spread_trackers_of_one_rule_keep_their_own_counts(self):
        req = request([server('m%d' % k, groups=('sp',)) for k in range(4)],
                      groups=[group('sp', groups_mod.SPREAD, 'rack')])
        p = problem_mod.Problem(make_dc(), req)
        first = search_mod.Search(p, solver.SolverOptions())
        second = search_mod.Search(p, solver.SolverOptions())
        tracker = [t for t in second.trackers if t.rule.kind == 'spread'][0]
        before = tracker.mask(0).copy()
        undo = first.apply(0, 0)
        np.testing.assert_array_equal(before, tracker.mask(0))
        first.undo(0, 0, undo)

    def test_symmetry_keys_follow_the_hosts_room(self):
        p = problem_mod.Problem(make_dc(existing=[placed('o', 'r0h0')]),
                                request([server('a'), server('b')]))
        s = search_mod.Search(p, solver.SolverOptions())
        # Empty hosts alike share a key; a used host has its own.
        self.assertEqual(s.symmetry_key(1), s.symmetry_key(2))
        self.assertEqual(('host', 0), s.symmetry_key(0))
        undo = s.apply(0, 1)
        self.assertEqual(('host', 1), s.symmetry_key(1))
        s.undo(0, 1, undo)
        self.assertEqual(s.symmetry_key(1), s.symmetry_key(2))


class TestDomainRoom(base.SolverTestCase):

    def test_room_per_domain_matches_bincount(self):
        for usable in (True, False):
            # With usable False a rack has no usable host: its row is 0.
            hosts = base.make_hosts(racks=2) + [
                base.host('r2h%d' % k, rack='r2', enabled=usable)
                for k in range(4)]
            dc = base.build(hosts, existing=[placed('o', 'r1h2', vcpus=5)])
            p = problem_mod.Problem(dc, request([server('a')]))
            for level in (0, 1):
                lv = rack_choice.levels(p, level, {})
                dom = p.domain[level]
                keep = p.usable & (dom >= 0)
                want = np.stack([np.bincount(
                    dom[keep], weights=np.maximum(p.free[keep, c], 0),
                    minlength=lv.count) for c in range(p.free.shape[1])],
                    axis=1)
                np.testing.assert_array_equal(want, lv.room(p.free))
