"""The fixed costs every decision pays in compiling the problem and in the
counting proofs (valet/engine/solver/size_counts.py, matching.py,
problem.py, rules/base.py, rules/diversity.py, rules/exclusivity.py).

Columns ranked alike share their unions, a matching reads its rows as
plain ints, the exclusivity inheritance stops when no closure names both
kinds, diversity units are numbered without their keys, alike servers
are told apart by their rows' bytes cut from the matrix's and isolated
members are taken off per domain with one count: each must give what the
plain formulas give.
"""

import collections
import itertools

import hypothesis
from hypothesis import strategies as st
import numpy as np

from valet.engine.model import groups as g
from valet.engine.solver import matching
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import proofs
from valet.engine.solver import size_counts
from valet.engine.solver.rules import base as rules_base
from valet.engine.solver.rules import diversity as diversity_rule
from valet.engine.solver.rules.base import EPS
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import exclusivity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server
from valet.tests.unit.engine.test_solver_size_counts import masks_and_asked

_ADD = np.add.reduce


def _plain_steps(need, column, masks, hosts):
    """One column's size counts as first written: per distinct size, the
    rows needing at least it, their union grown from nothing."""
    out = []
    for size in sorted({v for v in need.tolist() if v > EPS},
                       reverse=True):
        big = [r for r, v in enumerate(need.tolist()) if v >= size - EPS]
        where = np.zeros(len(masks.unique[0]), dtype=bool)
        for r in big:
            where |= masks.unique[masks.index[r]]
        room = column[where & hosts]
        out.append((size, big, float(_ADD(need[big])), float(_ADD(room)),
                    int(_ADD(np.floor(room / size + EPS)))))
    return out


@st.composite
def _alike_columns(draw):
    """Demands whose classes grow together (flavours), now and then with
    a column of its own; whole numbers or not."""
    hosts = draw(st.integers(1, 10))
    rows = draw(st.integers(1, 9))
    kinds = draw(st.integers(1, 4))
    first = draw(st.lists(st.integers(0, 8), min_size=rows,
                          max_size=rows))
    scales = draw(st.lists(st.sampled_from([1, 2, 512, 0.5]), min_size=1,
                           max_size=3))
    columns = [[v * k for v in first] for k in scales]
    if draw(st.booleans()):
        columns.append(draw(st.lists(st.integers(0, 8), min_size=rows,
                                     max_size=rows)))
    need = np.array(columns, dtype=float).T
    room = np.array(draw(st.lists(
        st.lists(st.integers(0, 40), min_size=need.shape[1],
                 max_size=need.shape[1]),
        min_size=hosts, max_size=hosts)), dtype=float)
    masks, asked = masks_and_asked(draw, hosts, rows, kinds)
    return need, room, masks, asked


class TestSharedColumns(base.SolverTestCase):

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(_alike_columns())
    def test_columns_ranked_alike_as_the_plain_formula(self, case):
        need, room, masks, hosts = case
        exact = size_counts.whole(need) and size_counts.whole(room)
        got = size_counts.class_steps(need, room, masks, hosts,
                                      exact=exact)
        for c, found in enumerate(got):
            self.assertEqual(
                _plain_steps(need[:, c], room[:, c], masks, hosts),
                [(s, sorted(b.tolist()), t, h, f)
                 for s, b, t, h, f in found], c)

    def test_columns_ranked_alike_share_their_unions(self):
        unique = [np.array([True, False, False]),
                  np.array([False, True, False])]
        masks = proofs._Masks(unique, [0, 1, 0])
        need = np.array([[1.0, 512.0, 3.0], [2.0, 1024.0, 1.0],
                         [1.0, 512.0, 2.0]])
        shared = []
        found = [size_counts._by_size(column, masks, None, True, shared)
                 for column in need.T.tolist()]
        first, second, third = [sized for sized, _ in found]
        for (_, big, where), (_, big2, where2) in zip(first, second):
            self.assertIs(where, where2)
            self.assertIs(big, big2)
        # Ranked otherwise: unions of its own.
        self.assertEqual([[0], [0, 2], [0, 2, 1]],
                         [big.tolist() for _, big, _ in third])
        self.assertIsNot(first[-1][2], third[-1][2])
        np.testing.assert_array_equal(first[-1][2], third[-1][2])


