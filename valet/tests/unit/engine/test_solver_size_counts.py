"""The size counts of the capacity proof and the new-host bound
(valet/engine/solver/size_counts.py) and the proofs' root view
(valet/engine/solver/root_view.py).

Counted together (whole numbers) they must give the plain formula's
values size by size; the root view builds only the trackers asked for.
"""

import hypothesis
from hypothesis import strategies as st
import numpy as np

from valet.engine.solver import problem as problem_mod
from valet.engine.solver import proofs
from valet.engine.solver import root_view
from valet.engine.solver import search
from valet.engine.solver import size_counts
from valet.engine.solver import SolverOptions
from valet.engine.solver.rules import base as rules_base
from valet.engine.solver.rules.base import EPS
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server

_ADD = np.add.reduce


def _plain(need, column, masks, hosts, row_masks=None):
    """Each size's numbers as the counts first wrote them."""
    out = []
    for size, big, where in size_counts.by_size(need, masks, row_masks):
        room = column[where & hosts]
        out.append((size, sorted(big.tolist()), float(_ADD(need[big])),
                    float(_ADD(room)),
                    int(_ADD(np.floor(room / size + EPS)))))
    return out


def masks_and_asked(draw, hosts, rows, kinds):
    """Drawn: ``kinds`` distinct masks over ``hosts``, one per row, and
    the hosts asked about."""
    unique = [np.array(draw(st.lists(st.booleans(), min_size=hosts,
                                     max_size=hosts)))
              for _ in range(kinds)]
    index = draw(st.lists(st.integers(0, kinds - 1), min_size=rows,
                          max_size=rows))
    asked = np.array(draw(st.lists(st.booleans(), min_size=hosts,
                                   max_size=hosts)))
    return proofs._Masks(unique, index), asked


def _case(draw, whole):
    hosts = draw(st.integers(1, 12))
    rows = draw(st.integers(1, 10))
    kinds = draw(st.integers(1, 4))
    if whole:
        values = st.integers(0, 64).map(float)
    else:
        values = st.floats(0, 64, allow_nan=False).map(
            lambda v: round(v, 3))
    need = np.array(draw(st.lists(values, min_size=rows, max_size=rows)))
    column = np.array(draw(st.lists(values, min_size=hosts,
                                    max_size=hosts)))
    masks, asked = masks_and_asked(draw, hosts, rows, kinds)
    return need, column, masks, asked


@st.composite
def _whole_cases(draw):
    return _case(draw, True)


@st.composite
def _any_cases(draw):
    return _case(draw, draw(st.booleans()))


def _as_plain(found):
    return [(s, sorted(b.tolist()), t, h, f) for s, b, t, h, f in found]


