"""A joint lower bound on the soft-affinity violations of two groups.

Each soft-affinity group's own bound (``rules/soft_affinity.py``) lets
its top domain be the one that could hold the most of its members. Two
groups of one level may both count on the same big domain, whose room
holds all of either but not both: summed, their own bounds then promise
more than any placement keeps. Taken two by two, the groups' top domains
are either different (each holds at most its own ``most``) or the same
one, whose free room must hold the members of both: a fractional
knapsack per resource class, members weighted by their group's weight,
bounds what that domain keeps.

The bound is asked only once the first placement leaves a soft gap
(``phases.py``): most decisions never pay for it. Two groups hold a few
dozen members and a domain a few resource classes: the packing works on
plain lists (numpy's per-call cost is more than its work there).
"""

import math

import numpy as np

from valet.engine.solver.rules import soft
from valet.objects import group_kinds

_SUM = np.add.reduce


def root(problem, rules, enough=None):
    """Weighted soft violations no placement avoids, at least ``own``
    (the sum of each soft rule's own bound) and more where two
    soft-affinity groups of one level compete for one domain; ``own``
    alone once it reaches ``enough`` (the first placement's)."""
    own = sum(rule.weight * rule.lower_bound(problem) for rule in rules)
    if enough is not None and own >= enough:
        return own
    pairs = []
    by_level = {}
    for rule in rules:
        if rule.kind == group_kinds.SOFT_AFFINITY and len(rule.members):
            by_level.setdefault(rule.level, []).append(rule)
    for same in by_level.values():
        for k, a in enumerate(same):
            for b in same[k + 1:]:
                gain = pair_bound(problem, a, b) - (
                    a.weight * a.lower_bound(problem)
                    + b.weight * b.lower_bound(problem))
                if gain > 0:
                    pairs.append((gain, k, a, b))
    # Each group in one pair at most: the cost is a sum over groups.
    # (Largest gain first; ties in rule order.)
    used = set()
    for gain, _, a, b in sorted(pairs, key=lambda x: (-x[0], x[1])):
        if id(a) in used or id(b) in used:
            continue
        used |= {id(a), id(b)}
        own += gain
    return own


def pair_bound(problem, a, b):
    """Weighted violations of soft-affinity groups ``a`` and ``b`` (one
    level) no placement avoids together."""
    most_a = (a.weight * a.most(problem)).tolist()
    most_b = (b.weight * b.most(problem)).tolist()
    # (.sum() without its Python wrapper.)
    total = (a.weight * (int(_SUM(a.placed)) + len(a.members))
             + b.weight * (int(_SUM(b.placed)) + len(b.members)))
    kept = _apart(most_a, most_b)
    # The same domain for both: only where it could beat the best apart
    # (the members' worths and demands read once for all of them).
    both = [x + y for x, y in zip(most_a, most_b)]
    shared = None
    # (Largest first: once one is no more than kept, none is.)
    for _, d in sorted([(-x, d) for d, x in enumerate(both) if x > kept]):
        if both[d] <= kept:
            break
        if shared is None:
            shared = _shared(problem, a, b)
        kept = max(kept, min(int(both[d]), _together(problem, a, b, d,
                                                     shared, kept)))
    return total - kept


def _apart(most_a, most_b):
    """The most two different domains keep, one per group."""
    if len(most_a) < 2:
        return 0
    first_a = most_a.index(max(most_a))
    first_b = most_b.index(max(most_b))
    if first_a != first_b:
        return int(most_a[first_a] + most_b[first_b])
    # The runners-up: each group's best with its top domain left out.
    rest_a, rest_b = list(most_a), list(most_b)
    rest_a[first_a] = rest_b[first_b] = -1
    return int(max(most_a[first_a] + max(rest_b),
                   max(rest_a) + most_b[first_b]))


def _shared(problem, a, b):
    """The new members of both groups: per member its worth (the weights
    of its groups), per resource class the members' demands."""
    value = dict.fromkeys(a.members, a.weight)
    for m in b.members:
        value[m] = value.get(m, 0) + b.weight
    members = sorted(value)
    worth = [float(value[m]) for m in members]
    return worth, problem.demand.take(members, 0).T.tolist()


def _together(problem, a, b, d, shared, enough=None):
    """What domain ``d`` keeps of both groups (weighted) at most: its
    placed members, and of the new members the best fractional packing
    of its free room, resource class by resource class (each an upper
    bound of any packing), rounded down (weights are whole). Once that
    is ``enough`` or less (what two domains apart keep: the pair's bound
    cannot use less) the classes left are not tried: each only lowers
    it."""
    worth, demand = shared
    free = soft.domain_room(problem, a.level)[d].tolist()
    placed = a.weight * int(a.placed[d]) + b.weight * int(b.placed[d])
    best = sum(worth)
    for weight, room in zip(demand, free):
        best = min(best, _knapsack(worth, weight, room))
        if enough is not None and placed + math.floor(best + 1e-9) <= (
                enough):
            break
    return placed + math.floor(best + 1e-9)


def _knapsack(worth, weight, room):
    """The fractional knapsack's best value: items best worth per unit
    of weight first (ties in member order; weightless ones free), the
    last one in part."""
    eps = soft.EPS
    value = 0.0
    items = []
    for k, size in enumerate(weight):
        if size <= eps:
            value += worth[k]
        else:
            items.append(k)
    # (Sorted on the ratios' list: stable, ties in member order.)
    ratio = [-w / size if size > eps else 0.0
             for w, size in zip(worth, weight)]
    items.sort(key=ratio.__getitem__)
    # The items that fit whole: a prefix of that order (their running
    # sum within the room).
    used = 0.0
    for k in items:
        w, size = worth[k], weight[k]
        if used + size <= room + eps:
            used += size
            value += w
        else:
            value += w * max(room - used, 0.0) / size
            break
    return value
