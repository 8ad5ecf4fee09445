"""The independent validator: does a placement obey the contract?

It checks a decision against ``doc/source/contributor/placement-semantics.rst``
with plain Python and on purpose shares no code with the solver (it imports
nothing else from ``valet.engine.solver`` and no numpy), so that a bug in the
solver's fast paths cannot hide itself. It favours being obviously right over
being fast.

Only what the decision did is judged: capacity on hosts where it added
something, and group rules on servers it placed or moved (or, in an update,
servers that joined a group). Earlier drift is tolerated as the contract
says.

Soft groups (preferences) are never violations of the contract: their
violations are counted (``soft_violations``) and a decision that reports
other counts is caught by ``check_objective``.
"""

import collections
import dataclasses

from valet.engine.model import extra_specs as extra_specs_mod
from valet.engine.model import groups as groups_mod
from valet.engine.model import request as request_mod

TOLERANCE = 1e-6
_MOVING = (request_mod.REPLAN, request_mod.MIGRATE)


@dataclasses.dataclass(frozen=True)
class Violation:
    """One broken rule; ``servers`` are the ones the decision is blamed for."""

    code: str
    message: str
    servers: tuple = ()
    group: str | None = None

    def __str__(self):
        return '%s: %s' % (self.code, self.message)


@dataclasses.dataclass
class _Server:
    host: str
    demand: dict
    groups: tuple


def validate(dc, request, assignment, removed=()):
    """Every violation of the contract by ``assignment`` (empty: valid).

    ``dc`` is the model before the decision, ``assignment`` maps server ids
    to host names and ``removed`` lists servers the decision drops.
    """
    return _Validation(dc, request, assignment, removed).run()


def soft_violations(dc, request, assignment, removed=()):
    """``{group: {'kind', 'level', 'weight', 'violations'}}`` of every soft
    group with a member in ``assignment``, counted after the decision."""
    validation = _Validation(dc, request, assignment, removed)
    validation.run()
    return validation.soft


def check_objective(dc, request, decision):
    """Violations (code ``soft_count``) where a feasible decision's
    objective reports other soft violations than the placement has."""
    if not decision.feasible:
        return []
    counted = soft_violations(dc, request, decision.assignment,
                              decision.removed)
    objective = decision.objective or {}
    reported = objective.get('soft', {})
    found = []
    for name in sorted(set(counted) | set(reported)):
        mine = counted.get(name, {}).get('violations')
        theirs = (reported.get(name) or {}).get('violations')
        if mine != theirs:
            found.append(Violation(
                'soft_count', 'soft group %s: the decision reports %s '
                'violations, the placement has %s' % (name, theirs, mine),
                group=name))
    total = sum(entry['weight'] * entry['violations']
                for entry in counted.values())
    if objective.get('soft_violations', 0) != total:
        found.append(Violation(
            'soft_count', 'the decision reports %s weighted soft '
            'violations, the placement has %d' % (
                objective.get('soft_violations'), total)))
    return found


def assert_valid(dc, request, assignment, removed=()):
    violations = validate(dc, request, assignment, removed)
    if violations:
        raise AssertionError('invalid placement:\n' + '\n'.join(
            '  ' + str(v) for v in violations))


