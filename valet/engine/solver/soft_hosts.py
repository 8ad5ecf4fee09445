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

import bisect
import math

import numpy as np

from valet.engine.solver.rules.base import EPS
from valet.objects import group_kinds

# The reductions .any(), .all(), .max() and .sum() run, without their
# Python wrappers (a decision asks a few dozen of them on small arrays).
_ANY = np.logical_or.reduce
_ALL = np.logical_and.reduce
_MAX = np.maximum.reduce
_SUM = np.add.reduce


def at_soft_root(problem, rules, soft_root, enough=None):
    """New hosts every placement with ``soft_root`` weighted violations
    of soft ``rules`` opens at least (0 when nothing is found); once it
    reaches ``enough`` (the first placement's) it may stop there."""
    p = problem
    own = [r.weight * r.lower_bound(p) for r in rules]
    everyone = sum(own)
    running = None
    opened = []
    for rule, mine in zip(rules, own):
        if (rule.kind != group_kinds.SOFT_AFFINITY or not len(rule.members)
                or not rule.per_host(p)):
            continue
        # The violations the bound leaves this group.
        left = soft_root - (everyone - mine)
        if left < 0:
            return 0
        need = int(_SUM(rule.placed)) + len(rule.members) - (
            left // rule.weight)
        if need <= 0:
            continue
        hosts = (rule.most(p) >= need) & p.usable
        if not _ANY(hosts):
            continue
        if running is None:
            running = p.usable & (p.base_count > 0)
            room = np.maximum(p.free, 0)
        if not _ANY(hosts & running):
            group = _Opened(p, rule, need, hosts, room)
            if all(group.apart(other) for other in opened):
                opened.append(group)
    if not opened:
        return 0
    if len(opened) > 1:
        separate(opened)
    if not all(_ANY(group.hosts) for group in opened):
        return len(p.servers)
    if enough is not None and len(opened) >= enough:
        return min(len(p.servers), len(opened))
    return min(len(p.servers), len(opened) + _beyond(
        p, opened, running, p.usable & (p.base_count == 0), room,
        None if enough is None else enough - len(opened)))


def separate(opened):
    """Groups kept apart open different hosts: one's only host is none
    of the others' (until no more is taken)."""
    taken = True
    while taken:
        taken = False
        for group in opened:
            if np.count_nonzero(group.hosts) != 1:
                continue
            for other in opened:
                if other is not group and _ANY(other.hosts & group.hosts):
                    other.hosts = other.hosts & ~group.hosts
                    taken = True


class _Opened:
    """A group that opens a host of ``hosts`` for ``need`` members (none
    placed there: those hosts are empty)."""

    def __init__(self, problem, rule, need, hosts, room):
        self.members = set(rule.members)
        self.need = need
        self.hosts = hosts
        self.room = room
        # Per resource class, the members' demands smallest first and
        # their running sums (a row of zeros first; the rule's, read
        # only).
        self.demand, self.sums = rule.sorted_demands(problem)

    def apart(self, other):
        """Whether no host holds the two groups' members together."""
        if self.members & other.members:
            return False
        # Together: at least both groups' smallest members.
        least = self.sums[self.need] + other.sums[other.need]
        shared = self.hosts & other.hosts
        return not _ANY(_ALL(least <= self.room[shared] + EPS, axis=1))

    def settle(self):
        """Read once its hosts are final: per resource class the room of
        the roomiest (it holds the most), the sorted demands and their
        running sums, as lists (a handful of entries each)."""
        self.top = _MAX(self.room[self.hosts], axis=0).tolist()
        self.columns = self.demand.T.tolist()
        self.column_sums = self.sums.T.tolist()

    def big_ones(self, c, size):
        """The most servers needing ``size`` of class ``c`` one of its
        hosts holds besides the group's smallest members: ``j`` of its
        big members and the ``need - j`` smallest of its small ones."""
        room, sums = self.top[c], self.column_sums[c]
        small = bisect.bisect_left(self.columns[c], size - EPS)
        need = self.need
        best = 0
        for big in range(max(0, need - small),
                         min(need, len(self.columns[c]) - small) + 1):
            fit = math.floor((room - sums[need - big]) / size + EPS)
            if fit >= big and fit > best:
                best = fit
        return best


def _beyond(p, opened, running, empty, room, enough=None):
    """New hosts beyond the groups' own: per resource class and demand
    size, the servers needing that much that neither the running hosts
    nor the groups' hosts take, on the roomiest other empty host (may
    stop once it reaches ``enough``)."""
    # Empty hosts a group surely takes (its only one) are not others.
    others = empty.copy()
    for group in opened:
        if np.count_nonzero(group.hosts) == 1:
            others &= ~group.hosts
        group.settle()
    # Per resource class the roomiest other.
    most = (_MAX(room[others], axis=0).tolist() if _ANY(others)
            else [0.0] * room.shape[1])
    # Per resource class the servers' demands sorted, and the running
    # hosts' rooms (a few dozen each: plain floats).
    ordered = [sorted(column) for column in p.demand.T.tolist()]
    held_in = room[running].T.tolist()
    # Server by server and class by class (each size once), until the
    # bound reaches ``enough``: the servers needing at least that much
    # that the running hosts do not take.
    seen = set()
    bound = 0
    for row in p.demand.tolist():
        for c, size in enumerate(row):
            if size <= EPS or (c, size) in seen:
                continue
            seen.add((c, size))
            short = len(ordered[c]) - bisect.bisect_left(ordered[c],
                                                         size - EPS)
            for free in held_in[c]:
                short -= math.floor(free / size + EPS)
            if short <= 0:
                continue
            short -= sum(group.big_ones(c, size) for group in opened)
            if short <= 0:
                continue
            per = math.floor(most[c] / size + EPS)
            if per <= 0:
                return len(p.servers)
            bound = max(bound, -(-short // per))
            if enough is not None and bound >= enough:
                return bound
    return bound
