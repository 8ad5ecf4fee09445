"""Counting arguments, before any search.

A search that cannot place a request finds that out only by trying every
choice (or by running out of budget); most impossible requests are
impossible for a reason that a few counts show: the servers need more of
a resource than the hosts they may use have, more big servers than the
hosts can hold one of, more diversity units than domains, more
exclusivity groups than clean domains, more at-most members than the
domains have room for under k, or no spread of the members that keeps the
skew. The same counts over the hosts already in use give a lower bound on
the new hosts any placement opens, which lets the improvement phase stop
as soon as its placement meets it.

Every argument works on each server's *root mask*: the hosts it may use
before anything is placed (static filters, capacity, and every hard rule
as it stands with the placed servers). Rules only ever shrink those masks
as servers are placed, so a count that fails on them fails for every
placement. Soft rules never rule a host out and are ignored.

``refute`` returns the proofs (empty when none applies), each a dict in
the explanation's format of a group entry (``group``, ``kind``, ``level``,
``reason`` and the numbers), with ``groups``: the request's groups the
argument used (the start of the explanation's conflict set; empty for a
capacity proof, which holds with every group ignored).
"""

import numpy as np

from valet.engine.solver import matching
from valet.engine.solver import size_counts
from valet.engine.solver.rules.base import EPS
from valet.engine.solver.rules import base
from valet.engine.solver.rules import counts
from valet.engine.solver.rules import diversity
from valet.engine.solver.rules import spread
from valet.objects import group_kinds

# ndarray.sum without its Python wrapper (the same reduction).
_ADD = np.add.reduce

CAPACITY = 'capacity'
# Augmenting-path steps a matching may take before it gives up.
MATCH_WORK = 200000
# Diversity groups the new-host bound keeps items apart by (at most).
APART_RULES = 4


def refute(problem, search):
    """Proofs that no placement exists (a list; empty when none holds)."""
    facts = _facts(problem, search)
    found = facts.capacity(facts.free_masks(), problem.usable)
    if found:
        return found
    masks = facts.masks()
    for k, mask in enumerate(masks.unique):
        if not mask.any():
            # The explanation's funnel says which filter emptied it.
            i = int(np.flatnonzero(masks.index == k)[0])
            return [dict(_server_entry(problem, i),
                         groups=facts.rule_groups([i]))]
    hosts = problem.usable
    for check in (facts.diversity, facts.exclusivity, facts.at_most,
                  facts.spread):
        found = check(hosts)
        if found:
            return found
    return []


def lower_bound(problem, search, in_use, enough=None):
    """New hosts every placement opens at least (consolidation).

    ``enough``: the new hosts of a placement found; no bound goes over
    it, so the counts stop once one reaches it (the cheap ones first).
    """
    facts = _facts(problem, search)
    masks = _Masks([m & in_use for m in facts.masks().unique],
                   facts.masks().index)
    bound = 0 if all(m.any() for m in masks.unique) else 1
    empty = problem.usable & ~in_use
    checks = (lambda: facts.exclusivity(in_use, count=True),
              lambda: facts.unit_classes(masks, in_use, empty, enough),
              lambda: facts.size_classes(masks, in_use, empty, enough),
              lambda: facts.diversity(in_use, count=True))
    for check in checks:
        if enough is not None and bound >= enough:
            return bound
        bound = max(bound, check())
    if bound == 0:
        for check in (facts.at_most, facts.spread, facts.affinity):
            if check(in_use):
                return 1
    return bound


def _facts(problem, search):
    """One search's facts, shared by the proofs and the bound (both ask
    at the root, before anything is placed)."""
    facts = getattr(search, '_proof_facts', None)
    if facts is None:
        facts = search._proof_facts = _Facts(problem, search)
        # The explanation asks about the same root (root_facts).
        problem.__dict__.setdefault('_root_facts', facts)
    return facts


