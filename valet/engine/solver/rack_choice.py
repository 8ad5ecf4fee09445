"""Which domain an affinity group takes: the one that opens fewest hosts.

The search places one server at a time and the first member of an
affinity group fixes the group's domain (a rack, say). Ranking that
member's hosts by the member alone picks the best-fitting host wherever it
is, and the rest of the group must follow into a rack that may have little
room on hosts in use and small empty hosts. This looks ahead instead: per
candidate domain it packs the group's unplaced members there (first fit
decreasing: hosts in use first, then the largest empty hosts) and counts
the hosts that opens, then what the other unplaced affinity groups of the
level need at best after it (a group a diversity group holds apart may not
take the same domain), then the rest of the request (all of it over every
host on small requests; else the servers that fit no host in use, beside
the group). Where a member would open a host, each kind of empty host is
tried the same way. The search ranks hosts by that count before anything
but soft violations: a ranking, never a pruning, so no placement is lost.
"""
import numpy as np

from valet.engine.solver.rules.base import EPS

# Ranking per estimated host over the best domain's count: above the
# search's cost of opening the host itself (1e6), so that the domain is
# chosen first; capped so that soft violations (1e7 each) still come first.
RACK_RANK = 2e6
# The search's ranking of a host it would open (candidates.NEW_HOST_RANK).
NEW_HOST = 1e6
# Room on hosts in use this many times the demand: nothing to look ahead
# for (packing loses less than that).
SLACK = 2.0
# Estimates are capped here (and a group that does not fit counts as many).
MOST = 4
# Domains packed per choice, fewest by the resource bound first, and past
# the first few only while the bound is below the best count (the rest
# rank as the best one found, or their bound if higher).
MAX_DOMAINS = 16
MIN_DOMAINS = 4
# The most a larger empty host gains over a smaller one of equal count, in
# estimated hosts.
TIE = 0.25
# Other unplaced affinity groups looked at per choice.
MAX_RIVALS = 2
# .all() without the array method's wrapper (per member packed).
_ALL = np.logical_and.reduce
# Servers times hosts up to which the look-ahead packs the whole rest of
# the request (over every host) after the group; beyond, only the servers
# that fit no host in use, beside the group.
ROLLOUT_WORK = 2500


def pack(search, members, hosts, free, opened, spill=False):
    """Hosts opened by placing ``members`` on ``hosts`` (first fit
    decreasing), or None if they do not fit. ``free`` and ``opened`` (rows
    for ``hosts``: room, and whether the host runs something) are updated
    in place. With ``spill`` a member that fits nowhere counts as one host
    opened elsewhere.
    """
    p = search.p
    if not len(members):
        return 0
    order = sorted(members, key=lambda m: (-p.size[m], m))
    weights = p.weights / p.scale
    room = np.maximum(free, 0) @ weights
    need = p.demand[order] - EPS
    static = np.array([p.static[m][hosts] for m in order])
    # Members like the one before (same demand, same hosts): only the
    # host that one took has changed for them.
    like = np.zeros(len(order), dtype=bool)
    like[1:] = (_ALL(need[1:] == need[:-1], axis=1)
                & _ALL(static[1:] == static[:-1], axis=1))
    count, k = 0, None
    for j, m in enumerate(order):
        if not like[j]:
            fit = _ALL(free >= need[j], axis=1) & static[j]
            # Best fit among hosts in use (the least room left), else the
            # largest empty host (the fewest opened in all).
            on_used = np.where(fit & opened, room, np.inf)
            on_empty = np.where(fit, -room, np.inf)
        elif k is not None:
            if static[j, k] and _ALL(free[k] >= need[j]):
                on_used[k] = room[k] if opened[k] else np.inf
                on_empty[k] = -room[k]
            else:
                on_used[k] = on_empty[k] = np.inf
        k = int(on_used.argmin())
        if on_used[k] == np.inf:
            k = int(on_empty.argmin())
            if on_empty[k] == np.inf:
                if not spill:
                    return None
                count += 1
                k = None
                continue
            opened[k] = True
            count += 1
        free[k] -= p.demand[m]
        room[k] = np.maximum(free[k], 0) @ weights
    return count


def outside(search, skip):
    """The rest of the request for the look-ahead: (servers, hosts) with
    hosts None when only the servers that fit no host in use now are
    packed, beside the group (big requests on big data centres)."""
    p = search.p
    servers = [m for m in range(len(p.servers))
               if search.assign[m] < 0 and m not in skip]
    if small(p):
        return servers, np.flatnonzero(p.usable)
    used = np.flatnonzero(in_use(search) & p.usable)
    if not servers or not len(used):
        return servers, None
    # Per distinct demand, the hosts in use it fits; then per server.
    shapes, which = np.unique(p.demand[servers], axis=0, return_inverse=True)
    fits = np.zeros((len(shapes), p.slots), dtype=bool)
    fits[:, used] = np.all(search.free[used][None, :, :]
                           >= shapes[:, None, :] - EPS, axis=2)
    return [m for m, w in zip(servers, which.ravel())
            if not (p.static[m] & fits[w]).any()], None


