"""The soft bounds as first written (numpy throughout, no early stop):
the reference the cheaper ones (``solver/soft_joint.py``,
``solver/soft_hosts.py``) must agree with. Tests only."""

import numpy as np

from valet.engine.solver.rules.base import EPS
from valet.engine.solver.rules import soft
from valet.engine.solver import soft_hosts
from valet.engine.solver import soft_joint
from valet.objects import group_kinds


def pair_bound(problem, a, b):
    """Weighted violations of soft-affinity groups ``a`` and ``b`` (one
    level) no placement avoids together."""
    most_a = a.weight * a.most(problem)
    most_b = b.weight * b.most(problem)
    total = (a.weight * (int(a.placed.sum()) + len(a.members))
             + b.weight * (int(b.placed.sum()) + len(b.members)))
    kept = _apart(most_a, most_b)
    # The same domain for both: only where it could beat the best apart.
    both = most_a + most_b
    for d in np.flatnonzero(both > kept):
        kept = max(kept, min(int(both[d]), _together(problem, a, b, d)))
    return total - kept


def _apart(most_a, most_b):
    """The most two different domains keep, one per group."""
    if len(most_a) < 2:
        return 0
    first_a = int(most_a.argmax())
    first_b = int(most_b.argmax())
    if first_a != first_b:
        return int(most_a[first_a] + most_b[first_b])
    # The runners-up: each group's best with its top domain left out.
    rest_a, rest_b = most_a.copy(), most_b.copy()
    rest_a[first_a] = rest_b[first_b] = -1
    return int(max(most_a[first_a] + rest_b.max(),
                   rest_a.max() + most_b[first_b]))


def _together(problem, a, b, d):
    """What domain ``d`` keeps of both groups (weighted) at most: its
    placed members, and of the new members the best fractional packing
    of its free room, resource class by resource class (each an upper
    bound of any packing), rounded down (weights are whole)."""
    # The members and their worths as the solver's (lists), as arrays.
    worth, columns = soft_joint._shared(problem, a, b)
    worth = np.array(worth)
    demand = np.array(columns).reshape(len(columns), len(worth)).T
    free = soft.domain_room(problem, a.level)[d]
    best = worth.sum()
    for c in range(demand.shape[1]):
        best = min(best, _knapsack(worth, demand[:, c], free[c]))
    placed = a.weight * int(a.placed[d]) + b.weight * int(b.placed[d])
    return placed + int(np.floor(best + 1e-9))


def _knapsack(worth, weight, room):
    """The fractional knapsack's best value: items best worth per unit
    of weight first (weightless ones free), the last one in part."""
    free = weight <= soft.EPS
    value = float(worth[free].sum())
    worth, weight = worth[~free], weight[~free]
    order = np.argsort(-worth / weight, kind='stable')
    worth, weight = worth[order], weight[order]
    # The items that fit whole: a prefix of that order.
    whole = int(np.searchsorted(np.cumsum(weight), room + soft.EPS,
                                side='right'))
    value += float(worth[:whole].sum())
    if whole < len(weight):
        left = room - float(weight[:whole].sum())
        value += worth[whole] * max(left, 0.0) / weight[whole]
    return value


def at_soft_root(problem, rules, soft_root):
    """New hosts every placement with ``soft_root`` weighted violations
    of soft ``rules`` opens at least (0 when nothing is found)."""
    p = problem
    running = p.usable & (p.base_count > 0)
    empty = p.usable & (p.base_count == 0)
    room = np.maximum(p.free, 0)
    own = {id(r): r.weight * r.lower_bound(p) for r in rules}
    everyone = sum(own.values())
    opened = []
    for rule in rules:
        if (rule.kind != group_kinds.SOFT_AFFINITY or not len(rule.members)
                or not rule.per_host(p)):
            continue
        # The violations the bound leaves this group.
        left = soft_root - (everyone - own[id(rule)])
        if left < 0:
            return 0
        need = int(rule.placed.sum()) + len(rule.members) - (
            left // rule.weight)
        hosts = (rule.most(p) >= need) & p.usable
        if need > 0 and hosts.any() and not (hosts & running).any():
            group = _Opened(p, rule, need, hosts, room)
            if all(group.apart(other) for other in opened):
                opened.append(group)
    if not opened:
        return 0
    soft_hosts.separate(opened)
    if not all(group.hosts.any() for group in opened):
        return len(p.servers)
    return min(len(p.servers),
               len(opened) + _beyond(p, opened, running, empty, room))


class _Opened(soft_hosts._Opened):
    """The solver's, with ``big_ones`` as first written (numpy)."""

    def big_ones(self, c, size):
        """The most servers needing ``size`` of class ``c`` one of its
        hosts holds besides the group's smallest members: ``j`` of its
        big members and the ``need - j`` smallest of its small ones."""
        # The roomiest of its hosts holds the most.
        room = self.room[self.hosts, c].max()
        small = int(np.searchsorted(self.demand[:, c], size - EPS))
        first = max(0, self.need - small)
        last = min(self.need, len(self.demand) - small)
        if first > last:
            return 0
        big = np.arange(first, last + 1)
        rest = room - self.sums[self.need - big, c]
        fit = np.floor(rest / size + EPS)
        fit = fit[fit >= big]
        return int(fit.max()) if fit.size else 0


def _beyond(p, opened, running, empty, room):
    """New hosts beyond the groups' own: per resource class and demand
    size, the servers needing that much that neither the running hosts
    nor the groups' hosts take, on the roomiest other empty host."""
    # Empty hosts a group surely takes (its only one) are not others.
    others = empty.copy()
    for group in opened:
        if np.count_nonzero(group.hosts) == 1:
            others &= ~group.hosts
    # Per resource class: the running hosts' room, the roomiest other.
    held_room = room[running]
    most = (room[others].max(axis=0) if others.any()
            else np.zeros(room.shape[1]))
    demand = np.sort(p.demand, axis=0)
    bound = 0
    for c in range(demand.shape[1]):
        amounts = demand[:, c]
        sizes = amounts[amounts > EPS]
        if not sizes.size:
            continue
        # Distinct sizes (sorted already: no np.unique).
        sizes = sizes[np.append(True, sizes[1:] != sizes[:-1])]
        # Per size: the servers needing that much, what the running
        # hosts take of them.
        many = len(amounts) - np.searchsorted(amounts, sizes - EPS)
        held = np.floor(held_room[:, c][:, None] / sizes + EPS).sum(axis=0)
        for k in np.flatnonzero(many > held):
            size = sizes[k]
            short = int(many[k]) - int(held[k]) - sum(
                group.big_ones(c, size) for group in opened)
            if short <= 0:
                continue
            per = int(np.floor(most[c] / size + EPS))
            if per <= 0:
                return len(p.servers)
            bound = max(bound, -(-short // per))
    return bound
