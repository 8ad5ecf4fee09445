"""Soft affinity: members preferably in one domain of the group's level.

Violations: members outside the group's most populated domain
(``members - max(count)``), placed members counted where they run. An
added member costs nothing when it lands in a most populated domain and
one violation anywhere else.

Only the largest domain counts, so the search ranks hosts by how many
members their domain could end with (its count plus how many of the
members still to place its free room holds, smallest first): a greedy
member-by-member choice would fill the first domain it meets and leave
the rest stranded.
"""

import numpy as np

from valet.engine.solver.rules import base
from valet.engine.solver.rules import soft
from valet.objects import group_kinds

KIND = group_kinds.SOFT_AFFINITY


class SoftAffinity(soft.Soft):
    kind = KIND
    # An ordering hint only: the search places the members one after the
    # other, which finds together-placements first.
    together = True

    def start(self, search):
        return _Tracker(self, search)

    def violations(self, counts):
        return int(counts.sum() - counts.max()) if counts.size else 0

    def lower_bound(self, problem):
        # No domain ends up with more than its placed members and the new
        # members that could go there at all, its free room can hold and
        # hard diversity lets share it.
        total = int(self.placed.sum()) + len(self.members)
        best = self.placed + np.minimum(np.minimum(
            self.reachable(problem), self.room(problem)),
            _together(problem, self))
        return max(self.violations(self.placed),
                   total - int(best.max()) if best.size else 0)


class _Tracker(soft.Tracker):

    def __init__(self, rule, search):
        super().__init__(rule, search)
        self.top = int(self.count.max()) if self.count.size else 0
        p = self.p
        # Members smallest first, for the projection of rank().
        self.by_size = sorted(rule.members, key=lambda m: (p.size[m], m))

    def rank(self, i):
        """Per host, the members its domain falls short of the domain
        that could end with the most (weighted): a ranking, not a cost."""
        p, search = self.p, self.search
        left = [m for m in self.by_size if search.assign[m] < 0]
        cum = np.cumsum(p.demand[left], axis=0)
        dom = self._domains()
        free = np.where(p.usable[:, None], np.maximum(search.free, 0), 0)
        if self.rule.level:
            free = np.stack([np.bincount(dom, weights=free[:, c],
                                         minlength=len(self.count))
                             for c in range(free.shape[1])], axis=1)
        fit = np.full(len(free), len(left))
        for c in range(cum.shape[1]):
            fit = np.minimum(fit, np.searchsorted(
                cum[:, c] - soft.EPS, free[:, c], side='right'))
        if self.rule.level:
            fit = fit[dom]
        ends = self.count[dom] + fit
        return (ends.max() - ends) * self.rule.weight

    def added(self, d):
        return 0 if self.count[d] >= self.top else 1

    def apply(self, i, h):
        top = self.top
        delta = super().apply(i, h)
        d = self.p.domain[self.rule.level, h]
        self.top = max(top, int(self.count[d]))
        return delta, top

    def undo(self, i, h, token):
        delta, top = token
        super().undo(i, h, delta)
        self.top = top

    def penalty(self, i):
        return (self.count[self._domains()] < self.top) * self.rule.weight


def _together(problem, rule):
    """The most new members one domain of the rule's level can hold under
    the hard diversity groups at that level or above: of the members a
    diversity group holds, one unit per domain."""
    members = set(rule.members)
    most = len(members)
    for other in problem.constraints:
        if other.kind != group_kinds.DIVERSITY or other.level < rule.level:
            continue
        units = {}
        for i in members & set(other.members):
            units[other.unit[i]] = units.get(other.unit[i], 0) + 1
        if units:
            most = min(most, len(members) - sum(units.values())
                       + max(units.values()))
    return most


def compile(problem):
    out = []
    for name, group, level, new, old in base.groups_to_place(problem, KIND):
        out.append(SoftAffinity(name, level, new, soft.weight_of(group),
                                soft.placed_counts(problem, level, old)))
    return out
