"""Spread with max skew: members spread over the domains of the group's
level so that no domain holding a new member is more than ``max_skew``
members ahead of the emptiest eligible domain.

Eligible domains are those with a host some new member passes the static
filters of (enabled, availability zone, extra specs, candidate and
excluded hosts; not capacity): like topology spread in Kubernetes, a full
eligible domain still counts as the emptiest. Placed members count where
they run; a domain holding no new member is not judged (drift).

The search checks each assignment against what the members still to be
placed can do: a domain may take a member when the others can still lift
every eligible domain to within ``max_skew`` of the fullest judged one.
With one member left that is the rule itself, so complete placements obey
it exactly.
"""

import bisect
import collections

import numpy as np

from valet.engine.solver.rules import base
from valet.engine.solver.rules import counts
from valet.objects import group_kinds

KIND = group_kinds.SPREAD

# Static filter steps that say where a member may ever go (eligibility).
_NOT_ELIGIBILITY = ('kept_in_place',)


class Spread(base.Constraint):
    kind = KIND

    def __init__(self, name, level, members, skew, placed, eligible):
        super().__init__(name, level, members)
        self.skew = skew            # max_skew
        self.placed = placed        # domain -> placed members (not moving)
        self.eligible = eligible    # domain -> bool

    def start(self, search):
        return _Tracker(self, search)

    def explain(self, problem, tracker):
        if self.eligible.any():
            return []
        level = problem.topology.levels[self.level]
        return [{
            'group': self.name, 'kind': KIND, 'level': level,
            'reason': 'no %s has a host its members (%s) may use' % (
                level, problem.server_names(self.members)),
        }]


class _Tracker(base.Tracker):
    """Counts per domain, and per count value how many domains, eligible
    domains and judged domains have it (kept by apply and undo): the
    mask works out per count value present (a handful) whether a domain
    with it may take the member, in plain Python, and looks the hosts up
    in one table, instead of sorting the domains at every node."""

    def __init__(self, rule, search):
        super().__init__(rule, search)
        self.count = rule.placed.copy()
        self.left = len(rule.members)
        start = _start(rule, self.p)
        self._newcomers = [0] * len(start.eligible)
        self._eligible = start.eligible
        self._domains_at = dict(start.domains_at)
        self._eligible_at = dict(start.eligible_at)
        self._judged_at = {}
        self._stride = start.stride
        self._safe, self._has = start.safe, start.has
        self._offset = start.offset

    def mask(self, i):
        skew, left = self.rule.skew, self.left - 1
        fullest = max((v for v, n in self._judged_at.items() if n),
                      default=-1)
        # Eligible domains below each count value and their counts' sum.
        values = sorted(v for v, n in self._eligible_at.items() if n)
        below, total = [0], [0]
        for v in values:
            n = self._eligible_at[v]
            below.append(below[-1] + n)
            total.append(total[-1] + n * v)
        stride = self._stride
        # A handful of values set: cheaper than a list made an array.
        table = np.zeros(2 * stride, dtype=bool)
        for v, n in self._domains_at.items():
            if not n:
                continue
            # This domain taking the member: the fullest judged domain
            # then, the floor every eligible domain must reach, and the
            # members lifting them there takes beyond this one.
            floor = max(fullest, v + 1) - skew
            k = bisect.bisect_left(values, floor)
            water = below[k] * floor - total[k]
            table[v] = water <= left
            table[stride + v] = water - (v < floor) <= left
        ok = table.take(self.count.take(self._safe) + self._offset)
        return ok & self._has

    def apply(self, i, h):
        d = self.p.domain[self.rule.level, h]
        v = int(self.count[d])
        self.count[d] = v + 1
        if not self._newcomers[d]:
            _add(self._judged_at, v, 1)     # judged from now on
        self._newcomers[d] += 1
        self._move(d, v, v + 1)
        self.left -= 1

    def undo(self, i, h, token):
        d = self.p.domain[self.rule.level, h]
        v = int(self.count[d])
        self.count[d] = v - 1
        self._newcomers[d] -= 1
        if not self._newcomers[d]:
            _add(self._judged_at, v, -1)    # no longer judged
        self._move(d, v, v - 1)
        self.left += 1

    def _move(self, d, old, new):
        """Domain d's count goes from old to new."""
        _add(self._domains_at, old, -1)
        _add(self._domains_at, new, 1)
        if self._eligible[d]:
            _add(self._eligible_at, old, -1)
            _add(self._eligible_at, new, 1)
        if self._newcomers[d]:
            _add(self._judged_at, old, -1)
            _add(self._judged_at, new, 1)


def _add(counter, key, n):
    counter[key] = counter.get(key, 0) + n


