"""Soft affinity: members preferably in one domain of the group's level.

Violations: members outside the group's most populated domain
(``members - max(count)``), placed members counted where they run. An
added member costs nothing when it lands in a most populated domain and
one violation anywhere else.
"""

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
        # members that could go there at all.
        total = int(self.placed.sum()) + len(self.members)
        best = self.placed + self.reachable(problem)
        return max(self.violations(self.placed),
                   total - int(best.max()) if best.size else 0)


class _Tracker(soft.Tracker):

    def __init__(self, rule, search):
        super().__init__(rule, search)
        self.top = int(self.count.max()) if self.count.size else 0

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


def compile(problem):
    out = []
    for name, group, level, new, old in base.groups_to_place(problem, KIND):
        out.append(SoftAffinity(name, level, new, soft.weight_of(group),
                                soft.placed_counts(problem, level, old)))
    return out