class TestSizeCounts(base.SolverTestCase):

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(_whole_cases())
    def test_counted_together_as_size_by_size(self, case):
        need, column, masks, hosts = case
        self.assertTrue(size_counts.whole(need))
        got = size_counts.steps(need, column, masks, hosts, exact=True)
        self.assertEqual(_plain(need, column, masks, hosts), _as_plain(got))

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(_any_cases())
    def test_plain_steps_as_the_plain_formula(self, case):
        need, column, masks, hosts = case
        exact = size_counts.whole(need) and size_counts.whole(column)
        got = size_counts.steps(need, column, masks, hosts, exact=exact)
        self.assertEqual(_plain(need, column, masks, hosts), _as_plain(got))

    @hypothesis.settings(max_examples=100, deadline=None)
    @hypothesis.given(_whole_cases())
    def test_rows_of_several_masks(self, case):
        need, column, masks, hosts = case
        kinds = len(masks.unique)
        rows = [sorted({k % kinds, (k * 3 + 1) % kinds})
                for k in range(len(need))]
        got = size_counts.steps(need, column, masks, hosts, rows,
                                exact=True)
        self.assertEqual(_plain(need, column, masks, hosts, rows),
                         _as_plain(got))

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(_whole_cases())
    def test_few_hosts_summed_as_the_arrays_sum(self, case):
        # A few hosts and sizes are summed host by host: the same numbers
        # (and types where they count) as the arrays' sums.
        need, column, masks, hosts = case
        saved = size_counts.FEW
        try:
            size_counts.FEW = 10 ** 9
            few = size_counts.steps(need, column, masks, hosts, exact=True)
            size_counts.FEW = 0
            arrays = size_counts.steps(need, column, masks, hosts,
                                       exact=True)
        finally:
            size_counts.FEW = saved
        self.assertEqual(_as_plain(arrays), _as_plain(few))
        for got in few:
            self.assertIs(float, type(got[3]))
            self.assertIs(int, type(got[4]))

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(_whole_cases(), st.integers(1, 3), st.integers(0, 9))
    def test_roomy_only_when_no_step_falls_short(self, case, classes,
                                                 shift):
        # Several classes (the columns rolled and scaled), every host
        # looked at: roomy says so only when no class's step falls short.
        need, column, masks, hosts = case
        need = np.stack([np.roll(need, k) * (k + 1)
                         for k in range(classes)], axis=1)
        room = np.stack([np.roll(column, k + shift) * (k + 1)
                         for k in range(classes)], axis=1)
        saved = size_counts.FEW
        try:
            size_counts.FEW = 0
            roomy = size_counts.roomy(need, room, masks, hosts)
        finally:
            size_counts.FEW = saved
        short = any(total > have + EPS or len(big) > fits
                    for found in size_counts.class_steps(
                        need, room, masks, hosts, exact=True)
                    for _, big, total, have, fits in found)
        if roomy:
            self.assertFalse(short)

    def test_roomy_with_room_to_spare(self):
        masks = proofs._Masks([np.ones(4, dtype=bool),
                               np.array([True, True, False, False])],
                              [0, 1, 1])
        need = np.array([[2.0, 8.0], [4.0, 8.0], [1.0, 0.0]])
        hosts = np.ones(4, dtype=bool)
        saved = size_counts.FEW
        try:
            size_counts.FEW = 0
            # The largest (4 then 8) may use the first two hosts only.
            self.assertTrue(size_counts.roomy(
                need, np.array([[8.0, 16.0]] * 4), masks, hosts))
            self.assertFalse(size_counts.roomy(
                need, np.array([[4.0, 16.0], [2.0, 16.0], [99.0, 99.0],
                                [99.0, 99.0]]), masks, hosts))
        finally:
            size_counts.FEW = saved

    def test_whole(self):
        self.assertTrue(size_counts.whole(np.array([1.0, 4096.0, 0.0])))
        self.assertFalse(size_counts.whole(np.array([1.5, 2.0])))
        self.assertFalse(size_counts.whole(np.array([2.0 ** 53])))
        self.assertFalse(size_counts.whole(np.array([np.inf])))
        self.assertTrue(size_counts.whole(np.zeros((0, 3))))

    def test_sizes_are_the_distinct_demands_largest_first(self):
        masks = proofs._Masks([np.ones(3, dtype=bool)], [0] * 6)
        need = np.array([2.0, 0.0, 4.0, 2.0, 1.0, 4.0])
        got = [size for size, _, _ in size_counts.by_size(need, masks)]
        self.assertEqual([4.0, 2.0, 1.0], got)
        self.assertEqual([], list(size_counts.by_size(
            np.zeros(6), masks)))


def _small_case():
    dc = make_dc(racks=2, hosts_per_rack=3)
    servers = [server('a%d' % k, 2, groups=['A', 'D']) for k in range(2)]
    servers += [server('s%d' % k, 1 + k, groups=['S']) for k in range(3)]
    return dc, request(servers, [affinity('A', level='rack'),
                                 diversity('D'), diversity('S')])


class TestRootView(base.SolverTestCase):

    def test_trackers_built_on_demand(self):
        dc, req = _small_case()
        p = problem_mod.Problem(dc, req)
        view = root_view.RootView(p, SolverOptions())
        self.assertEqual(len(p.constraints), len(view.trackers))
        self.assertEqual([None] * len(p.constraints),
                         view.trackers._built)
        first = view.trackers[0]
        self.assertIs(first, view.trackers[0])
        self.assertEqual(1, sum(t is not None
                                for t in view.trackers._built))
        self.assertEqual(len(p.constraints), len(list(view.trackers)))

    def test_rule_masks_are_a_fresh_trackers(self):
        dc, req = _small_case()
        p = problem_mod.Problem(dc, req)
        view = root_view.RootView(p, SolverOptions())
        fresh = search.Search(p, SolverOptions())
        for i in range(len(p.servers)):
            for c in p.server_rules[i]:
                np.testing.assert_array_equal(
                    fresh.trackers[c].mask(i),
                    root_view.RuleMasks(view, c).mask(i))
        # The root's feasible masks leave out no hard rule.
        for i in range(len(p.servers)):
            np.testing.assert_array_equal(
                fresh.feasible_mask(i), rules_base.root_feasible(view, i))

    def test_root_free_room_is_read_only(self):
        dc, req = _small_case()
        p = problem_mod.Problem(dc, req)
        view = root_view.RootView(p, SolverOptions())
        np.testing.assert_array_equal(p.free, view.free)
        self.assertFalse(view.free.flags.writeable)