def root_facts(problem, options, new_search):
    """The facts the proofs worked out on this problem's root, when its
    search had these options; else on ``new_search()`` (a search whose
    state is the root: nothing placed)."""
    facts = problem.__dict__.get('_root_facts')
    if facts is not None and facts.s.options == options:
        return facts
    return _facts(problem, new_search())


class _Masks:
    """Per server a host mask, stored once per distinct mask."""

    def __init__(self, unique, index):
        self.unique = unique            # distinct masks
        self.index = np.asarray(index, dtype=np.int64)  # server -> mask
        self._rows = None

    def rows(self):
        """``index`` as a list (read server by server)."""
        if self._rows is None:
            self._rows = self.index.tolist()
        return self._rows

    def __getitem__(self, i):
        return self.unique[self.index[i]]

    def __iter__(self):
        return (self.unique[k] for k in self.index)

    def union(self, servers):
        """Hosts in the mask of any of these servers."""
        out = np.zeros(len(self.unique[0]) if self.unique else 0,
                       dtype=bool)
        # sorted(set()): np.unique costs more on a few dozen servers.
        for k in sorted(set(self.index[np.asarray(
                servers, dtype=np.int64)].tolist())):
            out |= self.unique[k]
        return out


def _distinct(per_server):
    """``_Masks`` of per-server masks: masks alike in content are one,
    and servers alike, sharing one array, have its bytes read once."""
    unique, index, content, seen = [], [], {}, {}
    for mask in per_server:
        known = seen.get(id(mask))
        if known is None:
            found = content.setdefault(mask.tobytes(), len(unique))
            if found == len(unique):
                unique.append(mask)
            # The mask kept alive with it: its id stays its own.
            seen[id(mask)] = (found, mask)
        else:
            found = known[0]
        index.append(found)
    return _Masks(unique, index)


def _server_entry(problem, i):
    return {'group': None, 'kind': 'server',
            'level': problem.topology.levels[0],
            'reason': 'server %s has no host left' % problem.server_names(
                [i])}


