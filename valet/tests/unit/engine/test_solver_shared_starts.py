"""Shortcuts of a decision's fixed cost against their plain formulas.

Each shortcut (a value shared between servers, searches or decisions)
is compared with the value worked out afresh, on a few generated
requests and models, and checked to be shared.
"""

import dataclasses
import random

import numpy as np

from valet.engine.model import groups as groups_mod
from valet.engine.solver import order as order_mod
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import proofs
from valet.engine.solver import search
from valet.engine.solver import SolverOptions
from valet.engine.solver.rules import base as rules_base
from valet.engine.solver.rules.base import EPS
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import group
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import placed
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server

FLAVOURS = [(1, 512, 1), (2, 2048, 10), (4, 4096, 20), (8, 16384, 40)]


def _case(seed):
    """A model with a few placed servers and a request mixing hard and
    soft groups over servers of a few flavours."""
    rng = random.Random(seed)
    racks = rng.randint(2, 4)
    existing = []
    for k in range(rng.randint(0, 6)):
        existing.append(placed('p%d' % k, 'r%dh%d' % (
            rng.randrange(racks), rng.randrange(3)), vcpus=2,
            groups=['SA'] if k % 2 else ()))
    groups = [group('SA', groups_mod.SOFT_AFFINITY, level='rack'),
              group('SD', groups_mod.SOFT_DIVERSITY),
              group('SR', groups_mod.SOFT_DIVERSITY, level='rack'),
              group('M', groups_mod.AT_MOST, max_per_domain=2),
              diversity('D'), affinity('A')]
    servers = []
    for k in range(rng.randint(3, 9)):
        names = [g.name for g in groups if rng.random() < 0.35]
        if 'A' in names and 'D' in names:
            names.remove('D')
        vcpus, ram, disk = rng.choice(FLAVOURS)
        servers.append(server('s%d' % k, vcpus=vcpus, ram=ram, disk=disk,
                              groups=names))
    dc = make_dc(racks=racks, hosts_per_rack=3, existing=existing,
                 groups=groups[:1])
    return dc, request(servers, groups)


