"""Affinity: every member in one domain of the group's level.

Placed members (not moving) fix the domain: new members join one of the
domains they use (drift between placed members is tolerated). Until a new
member lands, only domains with room for every new member are candidates,
and the first member's hosts are ranked by the new hosts the whole group
(and the other affinity groups of its level) would open in their domain
(:mod:`valet.engine.solver.rack_choice`).
"""

import numpy as np

from valet.engine.solver import rack_choice
from valet.engine.solver.rules import base
from valet.engine.solver.rules.base import EPS
from valet.objects import group_kinds

# ndarray.sum without its Python wrapper (the same reduction).
_ADD = np.add.reduce

KIND = group_kinds.AFFINITY
# Look-ahead answers kept per group and search.
MEMO = 256


class Affinity(base.Constraint):
    kind = KIND
    together = True

    def __init__(self, name, level, members, allowed):
        super().__init__(name, level, members)
        # Domain ids already used by placed members, or None.
        self.allowed = allowed
        # Other affinity groups of the level competing for room, with the
        # level a diversity group holds them apart at (or None); set by
        # compile().
        self.rivals = ()
        # Hosts per domain, shared by the rules of a problem (rack_choice).
        self.hosts_cache = {}

    def start(self, search):
        return _Tracker(self, search)

    def host_domains(self, problem):
        """Per host its domain of the rule's level (a list), worked out
        once."""
        found = self.__dict__.get('_host_domains')
        if found is None:
            found = self._host_domains = problem.domain[self.level].tolist()
        return found

    def explain(self, problem, tracker):
        # Alike members share one static mask (the problem's arrays).
        statics = list({id(problem.static[m]): problem.static[m]
                        for m in self.members}.values())
        dom = problem.domain[self.level]
        # The group's demand, as the trackers keep it (never changed).
        need = self.__dict__.get('_demand')
        if need is None:
            need = _ADD(problem.demand[self.members], axis=0)
        # The hosts every member may use in a domain, taken once for
        # every resource class (the others add nothing to its room).
        keep = dom >= 0
        for static in statics:
            keep &= static
        ndom = problem.dc.domain_count(self.level)
        where, rows = dom[keep], np.maximum(problem.free[keep], 0)
        # Column by column into one array (np.stack's wrapper costs more
        # than the counts on a few racks).
        dom_free = np.empty((ndom, rows.shape[1]))
        for c in range(rows.shape[1]):
            dom_free[:, c] = np.bincount(where, weights=rows[:, c],
                                         minlength=ndom)
        if self.allowed is not None:
            keep = np.zeros(ndom, dtype=bool)
            keep[self.allowed] = True
            dom_free = np.where(keep[:, None], dom_free, 0)
        if np.logical_and.reduce(dom_free >= need - EPS, axis=1).any():
            return []
        level = problem.topology.levels[self.level]
        best = int(np.argmax((dom_free / np.maximum(need, EPS)).min(
            axis=1))) if ndom else 0
        return [{
            'group': self.name, 'kind': KIND, 'level': level,
            'reason': 'no %s has room for the whole group (%s)' % (
                level, problem.server_names(self.members)),
            'needs': problem.vector(need),
            'most_room': problem.vector(dom_free[best]) if ndom else {},
        }]


