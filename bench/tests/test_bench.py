"""Checks of the benchmark's generator and baselines on their own.

Run with ``python -m unittest discover -s bench/tests -t .``.
"""

import collections
import io
import unittest

from valet.engine.model import datacenter
from valet.engine.model import groups as g
from valet.engine.model import request as r

from bench import e2e_report
from bench import exact
from bench import generator as gen
from bench import greedy
from bench import original
from bench import runner
from bench import view as view_mod

try:
    from valet.engine.solver.validator import validate
except ImportError:             # the validator is written separately
    validate = None


def _dc(hosts, placed=()):
    c = gen._Crafted()
    for name, rack, free in hosts:
        c.host(name, gen.SHAPES[1], rack, 'az1', free=free)
    spec = c.spec()
    spec.servers.extend(placed)
    return spec.build()


def _req(servers, groups=()):
    return r.PlacementRequest(
        servers=[r.ServerRequest(id=sid, demand=dict(gen.DEMAND[flavor]),
                                 groups=tuple(grps))
                 for sid, flavor, grps in servers], groups=list(groups))


class TestGenerator(unittest.TestCase):

    def test_same_seed_same_instances(self):
        a, b = gen.make_dc(7, 300), gen.make_dc(7, 300)
        self.assertEqual([h.name for h in a.hosts], [h.name for h in b.hosts])
        self.assertEqual([(s.id, s.host, s.demand) for s in a.servers],
                         [(s.id, s.host, s.demand) for s in b.servers])
        ra, rb = gen.make_request(3, a, 40), gen.make_request(3, b, 40)
        self.assertEqual(ra, rb)
        self.assertNotEqual(
            [s.host for s in a.servers],
            [s.host for s in gen.make_dc(8, 300).servers])

    def test_racks_and_mixed_load(self):
        spec = gen.make_dc(3, 2000)
        racks = collections.Counter(h.domains['rack'] for h in spec.hosts)
        self.assertTrue(all(20 <= n <= 40 for n in racks.values()))
        self.assertGreater(len(spec.zones), 1)
        dc = spec.build()
        utils = []
        for h in spec.hosts:
            cap, free = dc.capacity(h.name), dc.free(h.name)
            utils.append(max(1 - free[rc] / cap[rc] for rc in cap if cap[rc]))
        self.assertGreater(sum(u == 0 for u in utils), 200)
        self.assertGreater(sum(0.1 < u < 0.75 for u in utils), 200)
        self.assertGreater(sum(u > 0.8 for u in utils), 200)

    def test_per_host_count_is_exact(self):
        spec = gen.large_spec(1, 1000)
        self.assertEqual(10000, len(spec.servers))
        dc = spec.build()
        self.assertEqual(10000, len(dc.servers))
        for name in spec.named.values():
            self.assertTrue(dc.group_servers(name), name)

    def test_requests_only_name_known_groups(self):
        spec = gen.make_dc(5, 1000)
        req = gen.make_request(9, spec, 500)
        self.assertEqual(500, len(req.servers))
        known = {grp.name for grp in req.groups} | {
            grp.name for grp in spec.groups}
        for s in req.servers:
            self.assertTrue(set(s.groups) <= known)
        for grp in req.groups:
            self.assertTrue(set(grp.parents) <= known)
        kinds = {(grp.kind, grp.level) for grp in req.groups}
        self.assertIn((g.DIVERSITY, 'rack'), kinds)
        self.assertIn((g.AFFINITY, 'host'), kinds)
        self.assertTrue(any(grp.parents for grp in req.groups))

    def test_small_instances_are_small(self):
        for inst in gen.small_instances(2, 6):
            self.assertTrue(exact.fits(inst))


class TestView(unittest.TestCase):

    def test_units_follow_nested_affinity(self):
        div = g.Group('d', g.DIVERSITY, 'rack')
        a1 = g.Group('a1', g.AFFINITY, 'host', parents=('d',))
        a2 = g.Group('a2', g.AFFINITY, 'host', parents=('d',))
        dc = _dc([('h0', 'r0', None), ('h1', 'r1', None)])
        req = _req([('s0', 'm1.small', ('a1',)), ('s1', 'm1.small', ('a1',)),
                    ('s2', 'm1.small', ('a2',))], [div, a1, a2])
        view = view_mod.View(dc, req)
        rule = [x for x in view.diversity if x.name == 'd'][0]
        self.assertEqual(rule.unit[0], rule.unit[1])
        self.assertNotEqual(rule.unit[0], rule.unit[2])

    def test_placed_exclusive_host_is_off_limits(self):
        ex = g.Group('ex', g.EXCLUSIVITY, 'host')
        placed = [datacenter.PlacedServer('old', 'h0', {'VCPU': 1},
                                          groups=('ex',))]
        c = gen._Crafted()
        c.host('h0', gen.SHAPES[1], 'r0', 'az1')
        c.host('h1', gen.SHAPES[1], 'r0', 'az1')
        spec = c.spec()
        spec.groups.append(ex)
        spec.servers.extend(placed)
        view = view_mod.View(spec.build(), _req([('s', 'm1.small', ())]))
        self.assertEqual([False, True], list(view.group_mask[0]))