def small(p):
    """Whether the look-ahead packs the whole rest of the request."""
    return len(p.servers) * p.slots <= ROLLOUT_WORK


def in_use(search):
    """Hosts that run something, before or by this request."""
    return ~search.opens


def domain_hosts(p, level, cache):
    """{domain: usable host slots} at ``level``, once per problem
    (``cache`` is a dict the problem's rules share)."""
    return levels(p, level, cache).hosts()


def levels(p, level, cache):
    """The :class:`Domains` of ``level``, once per problem."""
    found = cache.get(level)
    if found is None:
        found = cache[level] = Domains(p, level)
    return found


class Domains:
    """The domains of one level as the affinity rule and the look-ahead
    ask for them at every node, worked out once per problem."""

    def __init__(self, p, level):
        dom = self.dom = p.domain[level]
        self.usable = p.usable
        self.count = max(p.dc.domain_count(level),
                         int(dom.max()) + 1 if len(dom) else 0)
        # Per host its domain, hosts without one read as domain ``count``
        # (which no per-domain answer holds).
        self.index = np.where(dom >= 0, dom, self.count)
        self._order = self._hosts = None
        self._within = {}

    def _sorted(self):
        """(usable hosts by domain, slot order within one; the domains;
        where each one's run starts)."""
        if self._order is None:
            dom = self.dom
            slots = np.flatnonzero(self.usable & (dom >= 0))
            order = slots[np.argsort(dom[slots], kind='stable')]
            keys, starts = np.unique(dom[order], return_index=True)
            self._order = (order, keys, starts)
        return self._order

    def hosts(self):
        """{domain: usable host slots}."""
        if self._hosts is None:
            order, keys, starts = self._sorted()
            self._hosts = {int(d): part for d, part in zip(
                keys, np.split(order, starts[1:]))}
        return self._hosts

    def within(self, d):
        """Hosts of domain ``d`` (read only: it is shared)."""
        found = self._within.get(d)
        if found is None:
            found = self._within[d] = self.dom == d
            found.flags.writeable = False
        return found

    def room(self, free):
        """Room (``free`` above zero) on the usable hosts per domain, a row
        per domain id; summed in slot order, as np.bincount would."""
        order, keys, starts = self._sorted()
        if len(order) and len(keys) == self.count:
            # Every domain has a usable host (keys run 0, 1, ...): the
            # sums are the rows, with nothing to scatter.
            return np.add.reduceat(np.maximum(free[order], 0), starts,
                                   axis=0)
        out = np.zeros((self.count, free.shape[1]))
        if len(order):
            out[keys] = np.add.reduceat(np.maximum(free[order], 0), starts,
                                        axis=0)
        return out


class Estimate:
    """Estimated new hosts per domain of one level for a group's unplaced
    members, on the search's current state; for the domains packed, the
    state of their hosts after (``after[d]``: free room, in use)."""

    def __init__(self, search, level, members, domains, hosts, known=None):
        self.p = search.p
        self.search = search
        self.level = level
        self.members = members
        nothing = np.zeros(0, dtype=np.int64)
        self.hosts = {d: hosts.get(d, nothing) for d in domains}
        self.count = {}
        self.after = {}
        self.packed = set()
        bound = self._bound(domains)
        order = sorted(domains, key=lambda d: (bound[d], d))
        used = in_use(search)
        best = None
        for k, d in enumerate(order):
            if k >= MAX_DOMAINS or (k >= MIN_DOMAINS and best is not None
                                    and bound[d] >= best):
                break
            if known is not None and d in known.packed:
                # Packed already (``known``: an Estimate on the same state).
                count, (free, opened) = known.count[d], known.after.get(
                    d, (None, None))
                count = None if free is None else count
            else:
                hosts = self.hosts[d]
                free, opened = search.free[hosts].copy(), used[hosts].copy()
                count = pack(search, members, hosts, free, opened)
            self.packed.add(d)
            if count is None:
                self.count[d] = MOST        # the group did not fit
                continue
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


