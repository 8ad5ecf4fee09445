"""The improvement phase's cheaper nodes answer as the plain formulas do.

Each fast path of a search node is checked against what it replaced, on
random search states (soft affinity and diversity, hard affinity, host
and rack levels, servers already placed): the deficit over the hosts in
use kept by apply and undo, the host test that leaves the deficit for
last (and skips it when no host can beat the bound), the first candidate
of a fresh list that skips _cannot_beat, the deficit a depth takes
from the one above when it is well below zero, a host or two checked on
its own (feasible_at, the rules' allows), the soft trackers' lists and
the host-level masks read without the domain index.
"""

import random

import hypothesis
from hypothesis import strategies as st
import numpy as np

from valet.engine.solver import deficits
from valet.tests.unit.engine import base
from valet.tests.unit.engine import test_solver_soft_speed as soft_speed

SETTINGS = hypothesis.settings(
    max_examples=min(60, hypothesis.settings().max_examples),
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
    deadline=None)


def _state(seed):
    """A search part way into a placement and a server to place, or
    None (a blocked instance, or nothing left to place)."""
    return next(soft_speed._searches(seed, 1), None)


def _deficit_plain(search):
    p = search.p
    in_use = p.usable & (search.count > 0)
    return search.left - np.maximum(search.free[in_use], 0).sum(axis=0)


def _place_left(rng, search):
    """Place the servers left one by one on random feasible hosts (until
    one has none), yielding each ``(server, host, undo token)``."""
    for k in range(len(search.p.servers)):
        if search.assign[k] >= 0:
            continue
        hosts = search.feasible_mask(k).nonzero()[0]
        if not hosts.size:
            return
        h = int(rng.choice(hosts))
        yield k, h, search.apply(k, h)


def _given_state(seed):
    """``_state(seed)``; an example without a server left is skipped."""
    found = _state(seed)
    hypothesis.assume(found is not None)
    return found


def _best_costs(rng, search):
    cost = search.cost()
    return sorted({cost + k * search.w_new + m * search.soft_unit
                   + rng.choice([-1, 0, 1])
                   for k in range(4) for m in range(3)})


