"""Which domain an affinity group takes: the one that opens fewest hosts.

The search places one server at a time and the first member of an
affinity group fixes the group's domain (a rack, say). Ranking that
member's hosts by the member alone picks the best-fitting host wherever it
is, and the rest of the group must follow into a rack that may have little
room on hosts in use and small empty hosts. This looks ahead instead: per
candidate domain it packs the group's unplaced members there (first fit
decreasing: hosts in use first, then the largest empty hosts) and counts
the hosts that opens, adding what the other unplaced affinity groups of
the level would then need at best (a group held apart by a diversity
group may not take the same domain). The search ranks the first member's
hosts by that count before anything else: a ranking, never a pruning, so
no placement is lost.
"""

import numpy as np

from valet.engine.solver.rules.base import EPS

# Ranking per estimated host over the best domain's count: above the
# search's cost of opening the host itself (1e6), so that the domain is
# chosen first; capped so that soft violations (1e7 each) still come first.
RACK_RANK = 2e6
MOST = 4
# Domains packed per choice, fewest by the resource bound first (the rest
# rank as the best one found, or their bound if higher).
MAX_DOMAINS = 16
# Other unplaced affinity groups looked at per choice.
MAX_RIVALS = 2
# Servers times hosts up to which the look-ahead packs the whole rest of
# the request (over every host) after the group; beyond, only the servers
# that fit no host in use, beside the group.
ROLLOUT_WORK = 200000


def pack(search, members, hosts, free, opened, spill=False):
    """Hosts opened by placing ``members`` on ``hosts`` (first fit
    decreasing), or None if they do not fit. ``free`` and ``opened`` (rows
    for ``hosts``: room, and whether the host runs something) are updated
    in place. With ``spill`` a member that fits nowhere counts as one host
    opened elsewhere.
    """
    p = search.p
    room = (np.maximum(free, 0) * p.weights / p.scale).sum(axis=1)
    count = 0
    for m in sorted(members, key=lambda m: (-p.size[m], m)):
        fit = p.static[m][hosts] & np.all(free >= p.demand[m] - EPS, axis=1)
        used = fit & opened
        if used.any():
            # Best fit among hosts in use: the least room left.
            k = int(np.flatnonzero(used)[np.argmin(room[used])])
        elif fit.any():
            # The largest empty host: the fewest opened in all.
            k = int(np.flatnonzero(fit)[np.argmax(room[fit])])
            opened[k] = True
            count += 1
        elif spill:
            count += 1
            continue
        else:
            return None
        free[k] -= p.demand[m]
        room[k] = (np.maximum(free[k], 0) * p.weights / p.scale).sum()
    return count


def outside(search, skip):
    """The rest of the request for the look-ahead: (servers, hosts) with
    hosts None when only the servers that fit no host in use now are
    packed, beside the group (big requests on big data centres)."""
    p = search.p
    servers = [m for m in range(len(p.servers))
               if search.assign[m] < 0 and m not in skip]
    if len(servers) * p.slots <= ROLLOUT_WORK:
        return servers, np.flatnonzero(p.usable)
    used = np.flatnonzero(in_use(search) & p.usable)
    alone = []
    for m in servers:
        fit = p.static[m][used] & np.all(
            search.free[used] >= p.demand[m] - EPS, axis=1)
        if not fit.any():
            alone.append(m)
    return alone, None


def in_use(search):
    """Hosts that run something, before or by this request."""
    return ~(search.was_empty & (search.req_count == 0))


class Estimate:
    """Estimated new hosts per domain of one level for a group's unplaced
    members, on the search's current state; for the domains packed, the
    state of their hosts after (``after[d]``: free room, in use)."""

    def __init__(self, search, level, members, domains):
        p = self.p = search.p
        self.search = search
        self.level = level
        self.members = members
        dom = p.domain[level]
        self.hosts = {d: np.flatnonzero(p.usable & (dom == d))
                      for d in domains}
        self.count = {}
        self.after = {}
        bound = self._bound(domains)
        order = sorted(domains, key=lambda d: (bound[d], d))
        used = in_use(search)
        best = None
        for k, d in enumerate(order):
            if k >= MAX_DOMAINS:
                break
            hosts = self.hosts[d]
            free, opened = search.free[hosts].copy(), used[hosts].copy()
            count = pack(search, members, hosts, free, opened)
            if count is not None:
                self.count[d] = count
                self.after[d] = (free, opened)
                best = count if best is None else min(best, count)
        for d in order:
            if d not in self.count:
                # Not packed: at least the bound, no better than the best
                # (unplaceable when nothing packed at all).
                self.count[d] = (max(bound[d], best) if best is not None
                                 else MOST)

    def _bound(self, domains):
        """New hosts by the resource bound, per domain: demand beyond the
        room on hosts in use, over the largest empty host's room."""
        search, p = self.search, self.p
        need = p.demand[self.members].sum(axis=0)
        free = np.maximum(search.free, 0)
        used = in_use(search)
        out = {}
        for d in domains:
            hosts = self.hosts[d]
            left = need - free[hosts][used[hosts]].sum(axis=0)
            if not (left > EPS).any():
                out[d] = 0
                continue
            caps = free[hosts][~used[hosts]]
            cap = caps.max(axis=0) if len(caps) else np.zeros(len(need))
            out[d] = int(max(np.ceil(x / c - 1e-9) if c > EPS else MOST
                             for x, c in zip(left, cap) if x > EPS))
        return out


