"""Steps of the solver done in fewer vector operations answer exactly
what the plain formulas answer (the same floats, not just close): the
soft affinity packing bound (all resource classes at once) and a
decision's objective (demands taken off hosts in one call)."""

import random

import numpy as np

from valet.engine.solver.decide import _decision
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import search as search_mod
from valet.engine.solver import SolverOptions
from valet.engine.solver.rules import soft
from valet.engine.solver.rules import soft_affinity
from valet.engine.solver.rules.base import EPS
from valet.tests.unit.engine import base
from valet.tests.unit.engine.test_solver_soft_speed import _instance
from valet.tests.unit.engine.test_solver_soft_speed import place_some


def _packed_by_class(problem, rule):
    """The packing bound one resource class at a time."""
    units, apart = rule.structure(problem)
    demand = rule.unit_sums(problem)[0]
    count = np.array([len(u) for u in units], dtype=float)
    grouped = set().union(*apart) if apart else set()
    keep = [k for k in range(len(units)) if k not in grouped]
    rows = [demand[k] for k in keep] + [
        demand[sorted(group)].min(axis=0) for group in apart]
    sizes = [count[k] for k in keep] + [
        count[sorted(group)].max() for group in apart]
    rows, sizes = np.array(rows), np.array(sizes)
    dom = problem.domain[rule.level]
    valid = problem.usable & (dom >= 0)
    ndom = len(rule.placed)
    room = np.maximum(problem.free[valid], 0)
    most = np.full(ndom, float(len(rule.members)))
    for c in range(rows.shape[1]):
        free = np.bincount(dom[valid], weights=room[:, c], minlength=ndom)
        order = np.argsort(rows[:, c] / sizes, kind='stable')
        weight, n = rows[order, c], sizes[order]
        cum_w = np.concatenate([[0.0], np.cumsum(weight)])
        cum_n = np.concatenate([[0.0], np.cumsum(n)])
        k = np.searchsorted(cum_w[1:] - EPS, free, side='right')
        whole = cum_n[k]
        part = np.zeros(ndom)
        more = k < len(weight)
        if more.any():
            nxt = k[more]
            part[more] = ((free[more] - cum_w[nxt]) / weight[nxt]
                          * n[nxt])
        most = np.minimum(most, whole + np.maximum(part, 0))
    return np.floor(most + 1e-9).astype(np.int64)


def _problems(seed, cases):
    rng = random.Random(seed)
    for _ in range(cases):
        dc, req = _instance(rng)
        problem = problem_mod.Problem(dc, req)
        if not problem.blocked:
            yield rng, problem


class TestPackedBound(base.SolverTestCase):

    def test_all_classes_at_once_is_class_by_class(self):
        seen = set()
        for _, problem in _problems(21, 80):
            for rule in problem.constraints:
                if not isinstance(rule, soft_affinity.SoftAffinity):
                    continue
                expected = _packed_by_class(problem, rule)
                got = soft_affinity._packed(problem, rule)
                self.assertEqual(expected.dtype, got.dtype)
                self.assertEqual(expected.tolist(), got.tolist())
                seen.add((rule.level, bool(rule.structure(problem)[1]),
                          int(expected.min()) < len(rule.members)))
        # Host and rack levels, with and without diversity sets, and
        # bounds below the member count.
        self.assertGreaterEqual(len(seen), 4)

    def test_room_left_fractions_and_zero_demands(self):
        # A resource class nobody asks for (zero weights) and rooms that
        # end part way into a unit.
        for _, problem in _problems(22, 40):
            problem.free = problem.free * 0.37
            for rule in problem.constraints:
                if not isinstance(rule, soft_affinity.SoftAffinity):
                    continue
                demand, size = rule.unit_sums(problem)
                demand[:, -1] = 0.0
                self.assertEqual(_packed_by_class(problem, rule).tolist(),
                                 soft_affinity._packed(problem, rule).tolist())


def _objective_by_loop(problem, slots):
    used = sorted(set(slots))
    new_hosts = int(sum(1 for h in used if problem.base_count[h] == 0))
    free_after = problem.free.copy()
    for i, h in enumerate(slots):
        free_after[h] -= problem.demand[i]
    frag = float((np.maximum(free_after[used], 0) * problem.weights /
                  problem.scale).sum()) if used else 0.0
    return new_hosts, round(frag, 6)


class TestDecisionObjective(base.SolverTestCase):

    def test_one_call_is_the_loop(self):
        for rng, problem in _problems(23, 60):
            for _ in range(3):
                slots = [rng.choice(problem.usable.nonzero()[0].tolist())
                         for _ in problem.servers]
                # Fractional demands: the order of the subtractions shows.
                problem.demand = problem.demand * 1.1
                result = {'assignment': slots, 'optimal': False,
                          'proven': False, 'consolidate': True,
                          'soft_root': 0, 'hosts_root': 0, 'restarts': 0,
                          'timed_out': False}
                got = _decision(problem, result, 0.0, 0)
                new_hosts, frag = _objective_by_loop(problem, slots)
                self.assertEqual(new_hosts, got.objective['new_hosts'])
                self.assertEqual(frag, got.objective['fragmentation'])


