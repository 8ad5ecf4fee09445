"""Soft diversity: members preferably each in a domain of their own.

Violations: members sharing a domain with another member, that is
``members - domains used`` (each member of the group counts, affinity
links between them do not make them one), placed members counted where
they run. An added member costs one violation in a domain already
holding a member, nothing elsewhere.
"""

import numpy as np

from valet.engine.solver.rules import base
from valet.engine.solver.rules import soft
from valet.objects import group_kinds

KIND = group_kinds.SOFT_DIVERSITY
# .sum() without its Python wrapper.
_SUM = np.add.reduce


class SoftDiversity(soft.Soft):
    kind = KIND

    def start(self, search):
        return _Tracker(self, search)

    def violations(self, counts):
        return int(_SUM(counts) - np.count_nonzero(counts))

    def lower_bound(self, problem, enough=None):
        """The bound, worked out once (each search of the problem asks;
        ``enough`` as soft-affinity's: a value it cannot pass, of no use
        here)."""
        found = self.__dict__.get('_lower')
        if found is None:
            found = self._lower = self._lower_bound(problem)
        return found

    def _lower_bound(self, problem):
        # Members beyond the domains they can use at all share one, and
        # so do members a hard affinity group at this level or below
        # keeps together: new members occupy at most one domain per unit.
        total = int(_SUM(self.placed)) + len(self.members)
        usable = np.count_nonzero(self.placed + self.reachable(problem))
        units = np.count_nonzero(self.placed) + _units(problem, self)
        return max(self.violations(self.placed),
                   total - min(usable, units))


def _units(problem, rule):
    """New members, counted once per chain of hard affinity groups of
    level not above the rule's."""
    return len(soft.affinity_units(problem, rule))


class _Tracker(soft.Tracker):
    # root_bound reads the problem alone: asked later, when wanted
    # (Search.root_bound_later).
    root_bound_later = True

    def added(self, d):
        return 1 if self.count[d] > 0 else 0

    def added_on(self, h):
        return self.weight if self.count[self.host_domain[h]] > 0 else 0

    def apply(self, i, h):
        # soft.Tracker.apply with the domain's count read once.
        count = self.count
        d = self.host_domain[h]
        before = int(count[d])
        count[d] = before + 1
        if before > 0:
            self.search.soft += self.weight
            return 1
        return 0

    def adds(self, i):
        if self.per_host:
            return self.count > 0
        return self.count.take(self.domains) > 0

    def root_bound(self, in_use):
        # At its fewest violations the group's new members use that many
        # domains without placed members, each on a host of its own
        # (domains do not share hosts): a domain with a running host some
        # member may use provides one, every other such domain opens one.
        rule, p = self.rule, self.p
        if not len(rule.members):
            return 0
        total = int(_SUM(rule.placed)) + len(rule.members)
        domains = total - rule.lower_bound(p) - np.count_nonzero(
            rule.placed)
        dom = p.domain[rule.level]
        # Usable hosts with servers (``in_use``, as the search's root
        # has them: the problem's counts), with a domain (domain_index's
        # second part: dom >= 0) some member may use.
        running = in_use & p.domain_index(rule.level)[1] & (
            rule.open_hosts(p))
        # Domains with such a host and no placed member (a mask, not
        # np.unique: cheaper on a few dozen hosts).
        ready = np.zeros(len(rule.placed), dtype=bool)
        ready[dom[running]] = True
        ready = np.count_nonzero(ready & (rule.placed == 0))
        return max(0, domains - ready)


def compile(problem):
    out = []
    for name, group, level, new, old in base.groups_to_place(problem, KIND):
        out.append(SoftDiversity(name, level, new, soft.weight_of(group),
                                 soft.placed_counts(problem, level, old)))
    return out