class _Start:
    """What every tracker of one rule starts from (the main search's and
    the proofs' root search's): worked out once per rule."""

    def __init__(self, rule, problem):
        placed = rule.placed.tolist()
        self.eligible = rule.eligible.tolist()
        # Per count value, the domains and the eligible domains with it
        # (Counter counts in C: a few hundred domains at the host level).
        self.domains_at = dict(collections.Counter(placed))
        self.eligible_at = dict(collections.Counter(
            c for c, ok in zip(placed, self.eligible) if ok))
        # Count values run from 0 to the most placed plus every member.
        self.stride = max(placed, default=0) + len(rule.members) + 2
        self.safe, self.has = problem.domain_index(rule.level)
        # Per host, where its row starts in the table (eligible second).
        self.offset = np.where(rule.eligible[self.safe], self.stride, 0)


def _start(rule, problem):
    found = rule.__dict__.get('_start')
    if found is None:
        found = rule.__dict__['_start'] = _Start(rule, problem)
    return found


def compile(problem):
    out = []
    for name, group, level, new, old in base.groups_to_place(problem, KIND):
        rule = Spread(name, level, new, group.max_skew,
                      counts.placed(problem, level, old),
                      _eligible(problem, level, new))
        # Counting before searching: the search would find it out only
        # by trying the choices.
        blocked = counts.refusal(problem, name, _count(
            problem, name, level, group.max_skew))
        if blocked:
            problem.blocked.append(blocked)
        out.append(rule)
    return out


def _eligible(problem, level, new):
    """Domains with a host some new member's static filters (not
    capacity) let it use."""
    cache = problem.__dict__.setdefault('_eligible_hosts', {})
    hosts = np.zeros(problem.slots, dtype=bool)
    for i in new:
        ok = cache.get(i)
        if ok is None:
            steps = problem.static_reasons[i]
            if all(step not in _NOT_ELIGIBILITY and not step.startswith(
                    'capacity:') for step, _ in steps):
                ok = problem.static[i]      # every step says where
            else:
                ok = np.ones(problem.slots, dtype=bool)
                for step, mask in steps:
                    if step not in _NOT_ELIGIBILITY and not (
                            step.startswith('capacity:')):
                        ok &= mask
            cache[i] = ok
        hosts |= ok
    return counts.domains(problem, level, hosts)


def _count(problem, name, level, skew):
    """The count of spread group ``name`` on the groups' closures
    ``clos``: (the groups used, an entry) when no floor lets the members
    lift every eligible domain within the skew on the hosts their static
    filters and capacity allow (``fits``), the largest affinity unit
    landing whole; else None.

    Only a unit larger than the skew is counted here: the other counts
    need the root masks of every rule (``proofs.py``, at the search's
    first dead end), and a feasible request pays for none of them.
    """

    def count(clos):
        new, old = counts.members(clos, name)
        if not new:
            return None
        unit = counts.units(problem, clos, new, level)[0]
        if len(unit) <= skew:
            return None
        eligible = _eligible(problem, level, new)
        if not eligible.any():
            return None     # the rule's explain says so
        placed = counts.placed(problem, level, old)
        where = counts.union(problem, new)
        take = counts.domains(problem, level, where)
        hold = np.where(take, counts.hold(problem, level, where, new), 0)
        if fits(placed, eligible, take, hold, skew, len(new), len(unit)):
            return None
        # Every member counts (fewer could not lift the floor), and the
        # affinity groups of the largest unit.
        used = counts.lineage(problem, clos, [('new', i) for i in new] + [
            ('old', sid) for sid in old], name)
        ties = counts.ties(problem, clos, unit, level)
        used |= ties
        names = problem.topology.levels[level]
        return used, {
            'core': ties | {name},
            'group': name, 'kind': KIND, 'level': names,
            'reason': 'the %d members (%s) cannot be spread over the %ss '
                      'with room for them so that no %s is more than %d '
                      'ahead of the emptiest' % (
                          len(new), problem.server_names(new), names,
                          names, skew),
            'members': len(new), 'max_skew': skew,
            'domains': int(take.sum())}

    return count


def fits(placed, eligible, take, hold, skew, n, unit):
    """Counts only: is there a floor t with every eligible domain lifted
    to t and every domain that takes members kept at t + skew or less?
    ``unit``: the most members affinity holds in one domain, which some
    domain takes at once (so the floor is at least its count less skew).
    """
    if not eligible.any():
        return n == 0
    low = int(placed[eligible].min())
    start = low
    if take.any():
        start = max(start, int(placed[take].min()) + unit - skew)
    if start > low + n:
        return False
    # Every floor at once, one row each (a few dozen at most).
    t = np.arange(start, low + n + 1)[:, None]
    lift = np.maximum(t - placed, 0) * eligible
    # An eligible domain below t must take members to reach it.
    short = (lift > hold).any(axis=1)
    room = np.minimum(np.maximum(t + skew - placed, 0), hold).sum(axis=1)
    # The domain taking the largest unit gets it whole, beyond its lift
    # where that is smaller.
    least = 0
    if take.any():
        extra = np.maximum(placed + unit - np.maximum(t, placed), 0)
        least = extra[:, take].min(axis=1)
    return bool((~short & (lift.sum(axis=1) + least <= n)
                 & (n <= room)).any())
