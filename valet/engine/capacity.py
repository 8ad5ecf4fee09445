"""How many more copies of one server fit, and where (a what-if).

A capacity query names a server as a plan would (flavor, groups,
availability zone); the answer is the largest number of identical copies
that could be placed at once next to everything already placed, and, per
domain of a chosen level, how many would fit there alone. Nothing is
placed, stored or reserved: the model is only read.

The count is computed over the topology tree, not by search:

1. per host, the copies its free capacity takes (every resource class
   the flavor demands), zero on hosts the static filters rule out
   (disabled, availability zone, flavor extra specs);
2. each group rule the copies are subject to becomes a per-domain limit
   or a set of hosts ruled out: diversity (one per domain without a
   member; when an affinity group at that level or below holds the
   copies together they are one *unit* and only keep out of the domains
   of the group's other units), at-most (``max_per_domain`` minus the
   members there), exclusivity (no domain holding servers outside the
   group; no domain of another exclusivity group; placed servers of an
   affinity group take on its members' exclusivity, as in the solver),
   affinity with placed members (their domain only);
3. bottom up, a domain takes the smaller of its limit and the sum of what
   its children take.

Identical copies, hosts with independent capacities and limits on the
domains of a tree make step 3 a maximum flow on a tree, so the count is
**exact** for those rules. Two more rules keep it exact too: affinity
without placed members (all copies in one domain: children aggregate by
their maximum from that level up) and one spread group with no other
rule above its level (water-filling, below). Placed members of an
affinity group that are already apart (drift) let the copies join any
one of their domains, as the solver does. The count is an **upper
bound** (``exact`` false) when spread meets other rules above its level,
an affinity group without members or a second spread group, and when the
work budget ran out before every rule was applied (the rules left out
only remove limits). Soft groups never refuse, so they do not count.

Work is counted, never timed: one unit per host per pass over the hosts
and, for each rule, one per placed server it may read; the budget is the
engine's first-placement budget (``[engine] max_work``). Ten thousand
hosts with a thousand servers and three groups take 80,000 units.
"""

import dataclasses

import numpy as np

from valet.engine.model import errors
from valet.engine.model import extra_specs as extra_specs_mod
from valet.engine.model import groups as groups_mod

# Capacity checks allow the solver's rounding slack.
EPS = 1e-9


@dataclasses.dataclass
class Answer:
    """What a capacity query found (see the module docstring)."""

    count: int
    exact: bool
    level: str
    domains: list            # [{"name", "count"}], largest first
    work: int
    rules: list              # the group rules applied, by name
    skipped: list            # rules the budget left out

    def to_dict(self):
        return dataclasses.asdict(self)


class _Budget:

    def __init__(self, limit):
        self.limit, self.used = limit, 0

    def take(self, units):
        """Charge ``units``; False (nothing charged) when they would not
        fit."""
        if self.used + units > self.limit:
            return False
        self.used += units
        return True


def _per_host(dc, arrays, server):
    """Copies each host's free capacity takes (float, 0 where ruled out)
    and the static filter mask."""
    vec, unknown = dc.demand_vector(server.demand)
    if not (vec > 0).any() and not unknown:
        raise errors.InvalidRequest(
            'server %s demands no resources; the capacity for it would be '
            'unbounded' % server.name, code='valet.capacity.no_demand')
    usable = arrays.present & arrays.enabled
    zone = (server.availability_zone or '').split(':')[0] or None
    attr_hosts = dc.attribute_hosts()
    specs = dict(server.extra_specs or {})
    passes = np.array(
        [(zone is None or h.availability_zone == zone) and
         extra_specs_mod.host_passes(specs, h.aggregates, h.traits)[0]
         for h in attr_hosts] or [False], dtype=bool)
    static = usable & passes[arrays.attr]
    if unknown:
        return np.zeros(dc.slots), static
    need = vec > 0
    free = np.maximum(arrays.capacity - arrays.used, 0.0)
    fits = np.floor((free[:, need] + EPS) / vec[need]).min(axis=1)
    return np.where(static, fits, 0.0), static


def _closure(dc, server, request_groups):
    defs = dict(dc.groups)
    for group in request_groups:
        if group.name not in defs or group.parents:
            defs[group.name] = group
    names = groups_mod.closure(server.groups, defs)
    for name in names:
        if name not in defs:
            raise errors.InvalidRequest(
                'group %s is not defined' % name,
                code='valet.request.unknown_group', group=name)
    seen = {}
    for name in names:
        group = defs[name]
        if group.kind == groups_mod.EXCLUSIVITY:
            other = seen.setdefault(group.level, name)
            if other != name:
                raise errors.InvalidRequest(
                    'a server cannot belong to exclusivity groups %s and '
                    '%s at the same level %s' % (other, name, group.level),
                    code='valet.request.multiple_exclusivity',
                    groups=sorted([other, name]))
    # Copies joining an affinity group take on the exclusivity groups
    # its placed members belong to (they share a domain with them).
    extra = []
    for name in names:
        group = defs[name]
        if group.kind != groups_mod.AFFINITY:
            continue
        level = dc.topology.index(group.level)
        for sid in sorted(dc.group_servers(name)):
            for other in groups_mod.closure(dc.servers[sid].groups, defs):
                ex = defs.get(other)
                if (ex is not None and ex.kind == groups_mod.EXCLUSIVITY
                        and dc.topology.index(ex.level) >= level
                        and other not in names + extra):
                    extra.append(other)
    return defs, names + extra


