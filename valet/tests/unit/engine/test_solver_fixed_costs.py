"""What a decision works out once instead of again (fixed costs).

Small requests spend most of their time compiling, proving and
explaining, not searching: the affinity units of a level, the root
feasible hosts, the proofs' root masks and the model's own filters are
worked out once and shared. Every test here checks that the shared
answer is the one worked out afresh, and that it is shared.
"""

import dataclasses

import numpy as np

from valet.engine.model import groups as groups_mod
from valet.engine.solver import group_defs
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import proofs
from valet.engine.solver import search
from valet.engine.solver import SolverOptions
from valet.engine.solver.rules import at_most
from valet.engine.solver.rules import base as rules_base
from valet.engine.solver.rules import counts
from valet.engine.solver.rules import exclusivity as exclusivity_rule
from valet.objects import group_kinds
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import exclusivity
from valet.tests.unit.engine.base import group
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server


def _pairs_request():
    """Three host-affinity pairs (one chained through a third group), a
    host diversity group over one member of each and an at-most group."""
    groups = [affinity('P0'), affinity('P1'), affinity('P2'),
              affinity('Q'), diversity('D'),
              group('M', groups_mod.AT_MOST, max_per_domain=2)]
    servers = [server('a0', groups=['P0', 'D', 'M']),
               server('a1', groups=['P0', 'M']),
               server('b0', groups=['P1', 'D', 'M']),
               server('b1', groups=['P1', 'Q', 'M']),
               server('c0', groups=['Q', 'M']),
               server('d0', groups=['P2', 'D']),
               server('d1', groups=['P2'])]
    return request(servers, groups)


def _partition(lists):
    return sorted(sorted(u) for u in lists)


class TestAffinityRoots(base.SolverTestCase):

    def test_units_as_counts_finds_them_and_once_per_level(self):
        dc = make_dc(racks=2, hosts_per_rack=4)
        p = problem_mod.Problem(dc, _pairs_request())
        roots = rules_base.affinity_roots(p, 0)
        self.assertIs(roots, rules_base.affinity_roots(p, 0))
        units = {}
        for i in range(len(p.servers)):
            units.setdefault(roots[('new', i)], []).append(i)
        expect = counts.units(p, p.closures, range(len(p.servers)), 0)
        self.assertEqual(_partition(expect), _partition(units.values()))
        # b1 links P1 and Q: b0, b1 and c0 are one unit.
        self.assertIn([2, 3, 4], _partition(units.values()))
        self.assertEqual(expect, proofs._host_units(p))

    def test_at_most_units_skipped_when_every_unit_fits(self):
        dc = make_dc(racks=2, hosts_per_rack=4)
        calls = []
        real = counts.units

        def spy(*args, **kw):
            calls.append(args[3])
            return real(*args, **kw)

        self.patch(counts, 'units', spy)
        p = problem_mod.Problem(dc, _pairs_request())
        # k = 2 per host and the largest unit (3) needs one host: the
        # units are listed; with k = 3 every unit fits any host.
        self.assertEqual(3, at_most._largest_unit(p, next(
            c for c in p.constraints if c.kind == group_kinds.AT_MOST)))
        self.assertEqual([0], calls)
        calls[:] = []
        req = _pairs_request()
        req.groups[-1] = group('M', groups_mod.AT_MOST, max_per_domain=3)
        problem_mod.Problem(dc, req)
        self.assertEqual([], calls)


class TestRootFeasible(base.SolverTestCase):

    def test_same_masks_once_and_asked_anew_after_a_placement(self):
        dc = make_dc(racks=2, hosts_per_rack=4)
        p = problem_mod.Problem(dc, _pairs_request())
        s = search.Search(p, SolverOptions())
        first = rules_base.root_feasible(s, 0)
        np.testing.assert_array_equal(s.feasible_mask(0), first)
        self.assertIs(first, rules_base.root_feasible(s, 0))
        h = int(np.flatnonzero(first)[0])
        undo = s.apply(0, h)
        self.assertIsNot(first, rules_base.root_feasible(s, 1))
        np.testing.assert_array_equal(s.feasible_mask(1),
                                      rules_base.root_feasible(s, 1))
        s.undo(0, h, undo)

    def test_exclusivity_outsiders_mask_follows_members(self):
        dc = make_dc(racks=2, hosts_per_rack=2)
        req = request([server('e', groups=['E']), server('o')],
                      [exclusivity('E')])
        p = problem_mod.Problem(dc, req)
        s = search.Search(p, SolverOptions())
        c = next(c for c, rule in enumerate(p.constraints)
                 if rule.kind == exclusivity_rule.KIND)
        tracker = s.trackers[c]
        before = tracker.mask(1)
        self.assertIs(before, tracker.mask(1))
        self.assertTrue(before.all())
        token = s.apply(0, 0)
        self.assertFalse(tracker.mask(1)[0])
        s.undo(0, 0, token)
        self.assertTrue(tracker.mask(1).all())