class _Facts:
    """Root masks and per-domain room, worked out once per question."""

    def __init__(self, problem, search):
        self.p = problem
        self.s = search
        self._masks = None
        self._free_masks = None
        self.room = _room(problem)
        self._levels = {}
        self._kinds = {}
        self._whole = None

    def whole(self):
        """Whether every demand and room is a whole number (the size
        counts' sums are exact in any order: ``size_counts.steps``)."""
        if self._whole is None:
            self._whole = (_room_whole(self.p, self.room)
                           and size_counts.whole(self.p.demand))
        return self._whole

    # ------------------------------------------------------------- masks
    def free_masks(self):
        """Static filters and capacity only (no group rule)."""
        if self._free_masks is None:
            p = self.p
            # Each server's mask as the rules' counts have it (at the
            # root the search's free room is the problem's).
            self._free_masks = _distinct(
                base.member_masks(p, range(len(p.servers))))
        return self._free_masks

    def masks(self):
        """Root masks with every hard rule (shared between alike servers):
        the root's feasible masks (``base.root_feasible``: each static
        and capacity mask with the rules' masks, each of those worked out
        once per rule and mask_key, per problem). Masks alike in content
        are one (the units of a diversity group start alike): the counts
        go once per distinct mask."""
        if self._masks is None:
            if not base.has_hard_rules(self.p):
                self._masks = free = self.free_masks()
                return free
            # The free mask with the hard rules' masks is the root's
            # feasible mask (a soft rule's lets every host through), those
            # the root bounds worked out read as they are.
            self._masks = _distinct(base.root_feasible_all(self.s))
        return self._masks

    def without_host(self):
        """The servers no host is left for before anything is placed."""
        masks = self.masks()
        empty = {k for k, mask in enumerate(masks.unique) if not mask.any()}
        if not empty:
            return []
        return [i for i, k in enumerate(masks.index.tolist()) if k in empty]

    def rule_groups(self, servers):
        """The request's groups whose rules restrict these servers."""
        p = self.p
        names = set()
        for i in servers:
            for c in p.server_rules[i]:
                rule = p.constraints[c]
                if _soft(rule):
                    continue
                if rule.name is not None:
                    names.add(rule.name)
                elif getattr(rule, 'member_of', None) is not None:
                    name = rule.member_of.get(i)
                    if name is not None:
                        names.add(name)
        return sorted(names & set(p.touched_groups))

    # --------------------------------------------------------- capacity
    def capacity(self, masks, hosts):
        """Per resource class and size: the servers of at least that size
        against the room (and the count of them) the hosts they may use
        have. Group rules play no part: this holds with all ignored."""
        p = self.p
        exact = self.whole()
        if exact and size_counts.roomy(p.demand, self.room, masks, hosts):
            return []
        counted = size_counts.class_steps(p.demand, self.room, masks, hosts,
                                          exact=exact)
        for rc, found in zip(p.dc.resource_classes, counted):
            for size, big, total, have, fits in found:
                if total > have + EPS:
                    return [self._capacity_entry(
                        rc, len(big), size, total, have, None)]
                if len(big) > fits:
                    return [self._capacity_entry(
                        rc, len(big), size, total, have, fits)]
        return []

    def _capacity_entry(self, rc, count, size, total, room, fits):
        p = self.p
        if fits is None:
            reason = ('%d servers need %g %s together but the hosts they '
                      'may use have %g free' % (count, total, rc, room))
        else:
            reason = ('%d servers need at least %g %s each but the hosts '
                      'they may use have room for %d such servers' % (
                          count, size, rc, fits))
        return {'group': None, 'kind': CAPACITY,
                'level': p.topology.levels[0], 'reason': reason,
                'resource_class': rc, 'servers': count, 'needs': total,
                'room': room, 'groups': []}

    def size_classes(self, masks, in_use, empty, enough=None):
        """New hosts the size counts force beyond the hosts in use (at
        least ``enough`` once one class's count reaches it)."""
        p = self.p
        bound = 0
        room = self.room
        # Per class the most room an empty host has.
        tops = (room[empty].max(axis=0).tolist() if empty.any()
                else [0.0] * room.shape[1])
        counted = size_counts.class_steps(p.demand, room, masks, in_use,
                                          exact=self.whole())
        for most, found in zip(tops, counted):
            if enough is not None and bound >= enough:
                return bound
            for size, big, total, have, fits in found:
                short = total - have
                if short > EPS:
                    if most <= EPS:
                        return len(p.servers) + 1
                    bound = max(bound, int(np.ceil(short / most - 1e-9)))
                extra = len(big) - fits
                if extra > 0:
                    per = int(np.floor(most / size + EPS))
                    if per <= 0:
                        return len(p.servers) + 1
                    bound = max(bound, -(-extra // per))
        return bound

    def unit_classes(self, masks, in_use, empty, enough=None):
        """``size_classes`` over the servers host affinity holds on one
        host (one item each), where an empty host takes at most the
        smallest items that fit it together and that no diversity group
        keeps apart (two units of one group never share a host)."""
        p = self.p
        items = _host_units(p)
        if len(items) == len(p.servers):
            return 0            # no pair: size_classes counted these
        need = _item_demand(p.demand, items)
        # Per item: its servers' distinct masks (the union grows by them).
        index = masks.rows()
        item_masks = [[index[m[0]]] if len(m) == 1
                      else sorted({index[i] for i in m}) for m in items]
        most = (self.room[empty].max(axis=0) if empty.any()
                else np.zeros(need.shape[1]))
        apart = None
        bound = 0
        counted = size_counts.class_steps(need, self.room, masks, in_use,
                                          item_masks, exact=self.whole())
        for found in counted:
            if enough is not None and bound >= enough:
                return bound
            for size, big, _, _, fits in found:
                extra = len(big) - fits
                if extra <= 0:
                    continue
                if apart is None:
                    apart = self._apart_units(items)
                big = sorted(big.tolist())
                per = self._per_host(need[big], most,
                                     [[u[k] for k in big] for u in apart])
                if per <= 0:
                    return len(p.servers) + 1
                bound = max(bound, -(-extra // per))
        return bound

    def _apart_units(self, items):
        """Per diversity rule the count may use: per item, the unit its
        members are in (None: not in the rule)."""
        apart = []
        for _, rule in self._rules(group_kinds.DIVERSITY):
            if rule.shared or len(apart) >= APART_RULES:
                # Drift lets units share a domain; and a few groups say
                # enough (each costs a pass per unit).
                continue
            apart.append([_unit_of(rule.unit, m) for m in items])
        return apart

    @staticmethod
    def _per_host(need, most, apart):
        """At most how many of these items one host of room ``most``
        takes: per resource the most of the smallest that fit, with, for
        any one diversity group, the items of only one of its units."""
        # Plain lists: a few items and resource classes, summed in the
        # order a running sum of the sorted column adds them.
        # Per resource class its column, and the room of a host.
        columns, caps = need.T.tolist(), most.tolist()

        def fit(rows):
            if not rows:
                return 0
            # Per resource class, the running sum of the sorted demands;
            # each placement may go EPS over.
            slack = EPS * len(rows)
            best = len(rows)
            for column, cap in zip(columns, caps):
                limit, total, fits = cap + slack, 0.0, 0
                for amount in sorted([column[k] for k in rows]):
                    total += amount
                    if total <= limit:
                        fits += 1
                if fits < best:
                    best = fits
            return best

        everyone = list(range(len(need)))
        best = fit(everyone)
        for units in apart:
            free = [k for k in everyone if units[k] is None]
            found = fit(free)
            for u in set(units) - {None}:
                found = max(found, fit(free + [k for k in everyone
                                               if units[k] == u]))
            best = min(best, found)
        return best

    # ------------------------------------------------------------ groups
    def _level(self, level):
        """(host -> domain id, hosts in a domain, domain count) of
        ``level``, once per level (every group count asks)."""
        found = self._levels.get(level)
        if found is None:
            dom = self.p.domain[level]
            found = self._levels[level] = (
                dom, dom >= 0, self.p.dc.domain_count(level))
        return found

    def _domains(self, level, hosts):
        """Per domain of ``level``: whether it has one of ``hosts``."""
        dom, valid, ndom = self._level(level)
        if base.own_domains(self.p, level):
            # Each host its own domain, in host order: the hosts are.
            return hosts & valid
        out = np.zeros(ndom, dtype=bool)
        out[dom[hosts & valid]] = True
        return out

    def _domain_room(self, level, hosts):
        dom, valid, ndom = self._level(level)
        keep = hosts & valid
        where, room = dom[keep], self.room[keep]
        out = np.empty((ndom, room.shape[1]))
        for c in range(room.shape[1]):
            out[:, c] = np.bincount(where, weights=room[:, c],
                                    minlength=ndom)
        return out

    def _hold(self, level, hosts, members):
        """Per domain: at most how many of ``members`` it can take (by the
        smallest member's demand in every resource class)."""
        dom, valid, ndom = self._level(level)
        keep = hosts & valid
        least = np.minimum.reduce(self.p.demand[members], axis=0).tolist()
        hold = np.full(ndom, len(members), dtype=np.int64)
        # The hosts' rows and domains taken once for every class.
        where, room = None, None
        for c, amount in enumerate(least):
            if not amount > EPS:
                continue
            if where is None:
                where, room = dom[keep], self.room[keep]
            per_host = np.floor(room[:, c] / amount + EPS)
            hold = np.minimum(hold, np.bincount(
                where, weights=per_host, minlength=ndom).astype(np.int64))
        return hold

    def _rules(self, kind):
        """(index, rule) of the hard rules of ``kind``, listed once per
        kind (every count and group asks)."""
        found = self._kinds.get(kind)
        if found is None:
            found = self._kinds[kind] = [
                (c, rule) for c, rule in enumerate(self.p.constraints)
                if rule.kind == kind and not _soft(rule)]
        return found

    def diversity(self, hosts, count=False):
        """Units against the domains that can take them (a matching)."""
        p = self.p
        masks = self.masks()
        bound = 0
        # Per distinct mask and level: its hosts here, their domains and
        # (for a unit of one) the domain ids.
        seen = {}
        index = masks.index.tolist()
        for _, rule in self._rules(group_kinds.DIVERSITY):
            units = {}
            for i in rule.members:
                units.setdefault(rule.unit[i], []).append(i)
            options = []
            for unit in sorted(units):
                members = units[unit]
                found = [self._mask_domains(seen, masks, index[i],
                                            rule.level, hosts)
                         for i in members]
                if len(members) == 1:
                    options.append(found[0][2])
                    continue
                ok = found[0][1]
                where = np.zeros(p.slots, dtype=bool)
                for mask, doms, _ in found:
                    where |= mask
                    ok = ok & doms
                need = _ADD(p.demand[members], axis=0)
                room = self._domain_room(rule.level, where)
                ok &= (room >= need - EPS).all(axis=1)
                options.append(ok.nonzero()[0])
            matched = _matching(options)
            if matched is None or matched >= len(options):
                continue
            if count:
                bound = max(bound, len(options) - matched)
                continue
            level = p.topology.levels[rule.level]
            entry = {
                'group': rule.name, 'kind': rule.kind, 'level': level,
                'reason': '%d members (%s) need different %ss but the %ss '
                          'that can take them hold at most %d of them '
                          'apart' % (len(options),
                                     p.server_names(rule.members), level,
                                     level, matched),
                'units': len(options), 'domains': int(matched),
                'groups': self.rule_groups(rule.members)}
            recount = self._diversity_recount(rule, hosts)
            if recount is not None:
                entry['recount'] = recount
            return [entry]
        return bound if count else []

    def _mask_domains(self, seen, masks, k, level, hosts):
        """(hosts, domains, domain ids) of distinct mask k on ``hosts``,
        once per mask and level (``seen``: of one question's hosts)."""
        found = seen.get((k, level))
        if found is None:
            mask = masks.unique[k] & hosts
            doms = self._domains(level, mask)
            found = seen[(k, level)] = (mask, doms, doms.nonzero()[0])
        return found

    def _diversity_recount(self, rule, hosts):
        """``recount(kept)`` for a diversity refusal: whether the count
        still refuses with only the groups ``kept`` (the conflict set is
        reduced with it instead of a search per group); None when the
        count cannot say.

        Only for singleton units and no nesting: then ignoring a group
        changes no other group's members, and each member's hosts are at
        most its static filters, capacity and, if its exclusivity group
        is kept, the domains without outsiders (a superset of what a
        recheck's rules leave it, so a refusal here is one there).
        """
        p = self.p
        if p.children or len(set(rule.unit.values())) < len(rule.members):
            return None
        free = self.free_masks()
        # Per member: (its exclusivity group, the domains without
        # outsiders) of each level, worked out once per group.
        exclusive, clean_of = {}, {}
        for i in rule.members:
            for c in p.server_rules[i]:
                other = p.constraints[c]
                if other.kind != group_kinds.EXCLUSIVITY:
                    continue
                name = other.member_of.get(i)
                if name is not None:
                    # Its domain holds no outsider (placed servers, not
                    # the request's, which come and go with the groups).
                    clean = clean_of.get(name)
                    if clean is None:
                        safe, _ = p.domain_index(other.level)
                        clean = clean_of[name] = (
                            other.total - other.count[name])[safe] == 0
                    exclusive.setdefault(i, []).append((name, clean))
        known, domains = {}, {}

        def options(i, kept):
            """The domains member i may use with only ``kept`` groups
            (once per free mask and kept exclusivity groups)."""
            mine = exclusive.get(i, ())
            key = (free.index[i], tuple(n for n, _ in mine if n in kept))
            found = domains.get(key)
            if found is None:
                mask = free[i] & hosts
                for name, clean in mine:
                    if name in kept:
                        mask = mask & clean
                found = domains[key] = self._domains(
                    rule.level, mask).nonzero()[0]
            return found

        def recount(kept):
            kept = frozenset(kept)
            if rule.name not in kept:
                return False
            found = known.get(kept)
            if found is None:
                choices = [options(i, kept) for i in rule.members]
                matched = _matching(choices)
                found = known[kept] = (matched is not None
                                       and matched < len(choices))
            return found
        return recount

    def exclusivity(self, hosts, count=False):
        """Exclusivity groups against the clean domains: distinct groups
        need distinct domains, and a group needs as many as a diversity
        group (at its level or above) has units among its members."""
        p = self.p
        masks = self.masks()
        bound = 0
        for _, rule in self._rules(group_kinds.EXCLUSIVITY):
            by_group = {}
            for i, name in rule.member_of.items():
                by_group.setdefault(name, []).append(i)
            options, names = [], []
            for name in sorted(by_group):
                members = by_group[name]
                where = masks.union(members) & hosts
                doms = self._domains(rule.level, where).nonzero()[0]
                need = self._apart(members, rule.level)
                options.extend([doms] * need)
                names.append(name)
            matched = _matching(options)
            if matched is None or matched >= len(options):
                continue
            if count:
                bound = max(bound, len(options) - matched)
                continue
            level = p.topology.levels[rule.level]
            members = sorted(i for ms in by_group.values() for i in ms)
            return [{
                'group': names[0] if len(names) == 1 else ', '.join(names),
                'kind': rule.kind, 'level': level,
                'reason': 'the members (%s) need %d %ss of their own but '
                          'only %d %ss without other servers can take '
                          'them' % (p.server_names(members), len(options),
                                    level, matched, level),
                'domains_needed': len(options), 'domains': int(matched),
                'groups': self.rule_groups(members)}]
        return bound if count else []

    def _apart(self, members, level):
        """Distinct domains of ``level`` the members need at least."""
        need = 1
        inside = set(members)
        for _, rule in self._rules(group_kinds.DIVERSITY):
            if rule.level < level:
                continue
            units = {rule.unit[i] for i in rule.members if i in inside}
            need = max(need, len(units))
        return need

    def at_most(self, hosts, count=False):
        """Members against the room under k of the domains they may use."""
        p = self.p
        masks = self.masks()
        for _, rule in self._rules(group_kinds.AT_MOST):
            where = masks.union(rule.members) & hosts
            doms = self._domains(rule.level, where)
            hold = self._hold(rule.level, where, rule.members)
            room = np.minimum(hold, np.maximum(
                rule.limit - rule.placed, 0))[doms].sum()
            if len(rule.members) <= room:
                continue
            level = p.topology.levels[rule.level]
            return [{
                'group': rule.name, 'kind': rule.kind, 'level': level,
                'reason': '%d members (%s) may be at most %d per %s but '
                          'the %ss that can take any of them have room for '
                          '%d more' % (len(rule.members),
                                       p.server_names(rule.members),
                                       rule.limit, level, level, room),
                'members': len(rule.members), 'max_per_domain': rule.limit,
                'domains': int(doms.sum()), 'room': int(room),
                'groups': self.rule_groups(rule.members)}]
        return []

    def spread(self, hosts, count=False):
        """Whether the members can end with every eligible domain within
        max_skew of the fullest one that takes a member (counts only)."""
        p = self.p
        masks = self.masks()
        for _, rule in self._rules(group_kinds.SPREAD):
            where = masks.union(rule.members) & hosts
            take = self._domains(rule.level, where)
            hold = np.where(take, self._hold(rule.level, where,
                                             rule.members), 0)
            if spread.fits(rule.placed, rule.eligible, take, hold,
                           rule.skew, len(rule.members),
                           self._largest_unit(rule)):
                continue
            level = p.topology.levels[rule.level]
            return [{
                'group': rule.name, 'kind': rule.kind, 'level': level,
                'reason': 'the %d members (%s) cannot be spread over the '
                          '%ss with room for them so that no %s is more '
                          'than %d ahead of the emptiest' % (
                              len(rule.members),
                              p.server_names(rule.members), level, level,
                              rule.skew),
                'members': len(rule.members), 'max_skew': rule.skew,
                'domains': int(take.sum()),
                'groups': self.rule_groups(rule.members)}]
        return []

    def _largest_unit(self, rule):
        """The most members of ``rule`` that affinity groups at its level
        or below hold in one domain."""
        keys = [('new', i) for i in rule.members]
        units = diversity._units(keys, self.p, rule.level)
        sizes = {}
        for key in keys:
            sizes[units[key]] = sizes.get(units[key], 0) + 1
        return max(sizes.values()) if sizes else 0

    def affinity(self, hosts, count=False):
        """Affinity groups no single domain can hold on ``hosts``."""
        p = self.p
        masks = self.masks()
        seen = {}
        for _, rule in self._rules(group_kinds.AFFINITY):
            where = np.zeros(p.slots, dtype=bool)
            ok = None
            for k in sorted(set(masks.index[rule.members].tolist())):
                mask, doms, _ = self._mask_domains(seen, masks, k,
                                                   rule.level, hosts)
                where |= mask
                ok = doms if ok is None else ok & doms
            if ok is not None and ok.any():
                # A domain all members may use: has it room for them?
                need = _ADD(p.demand[rule.members], axis=0)
                room = self._domain_room(rule.level, where)
                if (ok & (room >= need - EPS).all(axis=1)).any():
                    continue
            return [{'group': rule.name, 'kind': rule.kind,
                     'groups': self.rule_groups(rule.members)}]
        return []


def _room(problem):
    """Per host its free room, never below zero: the model's alone when
    nothing moves (then once per model generation; read-only)."""
    if problem.moving:
        return np.maximum(problem.free, 0)
    cache = problem.cached('proof_room')
    found = cache.get('room')
    if found is None:
        found = cache['room'] = np.maximum(problem.free, 0)
        found.flags.writeable = False
    return found


def _room_whole(problem, room):
    """``size_counts.whole(room)``, kept with the model's room."""
    if problem.moving:
        return size_counts.whole(room)
    cache = problem.cached('proof_room')
    found = cache.get('whole')
    if found is None or found[0] is not room:
        found = cache['whole'] = (room, size_counts.whole(room))
    return found[1]


def _host_units(problem):
    """The request's servers as lists host affinity holds on one host,
    largest first."""
    return counts.units(problem, problem.closures,
                        range(len(problem.servers)), 0)


def _unit_of(unit, members):
    """The unit of the first of ``members`` in ``unit`` (None: none is)."""
    for i in members:
        found = unit.get(i)
        if found is not None:
            return found
    return None


def _item_demand(demand, items):
    """Per item (a list of servers) the demand of its servers together
    (a singleton's row as it is)."""
    need = demand[[m[0] for m in items]]
    for k, m in enumerate(items):
        if len(m) > 1:
            need[k] = _ADD(demand[m], axis=0)
    return need


def _matching(options):
    return matching.largest(options, MATCH_WORK)


def _soft(rule):
    return bool(getattr(rule, 'soft', False))
