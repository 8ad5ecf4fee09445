"""Soft affinity: members preferably in one domain of the group's level.

Violations: members outside the group's most populated domain
(``members - max(count)``), placed members counted where they run. An
added member costs nothing when it lands in a most populated domain and
one violation anywhere else.

Only the largest domain counts, so the search ranks hosts by how many
members the best domain could end with once the server goes there (a
domain's count plus how many of the members still to place its free room
holds, smallest first): a greedy member-by-member choice would fill the
first domain it meets, largest members first, and leave the rest
stranded. Members kept together by hard affinity count as one *unit*, and
units a hard diversity group keeps apart count once per domain, in the
ranking and in the lower bound alike.
"""

import numpy as np

from valet.engine.solver.rules import base
from valet.engine.solver.rules.base import EPS
from valet.engine.solver.rules import soft
from valet.objects import group_kinds

KIND = group_kinds.SOFT_AFFINITY
# .all(axis=1) and cumsum without their Python wrappers (every ranking).
_ALL = np.logical_and.reduce
_ACC = np.add.accumulate
# .max() of a vector, without its Python wrapper (every ranking), and
# .min(axis=1) (the packing bound).
_MAX = np.maximum.reduce
_MIN = np.minimum.reduce
_SUM = np.add.reduce
_ANY = np.logical_or.reduce


class SoftAffinity(soft.Soft):
    kind = KIND
    # An ordering hint only: the search places the members one after the
    # other, which finds together-placements first.
    together = True

    def start(self, search):
        return _Tracker(self, search)

    def violations(self, counts):
        return int(_SUM(counts) - _MAX(counts)) if counts.size else 0

    def structure(self, problem):
        """:func:`structure`, worked out once."""
        if getattr(self, '_structure', None) is None:
            units, apart, self._unit_of = _structure(problem, self)
            self._structure = units, apart
        return self._structure

    def start_state(self, problem):
        """What a tracker starts from, worked out once (each search of
        the problem starts one): per member its unit, per unit the
        diversity sets it is in (bits), whether the plain projection
        does (no units, no diversity sets: it costs less), the members
        smallest first, and per unit its members, demand and size."""
        found = self.__dict__.get('_start')
        if found is None:
            units, apart = self.structure(problem)
            unit_of = self.__dict__.get('_unit_of')
            if unit_of is None:
                unit_of = {m: k for k, unit in enumerate(units)
                           for m in unit}
            # (No diversity sets, most rules: no unit is in any.)
            bits = [sum(1 << b for b, group in enumerate(apart)
                        if k in group) for k in range(len(units))
                    ] if apart else [0] * len(units)
            plain = all(len(u) == 1 for u in units) and not apart
            # (sizes as floats: the same order, without numpy's per-item
            # indexing.)
            sizes = problem.size.tolist()
            by_size = sorted(self.members, key=lambda m: (sizes[m], m))
            left = np.array([len(u) for u in units], dtype=float)
            demand, size = self.unit_sums(problem)
            found = self._start = (unit_of, bits, plain, by_size, left,
                                   demand, size)
        return found

    def unit_sums(self, problem):
        """Per unit its demand and size, worked out once (the trackers'
        start and the packing bound read them; not to be changed)."""
        found = self.__dict__.get('_unit_sums')
        if found is None:
            units = self.structure(problem)[0]
            demand, size = _unit_sums(problem, units)
            found = self._unit_sums = (demand, size)
        return found

    def lower_bound(self, problem, enough=None):
        """The bound, worked out once (each search of the problem asks).

        ``enough``, the violations of a placement found, is a value the
        bound cannot pass: the packing's term of :meth:`most` is then
        tried alone first. Every other term only lowers a domain's count
        and so raises the bound, so once the packing's reaches ``enough``
        that is the bound, and the others are not worked out.
        """
        found = self.__dict__.get('_lower')
        if found is None:
            if enough is not None and self.__dict__.get('_most') is None:
                found = self._bound_at(self.placed + self.packing(problem))
                if found >= enough:
                    self._lower = found
                    return found
            found = self._lower = self._bound_at(self.most(problem))
        return found

    def _bound_at(self, most):
        """The violations left once the domain that may end with the most
        members (``most``, per domain) holds them."""
        total = int(_SUM(self.placed)) + len(self.members)
        return max(self.violations(self.placed),
                   total - int(_MAX(most)) if most.size else 0)

    def most(self, problem):
        """Per domain, the most members it can end with (placed ones
        included), worked out once."""
        if getattr(self, '_most', None) is None:
            # No domain ends up with more than its placed members and the
            # new members that could go there at all, its free room can
            # hold and hard diversity lets share it.
            self._most = self.placed + np.minimum(np.minimum(np.minimum(
                self.reachable(problem), self.room(problem)),
                _together(problem, self)), self.packing(problem))
        return self._most

    def packing(self, problem):
        """:func:`_packed`, worked out once (the bound may ask it before
        :meth:`most`)."""
        found = self.__dict__.get('_packing')
        if found is None:
            found = self._packing = _packed(problem, self)
        return found