class TestGreedy(unittest.TestCase):

    def test_spreads_to_the_most_free_host(self):
        dc = _dc([('busy', 'r0', (100, 50, 500)), ('idle', 'r0', None)])
        assignment, _ = greedy.solve(dc, _req([('s', 'm1.small', ())]))
        self.assertEqual({'s': 'idle'}, assignment)

    def test_host_anti_affinity_as_a_server_group(self):
        div = g.Group('d', g.DIVERSITY, 'host')
        dc = _dc([('h0', 'r0', None), ('h1', 'r0', None)])
        req = _req([('a', 'm1.small', ('d',)), ('b', 'm1.small', ('d',))],
                   [div])
        assignment, _ = greedy.solve(dc, req)
        self.assertNotEqual(assignment['a'], assignment['b'])
        req = _req([(k, 'm1.small', ('d',)) for k in 'abc'], [div])
        self.assertIsNone(greedy.solve(dc, req)[0])

    def test_ignores_what_nova_cannot_express(self):
        inst = [i for i in gen.hard_instances()
                if i.name == 'hard-e-rack-exclusive'][0]
        assignment, _ = greedy.solve(inst.make_dc(), inst.request)
        self.assertIsNotNone(assignment)
        if validate is not None:
            self.assertTrue(validate(inst.make_dc(), inst.request,
                                     assignment))


class TestOriginal(unittest.TestCase):

    def test_best_fit_consolidates(self):
        dc = _dc([('idle', 'r0', None), ('busy', 'r0', (100, 50, 500))])
        assignment, _ = original.solve(dc, _req([('s', 'm1.small', ())]))
        self.assertEqual({'s': 'busy'}, assignment)

    def test_largest_first_saves_the_affinity_group(self):
        inst = gen.hard_instances()[0]
        assignment, _ = original.solve(inst.make_dc(), inst.request)
        self.assertIsNotNone(assignment)
        hosts = {assignment[s.id] for s in inst.request.servers
                 if 'big' in s.id}
        self.assertEqual(1, len(hosts))

    def test_no_backtracking_across_servers(self):
        inst = [i for i in gen.hard_instances()
                if i.name == 'hard-d-binpack'][0]
        self.assertIsNone(original.solve(inst.make_dc(), inst.request)[0])

    @unittest.skipIf(validate is None, 'validator not available')
    def test_placements_are_valid(self):
        for inst in gen.small_instances(4, 6) + gen.hard_instances():
            dc = inst.make_dc()
            assignment, _ = original.solve(dc, inst.request)
            if assignment is not None:
                self.assertEqual([], validate(dc, inst.request, assignment),
                                 inst.name)


class TestExact(unittest.TestCase):

    def test_hard_set_is_feasible_and_valid(self):
        for inst in gen.hard_instances():
            dc = inst.make_dc()
            assignment, info = exact.solve(dc, inst.request, time_limit=10)
            self.assertIsNotNone(assignment, inst.name)
            self.assertTrue(info['optimal'], inst.name)
            self.assertEqual(info['objective'],
                             view_mod.new_hosts(dc, assignment))
            if validate is not None:
                self.assertEqual([], validate(dc, inst.request, assignment),
                                 inst.name)

    def test_prefers_used_hosts(self):
        dc = _dc([('idle', 'r0', None), ('busy', 'r0', (100, 50, 500))])
        req = _req([('a', 'm1.large', ()), ('b', 'm1.large', ())])
        assignment, info = exact.solve(dc, req)
        self.assertEqual({'a': 'busy', 'b': 'busy'}, assignment)
        self.assertEqual(0, info['objective'])

    def test_proves_infeasibility(self):
        div = g.Group('d', g.DIVERSITY, 'rack')
        dc = _dc([('h0', 'r0', None), ('h1', 'r0', None)])
        req = _req([('a', 'm1.small', ('d',)), ('b', 'm1.small', ('d',))],
                   [div])
        assignment, info = exact.solve(dc, req)
        self.assertIsNone(assignment)
        self.assertTrue(info['proven_infeasible'])


