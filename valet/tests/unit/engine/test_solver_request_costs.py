"""Per-request shortcuts of a decision against their plain formulas.

The at-most tracker keeps its mask until a domain crosses k, the
trackers index their counts by per-host domain lists, every server's
static-and-capacity mask comes from one comparison, the proofs read the
root through a view that builds a search only when asked, the model's
array views and a request's flavour vectors and group walks are kept per
model generation. Each is compared here with the value worked out
afresh.
"""

import random

import hypothesis
from hypothesis import strategies as st
import numpy as np

from valet.engine.model import errors
from valet.engine.model import groups as groups_mod
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import proofs
from valet.engine.solver import root_view
from valet.engine.solver import search
from valet.engine.solver import SolverOptions
from valet.engine.solver.decide import decide
from valet.engine.solver.rules import base as rules_base
from valet.engine.solver.rules.base import EPS
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import exclusivity
from valet.tests.unit.engine.base import group
from valet.tests.unit.engine.base import host
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server

FLAVOURS = [(1, 512, 1), (2, 2048, 10), (4, 4096, 20)]
SETTINGS = hypothesis.settings(max_examples=25, deadline=None)


def _case(seed, limit=2, level='host'):
    """A model with some placed at-most members and a request of servers
    in an at-most group, an exclusivity group and a diversity group."""
    rng = random.Random(seed)
    racks = rng.randint(2, 3)
    existing = [
        placed('p%d' % k, 'r%dh%d' % (rng.randrange(racks), rng.randrange(3)),
               vcpus=1, groups=['M'])
        for k in range(rng.randint(0, 4))]
    groups = [group('M', groups_mod.AT_MOST, level=level,
                    max_per_domain=limit),
              exclusivity('X'), diversity('D')]
    servers = []
    for k in range(rng.randint(3, 8)):
        names = ['M'] + [g.name for g in groups[1:] if rng.random() < 0.3]
        vcpus, ram, disk = rng.choice(FLAVOURS)
        servers.append(server('s%d' % k, vcpus=vcpus, ram=ram, disk=disk,
                              groups=names))
    dc = make_dc(racks=racks, hosts_per_rack=3, existing=existing,
                 groups=groups[:1])
    return dc, request(servers, groups)


def _plain_at_most_mask(search_, rule, tracker):
    safe, has = search_.p.domain_index(rule.level)
    return (tracker.count < rule.limit)[safe] & has