def bias(search, rule, rivals, i, idx, domain, rest_of):
    """(ranking, settled) for member ``i`` of affinity ``rule``: per host
    of ``idx`` the ranking to add, the estimated new hosts placing it there
    leads to over the best host's, in units of :data:`RACK_RANK` (None
    when there is nothing to choose); ``settled`` when nothing is left to
    open at all (the search's own best fit will do for the rest of the
    group). ``domain`` is the group's domain once a member has landed.

    ``rivals`` are (constraint, apart level or None) of other affinity
    groups of the level, held apart from this one at that level or not;
    ``rest_of()`` the rest of the request (:func:`outside`, asked only
    when needed).
    """
    p = search.p
    lv = levels(p, rule.level, rule.hosts_cache)
    at = p.domain[rule.level][idx]
    seen = np.zeros(lv.count + 1, dtype=bool)
    seen[lv.index[idx]] = True
    domains = seen[:-1].nonzero()[0].tolist()
    members = [m for m in rule.members if search.assign[m] < 0]
    rest = [m for m in members if m != i]
    used = in_use(search)
    # Small requests (the whole rest of the request packed): every choice
    # is ranked. Else only a choice of domain, or of the host to open: a
    # member that fits a host in use of its domain goes there.
    on_used = (used[idx] if not small(p)
               else np.zeros(len(idx), dtype=bool))
    if not domains or (len(domains) < 2 and (not rest or on_used.any())):
        return None, False
    # The domain the search would pick anyway: if nothing needs a new host
    # after it, nothing ranks better (and the rest is not worth packing).
    left = ((search.free[idx] - p.demand[i]) * p.weights
            / p.scale).sum(axis=1) + ~used[idx] * NEW_HOST
    first = int(at[int(left.argmin())])
    if _roomy(search, members, lv.within(first) & p.usable, used):
        return None, True
    hosts = lv.hosts()
    others = _others(search, rule, rivals, domain is None, hosts)
    servers, where = rest_of()
    alone = ([m for m in servers if search.assign[m] < 0], where)
    quick, total = None, {}
    if len(domains) > 1:
        quick = Estimate(search, rule.level, members, [first], hosts)
        if first in quick.after and quick.count[first] == 0:
            total[first] = _after(search, quick, first, quick.after[first],
                                  others, alone)
            if total[first] == 0:
                return None, True
    # The first domain's packing and total are not worked out again.
    mine = Estimate(search, rule.level, members, domains, hosts, quick)
    total = {d: n for d, n in total.items() if d in mine.after}
    for d in mine.after:
        if d not in total:
            total[d] = mine.count[d] + _after(search, mine, d,
                                              mine.after[d], others, alone)
    best = min(total.values()) if total else MOST
    if len(domains) < 2 and best == 0:
        return None, True
    for d in domains:
        if d not in total:
            total[d] = max(mine.count[d], best)
    est = np.array([total.get(int(d), MOST) for d in at], dtype=float)
    if rest:
        # Where the member opens a host: the one after which the rest
        # opens fewest (the best fit is often the smallest host).
        for d in mine.after:
            if total[d] <= best + 1 and not on_used[at == d].any():
                _refine(search, mine, d, i, rest, idx, at, used, est,
                        others, alone)
    extra = np.minimum(est - est.min(), MOST)
    return (extra * RACK_RANK if extra.any() else None), False


def _roomy(search, members, mine, used):
    """Whether all unplaced servers fit the room on every host in use, and
    the group's unplaced members the room on the hosts in use of their
    domain (``mine``: its usable hosts), both SLACK times over: no host to
    open."""
    p = search.p
    free = np.maximum(search.free, 0)
    room = free[used & p.usable].sum(axis=0)
    if not (search.left * SLACK <= room + EPS).all():
        return False
    need = p.demand[members].sum(axis=0) * SLACK
    return not (need > free[mine & used].sum(axis=0) + EPS).any()


def _others(search, rule, rivals, free, hosts):
    """(rule, Estimate, apart) of the rivals to look at: the unplaced
    ones while this group's domain is open (``free``), else only those
    whose domain placed members fix (cheap, and they cannot move)."""
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
            where = sorted(hosts)
        out.append((members, Estimate(search, other.level, members, where,
                                      hosts),
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
    empty = np.flatnonzero((at == d) & ~used[idx])
    room = (np.maximum(search.free[idx[empty]], 0) * p.weights
            / p.scale).sum(axis=1)
    top = max(float(room.max()), EPS) if len(room) else 1.0
    for pos, size in zip(empty, room):
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
        # Equal counts: the larger host leaves room for what the estimate
        # got wrong (below a host opened: a host in use still comes first).
        est[pos] = seen[key] - TIE * size / top


def _same(p, level, apart, d, d2):
    """Whether domains ``d`` and ``d2`` of ``level`` share their domain at
    level ``apart``."""
    dom, up = p.domain[level], p.domain[apart]
    a = up[np.flatnonzero(dom == d)[:1]]
    b = up[np.flatnonzero(dom == d2)[:1]]
    return bool(len(a) and len(b) and a[0] == b[0])