class _Tracker(soft.Tracker):
    # root_bound opens one host at most (Search.root_lower_bound reads
    # it), and reads the problem alone: it may be asked later, at any
    # state (once a first placement tells whether it is wanted).
    root_bound_most = 1
    root_bound_later = True

    def __init__(self, rule, search):
        super().__init__(rule, search)
        self.top = int(_MAX(self.count)) if self.count.size else 0
        start = rule.start_state(self.p)
        self.unit_of, self.bits, self.plain, self.by_size = start[:4]
        self.any_bits = any(self.bits)
        # Per unit what is left to place of it: members, demand, size
        # (kept current; members and sizes as lists of floats, the same
        # values rank read through tolist, without numpy's per-item cost
        # in apply and undo).
        left, demand, size = start[4:]
        self.left = left.tolist()
        # (and below the units a row of zeros, the empty unit _fit puts
        # first: see _rows.)
        nunit = len(self.left)
        self.left_demand = np.zeros((nunit + 1, demand.shape[1]), order="F")
        self.left_demand[:nunit] = demand
        self._empty_unit = [nunit]
        self.left_size = size.tolist()
        # Per unit of several members its row of left_demand (views,
        # changed in place), None for a unit of one: its demand and size
        # are then read only while its member is left to place (rank
        # reads units with members left), when they are the member's
        # own (d - d + d is d exactly), so apply and undo leave them be.
        # Per server its size (the problem's, as floats).
        # (Only those rows as views: a view per unit costs more.)
        left_demand = self.left_demand
        self._demand_rows = [left_demand[k] if n > 1 else None
                             for k, n in enumerate(self.left)]
        self._sizes = search.p.size.tolist()
        self._units = range(len(self.left))
        # Every unit in rank's order (see _by_ratio), worked out when
        # first asked and again after a unit of several members changes.
        self._order = None
        # Whether every unit has one member: the members the empty unit
        # and the first j units of a ranking hold, i's unit counted, are
        # then j + 1 (_ramp, as floats).
        self._ones = len(self.left) == len(rule.members)
        self._ramp = None
        self._both = None

    def rank(self, i, scale=1):
        """Per host, how many members the best domain falls short of the
        best any choice for ``i`` keeps (weighted, times ``scale``): a
        ranking, not a cost. A choice keeps, for its own domain, its
        count, ``i``'s unit and what the rest of the room holds of the
        members still to place (units a diversity group keeps from
        ``i``'s left out); for every other domain its count and what its
        room holds without ``i``."""
        if self.plain:
            return self._plain_rank(scale)
        mine = self.unit_of[i]
        # Per unit, a handful: plain lists cost less than numpy here (read
        # as they are, i's own unit left out).
        counts = self.left
        own = counts[mine]
        # Fewest resources per member first (ties: unit order): the units
        # with members left, in the order kept for every unit.
        order = self._order
        if order is None:
            order = self._order = self._by_ratio()
        order = [k for k in order if counts[k] and k != mine]
        if self.any_bits:
            away = self._kept(order, 0)
            # Without diversity sets of its own, i's unit keeps what any
            # does.
            mine_bits = self.bits[mine]
            near = self._kept(order, mine_bits) if mine_bits else away
        else:
            away = near = order
        both, free, inside = self._rows(mine)
        ndom = len(free)
        columns = self._columns
        # Per row the members its domain may end with, its count aside:
        # as i's domain (``here``, the room left once i's unit is in) i's
        # unit and the near units that fit, none where i's unit does not
        # fit; as another (the room as it is) the away units that fit and
        # i's unit's ``own`` too (the same for every domain, so the same
        # order: taken off the values read from that row).
        if near is away or near == away:
            ends = self._fit(columns[0], away, counts, own)
        else:
            ends = np.empty(2 * ndom)
            self._fit(columns[1], away, counts, own, ends[:ndom])
            self._fit(columns[2], near, counts, own, ends[ndom:])
        # Per row of ``free``: per domain, or per host at the host level.
        count = (self.count if self.rule.level or self.per_host
                 else self.count.take(self.domains))
        # (Whole numbers as floats from here on: every sum exact, in
        # place on this call's own array.)
        ends = ends.reshape(2, ndom)
        ends += count
        ends_away, here = ends[0], ends[1]
        # The best of the other domains: the top one unless it is this.
        top = int(ends_away.argmax())
        first = ends_away.item(top) - own
        # (Read as 0 once own is taken off: the best of the others where
        # there are none.)
        ends_away[top] = own
        # Both rows' best in one step: the others' and i's domain's.
        others, best_here = _MAX(ends, axis=1).tolist()
        others -= own
        top_here = here.item(top)
        value = np.maximum(here, first, out=here)
        value[top] = max(top_here, others)
        if self.rule.level:
            value = value.take(self.domains)
            best = _MAX(value)
        else:
            # The best of value (each domain's best of i's there and the
            # others'): the best of i's anywhere and of the others, where
            # the top domain is one of the others unless it is the only
            # domain.
            best = max(best_here, first if ndom > 1 else others)
        out = np.subtract(best, value, out=value)
        factor = self.weight * scale
        if factor != 1:
            out *= factor
        return out

    def _by_ratio(self):
        """Every unit, fewest resources per member first (ties: unit
        order). A unit of one member keeps its ratio (its size over 1)
        placed or not, and a change to a unit of several drops this
        order (apply, undo): filtered to the units with members left, it
        is their order as sorted now."""
        counts, sizes = self.left, self.left_size
        return sorted(self._units, key=lambda k: sizes[k] / (counts[k] or 1))

    def _plain_rank(self, scale):
        """Per host, the members its domain falls short of the domain that
        could end with the most (weighted)."""
        assign = self.search.assign
        left = tuple(m for m in self.by_size if assign[m] < 0)
        dom = self.domains
        free = self._room(dom)
        fit = soft.fits(self._sizes_left(left), free, len(left))
        if self.rule.level:
            fit = fit.take(dom)
        ends = (self.count if self.per_host else self.count.take(dom)) + fit
        return (_MAX(ends) - ends) * (self.weight * scale)

    def _sizes_left(self, left):
        """The cumulative demands of members ``left`` (less the slack),
        kept per set of members left: the search comes back to the same
        depth with the same members left again and again."""
        cache = self.rule.__dict__.setdefault('_sizes_left', {})
        cum = cache.get(left)
        if cum is None:
            demand = self.p.demand
            cum = cache[left] = (
                _ACC(demand.take(left, 0), axis=0) - soft.EPS if left
                else np.zeros((0, demand.shape[1])))
        return cum

    def _room(self, dom):
        """Per domain, its usable free room (per host at the host
        level)."""
        into = self.__dict__.get('_into')
        if into is None:
            # Per domain (row) its usable hosts (columns): one product
            # per call instead of a bincount per resource class.
            p = self.p
            if self.rule.level:
                into = np.zeros((len(self.count), p.slots))
                into[dom, np.arange(p.slots)] = p.usable
            elif p.usable.all():
                # Every host counts: the room as it is.
                into = True
            else:
                into = p.usable[:, None].astype(float)
            self._into = into
        free = np.maximum(self.search.free, 0)
        if into is True:
            return free
        return into @ free if self.rule.level else free * into

    def _room_into(self, out):
        """``_room(self.domains)`` written into ``out``: in place where
        it is the free room as it is or masked (host level)."""
        into = self._into
        if into is True:
            np.maximum(self.search.free, 0, out=out)
        elif self.rule.level:
            out[...] = self._room(self.domains)
        else:
            np.maximum(self.search.free, 0, out=out)
            out *= into

    def _rows(self, mine):
        """The room (as ``_room``) and the room left once unit ``mine``
        is in, one above the other in one matrix kept for the tracker's
        life: fitting units into both is then one step, with no new
        matrix per ranking. The room left is none below 0 where the unit
        fits, and left below -EPS where it does not: no unit fits there
        then, not even the empty one (_fit)."""
        found = self._both
        if found is None:
            room = self._room(self.domains)
            nrow = len(room)
            both = np.empty((2 * nrow, room.shape[1]))
            found = self._both = (both, both[:nrow], both[nrow:])
            # Each one's rows and columns (resource classes), as _fit
            # reads them.
            self._columns = [(len(rows), list(rows.T)) for rows in found]
            self._whole = _whole_demands(self.p, self.rule)
        both, free, inside = found
        if self._into is True:
            np.maximum(self.search.free, 0, out=free)
        else:
            self._room_into(free)
        np.subtract(free, self.left_demand[mine], out=inside)
        if not self._whole:
            np.maximum(inside, 0, out=inside, where=inside >= -soft.EPS)
        # (Whole demands: every running sum _fit compares is 0 or at
        # least 1, so a room in [-EPS, 0) holds the same units as none:
        # the room left as it is.)
        return found

    def _kept(self, order, taken):
        """The units of ``order`` left once each diversity set (bits,
        ``taken`` to start with) keeps its first."""
        if not taken and not self.any_bits:
            return order        # no diversity set: every unit is kept
        bits = self.bits
        kept = []
        for k in order:
            if bits[k] & taken:
                continue
            taken |= bits[k]
            kept.append(k)
        return kept

    def _fit(self, rows, kept, counts, own, out=None):
        """Per row of a matrix (``rows``: how many, and its columns),
        ``own`` and the members of the ``kept`` units it holds, in that
        order, after the empty unit: 0 where the empty unit does not fit
        (a class below -EPS, see _rows)."""
        # Per resource class (a row) the units' running sums, less the
        # slack: the sums of the rows taken, class by class (0.0 first, an
        # exact zero added to the sums).
        cum = _ACC(self.left_demand.T.take(self._empty_unit + kept, 1),
                   axis=1)
        cum -= soft.EPS
        fit = _fits_by_class(cum, rows, len(kept) + 1)
        if self._ones:
            # One member per unit, i's own too: j units hold j members.
            ramp = self._ramp
            if ramp is None:
                ramp = self._ramp = np.arange(len(counts) + 1, dtype=float)
            return ramp.take(fit, out=out)
        sizes, total = [0.0, own], own
        for k in kept:
            total += counts[k]
            sizes.append(total)
        return np.array(sizes).take(fit, out=out)

    def added(self, d):
        return 0 if self.count[d] >= self.top else 1

    def added_on(self, h):
        return 0 if self.count[self.host_domain[h]] >= self.top else (
            self.weight)

    def root_bound(self, in_use):
        # At its fewest violations the group's top domain holds all but
        # those: a host already running servers must be able to, or one
        # is opened (host level; a rack may hold several hosts).
        rule, p = self.rule, self.p
        if rule.level or not len(rule.members):
            return 0
        need = int(_SUM(rule.placed)) + len(rule.members) - (
            rule.lower_bound(p))
        dom = p.domain[rule.level]
        running = dom[(p.base_count > 0) & (dom >= 0)]
        return 0 if _ANY(rule.most(p)[running] >= need) else 1

    def apply(self, i, h):
        if not self.plain:
            k = self.unit_of[i]
            self.left[k] -= 1
            row = self._demand_rows[k]
            if row is not None:
                row -= self.search.demand_rows[i]
                self.left_size[k] -= self._sizes[i]
                self._order = None
        # soft.Tracker.apply with the domain's count read once.
        top, count = self.top, self.count
        d = self.host_domain[h]
        now = int(count[d]) + 1
        count[d] = now
        if now > top:
            self.top = now
            return 0, top
        self.search.soft += self.weight
        return 1, top

    def undo(self, i, h, token):
        delta, top = token
        self.count[self.host_domain[h]] -= 1
        if delta:
            self.search.soft -= self.weight
        self.top = top
        if not self.plain:
            k = self.unit_of[i]
            self.left[k] += 1
            row = self._demand_rows[k]
            if row is not None:
                row += self.search.demand_rows[i]
                self.left_size[k] += self._sizes[i]
                self._order = None

    def adds(self, i):
        if self.per_host:
            return self.count < self.top
        return self.count.take(self.domains) < self.top