def _largest_plain(options):
    """The largest matching by trying every set of rows (tiny cases)."""
    rows = len(options)
    for size in range(rows, 0, -1):
        for chosen in itertools.combinations(range(rows), size):
            for cols in itertools.product(*[list(options[r])
                                            for r in chosen]):
                if len(set(cols)) == size:
                    return size
    return 0


def _largest_steps(options, work_cap):
    """``matching.largest`` without its shortcut for alike rows: every
    hard row searched for an augmenting path, step by step (None past
    ``work_cap``)."""
    rows = len(options)
    hard = [r for r in range(rows) if len(options[r]) < rows]
    matched = matching.augment({r: [int(c) for c in options[r]]
                                for r in hard}, hard, work_cap)
    return None if matched is None else matched + (rows - len(hard))


@st.composite
def _bipartite(draw):
    rows = draw(st.integers(0, 5))
    cols = draw(st.integers(1, 6))
    return [sorted(draw(st.sets(st.integers(0, cols - 1), max_size=cols)))
            for _ in range(rows)]


@st.composite
def _alike_rows(draw):
    """Rows listing the same columns (diversity units with one mask),
    now and then with a row of its own."""
    rows = draw(st.integers(1, 9))
    same = sorted(draw(st.sets(st.integers(0, 9), max_size=8)))
    options = [list(same) for _ in range(rows)]
    if draw(st.booleans()):
        options[draw(st.integers(0, rows - 1))] = sorted(draw(st.sets(
            st.integers(0, 9), max_size=8)))
    return options


class TestMatchingRows(base.SolverTestCase):

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(_bipartite())
    def test_arrays_and_lists_as_every_set_of_rows(self, options):
        want = _largest_plain(options)
        self.assertEqual(want, matching.largest(options, 10 ** 6))
        arrays = [np.array(row, dtype=np.int64) for row in options]
        self.assertEqual(want, matching.largest(arrays, 10 ** 6))

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(_alike_rows(), st.integers(1, 400))
    def test_alike_rows_as_the_step_by_step_search(self, options, cap):
        arrays = [np.array(row, dtype=np.int64) for row in options]
        self.assertEqual(_largest_steps(options, cap),
                         matching.largest(arrays, cap))
        self.assertEqual(_largest_steps(options, 10 ** 6),
                         matching.largest(options, 10 ** 6))

    def test_work_cap_counts_the_same_steps_on_arrays(self):
        options = [[0], [0], [0], [0]]
        arrays = [np.array(row) for row in options]
        for cap in range(1, 12):
            self.assertEqual(matching.largest(options, cap),
                             matching.largest(arrays, cap), cap)
        self.assertIsNone(matching.largest(arrays, 3))


@st.composite
def _closures(draw):
    names = ['a0', 'a1', 'e0', 'e1', 'd0', 'x']
    count = draw(st.integers(0, 7))
    return {('new', k): set(draw(st.sets(st.sampled_from(names),
                                         max_size=3)))
            for k in range(count)}


class TestInheritExclusivity(base.SolverTestCase):

    def _defs(self):
        kinds = {'a0': affinity('a0'), 'a1': affinity('a1', level='rack'),
                 'e0': exclusivity('e0'),
                 'e1': exclusivity('e1', level='rack'),
                 'd0': diversity('d0')}
        return kinds, make_dc().topology

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(_closures())
    def test_as_round_after_round(self, closures):
        defs, topology = self._defs()
        want = {k: set(v) for k, v in closures.items()}
        problem_mod.take_on_exclusivity(want, defs, topology)
        exclusive = frozenset(['e0', 'e1'])
        problem_mod._inherit_exclusivity(closures, defs, topology,
                                         exclusive)
        self.assertEqual(want, closures)

    def test_chain_through_two_rounds(self):
        defs, topology = self._defs()
        closures = {('new', 0): {'a0', 'e0'}, ('new', 1): {'a0', 'a1'},
                    ('new', 2): {'a1'}}
        problem_mod._inherit_exclusivity(closures, defs, topology,
                                         frozenset(['e0', 'e1']))
        self.assertEqual({'a0', 'a1', 'e0'}, closures[('new', 1)])
        # a1 is a rack group: a host exclusivity group is not its own.
        self.assertEqual({'a1'}, closures[('new', 2)])


