"""The same-answer mode (bench/slowed.py) and the exclusivity scaling
row (bench/exclusivity_scale.py), on small inputs."""

import os
import unittest

from valet.engine.solver import decide

from bench import exclusivity_scale
from bench import generator as gen
from bench import slowed


class TestSlowed(unittest.TestCase):

    def test_answer_names_feasibility_and_placement(self):
        spec = gen.make_dc(3, 30)
        req = gen.make_request(4, spec, 5, stack='t')
        one = slowed.answer(decide(spec.build(), req))
        self.assertTrue(one.startswith('yes:'))
        self.assertEqual(one, slowed.answer(decide(spec.build(), req)))
        other = gen.make_request(5, spec, 5, stack='t')
        self.assertNotEqual(one, slowed.answer(decide(spec.build(),
                                                      other)))

    @unittest.skipUnless(hasattr(os, 'sched_setaffinity'), 'Linux only')
    def test_neighbours_share_the_cpu_and_leave(self):
        before = os.sched_getaffinity(0)
        with slowed.Neighbours(1) as busy:
            self.assertEqual({busy.cpu}, os.sched_getaffinity(0))
            self.assertTrue(all(p.is_alive() for p in busy.procs))
        self.assertEqual(before, os.sched_getaffinity(0))
        self.assertFalse(any(p.is_alive() for p in busy.procs))


class TestExclusivityScale(unittest.TestCase):

    def test_groups_on_hosts_of_their_own(self):
        spec = gen.large_spec(1, 200, per_host=2)
        dc = exclusivity_scale.with_groups(spec, 5)
        names = [n for n in dc.groups if n.startswith('bench-ex-')]
        self.assertEqual(5, len(names))
        for name in names:
            members = dc.group_servers(name)
            self.assertEqual(2, len(members))
            host = {dc.servers[s].host for s in members}
            self.assertEqual(1, len(host))
            self.assertEqual(members, set(dc.servers_on(host.pop())))

    def test_measure_places_the_server(self):
        result = exclusivity_scale.measure(counts=(0, 5), reps=1,
                                           hosts=200)
        self.assertEqual({0, 5}, set(result))


class TestRackAffinity(unittest.TestCase):

    def test_three_shapes(self):
        from bench import rack_affinity
        from valet.engine.model import groups as g
        shapes = {}
        for index in range(6):
            name, spec, req = rack_affinity.make(1, index)
            shape = name.split('-')[2]
            shapes[shape] = (spec, req)
            affinity = [grp for grp in req.groups if grp.kind == g.AFFINITY]
            self.assertTrue(affinity)
            self.assertEqual({'rack'}, {grp.level for grp in affinity})
        self.assertEqual(set(rack_affinity.SHAPES), set(shapes))
        spec, req = shapes['nested']
        div = [grp for grp in req.groups if grp.kind == g.DIVERSITY]
        self.assertEqual(1, len(div))
        self.assertTrue(all(grp.parents == (div[0].name,)
                            for grp in req.groups if grp.kind == g.AFFINITY))
        spec, req = shapes['running']
        dc = spec.build()
        members = dc.group_servers(req.groups[0].name)
        self.assertTrue(members)
        self.assertEqual(1, len({dc.domain_of(dc.servers[s].host, 'rack')
                                 for s in members}))

    def test_tight_instances_open_hosts(self):
        # Every group is larger than the room on the used hosts of any
        # rack: whatever the rack, a placement opens a host.
        from bench import rack_affinity
        from bench import view as view_mod
        from valet.engine.solver import decide
        for index in range(3):
            name, spec, req = rack_affinity.make(1, index)
            dc = spec.build()
            decision = decide(dc, req)
            self.assertTrue(decision.feasible, name)
            self.assertGreater(
                view_mod.new_hosts(dc, decision.assignment), 0, name)
            self.assertLessEqual(len(spec.hosts), 60)
            self.assertLessEqual(len(req.servers),
                                 rack_affinity.MAX_SERVERS)

    def test_summary(self):
        from bench import rack_affinity
        import io
        rows = [('a', 1, 1, True), ('b', 2, 1, True), ('c', None, 0, True)]
        self.assertEqual((1, 2, 1, 1), rack_affinity.summary(
            rows, out=io.StringIO()))