def _whole_demands(problem, rule):
    """Whether the rule's members demand whole amounts, summed exactly
    (below 2**52 in all), worked out once: the units' running sums, what
    is left of them included, are then whole numbers too."""
    found = rule.__dict__.get('_whole_demands')
    if found is None:
        demand = problem.demand.take(rule.members, 0)
        found = rule._whole_demands = bool(
            _ALL(demand == np.floor(demand), axis=None)
            and _SUM(demand, axis=None) < 2.0 ** 52)
    return found


def _fits_by_class(cum, rows, most):
    """:func:`soft.fits` with the running sums one resource class a row
    (``cum``) and the room as how many rows and its columns (``rows``):
    per row, how many units it holds in every class (at most ``most``)."""
    nrow, rooms = rows
    if not rooms:
        return np.full(nrow, most)
    columns = zip(cum, rooms)
    amounts, room = next(columns)
    fit = amounts.searchsorted(room, side='right')
    for amounts, room in columns:
        np.minimum(fit, amounts.searchsorted(room, side='right'), out=fit)
    return fit


def structure(problem, rule):
    """The rule's units (members hard affinity keeps in one domain of its
    level, request indices) and the sets of units a hard diversity group
    keeps in different domains (only where its units map one to one on
    these: the rest is left out, which only weakens what it is used
    for)."""
    return _structure(problem, rule)[:2]


