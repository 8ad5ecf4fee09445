"""Spread with max skew: members spread over the domains of the group's
level so that no domain holding a new member is more than ``max_skew``
members ahead of the emptiest eligible domain.

Eligible domains are those with a host some new member passes the static
filters of (enabled, availability zone, extra specs, candidate and
excluded hosts; not capacity): like topology spread in Kubernetes, a full
eligible domain still counts as the emptiest. Placed members count where
they run; a domain holding no new member is not judged (drift).

The search checks each assignment against what the members still to be
placed can do: a domain may take a member when the others can still lift
every eligible domain to within ``max_skew`` of the fullest judged one.
With one member left that is the rule itself, so complete placements obey
it exactly.
"""

import numpy as np

from valet.engine.solver.rules import base
from valet.objects import group_kinds

KIND = group_kinds.SPREAD

# Static filter steps that say where a member may ever go (eligibility).
_NOT_ELIGIBILITY = ('kept_in_place',)


class Spread(base.Constraint):
    kind = KIND

    def __init__(self, name, level, members, skew, placed, eligible):
        super().__init__(name, level, members)
        self.skew = skew            # max_skew
        self.placed = placed        # domain -> placed members (not moving)
        self.eligible = eligible    # domain -> bool

    def start(self, search):
        return _Tracker(self, search)

    def explain(self, problem, tracker):
        if self.eligible.any():
            return []
        level = problem.topology.levels[self.level]
        return [{
            'group': self.name, 'kind': KIND, 'level': level,
            'reason': 'no %s has a host its members (%s) may use' % (
                level, problem.server_names(self.members)),
        }]


class _Tracker(base.Tracker):

    def __init__(self, rule, search):
        super().__init__(rule, search)
        self.count = rule.placed.copy()
        self.newcomers = np.zeros_like(rule.placed)
        self.left = len(rule.members)

    def mask(self, i):
        rule = self.rule
        count, eligible = self.count, rule.eligible
        judged = self.newcomers > 0
        fullest = int(count[judged].max()) if judged.any() else -1
        # Per domain d taking this member: the fullest judged domain then,
        # the floor every eligible domain must reach, and the members that
        # takes beyond this one.
        top = np.maximum(fullest, count + 1)
        floor = top - rule.skew
        # Members it takes to lift every eligible domain to the floor:
        # over the k eligible counts below it, k * floor - their sum.
        low = np.sort(count[eligible])
        below = np.searchsorted(low, floor, side='left')
        sums = np.concatenate(([0], np.cumsum(low)))
        water = below * floor - sums[below]
        need = water - (eligible & (count < floor))
        ok = need <= self.left - 1
        safe, has = self.p.domain_index(rule.level)
        return has & ok[safe]

    def apply(self, i, h):
        d = self.p.domain[self.rule.level, h]
        self.count[d] += 1
        self.newcomers[d] += 1
        self.left -= 1

    def undo(self, i, h, token):
        d = self.p.domain[self.rule.level, h]
        self.count[d] -= 1
        self.newcomers[d] -= 1
        self.left += 1


def compile(problem):
    out = []
    for name, group, level, new, old in base.groups_to_place(problem, KIND):
        ndom = problem.dc.domain_count(level)
        placed = np.zeros(ndom, dtype=np.int64)
        for sid in old:
            placed[problem.host_domain(level, sid)] += 1
        hosts = np.zeros(problem.slots, dtype=bool)
        for i in new:
            ok = np.ones(problem.slots, dtype=bool)
            for step, mask in problem.static_reasons[i]:
                if step not in _NOT_ELIGIBILITY and not step.startswith(
                        'capacity:'):
                    ok &= mask
            hosts |= ok
        dom = problem.domain[level]
        eligible = np.zeros(ndom, dtype=bool)
        eligible[dom[hosts & (dom >= 0)]] = True
        out.append(Spread(name, level, new, group.max_skew, placed,
                          eligible))
    return out
