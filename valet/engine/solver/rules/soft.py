"""What soft-affinity and soft-diversity share: preferences, not rules.

A soft group never rules a host out (its mask lets every host through)
and so never makes a request impossible; instead it counts violations,
which the search minimises before anything else (see ``search.py``).
Members are counted per domain of the group's level: placed members
(not moving) where they run, new members where the search puts them.
The two kinds differ only in how they turn those counts into violations
(``doc/source/contributor/placement-semantics.rst``):

* soft-affinity: members outside the group's most populated domain,
  ``members - max(count)``;
* soft-diversity: members sharing a domain with an earlier one,
  ``members - domains used``.

Both only grow as members are added, so the violations of a partial
placement are a lower bound of any completion's: the search prunes on
them.
"""

import numpy as np

from valet.engine.solver.rules import base
from valet.engine.solver.rules.base import EPS
from valet.objects import group_kinds

# The reductions .any(), .all() and .sum() run, without their Python
# wrappers (once per rule and decision, on small arrays).
_ANY = np.logical_or.reduce
_ALL = np.logical_and.reduce
_SUM = np.add.reduce


class Soft(base.Constraint):
    """A compiled soft group; ``placed`` counts its placed members per
    domain, ``weight`` is what one violation costs."""

    soft = True

    def __init__(self, name, level, members, weight, placed):
        super().__init__(name, level, members)
        self.weight = weight
        self.placed = placed

    def violations(self, counts):
        """Violations of a complete count per domain (unweighted)."""
        raise NotImplementedError

    def final_violations(self, problem, slots):
        """Violations once request server ``i`` runs on ``slots[i]``."""
        # (Counted in a list: numpy's per-item indexing costs more.)
        counts = self.placed.tolist()
        dom = self.host_domains(problem)
        for i in self.members:
            counts[dom[slots[i]]] += 1
        return self.violations(np.array(counts, dtype=np.int64))

    def reachable(self, problem):
        """Per domain, the new members with a host there they may use
        (static filters and free capacity, nothing placed yet)."""
        return self._open(problem)[0]

    def open_hosts(self, problem):
        """Per host, whether some new member may use it (the same)."""
        return self._open(problem)[1]

    def _open(self, problem):
        # Worked out once, in one step over members and hosts: every
        # search of the problem and the root bounds ask.
        found = self.__dict__.get('_reach')
        if found is None:
            found = self._reach = _reachable(problem, self)
        return found

    def room(self, problem):
        """Per domain, the most new members its free capacity can hold:
        per resource class, how many of the smallest demands fit in the
        domain's usable free room (a bound, not a packing)."""
        free = domain_room(problem, self.level)
        sums = self.sorted_demands(problem)[1]
        return fits(sums[1:] - EPS, free, len(self.members))

    def sorted_demands(self, problem):
        """Per resource class (a column) the new members' demands
        smallest first, and their running sums below a row of zeros,
        worked out once (the room bound and the soft groups' new hosts
        read them; not to be changed)."""
        found = self.__dict__.get('_sorted_demands')
        if found is None:
            # (The rows taken are a copy: sorted in place, as np.sort
            # does.)
            demand = problem.demand.take(self.members, 0)
            demand.sort(axis=0)
            sums = np.zeros((len(demand) + 1, demand.shape[1]))
            np.add.accumulate(demand, axis=0, out=sums[1:])
            found = self._sorted_demands = (demand, sums)
        return found

    def lower_bound(self, problem, enough=None):
        """Violations no placement can avoid (unweighted). ``enough``, if
        given, is a placement's violations (the bound cannot pass them):
        a kind may stop working once its bound reaches them."""
        raise NotImplementedError

    def per_host(self, problem):
        """Whether domain h is host h's for every host (worked out once):
        ``count.take(domains)`` is then ``count`` itself."""
        found = self.__dict__.get('_per_host')
        if found is None:
            domains = problem.domain_index(self.level)[0]
            found = self._per_host = (
                len(self.placed) == problem.slots
                and bool(_ALL(domains == np.arange(problem.slots))))
        return found

    def host_domains(self, problem):
        """Per host its domain of the rule's level (a list), worked out
        once (each search of the problem starts a tracker)."""
        found = self.__dict__.get('_host_domains')
        if found is None:
            found = self._host_domains = problem.domain[self.level].tolist()
        return found


def weighted_bound(problem, rules, placement=None):
    """Weighted violations of soft ``rules`` no placement avoids (each
    rule's own bound). With ``placement``, a complete assignment, each
    rule is told its violations there (``enough``: no bound passes them)
    and may stop early: the same value."""
    total = 0
    for rule in rules:
        enough = (None if placement is None
                  else rule.final_violations(problem, placement))
        total += rule.weight * rule.lower_bound(problem, enough)
    return total


def domain_room(problem, level):
    """Per domain of ``level`` (rows) and resource class, the free room
    of its usable hosts (negative room as none), worked out once per
    problem and level (read-only; the room and packing bounds ask)."""
    cache = problem.__dict__.setdefault('_domain_room', {})
    found = cache.get(level)
    if found is None:
        dom = problem.domain[level]
        ndom = problem.dc.domain_count(level)
        if base.own_domains(problem, level):
            # Every host its own domain (the host level): each sum is one
            # host's room added to 0.0, the room itself (+ 0.0 turns a
            # -0.0 into the 0.0 the sum gives), unusable hosts none.
            found = np.where(problem.usable[:, None],
                             np.maximum(problem.free, 0), 0.0) + 0.0
            found.flags.writeable = False
            cache[level] = found
            return found
        valid = problem.usable & (dom >= 0)
        room = np.maximum(problem.free[valid], 0)
        where = dom[valid]
        found = np.empty((ndom, room.shape[1]))
        # Host by host in slot order, as a sum over every host with the
        # unusable ones as zeros adds them.
        for c in range(room.shape[1]):
            found[:, c] = np.bincount(where, weights=room[:, c],
                                      minlength=ndom)
        found.flags.writeable = False
        cache[level] = found
    return found