def _per_domain(dc, arrays, servers, level, ndom):
    """How many of ``servers`` (ids) run in each domain of ``level``."""
    count = np.zeros(ndom, dtype=np.int64)
    for sid in servers:
        host = dc.servers[sid].host
        if host in dc.hosts:
            count[arrays.domain[level, dc.slot_of(host)]] += 1
    return count


class _Limits:
    """Per-level domain limits and the hosts ruled out, built rule by
    rule."""

    def __init__(self, dc, arrays):
        self.dc, self.arrays = dc, arrays
        self.levels = len(dc.topology)
        self.cap = [np.full(dc.domain_count(li), np.inf)
                    for li in range(self.levels)]
        self.allowed = np.ones(dc.slots, dtype=bool)
        self.choose = []         # levels of affinity without members
        self.spreads = []        # (level, skew, placed per domain)

    def ndom(self, li):
        return self.dc.domain_count(li)

    def domain_of_hosts(self, li):
        return self.arrays.domain[li]

    def rule_out_domains(self, li, mask):
        dom = self.arrays.domain[li]
        self.allowed &= ~np.where(dom >= 0, mask[np.maximum(dom, 0)], True)

    def add(self, name, group, member, context):
        """Apply one group's rule; ``member``: the copies belong to it."""
        li = self.dc.topology.index(group.level)
        ndom = self.ndom(li)
        kind = group.kind
        if kind == groups_mod.EXCLUSIVITY:
            inside = context.exclusive_members(name, member)
            # Members keep out of domains holding outsiders; outsiders
            # out of domains holding members.
            keep_from = set(self.dc.servers) - inside if member else inside
            self.rule_out_domains(li, _per_domain(
                self.dc, self.arrays, keep_from, li, ndom) > 0)
            return
        placed = _per_domain(self.dc, self.arrays,
                             self.dc.group_servers(name), li, ndom)
        if kind == groups_mod.AFFINITY:
            held = np.flatnonzero(placed)
            if len(held) != 1:
                # All copies in one domain: any (no members yet) or one of
                # those the members use (apart already: drift, which the
                # solver tolerates the same way).
                self.choose.append(li)
            if len(held):
                keep = np.zeros(ndom, dtype=bool)
                keep[held] = True
                self.rule_out_domains(li, ~keep)
        elif kind == groups_mod.DIVERSITY:
            unit = context.unit(name, li)
            if unit is None:
                self.cap[li] = np.minimum(self.cap[li],
                                          np.where(placed > 0, 0, 1))
            else:
                # The copies are one unit (an affinity group at this level
                # or below holds them together): they keep out of the
                # domains of the group's other units only.
                others = self.dc.group_servers(name) - unit
                self.rule_out_domains(li, _per_domain(
                    self.dc, self.arrays, others, li, ndom) > 0)
        elif kind == groups_mod.AT_MOST:
            self.cap[li] = np.minimum(
                self.cap[li], np.maximum(group.max_per_domain - placed, 0))
        elif kind == groups_mod.SPREAD:
            self.spreads.append((li, group.max_skew, placed))
        # Soft kinds state preferences only.


class _Context:
    """Memberships the solver derives through affinity groups."""

    def __init__(self, dc, defs, names):
        self.dc, self.defs, self.names = dc, defs, names
        self.topology = dc.topology

    def _level(self, name):
        return self.topology.index(self.defs[name].level)

    def _affinities(self, up_to):
        return [n for n, g in sorted(self.defs.items())
                if g.kind == groups_mod.AFFINITY and self._level(n) <= up_to]

    def exclusive_members(self, name, member):
        """Placed servers that count as members of exclusivity group
        ``name``: its own, and those of every affinity group (at its
        level or below) one of them or the copies belong to."""
        level = self._level(name)
        inside = set(self.dc.group_servers(name))
        affinities = self._affinities(level)
        if member:
            for a in affinities:
                if a in self.names:
                    inside |= self.dc.group_servers(a)
        grown = True
        while grown:
            grown = False
            for a in affinities:
                servers = self.dc.group_servers(a)
                if servers & inside and not servers <= inside:
                    inside |= servers
                    grown = True
        return inside

    def unit(self, name, level):
        """The placed members of diversity group ``name`` tied to the
        copies by affinity groups at ``level`` or below (a set), or None
        when the copies are separate units."""
        affinities = self._affinities(level)
        tied = [a for a in affinities if a in self.names]
        if not tied:
            return None
        members = self.dc.group_servers(name)
        unit = set()
        for a in tied:
            unit |= self.dc.group_servers(a) & members
        grown = True
        while grown:
            grown = False
            for a in affinities:
                servers = self.dc.group_servers(a) & members
                if servers & unit and not servers <= unit:
                    unit |= servers
                    grown = True
        return unit