def _structure(problem, rule):
    """:func:`structure`, and per member its unit (start_state reads
    it)."""
    units = soft.affinity_units(problem, rule)
    unit_of = {m: k for k, unit in enumerate(units) for m in unit}
    apart, seen = [], set()
    for other in problem.constraints:
        if (other.kind != group_kinds.DIVERSITY or other.level < rule.level
                or other.members is None):
            continue
        mine, theirs = {}, {}
        for m in other.members:
            if m in unit_of:
                mine.setdefault(unit_of[m], set()).add(other.unit[m])
                theirs.setdefault(other.unit[m], set()).add(unit_of[m])
        group = frozenset(mine)
        if (len(group) < 2 or group & seen
                or any(len(v) != 1 for v in mine.values())
                or any(len(v) != 1 for v in theirs.values())):
            continue
        seen |= group
        apart.append(group)
    return units, apart, unit_of


def _unit_sums(problem, units):
    """Per unit its demand (rows) and size: a one-member unit (the most
    common) is its member's, taken in one step; the others summed."""
    if not units:
        return np.array([]), np.array([])
    demand = problem.demand.take([u[0] for u in units], 0)
    size = problem.size.take([u[0] for u in units])
    for k, unit in enumerate(units):
        if len(unit) > 1:
            # The reductions .sum() runs, without its wrapper.
            demand[k] = _SUM(problem.demand.take(unit, 0), axis=0)
            size[k] = _SUM(problem.size.take(unit))
    return demand, size