def fits(cum, free, most):
    """Per row of ``free``, how many rows of ``cum`` (cumulative demands,
    less the slack) it holds in every resource class (at most ``most``)."""
    if not cum.shape[1]:
        return np.full(len(free), most)
    # The columns as the transposes' rows (no per-column indexing).
    columns = zip(cum.T, free.T)
    amounts, room = next(columns)
    fit = amounts.searchsorted(room, side='right')
    for amounts, room in columns:
        np.minimum(fit, amounts.searchsorted(room, side='right'), out=fit)
    return fit


class Tracker(base.Tracker):
    """Counts per domain, and the search's weighted total kept current
    (``search.soft``)."""

    def __init__(self, rule, search):
        super().__init__(rule, search)
        self.count = rule.placed.copy()
        # Every host (read-only, one per problem: no search writes a
        # rule's mask).
        self.everywhere = _everywhere(self.p)
        self.weight = rule.weight
        # Per host its domain (a list: read one host at a time at every
        # node) and the same as an index array (-1 read as 0).
        self.host_domain = rule.host_domains(self.p)
        self.domains = self.p.domain_index(rule.level)[0]
        # Whether every host is its own domain, in slot order (the host
        # level): a per-domain array is then per host as it is.
        self.per_host = rule.per_host(self.p)

    def mask(self, i):
        return self.everywhere

    def added(self, d):
        """Violations one more member in domain ``d`` adds now (0 or 1)."""
        raise NotImplementedError

    def added_on(self, h):
        """Weighted violations one more member on host ``h`` adds now."""
        return self.added(self.host_domain[h]) * self.weight

    def adds(self, i):
        """Per host, whether placing ``i`` there adds a violation now."""
        raise NotImplementedError

    def penalty(self, i):
        """Per host, the weighted violations placing ``i`` there adds."""
        return self.adds(i) * self.weight

    def rank(self, i, scale=1):
        """Per host, how much worse a choice it is for this group (the
        search's ranking; lower is better), times ``scale``: the penalty
        unless a kind knows better."""
        return self.adds(i) * (self.weight * scale)

    def apply(self, i, h):
        d = self.host_domain[h]
        delta = self.added(d)
        self.count[d] += 1
        self.search.soft += delta * self.weight
        return delta

    def undo(self, i, h, delta):
        self.count[self.host_domain[h]] -= 1
        self.search.soft -= delta * self.weight

    def _domains(self):
        return self.domains


def _everywhere(problem):
    found = problem.__dict__.get('_soft_everywhere')
    if found is None:
        found = np.ones(problem.slots, dtype=bool)
        found.flags.writeable = False
        problem.__dict__['_soft_everywhere'] = found
    return found


def _reachable(problem, rule):
    dom = problem.domain[rule.level]
    members = list(rule.members)
    valid = dom >= 0
    if members and rule.per_host(problem) and _ALL(valid):
        # Every host its own domain: per host, the members it is open to
        # (their masks from the problem's cache, summed in one step).
        reach = _SUM(base.member_masks(problem, members), axis=0,
                     dtype=np.int64)
        return reach, reach > 0
    ndom = len(rule.placed)
    reach = np.zeros(ndom, dtype=np.int64)
    hosts = np.zeros(problem.slots, dtype=bool)
    if not members or not _ANY(valid):
        return reach, hosts
    # Per member the hosts its static filters and free room allow, from
    # the problem's cache (the other soft rules and the counting proofs
    # ask for the same members), then the hosts with a domain taken at
    # once (not member by member).
    ok = np.array(base.member_masks(problem, members))[:, valid]
    hosts[valid] = _ANY(ok, axis=0)
    # Per member, whether any of a domain's hosts is open to it.
    hit = np.zeros((len(members), ndom), dtype=bool)
    rows, cols = ok.nonzero()
    hit[rows, dom[valid][cols]] = True
    return _SUM(hit, axis=0).astype(np.int64), hosts


def placed_counts(problem, level, old):
    placed = np.zeros(problem.dc.domain_count(level), dtype=np.int64)
    for sid in old:
        placed[problem.host_domain(level, sid)] += 1
    return placed


def weight_of(group):
    return 1 if group.weight is None else int(group.weight)


def affinity_units(problem, rule):
    """The rule's new members grouped by the hard affinity groups of
    level not above its own that keep them in one domain (tuples of
    request indices, in a fixed order)."""
    parent = {m: m for m in rule.members}

    def find(m):
        return base.find_root(parent, m)

    for other in problem.constraints:
        if (other.kind != group_kinds.AFFINITY or other.level > rule.level
                or other.members is None):
            continue
        inside = [m for m in other.members if m in parent]
        for m in inside[1:]:
            parent[find(m)] = find(inside[0])
    roots = {}
    for m in rule.members:
        roots.setdefault(find(m), []).append(m)
    return [tuple(ms) for _, ms in sorted(roots.items())]