class TestSpeedSummary(unittest.TestCase):
    """The speed summary says, for each instance valet is slower on, how
    its placement compares with original's (soft violations, new
    hosts)."""

    @staticmethod
    def _rec(name, solver, ms, feasible=True, new=0, viol=0, soft=None):
        return {'instance': name, 'solver': solver, 'p50_ms': ms,
                'feasible': feasible, 'hosts_used': new if feasible else None,
                'violations': viol if feasible else None, 'soft': soft}

    def _summary(self, records):
        out = io.StringIO()
        runner.speed_summary(records, {r['instance']: 'small'
                                       for r in records}, out)
        return out.getvalue()

    def test_slower_instances_say_what_the_time_bought(self):
        rec = self._rec
        text = self._summary([
            rec('small-a', 'valet', 2.0, new=4, soft=23),
            rec('small-a', 'original', 1.0, new=6, soft=79),
            rec('small-b', 'valet', 2.0, new=2),
            rec('small-b', 'original', 1.0, new=2),
            rec('small-c', 'valet', 2.0, new=3, soft=5),
            rec('small-c', 'original', 1.0, new=1, soft=5),
            rec('small-d', 'valet', 2.0, new=1),
            rec('small-d', 'original', 1.0, viol=2),
            rec('small-e', 'valet', 2.0, feasible=False),
            rec('small-e', 'original', 1.0, feasible=False),
            rec('small-f', 'valet', 1.0, new=9),
            rec('small-f', 'original', 3.0, new=1),
        ])
        self.assertIn('valet slower on 5;', text)
        lines = {line.split()[0]: line for line in text.splitlines()
                 if line.startswith('    small-')}
        self.assertIn('valet 23 / 4, original 79 / 6: valet better',
                      lines['small-a'])
        self.assertIn('valet 0 / 2, original 0 / 2: valet the same',
                      lines['small-b'])
        self.assertIn('valet 5 / 3, original 5 / 1: valet worse',
                      lines['small-c'])
        self.assertIn('valet 0 / 1, original breaks 2 rules',
                      lines['small-d'])
        self.assertIn('valet none, original none', lines['small-e'])
        # Faster: not listed.
        self.assertNotIn('small-f', lines)


if __name__ == '__main__':
    unittest.main()


class SideBySideTimingTest(unittest.TestCase):
    """The solvers' repetitions take turns; exact runs once, last; a
    solver that raises is dropped without stopping the others."""

    def test_turns_exact_once_and_errors_kept_apart(self):
        inst = gen.hard_instances()[0]
        calls = []

        def solver(name, fails_at=None):
            def run(dc, request):
                calls.append(name)
                if fails_at is not None and calls.count(name) == fails_at:
                    raise RuntimeError('%s failed' % name)
                return runner.Outcome({})
            return run

        table = [('valet', solver('valet')),
                 ('greedy', solver('greedy', fails_at=2)),
                 ('original', solver('original')),
                 ('exact', solver('exact'))]
        runs = runner.time_side_by_side(inst, table, 3)
        self.assertEqual(['valet', 'greedy', 'original', 'valet', 'greedy',
                          'original', 'valet', 'original', 'exact'], calls)
        self.assertEqual([3, 1, 3, 1], [len(runs[n].times) for n, _ in
                                        table])
        self.assertIsInstance(runs['greedy'].error, RuntimeError)
        record, note = runner.record_of(inst, 'greedy', runs['greedy'])
        self.assertFalse(record['feasible'])
        self.assertIn('greedy failed', note)


class EndToEndVerdictsTest(unittest.TestCase):
    """The end-to-end targets judge the all-in-one; the deployed pair's
    ratios are printed beside them without a verdict."""

    def test_deployed_pair_is_printed_not_judged(self):
        def row(variant, kind, ratio):
            return {'phase': 'requests', 'variant': variant, 'kind': kind,
                    'ratio_p50': ratio}
        args = collections.namedtuple('Args', 'e2e_stack_size')(50)
        lines = e2e_report.verdicts([
            row('shipped', 'single', 2.1), row('shipped', 'stack50', 1.2),
            row('deployed', 'single', 3.5), row('deployed', 'stack50', 1.8),
        ], args)

        def line(label, variant):
            found = [text for text in lines if text.startswith(label)
                     and text[31:].split()[0] == variant]
            self.assertEqual(1, len(found), lines)
            return found[0]
        self.assertIn('MISSED', line('one server, new', 'shipped'))
        self.assertIn('ok', line('50-server stack, new', 'shipped'))
        for label in ('one server, new', '50-server stack, new'):
            self.assertNotIn('MISSED', line(label, 'deployed'))
            self.assertIn('no target', line(label, 'deployed'))