class _Tracker(base.Tracker):

    def __init__(self, rule, search):
        super().__init__(rule, search)
        self.domain = None
        # The group's demand, once per rule (every search of the problem
        # starts here; apply and undo replace it, never change it).
        left = rule.__dict__.get('_demand')
        if left is None:
            left = rule._demand = _ADD(self.p.demand[rule.members], axis=0)
        self.left = left
        # The rest of the request the look-ahead packs (rack_choice), the
        # members placed, and how many were when the look-ahead found
        # nothing left to open (None: not settled).
        self.outside = None
        self.placed = 0
        self.settled = None
        self.allowed_domains = None
        # The look-ahead's answers per search state (small requests).
        self.memo = {}

    def mask(self, i):
        p, rule, search = self.p, self.rule, self.search
        if rule.level == 0 and self.domain is None and rule.allowed is None:
            # Look ahead: the host must hold the whole group (no domain
            # table needed).
            return np.logical_and.reduce(search.free >= self.left - EPS,
                                         axis=1)
        # Per-level domain tables, once per problem (rack_choice).
        lv = rack_choice.levels(p, rule.level, rule.hosts_cache)
        if self.domain is not None:
            return lv.within(self.domain)
        # Look ahead: the chosen domain must hold the whole group.
        need = self.left - EPS
        if rule.level == 0:
            mask = np.logical_and.reduce(search.free >= need, axis=1)
            mask &= self._allowed(lv)[lv.index]
            return mask
        ok = np.zeros(lv.count + 1, dtype=bool)
        ok[:-1] = np.logical_and.reduce(lv.room(search.free) >= need,
                                        axis=1)
        if rule.allowed is not None:
            ok &= self._allowed(lv)
        return ok[lv.index]

    def allows(self, i, h):
        """``mask(i)[h]`` for one host (the search asks for a host or
        two): the same tests on that host alone."""
        rule = self.rule
        if self.domain is not None:
            # lv.within(domain): the hosts of the chosen domain.
            return rule.host_domains(self.p)[h] == self.domain
        if rule.level == 0 and rule.allowed is None:
            # The host must hold the whole group (mask's look-ahead).
            for room, need in zip(self.search.free[h].tolist(),
                                  (self.left - EPS).tolist()):
                if not room >= need:
                    return False
            return True
        return bool(self.mask(i)[h])

    def _allowed(self, lv):
        """Per domain id (and ``lv.count`` for none) whether the placed
        members allow it."""
        if self.allowed_domains is None:
            keep = np.zeros(lv.count + 1, dtype=bool)
            keep[self.rule.allowed] = True
            keep[-1] = False
            self.allowed_domains = keep
        return self.allowed_domains

    def bias(self, i, idx):
        """Ranking to add to the hosts ``idx`` for member ``i``: by the
        new hosts the group would open after it (rack_choice)."""
        rule = self.rule
        if rule.level == 0 or not self.search.consolidate:
            return None
        if self.settled is not None:
            if self.placed > self.settled:
                return None     # the same path on: nothing to open
            self.settled = None
        search = self.search
        key = found = None
        if rack_choice.small(self.p):
            # The same state asked again (the improvement phase starts
            # where the first search did): the same answer.
            key = (i, tuple(search.assign), idx.tobytes(),
                   search.free.tobytes())
            found = self.memo.get(key)
        if found is None:
            found = rack_choice.bias(search, rule, rule.rivals, i, idx,
                                     self.domain, self._outside)
            if key is not None and len(self.memo) < MEMO:
                if found[0] is not None:
                    found[0].flags.writeable = False    # shared
                self.memo[key] = found
        extra, settled = found
        if settled:
            self.settled = self.placed
        return extra

    def _outside(self):
        if self.outside is None:
            # Once, the first time the look-ahead packs the rest.
            skip = set(self.rule.members)
            for other, _ in self.rule.rivals:
                skip.update(other.members)
            self.outside = rack_choice.outside(self.search, skip)
        return self.outside

    def apply(self, i, h):
        self.left = self.left - self.p.demand[i]
        self.placed += 1
        if self.domain is None:
            self.domain = int(self.p.domain[self.rule.level, h])
            return True
        return False

    def undo(self, i, h, chose):
        self.left = self.left + self.p.demand[i]
        self.placed -= 1
        if chose:
            self.domain = None

    def root_bound(self, in_use):
        # A host-affinity group too big for every host in use needs an
        # empty one.
        rule, p = self.rule, self.p
        if rule.level != 0 or rule.allowed is not None:
            return 0
        ok = self.mask(None)
        for i in rule.members:
            ok &= p.static[i]
        return 0 if (ok & in_use).any() else 1


def compile(problem):
    out = []
    for name, group, level, new, old in base.groups_to_place(problem, KIND):
        allowed = None
        if old:
            allowed = np.array(sorted({problem.host_domain(level, sid)
                                       for sid in old}))
        out.append(Affinity(name, level, new, allowed))
    hosts_cache = {}
    for rule in out:
        rule.rivals = _rivals(problem, rule, out)
        rule.hosts_cache = hosts_cache
    return out


def _rivals(problem, rule, rules):
    """(other rule, apart level or None) for the other affinity rules of
    ``rule``'s level, largest first: groups that compete for the same
    room, or that a diversity group keeps in other domains."""
    if rule.level == 0:
        return ()
    defs = problem.group_defs
    mine = problem.closures[('new', rule.members[0])]
    found = []
    for other in rules:
        if other is rule or other.level != rule.level:
            continue
        shared = mine & problem.closures[('new', other.members[0])]
        kinds = {defs[name].kind for name in shared}
        if group_kinds.AFFINITY in kinds:
            continue        # held together already: one cluster
        apart = [problem.topology.index(defs[name].level)
                 for name in shared
                 if defs[name].kind == group_kinds.DIVERSITY]
        apart = max(apart) if apart else None
        if apart is not None and apart < rule.level:
            apart = None
        size = float(problem.size[other.members].sum())
        found.append((-size, other.name, other, apart))
    return tuple((other, apart) for _, _, other, apart in sorted(
        found, key=lambda row: row[:2]))
