"""What the baselines need from a model and a request, worked out once.

Only the benchmark's baselines (greedy, original, exact) use this view.
The engine's solver and its validator never do, so the comparison stays
independent of valet's own code. It follows
``doc/source/contributor/placement-semantics.rst`` for ``create`` and
``adhoc`` requests (the kinds the benchmark sends).
"""

import numpy as np

from valet.engine.model import extra_specs
from valet.engine.model import groups as g

EPS = 1e-6
# Preferences: counted in the objective, never a constraint.
# (Spelled out: bench.solver_compare imports this module beside older
# trees whose vocabulary lacks newer kinds.)
SOFT_KINDS = ('soft-affinity', 'soft-diversity')


class Rule:
    """One group as the baselines see it (request side plus placed side)."""

    def __init__(self, name, kind, level, members):
        self.name = name
        self.kind = kind
        self.level = level          # level index
        self.members = members      # request server indices
        self.allowed = None         # affinity: domains of placed members
        self.unit = {}              # diversity: request index -> unit key
        self.placed_units = {}      # diversity: domain -> set of unit keys
        self.limit = None           # at-most: members allowed per domain
        self.skew = None            # spread: max skew
        self.placed_count = {}      # at-most, spread, soft: domain ->
        #                             placed members
        self.weight = None          # soft: what one violation costs


