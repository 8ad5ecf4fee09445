"""At most k per domain: no domain of the group's level holds more than
``max_per_domain`` members.

Members already placed count where they run. A new member may go only to
a domain holding fewer than k members at that point of the search, so a
domain that already holds more (drift) takes no new member and keeps the
ones it has. Placed servers count as members under the definitions the
request states (a group it nests in an at-most group brings its placed
servers along).
"""

import numpy as np

from valet.engine.solver.rules import base
from valet.engine.solver.rules import counts
from valet.objects import group_kinds

KIND = group_kinds.AT_MOST


class AtMost(base.Constraint):
    kind = KIND

    def __init__(self, name, level, members, limit, placed):
        super().__init__(name, level, members)
        self.limit = limit      # k: members allowed per domain
        self.placed = placed    # domain -> placed members (not moving)
        self.hopeless = False   # proven impossible before any search

    def start(self, search):
        return _Tracker(self, search)

    def explain(self, problem, tracker):
        if self.hopeless:
            return []       # already in problem.blocked
        return _counting(problem, self, tracker.mask)


def _counting(problem, rule, mask):
    """Entries when the members need more places than the domains that
    can take any of them have left under k (a proof of infeasibility)."""
    if mask is None:
        usable = counts.domains(problem, rule.level, counts.union(
            problem, rule.members))
    else:
        hosts = np.zeros(problem.slots, dtype=bool)
        for i, ok in zip(rule.members,
                         base.member_masks(problem, rule.members)):
            hosts |= ok & mask(i)
        usable = counts.domains(problem, rule.level, hosts)
    room = int(np.maximum(rule.limit - rule.placed, 0)[usable].sum())
    if len(rule.members) <= room:
        return []
    level = problem.topology.levels[rule.level]
    return [{
        'group': rule.name, 'kind': KIND, 'level': level,
        'reason': '%d members (%s) may be at most %d per %s but the %d '
                  '%ss that can take any of them have room for %d more'
                  % (len(rule.members), problem.server_names(rule.members),
                     rule.limit, level, int(usable.sum()), level, room),
        'members': len(rule.members), 'max_per_domain': rule.limit,
        'domains': int(usable.sum()), 'room': room,
    }]


def _count(problem, name, level, limit, compiled=None):
    """The counts of at-most group ``name`` on the groups' closures
    ``clos``: (the groups used, an entry) when they refuse, else None.
    ``compiled``: (the rule, its placed members) as compiled from the
    problem's own closures, taken as they are for those."""

    def count(clos):
        if compiled is not None and clos is problem.closures:
            rule, old = compiled
            new = rule.members
        else:
            new, old = counts.members(clos, name)
            if not new:
                return None
            rule = AtMost(name, level, new, limit,
                          counts.placed(problem, level, old))
        keys = [('new', i) for i in new] + [('old', sid) for sid in old]
        found = _counting(problem, rule, None)
        if found:
            return counts.lineage(problem, clos, keys, name), found[0]
        return _unit_refused(problem, rule, clos, old)

    return count


def _unit_refused(problem, rule, clos, old):
    """When affinity holds more members in one domain than any domain
    they may use has left under k: (the groups used, an entry)."""
    room = rule.limit - rule.placed
    most = room.max()
    if len(rule.members) < 2 or most >= len(rule.members):
        return None
    if clos is problem.closures and most >= _largest_unit(problem, rule):
        return None     # every unit fits the roomiest domain's count
    masks = dict(zip(rule.members,
                     base.member_masks(problem, rule.members)))
    for unit in counts.units(problem, clos, rule.members, rule.level):
        size = len(unit)
        if size < 2 or room.max() >= size:
            break
        ok = None
        for i in unit:
            doms = counts.domains(problem, rule.level, masks[i])
            ok = doms if ok is None else ok & doms
        fits = room[ok]
        # No domain for the whole unit at all is affinity's to explain.
        if not fits.size or fits.max() >= size:
            continue
        level = problem.topology.levels[rule.level]
        left = max(int(fits.max()), 0)
        ties = counts.ties(problem, clos, unit, rule.level)
        used = ties | counts.lineage(
            problem, clos, [('new', i) for i in unit] + [
                ('old', sid) for sid in old], rule.name)
        return used, {
            'core': ties | {rule.name},
            'group': rule.name, 'kind': KIND, 'level': level,
            'reason': '%d members (%s) are held in one %s by affinity (%s) '
                      'but may be at most %d per %s, and the %ss they may '
                      'use have room for %d more' % (
                          size, problem.server_names(unit), level,
                          ', '.join(sorted(ties)), rule.limit, level,
                          level, left),
            'members': size, 'max_per_domain': rule.limit,
            'domains': int(ok.sum()), 'room': left}
    return None


def _largest_unit(problem, rule):
    """The most members affinity holds in one domain (at least 2: a
    unit of one fits any domain the count leaves open)."""
    roots = base.affinity_roots(problem, rule.level)
    sizes = {}
    for i in rule.members:
        root = roots[('new', i)]
        sizes[root] = sizes.get(root, 0) + 1
    return max(2, max(sizes.values()))


class _Tracker(base.Tracker):
    """Members per domain; the mask (the same for every member) is kept
    until a domain reaches k or drops below it, the only changes that
    move a host in or out of it: most placements change neither."""

    # root_bound reads the root masks (base.root_union) and the counts
    # at the root: asked later, on a root view, only when the first
    # placement is not proven without it (Search.root_bound_later).
    root_bound_at_root = True

    def __init__(self, rule, search):
        super().__init__(rule, search)
        self.count = rule.placed.copy()
        self._safe, self._has = self.p.domain_index(rule.level)
        # Per host its domain, as ints (apply and undo, at every node).
        self._domain_of = base.domains_as_list(self.p, rule.level)
        self._mask = None

    def mask(self, i):
        found = self._mask
        if found is None:
            found = self._mask = (
                self.count < self.rule.limit).take(self._safe) & self._has
            found.flags.writeable = False       # shared until it changes
        return found

    def apply(self, i, h):
        d = self._domain_of[h]
        self.count[d] += 1
        if self.count[d] == self.rule.limit:
            self._mask = None       # d is full now

    def undo(self, i, h, token):
        d = self._domain_of[h]
        self.count[d] -= 1
        if self.count[d] == self.rule.limit - 1:
            self._mask = None       # d takes members again

    def root_bound(self, in_use):
        # Host level: what hosts in use can still take, the rest needs
        # new hosts of at most k members each.
        rule, p = self.rule, self.p
        if rule.level != 0:
            return 0
        ok = base.root_union(self.search, rule.members)
        dom = p.domain[0]
        hosts = np.flatnonzero(ok & in_use)
        room = int(np.maximum(rule.limit - self.count[dom[hosts]], 0).sum())
        rest = len(rule.members) - room
        return -(-rest // rule.limit) if rest > 0 else 0


def compile(problem):
    out = []
    for name, group, level, new, old in base.groups_to_place(problem, KIND):
        placed = np.zeros(problem.dc.domain_count(level), dtype=np.int64)
        for sid in old:
            placed[problem.host_domain(level, sid)] += 1
        rule = AtMost(name, level, new, group.max_per_domain, placed)
        # Counting before searching: a search cannot beat it, and would
        # spend its whole budget finding that out.
        blocked = counts.refusal(problem, name, _count(
            problem, name, level, group.max_per_domain, (rule, old)))
        if blocked:
            rule.hopeless = True
            problem.blocked.append(blocked)
        out.append(rule)
    return out
