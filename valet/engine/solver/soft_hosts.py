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
            group = _Opened(p, rule, need, hosts)
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
    return min(len(p.servers), len(opened) + _beyond(p, opened, running,
                                                     empty))


class _Opened:
    """A group that opens a host of ``hosts`` for ``need`` members (none
    placed there: those hosts are empty)."""

    def __init__(self, problem, rule, need, hosts):
        self.members = set(rule.members)
        self.need = need
        self.hosts = hosts
        # Per resource class, the members' demands smallest first.
        self.demand = np.sort(problem.demand[list(rule.members)], axis=0)
        self.room = np.maximum(problem.free, 0)

    def apart(self, other):
        """Whether no host holds the two groups' members together."""
        if self.members & other.members:
            return False
        # Together: at least both groups' smallest members.
        least = (self.demand[:self.need].sum(axis=0)
                 + other.demand[:other.need].sum(axis=0))
        shared = self.hosts & other.hosts
        return not (least <= self.room[shared] + EPS).all(axis=1).any()

    def big_ones(self, c, size):
        """The most servers needing ``size`` of class ``c`` one of its
        hosts holds besides the group's least small members."""
        amounts = self.demand[:, c]
        small = amounts[amounts < size - EPS]
        big = len(amounts) - len(small)
        best = 0
        for h in np.flatnonzero(self.hosts):
            for j in range(min(self.need, big) + 1):
                if self.need - j > len(small):
                    continue
                rest = self.room[h, c] - small[:self.need - j].sum()
                fit = int(np.floor(rest / size + EPS))
                if fit >= j:
                    best = max(best, fit)
        return best


def _beyond(p, opened, running, empty):
    """New hosts beyond the groups' own: per resource class and demand
    size, the servers needing that much that neither the running hosts
    nor the groups' hosts take, on the largest other empty hosts."""
    room = np.maximum(p.free, 0)
    # Empty hosts a group surely takes (its only one) are not others.
    others = empty.copy()
    for group in opened:
        if np.count_nonzero(group.hosts) == 1:
            others &= ~group.hosts
    bound = 0
    for c in range(p.demand.shape[1]):
        amounts = p.demand[:, c]
        for size in np.unique(amounts[amounts > EPS])[::-1]:
            many = int(np.count_nonzero(amounts >= size - EPS))
            held = int(np.floor(room[running, c] / size + EPS).sum())
            held += sum(group.big_ones(c, size) for group in opened)
            if many <= held:
                continue
            per = (int(np.floor(room[others, c] / size + EPS).max())
                   if others.any() else 0)
            if per <= 0:
                return len(p.servers)
            bound = max(bound, -(-(many - held) // per))
    return bound