class TestSharedStarts(base.SolverTestCase):

    def test_root_feasible_is_the_plain_mask_and_shared_by_alike(self):
        for seed in range(12):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            s = search.Search(p, SolverOptions())
            masks = [rules_base.root_feasible(s, i)
                     for i in range(len(p.servers))]
            for i, mask in enumerate(masks):
                np.testing.assert_array_equal(s.feasible_mask(i), mask)
            # Servers alike in every key get the one mask.
            keys = {}
            for i in range(len(p.servers)):
                key = (id(p.static[i]), p.demand[i].tobytes(), tuple(
                    (c, rules_base.mask_key(p.constraints[c], i))
                    for c in p.server_rules[i]))
                first = keys.setdefault(key, i)
                self.assertIs(masks[first], masks[i])

    def test_soft_reachable_is_the_plain_count(self):
        checked = 0
        for seed in range(12):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            for rule in p.constraints:
                if not rule.soft or not len(rule.members):
                    continue
                dom = p.domain[rule.level]
                reach = np.zeros(len(rule.placed), dtype=np.int64)
                hosts = np.zeros(p.slots, dtype=bool)
                for i in rule.members:
                    ok = p.static[i] & (dom >= 0) & np.all(
                        p.free >= p.demand[i] - EPS, axis=1)
                    hosts |= ok
                    for d in set(dom[ok].tolist()):
                        reach[d] += 1
                np.testing.assert_array_equal(reach, rule.reachable(p))
                np.testing.assert_array_equal(hosts, rule.open_hosts(p))
                self.assertEqual(rule.reachable(p).dtype, np.int64)
                checked += 1
        self.assertGreater(checked, 10)

    def test_soft_starts_are_the_trackers_own_and_shared(self):
        for seed in range(12):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            first = search.Search(p, SolverOptions())
            second = search.Search(p, SolverOptions())
            for s in (first, second):
                self.assertEqual(sum(
                    t.rule.weight * t.rule.violations(t.count)
                    for t in s.soft_trackers), s.soft)
                self.assertEqual(sum(
                    t.rule.weight * t.rule.lower_bound(p)
                    for t in s.soft_trackers), s.soft_root)

    def test_empty_hosts_plain_and_once_per_model_generation(self):
        dc, req = _case(3)
        p = problem_mod.Problem(dc, req)
        s = search.Search(p, SolverOptions())
        empty = p.base_count == 0
        np.testing.assert_array_equal(empty, s.was_empty)
        cap = np.where((empty & p.usable)[:, None], p.free, 0).max(axis=0)
        np.testing.assert_array_equal(cap, s.max_empty_free)
        np.testing.assert_array_equal(
            np.where(cap > EPS, cap, np.inf), s._cap_div)
        again = search.Search(problem_mod.Problem(dc, req), SolverOptions())
        self.assertIs(s.was_empty, again.was_empty)
        # A changed model works them out anew.
        dc.place(placed('late', 'r0h0', vcpus=1))
        changed = search.Search(problem_mod.Problem(dc, req),
                                SolverOptions())
        self.assertIsNot(s.was_empty, changed.was_empty)
        self.assertFalse(changed.was_empty[dc.slot_of('r0h0')])

    def test_groups_to_place_is_the_plain_walk(self):
        for seed in range(12):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            for kind in groups_mod.KINDS:
                plain = []
                for name in sorted(p.touched_groups):
                    g = p.group_defs[name]
                    new, old = p.members(name)
                    if g.kind == kind and new:
                        plain.append((name, g, p.topology.index(g.level),
                                      new, old))
                self.assertEqual(plain,
                                 list(rules_base.groups_to_place(p, kind)))

    def test_initial_order_is_the_plain_sort(self):
        for seed in range(12):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            order, clusters, find = order_mod.initial_order(p)
            sizes = p.size.tolist()
            options = [int(np.count_nonzero(m)) for m in p.static]
            rules = [len(cs) for cs in p.server_rules]

            # Restricted first, then largest, then in most rules.
            def key(members):
                return (0 if min(options[m] for m in members) <= 2 else 1,
                        -sum(sizes[m] for m in members),
                        -max(rules[m] for m in members), min(members))

            plain = []
            for members in sorted(clusters.values(), key=key):
                plain.extend(sorted(members, key=lambda m: (-sizes[m], m)))
            self.assertEqual(plain, order)
            self.assertEqual(sorted(order), list(range(len(p.servers))))

    def test_count_masks_plain_and_one_per_alike_member(self):
        for seed in range(12):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            members = list(range(len(p.servers)))
            # Asked in two halves, as the rules ask for their members.
            masks = (rules_base.member_masks(p, members[::2]) and
                     rules_base.member_masks(p, members))
            first = {}
            for i, mask in zip(members, masks):
                np.testing.assert_array_equal(
                    p.static[i] & np.all(p.free >= p.demand[i] - EPS,
                                         axis=1), mask)
                key = (id(p.static[i]), p.demand[i].tobytes())
                self.assertIs(masks[first.setdefault(key, i)], mask)

    def test_proof_masks_are_the_root_masks_of_any_search(self):
        for seed in range(12):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            main = search.Search(p, SolverOptions())
            first = rules_base.root_feasible(main, 0)
            # The proofs' own root search reads the problem's root masks.
            other = search.Search(p, SolverOptions(objective='spread'))
            masks = proofs._facts(p, other).masks()
            for i in range(len(p.servers)):
                np.testing.assert_array_equal(other.feasible_mask(i),
                                              masks[i])
                np.testing.assert_array_equal(main.feasible_mask(i),
                                              masks[i])
            self.assertIs(first, rules_base.root_feasible(other, 0))

    def test_root_masks_only_at_the_root(self):
        dc = req = first = None
        for seed in range(12):
            dc, req = _case(seed)
            p = problem_mod.Problem(dc, req)
            s = search.Search(p, SolverOptions())
            first = rules_base.root_feasible(s, 0)
            if first.any() and len(p.servers) > 1:
                break
        h = int(np.flatnonzero(first)[0])
        token = s.apply(0, h)
        self.assertEqual(1, s.n_placed)
        # Placed: worked out on the search as it stands, not the root's.
        self.assertIsNot(first, rules_base.root_feasible(s, 0))
        np.testing.assert_array_equal(s.feasible_mask(1),
                                      rules_base.root_feasible(s, 1))
        s.undo(0, h, token)
        self.assertEqual(0, s.n_placed)
        self.assertIs(first, rules_base.root_feasible(s, 0))


class TestNamedHosts(base.SolverTestCase):

    def test_special_hosts_are_the_named_and_running_ones(self):
        for seed in range(12):
            dc, req = _case(seed)
            rng = random.Random(seed)
            hosts = sorted(dc.hosts)
            for k, s in enumerate(req.servers):
                kw = {}
                if rng.random() < 0.4:
                    kw['candidate_hosts'] = frozenset(
                        rng.sample(hosts, 3) + ['nowhere'])
                if rng.random() < 0.4:
                    kw['excluded_hosts'] = frozenset(rng.sample(hosts, 2))
                req.servers[k] = dataclasses.replace(s, **kw)
            p = problem_mod.Problem(dc, req)
            plain = set()
            for s in p.servers:
                for names in (s.candidate_hosts or (), s.excluded_hosts):
                    plain |= set(dc.slots_of(names))
            self.assertEqual(plain, search.Search(p, SolverOptions()).special)