def _states(seed, cases):
    """Search states part way into a placement (some hosts in use), with
    a server still to place."""
    for rng, problem in _problems(seed, cases):
        search = search_mod.Search(problem, SolverOptions())
        # Every host's fixed key known (as once asked while empty).
        for h in range(problem.slots):
            search.symmetry_key(h)
        i = place_some(rng, search)
        if i is not None:
            yield rng, search, i


def _candidates_by_key(search, i):
    """Candidates one per symmetry_key, the key asked host by host."""
    idx = search.feasible_mask(i).nonzero()[0]
    if idx.size <= 1:
        return idx.tolist()
    score = search.scores(i, idx)
    first = int(idx[int(score.argmin())])
    out, seen = [first], {search.symmetry_key(first)}
    for h in idx[score.argsort(kind='stable')].tolist():
        key = search.symmetry_key(h)
        if h != first and key not in seen:
            seen.add(key)
            out.append(h)
    return out


class TestSearchSteps(base.SolverTestCase):

    def test_deficit_by_index_is_by_mask(self):
        for rng, search, _ in _states(24, 60):
            # Fractional room: the order of the additions shows.
            search.free *= 1.3
            p = search.p
            in_use = p.usable & (search.count > 0)
            expected = search.left - np.maximum(
                search.free[in_use], 0).sum(axis=0)
            self.assertEqual(expected.tolist(), search.deficit().tolist())

    def test_candidates_are_one_per_symmetry_key(self):
        seen = 0
        for rng, search, i in _states(25, 80):
            expected = _candidates_by_key(search, i)
            self.assertEqual(expected, list(search.candidates(i)))
            seen += len(expected) > 1
        self.assertGreater(seen, 20)


def _room_by_class(problem, rule):
    """Soft.room with every host summed, the unusable ones as zeros."""
    dom = problem.domain[rule.level]
    free = np.where((problem.usable & (dom >= 0))[:, None],
                    np.maximum(problem.free, 0), 0)
    ndom = len(rule.placed)
    valid = dom >= 0
    free = np.stack([np.bincount(dom[valid], weights=free[valid, c],
                                 minlength=ndom)
                     for c in range(free.shape[1])], axis=1)
    demand = problem.demand[rule.members]
    cums = np.sort(demand, axis=0).cumsum(axis=0) - EPS
    return soft.fits(cums, free, len(rule.members)), free


def _reachable_by_member(problem, rule):
    dom = problem.domain[rule.level]
    valid = dom >= 0
    members = list(rule.members)
    ok = np.array([problem.static[i][valid] for i in members]) & (
        problem.free[valid][None, :, :]
        >= problem.demand[members][:, None, :] - EPS).all(axis=2)
    hosts = np.zeros(problem.slots, dtype=bool)
    hosts[valid] = ok.any(axis=0)
    hit = np.zeros((len(members), len(rule.placed)), dtype=bool)
    rows, cols = ok.nonzero()
    hit[rows, dom[valid][cols]] = True
    return hit.sum(axis=0).astype(np.int64), hosts


class TestSoftRoom(base.SolverTestCase):

    def test_domain_room_and_reach_are_the_plain_sums(self):
        seen = 0
        for rng, problem in _problems(26, 60):
            # Fractional room, and a disabled host or two.
            problem.free = problem.free * 0.83
            problem.usable = problem.usable.copy()
            for h in rng.sample(range(problem.slots), rng.randint(0, 2)):
                problem.usable[h] = False
            for rule in problem.constraints:
                if not isinstance(rule, soft.Soft):
                    continue
                fit, free = _room_by_class(problem, rule)
                self.assertEqual(free.tolist(), soft.domain_room(
                    problem, rule.level).tolist())
                self.assertEqual(fit.tolist(), rule.room(problem).tolist())
                reach, hosts = _reachable_by_member(problem, rule)
                got = soft._reachable(problem, rule)
                self.assertEqual(reach.tolist(), got[0].tolist())
                self.assertEqual(hosts.tolist(), got[1].tolist())
                seen += 1
        self.assertGreater(seen, 50)


class TestSharedSearchStart(base.SolverTestCase):

    def test_second_search_starts_as_the_first(self):
        for rng, search, i in _states(27, 30):
            p = search.p
            fresh = search_mod.Search(p, SolverOptions())
            self.assertEqual(p.demand.sum(axis=0).tolist(),
                             fresh.left.tolist())
            self.assertEqual((p.base_count == 0).tolist(),
                             fresh.opens.tolist())
            for k, cs in enumerate(p.server_rules):
                self.assertEqual(
                    [c for c in cs if p.constraints[c].soft],
                    [fresh.trackers.index(t) for t in fresh.server_soft[k]])
                self.assertEqual(
                    [c for c in cs if hasattr(fresh.trackers[c], 'bias')],
                    [fresh.trackers.index(t) for t in fresh.server_bias[k]])
            for t in fresh.trackers:
                if t.rule.kind == 'affinity':
                    self.assertEqual(
                        p.demand[t.rule.members].sum(axis=0).tolist(),
                        t.left.tolist())