def _edges(arrays, child_level):
    """(child domain ids, parent domain ids) of one level step, each
    child once (the inventory makes the levels a tree)."""
    dom = arrays.domain
    present = arrays.present & (dom[child_level] >= 0) & (
        dom[child_level + 1] >= 0)
    children, first = np.unique(dom[child_level, present],
                                return_index=True)
    return children, dom[child_level + 1, present][first]


def _spread(values, skew, placed, eligible):
    """Water-filling: the most each domain takes so that no domain given
    copies ends more than ``skew`` ahead of the emptiest eligible one."""
    if not eligible.any():
        return np.zeros_like(values)
    ceiling = placed + values
    lowest = ceiling[eligible].min()
    return np.maximum(0, np.minimum(ceiling, lowest + skew) - placed)


def count(dc, server, request_groups=(), level='host', work_budget=3000000):
    """An ``Answer`` for copies of ``server`` (a ``ServerRequest``).

    ``request_groups`` defines groups the model may not know yet (as in a
    plan request); ``level`` is the level of the per-domain counts.
    """
    topology = dc.topology
    report = topology.index(level)
    arrays = dc.arrays()
    hosts = max(dc.slots, 1)
    budget = _Budget(work_budget)
    exact = True
    # The capacity pass and the aggregation passes are always done: they
    # are what makes any answer (an upper bound without the rules).
    budget.used = hosts * (1 + len(topology))
    per_host, static = _per_host(dc, arrays, server)
    defs, names = _closure(dc, server, request_groups)
    limits = _Limits(dc, arrays)
    context = _Context(dc, defs, names)
    applied, skipped = [], []
    others = sorted(n for n, g in defs.items()
                    if g.kind == groups_mod.EXCLUSIVITY and n not in names
                    and dc.group_servers(n))
    for name, member in [(n, True) for n in names] + [
            (n, False) for n in others]:
        group = defs[name]
        if group.kind in (groups_mod.SOFT_AFFINITY, groups_mod.SOFT_DIVERSITY):
            continue
        # A rule reads every host and at most every placed server once.
        if not budget.take(hosts + len(dc.servers)):
            skipped.append(name)
            continue
        limits.add(name, group, member, context)
        applied.append(name)
    if skipped:
        exact = False
    choose = min(limits.choose) if limits.choose else None
    spread_levels = [s[0] for s in limits.spreads]
    if spread_levels:
        top_spread = max(spread_levels)
        above = any(np.isfinite(limits.cap[li]).any()
                    for li in range(top_spread + 1, limits.levels))
        if len(spread_levels) > 1 or choose is not None or above:
            exact = False
    values = [None] * limits.levels
    values[0] = np.minimum(np.where(limits.allowed, per_host, 0.0),
                           limits.cap[0])
    spreads = {s[0]: s for s in limits.spreads}
    values[0] = _apply_spread(values[0], spreads.get(0), static, arrays, 0)
    for li in range(1, limits.levels):
        children, parents = _edges(arrays, li - 1)
        agg = np.zeros(dc.domain_count(li))
        taken = values[li - 1][children]
        if choose is not None and li - 1 >= choose:
            np.maximum.at(agg, parents, taken)
        else:
            np.add.at(agg, parents, taken)
        values[li] = _apply_spread(np.minimum(agg, limits.cap[li]),
                                   spreads.get(li), static, arrays, li)
    top = values[-1]
    total = top.max() if (choose is not None or len(top) == 0) else top.sum()
    total = 0 if len(top) == 0 else int(total)
    domains = _report(dc, arrays, values, report)
    return Answer(count=total, exact=exact, level=topology.levels[report],
                  domains=domains, work=budget.used, rules=applied,
                  skipped=skipped)


def _apply_spread(values, spread, static, arrays, li):
    if spread is None:
        return values
    _, skew, placed = spread
    dom = arrays.domain[li]
    eligible = np.zeros(len(values), dtype=bool)
    eligible[dom[static & (dom >= 0)]] = True
    return _spread(values, skew, placed, eligible)


def _report(dc, arrays, values, report):
    """Per domain of the report level: what fits there alone, bounded by
    what its ancestors take."""
    dom = arrays.domain
    present = arrays.present & (dom[report] >= 0)
    ids, first = np.unique(dom[report, present], return_index=True)
    slots = np.flatnonzero(present)[first]
    value = values[report][ids]
    for li in range(report + 1, len(values)):
        value = np.minimum(value, values[li][dom[li, slots]])
    out = [{'name': dc.domain_name(report, int(d)), 'count': int(v)}
           for d, v in zip(ids, value) if v >= 1]
    out.sort(key=lambda e: (-e['count'], e['name']))
    return out