class TestProofMasks(base.SolverTestCase):

    def test_alike_masks_are_one_and_match_the_rules(self):
        dc = make_dc(racks=2, hosts_per_rack=4)
        p = problem_mod.Problem(dc, _pairs_request())
        s = search.Search(p, SolverOptions())
        masks = proofs._facts(p, s).masks()
        contents = [m.tobytes() for m in masks.unique]
        self.assertEqual(len(set(contents)), len(contents))
        for i in range(len(p.servers)):
            np.testing.assert_array_equal(s.feasible_mask(i), masks[i])

    def test_explanation_reuses_the_proofs_root(self):
        # Three host-diverse members, two hosts: the proofs refuse it at
        # the first dead end; the explanation builds no search of its own.
        dc = make_dc(racks=1, hosts_per_rack=2)
        req = request([server('s%d' % i, groups=['D']) for i in range(3)],
                      [diversity('D')])
        built = []
        real = search.Search

        class Counting(real):
            def __init__(self, *args, **kw):
                built.append(1)
                super().__init__(*args, **kw)

        self.patch(search, 'Search', Counting)
        decision = self.infeasible(dc, req)
        self.assertTrue(decision.explanation['proven'])
        # The search alone: the proofs' root builds only the trackers it
        # asks for, and the explanation reads the same root.
        self.assertEqual(1, len(built))

    def test_per_host_fit_as_the_sorted_running_sums(self):
        rng = np.random.default_rng(7)
        for _ in range(50):
            need = rng.integers(0, 5, size=(6, 3)).astype(float) / 2
            most = rng.integers(0, 8, size=3).astype(float)
            apart = [[None, 0, 0, 1, 1, None]]
            got = proofs._Facts._per_host(need, most, apart)

            def fit(rows):
                if not rows:
                    return 0
                run = np.cumsum(np.sort(need[rows], axis=0), axis=0)
                fits = (run <= most + 1e-9 * len(rows)).sum(axis=0)
                return min(len(rows), int(fits.min()))

            free = [0, 5]
            expect = min(fit(list(range(6))), max(
                fit(free), fit(free + [1, 2]), fit(free + [3, 4])))
            self.assertEqual(expect, got)


class TestModelCaches(base.SolverTestCase):

    def test_parameter_checks_tell_equal_values_of_other_types(self):
        for value in (2, 2.0, True, 'x', 0):
            params = (('max_per_domain', value),)
            expect = group_kinds.parameters_error(group_kinds.AT_MOST,
                                                  dict(params))
            for _ in range(2):
                self.assertEqual(expect, group_defs._parameters_error(
                    group_kinds.AT_MOST, params), value)

    def test_static_filters_shared_until_the_model_changes(self):
        dc = make_dc(racks=2, hosts_per_rack=2, zones=2)
        req = request([server('a', availability_zone='z1')])
        first = problem_mod.Problem(dc, req)
        again = problem_mod.Problem(dc, req)
        self.assertIs(first.static_reasons[0][1][1],
                      again.static_reasons[0][1][1])
        self.assertIs(first.scale, again.scale)
        # Host 0 (zone z0) moves to z1: the filters are worked out anew.
        name = dc.host_name(0)
        self.assertFalse(first.static[0][0])
        dc.update_host(dataclasses.replace(dc.hosts[name],
                                           availability_zone='z1'))
        changed = problem_mod.Problem(dc, req)
        self.assertIsNot(first.static_reasons[0][1][1],
                         changed.static_reasons[0][1][1])
        self.assertTrue(changed.static[0][0])


class TestMaskKeys(base.SolverTestCase):

    def test_diversity_units_without_a_domain_share_their_masks(self):
        # A placed member owns its host; a new one tied to it by host
        # affinity is its unit; two more start alike.
        dc = make_dc(racks=1, hosts_per_rack=4, existing=[
            base.placed('old', dc_host(0), groups=['D', 'A'])],
            groups=[diversity('D'), affinity('A')])
        req = request([server('n0', groups=['D']), server('n1', groups=['D']),
                       server('n2', groups=['D', 'A'])],
                      [diversity('D'), affinity('A')])
        p = problem_mod.Problem(dc, req)
        rule = next(c for c in p.constraints
                    if c.kind == group_kinds.DIVERSITY)
        keys = [rules_base.mask_key(rule, i) for i in range(3)]
        self.assertEqual([None, None], keys[:2])
        self.assertIsNotNone(keys[2])
        s = search.Search(p, SolverOptions())
        c = p.constraints.index(rule)
        asked = []
        real = s.trackers[c].mask

        def spy(i):
            asked.append(i)
            return real(i)

        s.trackers[c].mask = spy
        for i in range(3):
            rules_base.root_feasible(s, i)
        # n1 takes n0's mask; n2's unit has a host of its own.
        self.assertEqual([0, 2], asked)
        s.trackers[c].mask = real
        for i in range(3):
            np.testing.assert_array_equal(s.feasible_mask(i),
                                          rules_base.root_feasible(s, i))
        self.assertFalse(s.feasible_mask(0)[0])


def dc_host(index):
    return base.host_name(0, index)