class TestRequestCosts(base.SolverTestCase):

    @SETTINGS
    @hypothesis.given(seed=st.integers(0, 10 ** 6),
                      limit=st.integers(1, 3),
                      level=st.sampled_from(['host', 'rack']),
                      moves=st.lists(st.integers(0, 10 ** 6), max_size=12))
    def test_at_most_mask_is_the_plain_one_through_apply_and_undo(
            self, seed, limit, level, moves):
        dc, req = _case(seed, limit, level)
        p = problem_mod.Problem(dc, req)
        s = search.Search(p, SolverOptions())
        found = [(c, s.trackers[c]) for c, rule in enumerate(p.constraints)
                 if rule.kind == groups_mod.AT_MOST]
        self.assertTrue(found)
        c, tracker = found[0]
        rule = p.constraints[c]
        done = []
        for k, pick in enumerate(moves):
            # Apply on any host (over k too: drift), then undo some.
            if done and pick % 3 == 0:
                i, h, token = done.pop()
                tracker.undo(i, h, token)
            else:
                i = rule.members[pick % len(rule.members)]
                h = pick % p.slots
                done.append((i, h, tracker.apply(i, h)))
            mask = tracker.mask(i)
            np.testing.assert_array_equal(
                _plain_at_most_mask(s, rule, tracker), mask)
            self.assertFalse(mask.flags.writeable)
        while done:
            i, h, token = done.pop()
            tracker.undo(i, h, token)
        np.testing.assert_array_equal(rule.placed, tracker.count)

    def test_domain_lists_are_the_domain_rows(self):
        for seed in range(6):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            for level in range(len(p.topology.levels)):
                listed = rules_base.domains_as_list(p, level)
                self.assertEqual(p.domain[level].tolist(), listed)
                self.assertIs(listed, rules_base.domains_as_list(p, level))

    def test_member_masks_of_all_servers_are_the_plain_ones(self):
        for seed in range(12):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            n = len(p.servers)
            # Asked for one member first: every server's is worked out.
            one = rules_base.member_masks(p, [n - 1])
            masks = rules_base.member_masks(p, range(n))
            self.assertIs(one[0], masks[-1])
            classes = rules_base.alike_classes(p)
            for i in range(n):
                np.testing.assert_array_equal(
                    p.static[i] & np.all(p.free >= p.demand[i] - EPS,
                                         axis=1), masks[i])
                for j in range(i):
                    alike = (p.static[i] is p.static[j] and
                             p.demand[i].tobytes() == p.demand[j].tobytes())
                    self.assertEqual(alike, classes[i] == classes[j])
                    if alike:
                        self.assertIs(masks[i], masks[j])

    def test_proofs_on_the_root_view_are_those_of_a_fresh_search(self):
        for seed in range(12):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            q = problem_mod.Problem(dc, req)
            options = SolverOptions()
            view = root_view.RootView(p, options)
            # A main search's root bounds leave some root masks behind.
            search.Search(p, options).root_lower_bound()
            got = proofs.refute(p, view)
            plain = proofs.refute(q, search.Search(q, options))
            self.assertEqual(_without_recount(plain), _without_recount(got))
            got_masks = proofs._facts(p, view).masks()
            plain_masks = proofs._facts(q, search.Search(q, options)).masks()
            for i in range(len(p.servers)):
                np.testing.assert_array_equal(plain_masks[i], got_masks[i])
            # Trackers on demand: a search of its own, at the root.
            self.assertEqual(len(p.constraints), len(view.trackers))
            self.assertEqual(0, view.n_placed)

    def test_decisions_alike_with_and_without_the_caches(self):
        for seed in range(10):
            dc, req = _case(seed)
            first = decide(dc, req)
            again = decide(dc, req)
            self.assertEqual(first.assignment, again.assignment)
            self.assertEqual(first.explanation, again.explanation)
            # A model change drops every per-generation answer.
            dc.add_host(host('extra%d' % seed))
            p = problem_mod.Problem(dc, req)
            self.assertEqual(dc.slots, len(p.free))
            np.testing.assert_array_equal(
                dc._capacity[:dc.slots] - dc._used[:dc.slots], p.free)

    def test_model_arrays_follow_the_model(self):
        dc, _ = _case(3)
        first = dc.arrays()
        self.assertIs(first, dc.arrays())
        dc.add_host(host('more', rack='r1'))
        later = dc.arrays()
        self.assertIsNot(first, later)
        self.assertEqual(dc.slots, len(later.capacity))
        np.testing.assert_array_equal(dc._capacity[:dc.slots],
                                      later.capacity)

    def test_flavour_vectors_and_walks_equal_fresh_ones(self):
        dc, req = _case(5)
        p = problem_mod.Problem(dc, req)
        for i, s in enumerate(req.servers):
            vec, unknown = dc.demand_vector(s.demand)
            np.testing.assert_array_equal(vec, p.demand[i])
            self.assertEqual(set(unknown), set(p.unknown_rc[i]))
            self.assertEqual(set(problem_mod.g.closure(
                s.groups, p.group_defs)), p.closures[('new', i)])
        # The cache is bounded: a full one starts over.
        part = problem_mod._bounded(p, 'demand_vectors')
        for k in range(problem_mod._BOUND):
            part[('filler', k)] = None
        self.assertEqual({}, problem_mod._bounded(p, 'demand_vectors'))

    def test_bad_demands_still_refused_after_good_ones(self):
        dc, req = _case(1)
        decide(dc, req)
        # Equal to a checked flavour's key (True == 1), still refused.
        good = request([server('g0', vcpus=1, ram=512, disk=1)], [])
        bad = request([server('b0', vcpus=True, ram=512, disk=1)], [])
        decide(dc, good)
        self.assertRaises(errors.InvalidRequest, decide, dc, bad)


def _without_recount(entries):
    return [{k: v for k, v in e.items() if k != 'recount'}
            for e in entries]
