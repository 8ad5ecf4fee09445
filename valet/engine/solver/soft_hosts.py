"""New hosts every placement at the fewest soft violations opens.

Soft violations come before new hosts, so a placement is optimal once
its violations reach the soft bound and its new hosts the fewest any
placement with that many violations opens. At the bound, each host-level
soft-affinity group keeps at least ``need`` members on its top host:
no more violations than the bound leaves it once every other soft group
has its own least. When no running host can hold that many, the group
opens a host; groups whose members no one host holds together open one
each. Such a host holds its group's members and little else: counted
size by size, the servers too big for the room left then open more.

Every count here lets through more than a placement can do (masks, hard
rules and units are left out): a lower bound.
"""

import numpy as np

from valet.engine.solver.rules.base import EPS
from valet.objects import group_kinds


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
    # Groups kept apart open different hosts: one's only host is none of
    # the others' (until no more is taken).
    taken = True
    while taken:
        taken = False
        for group in opened:
            if np.count_nonzero(group.hosts) != 1:
                continue
            for other in opened:
                if other is not group and (other.hosts & group.hosts).any():
                    other.hosts = other.hosts & ~group.hosts
                    taken = True
    if not all(group.hosts.any() for group in opened):
        return len(p.servers)
    return min(len(p.servers),
               len(opened) + _beyond(p, opened, running, empty, room))


class _Opened:
    """A group that opens a host of ``hosts`` for ``need`` members (none
    placed there: those hosts are empty)."""

    def __init__(self, problem, rule, need, hosts, room):
        self.members = set(rule.members)
        self.need = need
        self.hosts = hosts
        self.room = room
        # Per resource class, the members' demands smallest first and
        # their running sums (a row of zeros first).
        self.demand = np.sort(problem.demand[list(rule.members)], axis=0)
        self.sums = np.zeros((len(self.demand) + 1, self.demand.shape[1]))
        np.cumsum(self.demand, axis=0, out=self.sums[1:])

    def apart(self, other):
        """Whether no host holds the two groups' members together."""
        if self.members & other.members:
            return False
        # Together: at least both groups' smallest members.
        least = self.sums[self.need] + other.sums[other.need]
        shared = self.hosts & other.hosts
        return not (least <= self.room[shared] + EPS).all(axis=1).any()

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
