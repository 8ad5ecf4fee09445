"""Counts the at-most and spread rules make while compiling.

A count that fails on the hosts a member may use by its static filters
and capacity alone fails for every placement (the other rules only take
hosts away), so the rule refuses the request before any search: the
search would otherwise spend nodes, and the proofs of ``proofs.py`` their
own masks, finding the same thing out.

Each refusal names the groups its count used (``groups``): the rule's
group, the groups that make the counted servers its members (nested in
it) and the affinity groups that hold a unit together; ``recount(kept)``
answers whether the count still refuses with only the groups ``kept``:
what a recheck ignoring the others would find while compiling, without
compiling it (the explanation's conflict set is reduced with it).
"""

import numpy as np

from valet.engine.model import groups as g
from valet.engine.solver.rules import base
from valet.engine.solver.rules.base import EPS
from valet.objects import group_kinds


def union(problem, members):
    """The hosts some member's static filters and capacity allow."""
    masks = base.member_masks(problem, members)
    if not masks:
        return np.zeros(problem.slots, dtype=bool)
    return np.logical_or.reduce(masks)


def domains(problem, level, mask):
    """Per domain of ``level``: whether it has a host of ``mask``."""
    dom = problem.domain[level]
    out = np.zeros(problem.dc.domain_count(level), dtype=bool)
    out[dom[mask & (dom >= 0)]] = True
    return out


def hold(problem, level, mask, members):
    """Per domain: at most how many of ``members`` its hosts of ``mask``
    take (by the smallest member's demand in every resource class)."""
    dom = problem.domain[level]
    keep = mask & (dom >= 0)
    ndom = problem.dc.domain_count(level)
    room = np.maximum(problem.free[keep], 0)
    least = problem.demand[members].min(axis=0)
    out = np.full(ndom, len(members), dtype=np.int64)
    for c in np.flatnonzero(least > EPS):
        per_host = np.floor(room[:, c] / least[c] + EPS)
        out = np.minimum(out, np.bincount(
            dom[keep], weights=per_host, minlength=ndom).astype(np.int64))
    return out


def placed(problem, level, old):
    """Per domain of ``level``: the placed servers of ``old`` there."""
    out = np.zeros(problem.dc.domain_count(level), dtype=np.int64)
    for sid in old:
        out[problem.host_domain(level, sid)] += 1
    return out


# ------------------------------------------------------- group closures
def closures(problem, ignored=frozenset()):
    """The servers' groups (through nesting) as a problem ignoring
    ``ignored`` as well would compile them."""
    if not ignored:
        return problem.closures
    skip = problem.ignore_groups | frozenset(ignored)
    defs = problem.group_defs
    out = {}
    for key, names in problem.closures.items():
        if skip.isdisjoint(names):
            out[key] = names        # nothing it joins is ignored
            continue
        groups = (problem.servers[key[1]].groups if key[0] == 'new'
                  else problem.dc.servers[key[1]].groups)
        out[key] = set(g.closure(groups, defs, skip))
    return out


def members(clos, name):
    """(request indices, placed ids) in group ``name`` by ``clos``."""
    new, old = [], []
    for key, names in clos.items():
        if name in names:
            (new if key[0] == 'new' else old).append(key[1])
    return sorted(new), sorted(old)


def units(problem, clos, members, level):
    """The members as lists held in one domain of ``level`` by affinity
    groups at that level or below, largest first (links may run through
    other servers: a chain of shared groups holds them all together)."""
    roots = base.affinity_roots(problem, level, clos)
    out = {}
    for i in members:
        key = ('new', i)
        out.setdefault(roots.get(key, key), []).append(i)
    return sorted(out.values(), key=lambda u: (-len(u), u))


def _low_affinity(problem, level):
    """The affinity groups at ``level`` or below (cached per problem)."""
    cache = problem.__dict__.setdefault('_low_affinity', {})
    found = cache.get(level)
    if found is None:
        topology = problem.topology
        found = cache[level] = frozenset(
            name for name, group in problem.group_defs.items()
            if group.kind == group_kinds.AFFINITY
            and topology.index(group.level) <= level)
    return found


def lineage(problem, clos, keys, name):
    """The groups that make these servers (closure keys) members of group
    ``name``: it and the groups nested in it on the way."""
    defs = problem.group_defs
    # Nesting is the problem's own: what leads to ``name`` is asked again
    # by every recount.
    memo = problem.__dict__.setdefault('_leads', {}).setdefault(name, {})

    def leads(group):
        if group == name:
            return True
        found = memo.get(group)
        if found is None:
            memo[group] = False     # a cycle leads nowhere
            parents = getattr(defs.get(group), 'parents', ())
            found = memo[group] = any(leads(p) for p in parents)
        return found

    out = {name}
    for key in keys:
        for group in clos.get(key, ()):
            if leads(group):
                out.add(group)
    return out


def ties(problem, clos, members, level):
    """The affinity groups at ``level`` or below the members belong to
    (what holds a unit together)."""
    low = _low_affinity(problem, level)
    out = set()
    for i in members:
        out |= low.intersection(clos[('new', i)])
    return out


def refusal(problem, name, count, clos=None):
    """The first refusal ``count(clos)`` finds for group ``name``, as an
    entry naming the groups it used, with ``recount``; or None.

    ``count(clos)`` returns (the groups used, the entry) or None; the
    entry's ``core`` (if any) the few groups the count turns on, which
    the conflict set tries first.
    """
    found = count(problem.closures)
    if found is None:
        return None
    used, entry = found
    names = sorted(set(used) & set(problem.touched_groups))
    entry['core'] = sorted(set(entry.get('core', names)) & set(names))
    # Soft groups stay in every recheck (they never refuse).
    everything = frozenset(
        n for n in problem.touched_groups
        if getattr(problem.group_defs.get(n), 'kind', None)
        not in group_kinds.WEIGHTED_KINDS)

    known = {}

    def recount(kept):
        """Whether the count still refuses with only ``kept`` groups."""
        kept = frozenset(kept)
        if name not in kept:
            return False
        if kept not in known:
            known[kept] = count(closures(
                problem, everything - kept)) is not None
        return known[kept]

    entry['groups'] = names
    entry['recount'] = recount
    return entry
