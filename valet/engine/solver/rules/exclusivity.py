"""Exclusivity: a domain holding a member holds members only.

All exclusivity groups of one level are one constraint, since every
server (member or not) must keep out of the others' domains. A server
that would belong to two exclusivity groups of one level is refused when
the problem is compiled; placed servers a request makes members must not
share their domain with outsiders (reported in ``problem.blocked``).
"""

import numpy as np

from valet.engine.solver.rules import base
from valet.objects import group_kinds

KIND = group_kinds.EXCLUSIVITY
_NONE = np.zeros(0, dtype=np.int64)


class ExclusivityLevel(base.Constraint):
    kind = KIND

    def __init__(self, level, total, any_member, count, member_of):
        super().__init__(None, level, None)
        self.total = total              # servers per domain
        self.any_member = any_member    # exclusivity members per domain
        self.count = count              # group name -> members per domain
        self.member_of = member_of      # request server index -> group

    def start(self, search):
        return _Tracker(self, search)

    def label(self, i):
        name = self.member_of.get(i)
        return '%s:%s' % (KIND, name if name else 'others')


class _Tracker(base.Tracker):
    # root_bound reads the root masks (base.root_union/root_feasible):
    # asked later, on a root view, when wanted (Search.root_bound_later).
    root_bound_at_root = True

    def __init__(self, rule, search):
        super().__init__(rule, search)
        self.total = rule.total.copy()
        self.any = rule.any_member.copy()
        self.count = {k: v.copy() for k, v in rule.count.items()}
        # Outsiders' hosts change only when a member comes or goes.
        self._outsiders = None
        self._safe = self.p.domain_index(rule.level)[0]
        self._domain_of = base.domains_as_list(self.p, rule.level)

    def mask(self, i):
        safe = self._safe
        name = self.rule.member_of.get(i)
        if name is None:
            if self._outsiders is None:
                self._outsiders = (self.any == 0).take(safe)
                self._outsiders.flags.writeable = False     # shared
            return self._outsiders
        # Its domain may hold only its group's members, and none of them
        # may be a member of another exclusivity group here (a placed
        # server in two, drift, dedicates its domain to both).
        mine = self.count[name]
        return (((self.total - mine) == 0) & (
            (self.any - mine) == 0)).take(safe)

    def apply(self, i, h):
        dom = self._domain_of[h]
        self.total[dom] += 1
        name = self.rule.member_of.get(i)
        if name is not None:
            self.count[name][dom] += 1
            self.any[dom] += 1
            self._outsiders = None

    def undo(self, i, h, token):
        dom = self._domain_of[h]
        self.total[dom] -= 1
        name = self.rule.member_of.get(i)
        if name is not None:
            self.count[name][dom] -= 1
            self.any[dom] -= 1
            self._outsiders = None

    def root_bound(self, in_use):
        # An exclusivity group with no dedicated domain in use needs a
        # fresh one (distinct groups need distinct ones).
        member_of = self.rule.member_of
        fresh_needed = 0
        for name in sorted(set(member_of.values())):
            ok = np.zeros(self.p.slots, dtype=bool)
            for i, group in member_of.items():
                if group == name:
                    ok |= base.root_feasible(self.search, i)
            if not (ok & in_use).any():
                fresh_needed += 1
        return fresh_needed


def compile(problem):
    # Only the groups with members in this problem are walked one by one;
    # the others (isolated members of stored groups) are counted at once.
    exclusive = problem.exclusivity_groups()
    by_level = {level: [] for level in problem.exclusivity_levels()}
    for name in sorted(exclusive.intersection(problem.members_of)):
        level = problem.topology.index(problem.group_defs[name].level)
        by_level[level].append(name)
    out = []
    for level, names in sorted(by_level.items()):
        ndom = problem.dc.domain_count(level)
        total = problem.servers_per_domain(level)
        counts, member_of = {}, {}
        any_member = np.zeros(ndom, dtype=np.int64)
        # Groups without new members only keep outsiders out: their
        # members are counted together, in one pass (many stored groups
        # must not cost a decision one array each).
        quiet = []
        # Isolated members (problem.py) counted per domain at once.
        isolated = problem.isolated_counts(level)
        for name in names:
            new, old = problem.members(name)
            doms = [problem.host_domain(level, sid) for sid in old]
            slots = problem.isolated_slots(name)
            # (Most groups have no isolated member: nothing to index.)
            alone = problem.domain[level, slots] if len(slots) else _NONE
            if alone.size:
                isolated -= np.bincount(alone, minlength=ndom)
            if new:
                where = np.asarray(doms, dtype=np.int64)
                if alone.size:
                    where = np.concatenate([where, alone])
                    doms = doms + alone.tolist()
                count = np.bincount(where, minlength=ndom).astype(np.int64)
                counts[name] = count
                any_member += count
                for i in new:
                    member_of[i] = name
                _check_new_members(problem, name, level, old, doms, total)
            else:
                # Without new members the request makes no placed server
                # a member: nothing to check.
                quiet.append(np.asarray(doms, dtype=np.int64))
                quiet.append(alone)
        any_member += isolated
        if quiet:
            any_member += np.bincount(np.concatenate(quiet),
                                      minlength=ndom).astype(np.int64)
        out.append(ExclusivityLevel(level, total, any_member, counts,
                                    member_of))
    return out


def _check_new_members(problem, name, level, old, doms, total):
    """Placed servers this request makes members must not share."""
    known = problem.dc.group_servers(name) if old else ()
    level_name = problem.topology.levels[level]
    for sid, dom in zip(old, doms):
        if sid in known or name in problem.old_memberships.get(
                ('old', sid), ()):
            continue
        if total[dom] - doms.count(dom) > 0:
            problem.blocked.append({
                'group': name, 'kind': KIND, 'level': level_name,
                'reason': 'placed server %s would become a member but '
                          'shares its %s with servers outside the '
                          'group' % (sid, level_name),
            })