class _Validation:

    def __init__(self, dc, request, assignment, removed):
        self.dc = dc
        self.request = request
        self.assignment = dict(assignment)
        self.removed = set(removed)
        self.violations = []
        # Request definitions re-state or add to the model's.
        self.defs = dict(dc.groups)
        self.defs.update({g.name: g for g in request.groups})
        self.requested = {r.id: r for r in request.servers}
        self.after = {}
        self.fresh = set()       # placed by the decision or moved by it
        self.eligible_cache = {}  # spread: filters -> eligible domains
        self.soft = {}           # soft group -> its counted violations

    def add(self, code, message, servers=(), group=None):
        self.violations.append(
            Violation(code, message, tuple(sorted(servers)), group))

    def run(self):
        self._build_after_state()
        self._check_unassigned()
        self._check_static()
        self._check_capacity()
        self._check_groups()
        return self.violations

    # ------------------------------------------------------------ after-state
    def _build_after_state(self):
        for sid, server in self.dc.servers.items():
            if sid not in self.removed:
                self.after[sid] = _Server(server.host, dict(server.demand),
                                          tuple(server.groups))
        for sid in sorted(self.assignment):
            host = self.assignment[sid]
            wanted = self.requested.get(sid)
            prior = self.after.get(sid)
            if wanted is None and prior is None:
                self.add('unknown_server',
                         'server %s is neither requested nor placed' % sid,
                         [sid])
                continue
            if host not in self.dc.hosts:
                self.add('unknown_host', 'server %s is assigned to unknown '
                         'host %s' % (sid, host), [sid])
                # It lands nowhere, so no other rule can say anything of it.
                self.after.pop(sid, None)
                continue
            source = wanted if wanted is not None else prior
            if prior is None or prior.host != host:
                self.fresh.add(sid)
            self.after[sid] = _Server(host, dict(source.demand),
                                      tuple(source.groups))

    def _check_unassigned(self):
        if self.request.kind in _MOVING:
            target = self.request.target
            if target not in self.dc.servers:
                self.add('unknown_server', '%s target %s is not a placed '
                         'server' % (self.request.kind, target), [target])
            elif target not in self.assignment:
                self.add('unassigned', '%s target %s has no host' % (
                    self.request.kind, target), [target])
            return
        for sid in sorted(self.requested):
            if sid not in self.assignment:
                self.add('unassigned', 'server %s has no host' % sid, [sid])

    # ----------------------------------------------------------- static rules
    def _check_static(self):
        for sid in sorted(self.assignment):
            if sid not in self.after:
                continue
            name = self.after[sid].host
            host = self.dc.hosts[name]
            if sid in self.fresh and not host.enabled:
                self.add('disabled_host', 'server %s is assigned to disabled '
                         'host %s' % (sid, name), [sid])
            wanted = self.requested.get(sid)
            if wanted is not None:
                self._check_filters(sid, wanted, host)
        if self.request.kind in _MOVING:
            self._check_target()

    def _check_filters(self, sid, wanted, host):
        zone = (wanted.availability_zone or '').split(':', 1)[0]
        if zone and host.availability_zone != zone:
            self.add('availability_zone', 'server %s wants zone %s, host %s '
                     'is in %s' % (sid, zone, host.name,
                                   host.availability_zone), [sid])
        self._check_host_lists(sid, host.name, wanted.candidate_hosts,
                               wanted.excluded_hosts)
        ok, reason = extra_specs_mod.host_passes(
            wanted.extra_specs, host.aggregates, host.traits)
        if not ok:
            self.add('extra_specs', 'server %s on host %s: %s' % (
                sid, host.name, reason), [sid])

    def _check_host_lists(self, sid, host, candidates, excluded):
        if candidates is not None and host not in candidates:
            self.add('candidate_hosts', 'server %s is on host %s, not one of '
                     'its candidates' % (sid, host), [sid])
        if host in (excluded or ()):
            self.add('excluded_hosts', 'server %s is on excluded host %s' % (
                sid, host), [sid])

    def _check_target(self):
        target = self.request.target
        if target not in self.after or target not in self.assignment:
            return
        host = self.after[target].host
        self._check_host_lists(target, host, self.request.candidate_hosts,
                               self.request.excluded_hosts)
        if (self.request.kind == request_mod.MIGRATE
                and host == self.dc.servers[target].host):
            self.add('excluded_hosts', 'migrated server %s stays on its host '
                     '%s' % (target, host), [target])

    # --------------------------------------------------------------- capacity
    def _check_capacity(self):
        touched = set()
        for sid in self.fresh:
            touched.add(self.after[sid].host)
        for sid, server in self.after.items():
            before = self.dc.servers.get(sid)
            if sid in self.fresh or before is None:
                continue
            # A server kept in place but grown (an update's resize) adds too.
            if any(amount > before.demand.get(rc, 0) + TOLERANCE
                   for rc, amount in server.demand.items()):
                touched.add(server.host)
        load = collections.defaultdict(lambda: collections.defaultdict(float))
        on_host = collections.defaultdict(list)
        for sid, server in self.after.items():
            if server.host in touched:
                on_host[server.host].append(sid)
                for rc, amount in server.demand.items():
                    load[server.host][rc] += amount
        for name in sorted(touched):
            spec = self.dc.hosts[name]
            for rc in sorted(load[name]):
                used, usable = load[name][rc], spec.usable(rc)
                if used > usable + TOLERANCE:
                    blamed = [s for s in on_host[name] if s in self.fresh]
                    self.add('capacity', 'host %s: %s demand %g exceeds '
                             'usable %g' % (name, rc, used, usable),
                             blamed or on_host[name])

    # ----------------------------------------------------------------- groups
    def _level_index(self, group):
        if group.level not in self.dc.topology:
            return None
        return self.dc.topology.index(group.level)

    def _domain(self, sid, level):
        host = self.after[sid].host
        return host if level == 'host' else self.dc.hosts[host].domains[level]

    def _memberships(self, servers):
        """Server id -> every group it belongs to (closure + inheritance)."""
        member = {sid: self._closure(s.groups) for sid, s in servers.items()}
        affinities = [g for g in self.defs.values()
                      if g.kind == groups_mod.AFFINITY
                      and self._level_index(g) is not None]
        changed = True
        while changed:
            changed = False
            index = _invert(member)
            for aff in affinities:
                level = self._level_index(aff)
                inside = index.get(aff.name, ())
                dedicated = set()
                for sid in inside:
                    for name in member[sid]:
                        group = self.defs.get(name)
                        if (group is not None
                                and group.kind == groups_mod.EXCLUSIVITY
                                and self._level_index(group) is not None
                                and self._level_index(group) >= level):
                            dedicated.add(name)
                if not dedicated:
                    continue
                dedicated = self._closure(dedicated)
                for sid in inside:
                    if not dedicated <= member[sid]:
                        member[sid] = member[sid] | dedicated
                        changed = True
        return member

    def _closure(self, names):
        seen, stack = set(), list(names)
        while stack:
            name = stack.pop()
            if name not in seen:
                seen.add(name)
                group = self.defs.get(name)
                stack.extend(group.parents if group is not None else ())
        return seen

    def _check_groups(self):
        before = {sid: _Server(s.host, s.demand, tuple(s.groups))
                  for sid, s in self.dc.servers.items()}
        self.was_member = self._memberships(before)
        self.members = collections.defaultdict(set)
        self.members.update(_invert(self._memberships(self.after)))
        self.by_domain = {}
        for name in sorted(self.defs):
            group = self.defs[name]
            if self._level_index(group) is None or not self.members[name]:
                continue
            if group.kind == groups_mod.AFFINITY:
                self._check_affinity(group)
            elif group.kind == groups_mod.DIVERSITY:
                self._check_diversity(group)
            elif group.kind == groups_mod.EXCLUSIVITY:
                self._check_exclusivity(group)
            elif group.kind == groups_mod.AT_MOST:
                self._check_at_most(group)
            elif group.kind == groups_mod.SPREAD:
                self._check_spread(group)
            elif group.kind == groups_mod.SOFT_AFFINITY:
                self._check_soft_affinity(group)
            elif group.kind == groups_mod.SOFT_DIVERSITY:
                self._check_soft_diversity(group)

    def _is_old(self, sid, name):
        """Placed before, not moved, and already a member of the group."""
        return sid not in self.fresh and name in self.was_member.get(sid, ())

    def _servers_by_domain(self, level):
        if level not in self.by_domain:
            found = collections.defaultdict(set)
            for sid in self.after:
                found[self._domain(sid, level)].add(sid)
            self.by_domain[level] = found
        return self.by_domain[level]

    def _check_affinity(self, group):
        members = self.members[group.name]
        old = {s for s in members if self._is_old(s, group.name)}
        new = members - old
        if not new:
            return
        old_domains = {self._domain(s, group.level) for s in old}
        new_domains = {self._domain(s, group.level) for s in new}
        if len(new_domains) > 1:
            problem = 'are spread over %s' % ', '.join(sorted(new_domains))
        elif old_domains and not new_domains <= old_domains:
            problem = 'are in %s, not with the others in %s' % (
                ', '.join(new_domains), ', '.join(sorted(old_domains)))
        else:
            return
        self.add('affinity', 'affinity group %s (%s): servers %s %s' % (
            group.name, group.level, ', '.join(sorted(new)), problem),
            new, group.name)

    def _units(self, group):
        """Members of a diversity group -> unit id (a representative)."""
        level = self._level_index(group)
        parent = {}

        def find(sid):
            while parent.setdefault(sid, sid) != sid:
                parent[sid] = parent[parent[sid]]
                sid = parent[sid]
            return sid

        # Chains may run through servers outside the group: affinity pulls
        # them all into one domain just the same.
        for aff in self.defs.values():
            aff_level = self._level_index(aff)
            if (aff.kind != groups_mod.AFFINITY or aff_level is None
                    or aff_level > level):
                continue
            linked = sorted(self.members[aff.name])
            for sid in linked[1:]:
                parent[find(sid)] = find(linked[0])
        return {sid: find(sid) for sid in self.members[group.name]}

    def _check_diversity(self, group):
        unit_of = self._units(group)
        by_domain = collections.defaultdict(lambda: collections.defaultdict(set))
        for sid, unit in unit_of.items():
            by_domain[self._domain(sid, group.level)][unit].add(sid)
        for domain in sorted(by_domain):
            units = by_domain[domain]
            if len(units) < 2:
                continue
            # A unit with an old member here was already in this domain:
            # drift among such units is tolerated, newcomers are not.
            newcomers = [servers for servers in units.values()
                         if not any(self._is_old(s, group.name)
                                    for s in servers)]
            if not newcomers:
                continue
            blamed = set().union(*newcomers)
            self.add('diversity', 'diversity group %s (%s): servers %s share '
                     '%s with another unit' % (
                         group.name, group.level, ', '.join(sorted(blamed)),
                         domain), blamed, group.name)

    def _check_exclusivity(self, group):
        by_domain = self._servers_by_domain(group.level)
        inside = self.members[group.name]
        for domain in sorted({self._domain(s, group.level) for s in inside}):
            here = by_domain[domain]
            ours, others = here & inside, here - inside
            if not ours or not others:
                continue
            new_ours = {s for s in ours if not self._is_old(s, group.name)}
            # An outsider is the decision's doing when it was put here or
            # left the group (an update changing its groups).
            new_others = {s for s in others if s in self.fresh
                          or group.name in self.was_member.get(s, ())}
            if new_ours:
                blamed = new_ours | others
            elif new_others:
                blamed = new_others
            else:
                continue
            self.add('exclusivity', 'exclusivity group %s (%s): %s holds '
                     'members %s and non-members %s' % (
                         group.name, group.level, domain,
                         ', '.join(sorted(ours)), ', '.join(sorted(others))),
                     blamed, group.name)

    def _check_at_most(self, group):
        limit = group.max_per_domain
        by_domain = collections.defaultdict(set)
        for sid in self.members[group.name]:
            by_domain[self._domain(sid, group.level)].add(sid)
        for domain in sorted(by_domain):
            here = by_domain[domain]
            # Drift among old members is tolerated; a newcomer must find
            # the domain at or under the limit with it counted.
            newcomers = {s for s in here if not self._is_old(s, group.name)}
            if newcomers and (limit is None or len(here) > limit):
                self.add('at-most', 'at-most group %s (%s, at most %s): %s '
                         'holds %d members %s' % (
                             group.name, group.level, limit, domain,
                             len(here), ', '.join(sorted(here))),
                         newcomers, group.name)

    def _check_spread(self, group):
        members = self.members[group.name]
        newcomers = {s for s in members if not self._is_old(s, group.name)}
        if not newcomers:
            return
        # Eligible domains: where a requested member passes its static
        # filters (not capacity); the emptiest of them sets the floor.
        eligible = set()
        for sid in members:
            wanted = self.requested.get(sid)
            if wanted is not None:
                eligible |= self._eligible_domains(sid, wanted, group.level)
        count = collections.Counter(
            self._domain(s, group.level) for s in members)
        floor = min((count.get(d, 0) for d in eligible), default=0)
        for domain in sorted({self._domain(s, group.level)
                              for s in newcomers}):
            if count[domain] - floor > group.max_skew:
                here = {s for s in newcomers
                        if self._domain(s, group.level) == domain}
                self.add('spread', 'spread group %s (%s, max skew %s): %s '
                         'holds %d members, the emptiest eligible %s %d' % (
                             group.name, group.level, group.max_skew,
                             domain, count[domain], group.level, floor),
                         here, group.name)

    def _soft_count(self, group):
        """Members per domain of a soft group the decision placed a
        member of (None otherwise)."""
        members = self.members[group.name]
        if not any(s in self.assignment for s in members):
            return None
        return collections.Counter(
            self._domain(s, group.level) for s in members)

    def _note_soft(self, group, violations):
        self.soft[group.name] = {
            'kind': group.kind, 'level': group.level,
            'weight': 1 if group.weight is None else group.weight,
            'violations': violations}

    def _check_soft_affinity(self, group):
        # Members outside the most populated domain; never an error.
        count = self._soft_count(group)
        if count is not None:
            self._note_soft(group, sum(count.values()) -
                            max(count.values()))

    def _check_soft_diversity(self, group):
        # Members beyond one per domain used; never an error.
        count = self._soft_count(group)
        if count is not None:
            self._note_soft(group, sum(count.values()) - len(count))

    def _host_domain(self, host, level):
        return host if level == 'host' else self.dc.hosts[host].domains[
            level]

    def _eligible_domains(self, sid, wanted, level):
        """Domains with a host the server passes the static filters of."""
        zone = (wanted.availability_zone or '').split(':', 1)[0]
        candidates = wanted.candidate_hosts
        excluded = set(wanted.excluded_hosts or ())
        if sid == self.request.target:
            if self.request.candidate_hosts is not None:
                candidates = self.request.candidate_hosts
            excluded |= set(self.request.excluded_hosts or ())
            if self.request.kind == request_mod.MIGRATE:
                excluded.add(self.dc.servers[sid].host)
        key = (level, zone, None if candidates is None else frozenset(
            candidates), frozenset(excluded),
            tuple(sorted((wanted.extra_specs or {}).items())))
        cache = self.eligible_cache
        if key not in cache:
            found = set()
            for name, host in self.dc.hosts.items():
                if (not host.enabled
                        or (zone and host.availability_zone != zone)
                        or (candidates is not None
                            and name not in candidates)
                        or name in excluded):
                    continue
                if extra_specs_mod.host_passes(
                        wanted.extra_specs, host.aggregates,
                        host.traits)[0]:
                    found.add(self._host_domain(name, level))
            cache[key] = found
        return cache[key]


def _invert(member):
    """Server id -> groups, as group -> set of server ids."""
    index = collections.defaultdict(set)
    for sid, names in member.items():
        for name in names:
            index[name].add(sid)
    return index