def bias(search, rule, rivals, i, idx, domain, rest_of=((), None)):
    """Per host of ``idx``, the ranking to add for member ``i`` of affinity
    ``rule``: the estimated new hosts placing it there leads to, over the
    best host's, in units of :data:`RACK_RANK`; None when there is nothing
    to choose. ``domain`` is the group's domain once a member has landed.

    ``rivals`` are (constraint, apart level or None) of other affinity
    groups of the level, held apart from this one at that level or not;
    ``rest_of`` the rest of the request (:func:`outside`).
    """
    p = search.p
    dom = p.domain[rule.level]
    at = dom[idx]
    domains = sorted({int(d) for d in at if d >= 0})
    members = [m for m in rule.members if search.assign[m] < 0]
    rest = [m for m in members if m != i]
    if not domains or (len(domains) < 2 and not rest):
        return None
    mine = Estimate(search, rule.level, members, domains)
    others = _others(search, rule, rivals, free=domain is None)
    alone = ([m for m in rest_of[0] if search.assign[m] < 0], rest_of[1])
    total = {}
    for d in mine.after:
        total[d] = mine.count[d] + _after(search, mine, d, mine.after[d],
                                          others, alone)
    best = min(total.values()) if total else MOST
    for d in domains:
        if d not in total:
            total[d] = max(mine.count[d], best)
    est = np.array([total.get(int(d), MOST) for d in at], dtype=float)
    if rest:
        # Where the member opens a host: the one after which the rest
        # opens fewest (the best fit is often the smallest host).
        used = in_use(search)
        for d in mine.after:
            if total[d] <= best + 1:
                _refine(search, mine, d, i, rest, idx, at, used, est,
                        others, alone)
    extra = np.minimum(est - est.min(), MOST)
    if not extra.any():
        return None
    return extra * RACK_RANK


def _others(search, rule, rivals, free):
    """(rule, Estimate, apart) of the rivals to look at: the unplaced
    ones while this group's domain is open (``free``), else only those
    whose domain placed members fix (cheap, and they cannot move)."""
    p = search.p
    dom = p.domain[rule.level]
    out = []
    for other, apart in rivals:
        if len(out) >= MAX_RIVALS:
            break
        if other.allowed is None and not free:
            continue
        members = [m for m in other.members if search.assign[m] < 0]
        if len(members) < len(other.members):
            continue        # its domain is chosen: a state like any other
        if other.allowed is not None:
            where = sorted(int(d) for d in other.allowed)
        else:
            where = sorted({int(d) for d in dom[p.usable] if d >= 0})
        out.append((members, Estimate(search, other.level, members, where),
                    apart))
    return out


def _after(search, mine, d, state, others, alone):
    """New hosts after this group is packed in ``d`` (``state``: its
    hosts' free room and use): the rivals in turn, each where it opens
    fewest given the domains packed before it, then the rest of the
    request (``alone``: servers, and the hosts to pack them on, or None
    for ``d``'s)."""
    total = 0
    states = {d: (mine.hosts[d], state[0].copy(), state[1].copy())}
    for members, theirs, apart in others:
        best, where = MOST, None
        for d2, count in theirs.count.items():
            if d2 in states or count >= best:
                continue
            if apart is not None and _same(search.p, mine.level, apart,
                                           d, d2):
                continue
            best, where = count, d2
        for d2 in sorted(states):
            if d2 not in theirs.hosts or (apart is not None and _same(
                    search.p, mine.level, apart, d, d2)):
                continue
            hosts, free, opened = states[d2]
            free, opened = free.copy(), opened.copy()
            count = pack(search, members, hosts, free, opened)
            if count is not None and count < best:
                best, where = count, (d2, hosts, free, opened)
        total += best
        if isinstance(where, tuple):
            states[where[0]] = where[1:]
        elif where is not None and where in theirs.after:
            states[where] = (theirs.hosts[where],) + theirs.after[where]
    servers, hosts = alone
    if servers:
        if hosts is None:
            return total + pack(search, servers, *states[d], spill=True)
        room = search.free[hosts].copy()
        used = in_use(search)[hosts].copy()
        for rows, free, opened in states.values():
            at = np.searchsorted(hosts, rows)
            room[at], used[at] = free, opened
        total += pack(search, servers, hosts, room, used, True)
    return total


def _refine(search, mine, d, i, rest, idx, at, used, est, others, alone):
    """Estimates for the empty hosts of ``d`` in ``idx``: the host, then
    the rest of the group packed after ``i`` lands there, then the
    rivals."""
    p = search.p
    hosts = mine.hosts[d]
    where = {int(h): k for k, h in enumerate(hosts)}
    seen = {}
    for pos in np.flatnonzero((at == d) & ~used[idx]):
        h = int(idx[pos])
        key = search.free[h].tobytes()
        if key not in seen:
            free = search.free[hosts].copy()
            opened = used[hosts].copy()
            k = where[h]
            free[k] -= p.demand[i]
            opened[k] = True
            more = pack(search, rest, hosts, free, opened)
            seen[key] = MOST if more is None else 1 + more + _after(
                search, mine, d, (free, opened), others, alone)
        est[pos] = seen[key]


def _same(p, level, apart, d, d2):
    """Whether domains ``d`` and ``d2`` of ``level`` share their domain at
    level ``apart``."""
    dom, up = p.domain[level], p.domain[apart]
    a = up[np.flatnonzero(dom == d)[:1]]
    b = up[np.flatnonzero(dom == d2)[:1]]
    return bool(len(a) and len(b) and a[0] == b[0])