class View:
    """Hosts as arrays, servers as demand rows, groups as rules."""

    def __init__(self, dc, request, rules=True):
        arrays = dc.arrays()
        slots = np.flatnonzero(arrays.present)
        self.dc = dc
        self.request = request
        self.levels = tuple(dc.topology.levels)
        self.slots = slots
        self.names = [dc.host_name(int(s)) for s in slots]
        self.index = {name: i for i, name in enumerate(self.names)}
        self.rcs = list(dc.resource_classes)
        self.capacity = arrays.capacity[slots].copy()
        self.free = self.capacity - arrays.used[slots]
        self.enabled = arrays.enabled[slots].copy()
        self.count = arrays.count[slots].copy()
        self.was_empty = self.count == 0
        self.domain = arrays.domain[:, slots].copy()
        # At host level a domain is the host: use the compact host index.
        self.domain[0] = np.arange(len(slots))
        self.n_domains = [len(slots)] + [
            dc.domain_count(li) for li in range(1, len(self.levels))]
        self.servers = list(request.servers)
        self.groups = dict(dc.groups)
        self.groups.update({grp.name: grp for grp in request.groups})
        self.demand = np.zeros((len(self.servers), len(self.rcs)))
        self.unknown = []
        for i, server in enumerate(self.servers):
            self.demand[i], missing = dc.demand_vector(server.demand)
            self.unknown.append(bool(missing))
        self.closure = [self.closure_of(s.groups) for s in self.servers]
        self._placed_closure = {}
        self.extra_members = {}      # exclusivity group -> inherited placed ids
        self._inherit()
        self.static = self._static_mask()
        if not rules:
            # Greedy needs hosts and static filters only.
            return
        self.rules = self._rules()
        self.affinity = [x for x in self.rules if x.kind == g.AFFINITY]
        self.diversity = [x for x in self.rules if x.kind == g.DIVERSITY]
        self.at_most = [x for x in self.rules if x.kind == 'at-most']
        self.spread = [x for x in self.rules if x.kind == 'spread']
        self.soft = [x for x in self.rules if x.kind in SOFT_KINDS]
        self._exclusivity()
        self.group_mask = self._group_mask()

    # ------------------------------------------------------------- groups
    def level_of(self, name):
        return self.levels.index(self.groups[name].level)

    def kind_of(self, name):
        return self.groups[name].kind

    def closure_of(self, names):
        return set(g.closure(names, self.groups))

    def placed_closure(self, sid):
        found = self._placed_closure.get(sid)
        if found is None:
            found = self.closure_of(self.dc.servers[sid].groups)
            self._placed_closure[sid] = found
        return found

    def placed_members(self, name):
        return self.dc.group_servers(name) | self.extra_members.get(
            name, set())

    def _inherit(self):
        # A whole affinity group joins an exclusivity group one of its
        # members is in, when the exclusivity level is not lower.
        changed = True
        while changed:
            changed = False
            affs = sorted({n for c in self.closure for n in c
                           if n in self.groups
                           and self.kind_of(n) == g.AFFINITY})
            for aff in affs:
                la = self.level_of(aff)
                members = [i for i, c in enumerate(self.closure) if aff in c]
                placed = self.dc.group_servers(aff)
                found = set()
                for c in [self.closure[i] for i in members] + [
                        self.placed_closure(p) for p in placed]:
                    found |= {n for n in c if n in self.groups
                              and self.kind_of(n) == g.EXCLUSIVITY
                              and self.level_of(n) >= la}
                for ex in found:
                    extra = self.extra_members.setdefault(ex, set())
                    if not placed <= extra:
                        extra |= placed
                for i in members:
                    if not found <= self.closure[i]:
                        self.closure[i] |= found
                        changed = True

    def _rules(self):
        names = sorted({n for c in self.closure for n in c
                        if n in self.groups})
        rules = []
        for name in names:
            grp = self.groups[name]
            members = [i for i, c in enumerate(self.closure) if name in c]
            rule = Rule(name, grp.kind, self.level_of(name), members)
            dom = self.domain[rule.level]
            placed = sorted(self.placed_members(name))
            hosts = [self.index[self.dc.servers[p].host] for p in placed]
            if grp.kind == g.AFFINITY and hosts:
                rule.allowed = {int(dom[h]) for h in hosts}
            elif grp.kind == g.DIVERSITY:
                keys = self._units(rule, placed)
                rule.unit = {i: keys[('r', i)] for i in members}
                for p, h in zip(placed, hosts):
                    rule.placed_units.setdefault(int(dom[h]), set()).add(
                        keys[('p', p)])
            elif grp.kind in ('at-most', 'spread') + SOFT_KINDS:
                rule.limit = grp.max_per_domain
                rule.skew = grp.max_skew
                if grp.kind in SOFT_KINDS:
                    rule.weight = 1 if grp.weight is None else grp.weight
                for h in hosts:
                    d = int(dom[h])
                    rule.placed_count[d] = rule.placed_count.get(d, 0) + 1
            rules.append(rule)
        return rules

    def _units(self, rule, placed):
        """Unit key of every member: linked by affinity groups of level
        not above the diversity group's."""
        parent = {}

        def find(k):
            parent.setdefault(k, k)
            while parent[k] != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k

        def link(key, closure):
            find(key)
            for n in closure:
                if (n in self.groups and self.kind_of(n) == g.AFFINITY
                        and self.level_of(n) <= rule.level):
                    parent[find(key)] = find(('a', n))

        for i in rule.members:
            link(('r', i), self.closure[i])
        for p in placed:
            link(('p', p), self.placed_closure(p))
        keys = [('r', i) for i in rule.members] + [('p', p) for p in placed]
        return {k: find(k) for k in keys}

    def _exclusivity(self):
        """Placed state of every exclusivity level, per domain."""
        self.ex_levels = {}
        ex_names = sorted(n for n, grp in self.groups.items()
                          if grp.kind == g.EXCLUSIVITY)
        for name in ex_names:
            li = self.level_of(name)
            state = self.ex_levels.get(li)
            if state is None:
                dom = self.domain[li]
                state = self.ex_levels[li] = {
                    'total': np.bincount(dom, weights=self.count,
                                         minlength=self.n_domains[li]),
                    'count': {}, 'any': np.zeros(self.n_domains[li]),
                    'any_ids': set(), 'member_of': {}}
            count = np.zeros(self.n_domains[li])
            for p in self.placed_members(name):
                d = self.domain[li][self.index[self.dc.servers[p].host]]
                count[d] += 1
                if p not in state['any_ids']:
                    state['any_ids'].add(p)
                    state['any'][d] += 1
            state['count'][name] = count
        for i, c in enumerate(self.closure):
            for name in c:
                if name in self.groups and self.kind_of(name) == \
                        g.EXCLUSIVITY:
                    self.ex_levels[self.level_of(name)]['member_of'][i] = name

    # ------------------------------------------------------------- masks
    def _static_mask(self):
        n_s, n_h = len(self.servers), len(self.names)
        mask = np.zeros((n_s, n_h), dtype=bool)
        # Static filters without capacity: where a server may ever go
        # (spread groups count those domains).
        self.eligible = np.zeros((n_s, n_h), dtype=bool)
        specs = [self.dc.hosts[name] for name in self.names]
        zones = np.array([s.availability_zone or '' for s in specs],
                         dtype=object)
        attr = self.dc.arrays().attr[self.slots]
        attr_hosts = self.dc.attribute_hosts()
        req = self.request
        for i, server in enumerate(self.servers):
            if self.unknown[i]:
                continue
            ok = self.enabled.copy()
            az = (server.availability_zone or '').split(':')[0]
            if az:
                ok &= zones == az
            for cands in (server.candidate_hosts, req.candidate_hosts):
                if cands is not None:
                    ok &= np.isin(self.names, sorted(cands))
            excluded = server.excluded_hosts | req.excluded_hosts
            if excluded:
                ok &= ~np.isin(self.names, sorted(excluded))
            if extra_specs.relevant(server.extra_specs):
                passing = [extra_specs.host_passes(
                    server.extra_specs, spec.aggregates, spec.traits)[0]
                    for spec in attr_hosts]
                ok &= np.array(passing, dtype=bool)[attr]
            self.eligible[i] = ok
            mask[i] = ok & np.all(self.free + EPS >= self.demand[i], axis=1)
        return mask

    def _group_mask(self):
        """Where each server may go given the servers already placed."""
        mask = np.ones_like(self.static)
        for rule in self.affinity:
            if rule.allowed is not None:
                allowed = np.isin(self.domain[rule.level],
                                  sorted(rule.allowed))
                for i in rule.members:
                    mask[i] &= allowed
        for rule in self.diversity:
            dom = self.domain[rule.level]
            for i in rule.members:
                unit = rule.unit[i]
                bad = [d for d, units in rule.placed_units.items()
                       if units - {unit}]
                if bad:
                    mask[i] &= ~np.isin(dom, bad)
        for rule in self.at_most:
            full = [d for d, n in rule.placed_count.items()
                    if n >= rule.limit]
            if full:
                for i in rule.members:
                    mask[i] &= ~np.isin(self.domain[rule.level], full)
        for li, state in self.ex_levels.items():
            dom = self.domain[li]
            for i in range(len(self.servers)):
                name = state['member_of'].get(i)
                if name is None:
                    mask[i] &= state['any'][dom] == 0
                else:
                    mask[i] &= (state['total'] - state['count'][name])[
                        dom] == 0
        return mask

    # ------------------------------------------------------------- results
    def new_hosts(self, assignment):
        """Hosts empty before the decision that the assignment uses."""
        used = {self.index[h] for h in assignment.values()}
        return sum(1 for h in used if self.was_empty[h])


def new_hosts(dc, assignment):
    """The objective for any solver's assignment, from the model alone."""
    used = set(assignment.values())
    return sum(1 for h in used if not dc.servers_on(h))