def _packed(problem, rule):
    """Per domain, the most new members its free room can hold, by the
    fractional packing of the rule's units (fewest resources per member
    first), with the units of a diversity set standing in for one unit
    of the least of each resource and the most members: an upper bound of
    any packing, resource class by resource class."""
    units, apart = rule.structure(problem)
    demand = rule.unit_sums(problem)[0]
    count = [len(u) for u in units]
    if apart:
        grouped = set().union(*apart)
        keep = [k for k in range(len(units)) if k not in grouped]
        # The kept units' rows in one step, then one per diversity set
        # (its least per resource class, in place: the reductions .min()
        # runs, without its wrapper), into one matrix; the sizes as ints.
        rows = np.empty((len(keep) + len(apart), demand.shape[1]))
        demand.take(keep, 0, out=rows[:len(keep)])
        sizes = [count[k] for k in keep]
        for row, group in zip(rows[len(keep):], apart):
            _MIN(demand.take(sorted(group), 0), axis=0, out=row)
            sizes.append(max(count[k] for k in group))
        sizes = np.array(sizes, dtype=float)
    else:
        rows, sizes = demand, np.array(count, dtype=float)
    nrow, nrc = rows.shape
    # Every resource class at once (a column each): the same sums,
    # orders and ratios as class by class, in a few vector steps.
    free = soft.domain_room(problem, rule.level)
    # Per column, a row index k reads item k * nrc + column of the
    # flattened matrix (take: fewer steps than take_along_axis).
    col = np.arange(nrc)
    order = (rows / sizes[:, None]).argsort(axis=0, kind='stable')
    flat = order * nrc
    flat += col
    # The units' demands and sizes in that order, and below them a unit
    # of demand 1 and no members: where every unit fits (k == nrow) the
    # next one's share reads it and comes out as 0 (an exact zero added
    # to the whole), with no mask of where a unit is left.
    weight = np.empty((nrow + 1, nrc))
    n = np.empty((nrow + 1, nrc))
    rows.take(flat, out=weight[:nrow])
    sizes.take(order, out=n[:nrow])
    weight[nrow] = 1.0
    n[nrow] = 0.0
    cum_w = np.zeros((nrow + 1, nrc))
    cum_n = np.zeros((nrow + 1, nrc))
    _ACC(weight[:nrow], axis=0, out=cum_w[1:])
    _ACC(n[:nrow], axis=0, out=cum_n[1:])
    at = np.empty((len(free), nrc), dtype=np.intp)
    # The slack taken off every sum in one step (the same differences),
    # then a column each (the transposes' rows: no per-column indexing).
    slack = cum_w[1:] - EPS
    for c, (sums, room) in enumerate(zip(slack.T, free.T)):
        at[:, c] = sums.searchsorted(room, side='right')
    at *= nrc
    at += col
    whole = cum_n.take(at)
    # The next unit's share (none past the last unit: the row below).
    part = free - cum_w.take(at)
    part /= weight.take(at)
    part *= n.take(at)
    np.maximum(part, 0, out=part)
    part += whole
    # The least over the columns, one column after the other (the same
    # minimum as a reduction along the rows, in fewer steps).
    most = np.full(len(free), float(len(rule.members)))
    for column in part.T:
        np.minimum(most, column, out=most)
    return np.floor(most + 1e-9).astype(np.int64)


def _together(problem, rule):
    """The most new members one domain of the rule's level can hold under
    the hard diversity groups at that level or above: of the members a
    diversity group holds, one unit per domain."""
    members = set(rule.members)
    most = len(members)
    for other in problem.constraints:
        if other.kind != group_kinds.DIVERSITY or other.level < rule.level:
            continue
        units = {}
        for i in members & set(other.members):
            units[other.unit[i]] = units.get(other.unit[i], 0) + 1
        if units:
            most = min(most, len(members) - sum(units.values())
                       + max(units.values()))
    return most


def compile(problem):
    out = []
    for name, group, level, new, old in base.groups_to_place(problem, KIND):
        out.append(SoftAffinity(name, level, new, soft.weight_of(group),
                                soft.placed_counts(problem, level, old)))
    return out