def _units_case(seed):
    """Diversity groups over members linked by affinity groups (some
    through placed servers), with placed members sharing domains."""
    rng = np.random.default_rng(seed)
    existing = [placed('p%d' % k, 'r%dh%d' % (k % 2, int(rng.integers(4))),
                       groups=[n for n in ('D0', 'D1', 'A0')
                               if rng.random() < 0.5])
                for k in range(5)]
    groups = [diversity('D0'), diversity('D1', level='rack'),
              affinity('A0'), affinity('A1', level='rack')]
    dc = make_dc(racks=2, hosts_per_rack=4, existing=existing,
                 groups=groups[:3])
    servers = [server('s%d' % k, groups=[n for n in ('D0', 'D1', 'A0', 'A1')
                                         if rng.random() < 0.5])
               for k in range(7)]
    return dc, request(servers, groups)


class TestDiversityUnits(base.SolverTestCase):

    def test_units_and_owners_as_the_keyed_count(self):
        shared_seen = False
        for seed in range(40):
            p = problem_mod.Problem(*_units_case(seed))
            for rule in p.constraints:
                if rule.kind != diversity_rule.KIND:
                    continue
                new, old = p.members(rule.name)
                keys = ([('new', i) for i in new]
                        + [('old', s) for s in old])
                units = diversity_rule._units(keys, p, rule.level)
                self.assertEqual({i: units[('new', i)] for i in new},
                                 rule.unit)
                # Per domain the units of its placed members: none is
                # -1, one owns it, several share it (-2).
                held = collections.defaultdict(set)
                for sid in old:
                    held[p.host_domain(rule.level, sid)].add(
                        units[('old', sid)])
                for dom in range(p.dc.domain_count(rule.level)):
                    there = held.get(dom, set())
                    want = (-1 if not there else
                            min(there) if len(there) == 1 else -2)
                    self.assertEqual(want, rule.owner[dom])
                self.assertEqual({dom: there for dom, there in held.items()
                                  if len(there) > 1}, rule.shared)
                shared_seen = shared_seen or bool(rule.shared)
        self.assertTrue(shared_seen)


class TestAlikeClasses(base.SolverTestCase):

    def test_rows_bytes_as_each_rows_own(self):
        for seed in range(10):
            p = problem_mod.Problem(*_units_case(seed))
            # Demands alike but for one class's sign of zero.
            p.demand = p.demand.copy()
            p.demand[0, 0] = -0.0 if seed % 2 else 0.0
            p.__dict__.pop('_alike_classes', None)
            got = rules_base.alike_classes(p)
            ids = {}
            want = [ids.setdefault((id(p.static[i]), p.demand[i].tobytes()),
                                   len(ids)) for i in range(len(p.servers))]
            self.assertEqual(want, got)


class TestIsolatedCounts(base.SolverTestCase):

    def test_partly_isolated_groups_as_compiled_one_by_one(self):
        for seed in range(12):
            rng = np.random.default_rng(seed)
            groups = [exclusivity('X%d' % k, level=('host', 'rack')[k % 2])
                      for k in range(4)] + [diversity('G')]
            existing = []
            for k in range(4):
                for m in range(int(rng.integers(1, 4))):
                    # Some members are in G too: their group is walked
                    # with them, the others counted at once.
                    also = ['G'] if rng.random() < 0.4 else []
                    existing.append(placed(
                        'x%d-%d' % (k, m), 'r%dh%d' % (k % 2, k),
                        groups=['X%d' % k] + also))
            dc = make_dc(racks=2, hosts_per_rack=4, existing=existing,
                         groups=groups)
            touched = ['X%d' % int(rng.integers(4))] if seed % 3 else []
            req = request([server('a', 1, groups=['G']),
                           server('b', 1, groups=touched)])
            fast = problem_mod.Problem(dc, req)
            slow = problem_mod.Problem(dc, req, ignore_groups={'unrelated'})
            self.assertEqual({}, slow.isolated)
            got = [r for r in fast.constraints if r.kind == g.EXCLUSIVITY]
            want = [r for r in slow.constraints if r.kind == g.EXCLUSIVITY]
            self.assertEqual([r.level for r in want], [r.level for r in got])
            for mine, plain in zip(got, want):
                np.testing.assert_array_equal(plain.any_member,
                                              mine.any_member)
                np.testing.assert_array_equal(plain.total, mine.total)
                self.assertEqual(plain.member_of, mine.member_of)