class TestNodeSteps(base.SolverTestCase):

    @hypothesis.given(st.integers(0, 10 ** 6))
    @SETTINGS
    def test_deficit_and_hosts_in_use_follow_apply_and_undo(self, seed):
        rng, search, i = _given_state(seed)
        p = search.p
        done = []
        for step in _place_left(rng, search):
            done.append(step)
            self.assertEqual((p.usable & (search.count > 0)).tolist(),
                             search.in_use.tolist())
            self.assertEqual(_deficit_plain(search).tolist(),
                             search.deficit().tolist())
        for k, h, token in reversed(done):
            search.undo(k, h, token)
            self.assertEqual((p.usable & (search.count > 0)).tolist(),
                             search.in_use.tolist())
            self.assertEqual((search.was_empty & ~np.isin(
                np.arange(p.slots), [x for x in search.assign if x >= 0])
            ).tolist(), search.opens.tolist())

    @hypothesis.given(st.integers(0, 10 ** 6))
    @SETTINGS
    def test_can_beat_with_the_deficit_left_for_last(self, seed):
        rng, search, i = _given_state(seed)
        need = search.deficit()
        for best in _best_costs(rng, search):
            expected = (soft_speed._can_beat_by_formula(
                search, i, best, need) & search.feasible_mask(i))
            lazy = deficits.Need(search)
            got = search._can_beat(i, best, lazy)
            self.assertEqual(expected.tolist(), got.tolist())
            self.assertEqual(expected.tolist(),
                             search._can_beat(i, best, need).tolist())
            if lazy.value is not None:
                self.assertEqual(need.tolist(), lazy.value.tolist())

    @hypothesis.given(st.integers(0, 10 ** 6))
    @SETTINGS
    def test_a_fresh_first_candidate_can_beat(self, seed):
        rng, search, i = _given_state(seed)
        need = search.deficit()
        for best in _best_costs(rng, search):
            first = next(search.candidates(i, best, need), None)
            if first is not None:
                self.assertFalse(search._cannot_beat(i, first, need, best))

    @hypothesis.given(st.integers(0, 10 ** 6))
    @SETTINGS
    def test_host_level_reads_match_the_domain_index(self, seed):
        rng, search, i = _given_state(seed)
        for tracker in search.trackers:
            kind = tracker.rule.kind
            if kind in ('soft-affinity', 'soft-diversity'):
                plain = tracker.count.take(tracker.domains)
                plain = (plain < tracker.top if kind == 'soft-affinity'
                         else plain > 0)
                self.assertEqual(plain.tolist(), tracker.adds(i).tolist())
            elif kind == 'diversity' and i in tracker.rule.unit:
                safe, has = search.p.domain_index(tracker.rule.level)
                owner, unit = tracker.owner, tracker.rule.unit[i]
                plain = ((owner == -1) | (owner == unit)).take(safe) & has
                for d, units in tracker.rule.shared.items():
                    if unit in units:
                        plain |= search.p.domain[tracker.rule.level] == d
                plain &= has
                self.assertEqual(plain.tolist(), tracker.mask(i).tolist())

    def test_soft_affinity_lists_come_back_after_undo(self):
        rng = random.Random(5)
        seen = 0
        for _ in range(40):
            found = _state(rng.randint(0, 10 ** 6))
            if found is None:
                continue
            _, search, i = found
            for tracker in search.soft_trackers:
                if not hasattr(tracker, 'left_size'):
                    continue
                before = (list(tracker.left), list(tracker.left_size),
                          tracker.left_demand.tolist(), tracker.top,
                          tracker.count.tolist(), search.soft)
                for h in search.feasible_mask(i).nonzero()[0].tolist():
                    token = search.apply(i, h)
                    search.undo(i, h, token)
                    self.assertEqual(before, (
                        list(tracker.left), list(tracker.left_size),
                        tracker.left_demand.tolist(), tracker.top,
                        tracker.count.tolist(), search.soft))
                    seen += 1
        self.assertGreater(seen, 20)

    @hypothesis.given(st.integers(0, 10 ** 6))
    @SETTINGS
    def test_feasible_at_is_the_mask(self, seed):
        rng, search, i = _given_state(seed)
        for k in range(len(search.p.servers)):
            if search.assign[k] >= 0:
                continue
            mask = search.feasible_mask(k)
            self.assertEqual(mask.tolist(), [
                search.feasible_at(k, h) for h in range(search.p.slots)])
            for tracker in search.server_masks[k]:
                if hasattr(tracker, 'allows'):
                    self.assertEqual(tracker.mask(k).tolist(), [
                        bool(tracker.allows(k, h))
                        for h in range(search.p.slots)])

    @hypothesis.given(st.integers(0, 10 ** 6))
    @SETTINGS
    def test_a_low_deficit_bounds_every_placement_below(self, seed):
        rng, search, i = _given_state(seed)
        need = deficits.Need(search)
        need.get()
        if need.low():
            self.assertEqual(0, need.bound())
        # Deeper down, a deficit well below zero stays at most EPS in
        # every class the bounds count: each of them is 0.
        done = []
        for step in _place_left(rng, search):
            done.append(step)
            if need.low():
                below = search.deficit()
                self.assertEqual(0, search.bound_for(below))
                for h2 in range(search.p.slots):
                    self.assertEqual(0, search._bound_opening(below, h2))
            need = deficits.Need(search)
            need.get()
        for k, h, token in reversed(done):
            search.undo(k, h, token)

    def test_low_deficits_are_found(self):
        # The check above is not vacuous: random states have them.
        seen = 0
        for seed in range(40):
            found = _state(seed)
            if found is None:
                continue
            need = deficits.Need(found[1])
            need.get()
            seen += need.low()
        self.assertGreater(seen, 5)
