"""Diversity: members in pairwise different domains of the group's level.

Members tied together by affinity groups at the same or a lower level
form one *unit* (affinity keeps them in one domain anyway); units, not
servers, must differ. A domain belongs to the first unit placed there.
Placed members that already share a domain (drift) keep sharing it.
"""

import numpy as np

from valet.engine.solver.rules import base
from valet.objects import group_kinds

KIND = group_kinds.DIVERSITY


class Diversity(base.Constraint):
    kind = KIND

    def __init__(self, name, level, members, unit, owner, shared):
        super().__init__(name, level, members)
        self.unit = unit        # request server index -> unit id
        self.owner = owner      # domain -> unit id, -1 free, -2 shared
        self.shared = shared    # domain -> set of unit ids (drift only)
        # Units with a domain of their own before anything is placed; the
        # others all start with the same hosts (rules.base.mask_key).
        # Units owning a domain (the root bound's units with one).
        self.owned = frozenset(owner[owner >= 0].tolist())
        self.anchored = self.owned.union(*shared.values())

    def start(self, search):
        return _Tracker(self, search)

    def explain(self, problem, tracker):
        units = set(self.unit.values())
        dom = problem.domain[self.level]
        # Hosts any member could take, then their domains in one pass.
        # The tracker's mask is the unit's: once per unit, on the union
        # of its members' static filters and capacity.
        fits, first = {}, {}
        for i, fit in zip(self.members,
                          base.member_masks(problem, self.members)):
            unit = self.unit[i]
            if unit not in fits:
                fits[unit], first[unit] = fit, i
            elif fits[unit] is not fit:     # alike members share one
                fits[unit] = fits[unit] | fit
        # Units whose masks are one array (the root's, shared by units
        # without a domain yet) have their fits joined first.
        by_mask = {}
        for unit, fit in fits.items():
            mask = tracker.mask(first[unit])
            found = by_mask.get(id(mask))
            if found is None:
                by_mask[id(mask)] = [mask, fit]
            elif found[1] is not fit:
                found[1] = found[1] | fit
        ok = np.zeros(problem.slots, dtype=bool)
        for mask, fit in by_mask.values():
            ok |= fit & mask
        usable_domains = set(dom[ok].tolist())
        if len(units) <= len(usable_domains):
            return []
        level = problem.topology.levels[self.level]
        return [{
            'group': self.name, 'kind': KIND, 'level': level,
            'reason': '%d members (%s) need different %ss but only %d '
                      '%ss can take any of them' % (
                          len(units), problem.server_names(self.members),
                          level, len(usable_domains), level),
            'units': len(units), 'domains': len(usable_domains),
        }]


class _Tracker(base.Tracker):
    # root_bound reads the root masks (base.root_union/root_feasible):
    # asked later, on a root view, when wanted (Search.root_bound_later).
    root_bound_at_root = True

    def __init__(self, rule, search):
        super().__init__(rule, search)
        self.owner = rule.owner.copy()
        self._safe, self._has = self.p.domain_index(rule.level)
        # Every host its own domain, in slot order (the host level): the
        # per-domain mask is the hosts' as it is (once per rule).
        found = rule.__dict__.get('_per_host')
        if found is None:
            p = self.p
            found = rule._per_host = (
                len(self.owner) == p.slots and bool(self._has.all())
                and bool((self._safe == np.arange(p.slots)).all()))
        self._per_host = found

    def mask(self, i):
        rule = self.rule
        unit = rule.unit[i]
        # Per domain, then to the hosts in one take (fewer numpy calls).
        owner = self.owner
        mask = (owner == -1) | (owner == unit)
        if not self._per_host:
            mask = mask.take(self._safe)
            mask &= self._has
        if rule.shared:
            dom = self.p.domain[rule.level]
            for shared_dom, units in rule.shared.items():
                if unit in units:
                    mask |= (dom == shared_dom)
            mask &= self._has
        return mask

    def allows(self, i, h):
        """``mask(i)[h]`` for one host (the search asks for a host or
        two)."""
        if self.rule.shared or not self._per_host:
            return bool(self.mask(i)[h])
        owner = self.owner[h]
        return owner == -1 or owner == self.rule.unit[i]

    def apply(self, i, h):
        dom = self.p.domain[self.rule.level, h]
        if self.owner[dom] == -1:
            self.owner[dom] = self.rule.unit[i]
            return dom
        return None

    def undo(self, i, h, dom):
        if dom is not None:
            self.owner[dom] = -1

    def root_bound(self, in_use):
        # A host-diversity group needs as many hosts as it has units.
        rule, search = self.rule, self.search
        if rule.level != 0:
            return 0
        units = {rule.unit[i] for i in rule.members}
        ok = base.root_union(search, rule.members)
        room = int(np.count_nonzero(ok & in_use))
        return len(units - rule.owned) - room


def compile(problem):
    out = []
    for name, group, level, new, old in base.groups_to_place(problem, KIND):
        # The units numbered as ``_units`` numbers them (the new members,
        # then the placed ones), without its keys.
        roots = base.affinity_roots(problem, level)
        numbers = {}
        units = {i: numbers.setdefault(roots[('new', i)], len(numbers))
                 for i in new}
        owner = np.full(problem.dc.domain_count(level), -1, dtype=np.int64)
        shared = {}
        for sid in old:
            dom = problem.host_domain(level, sid)
            unit = numbers.setdefault(roots[('old', sid)], len(numbers))
            if owner[dom] == -1:
                owner[dom] = unit
            elif owner[dom] >= 0 and owner[dom] != unit:
                shared[dom] = {int(owner[dom]), unit}
                owner[dom] = -2
            elif owner[dom] == -2:
                shared[dom].add(unit)
        out.append(Diversity(name, level, new, units, owner, shared))
    return out


def _units(keys, problem, level):
    """Diversity units: members linked by affinity groups of level <= L.

    Links may run through servers outside the diversity group (a chain of
    shared affinity groups holds them all in one domain anyway).
    """
    roots = base.affinity_roots(problem, level)
    units, numbers = {}, {}
    for k in keys:
        units[k] = numbers.setdefault(roots[k], len(numbers))
    return units
