"""The counting proofs as the explanation shows them.

``proofs.refute`` returns proofs in the explanation's format of a group
entry, with the request's groups each used; here they become the
explanation's group entries and summary lines, and the start of its
conflict set (reduced by the deletion filter, or by the proof's own
``recount`` without compiling a recheck).
"""

from valet.engine.solver import proofs
from valet.objects import group_kinds

CAPACITY = proofs.CAPACITY


def group_entries(proved, known):
    """The proofs about groups, for the explanation's ``groups`` (one
    entry per group and kind: the rules' own checks may have it)."""
    seen = {(e.get('group'), e.get('kind')) for e in known}
    out = []
    for entry in proved:
        if entry['kind'] in (CAPACITY, 'server'):
            continue
        if (entry['group'], entry['kind']) in seen:
            continue
        out.append({k: v for k, v in entry.items()
                    if k not in ('groups', 'recount')})
    return out


def summary_lines(proved):
    """Words for what the group entries and the funnel do not say."""
    return [entry['reason'] for entry in proved
            if entry['kind'] == CAPACITY]


def conflict(problem, proved, recheck, limit=12):
    """The conflict set from a proof: a capacity proof needs no group;
    a group proof's groups, once rechecked impossible on their own, are
    reduced by the deletion filter (one recheck per group, not one per
    group of the request). None when there is no proof or its groups
    alone turn out placeable (the caller runs the full filter)."""
    if not proved:
        return None
    entry = proved[0]
    if entry['kind'] == CAPACITY:
        return {'groups': [], 'capacity_only': True, 'minimal': True}
    start = list(entry.get('groups') or ())
    if not start and entry.get('group') in problem.touched_groups:
        # A conflict the compile found (problem.blocked): its group and
        # the groups nested in it (they bring members along).
        start, stack = [], [entry['group']]
        while stack:
            name = stack.pop()
            if name in start or name not in problem.touched_groups:
                continue
            start.append(name)
            stack.extend(sorted(problem.children.get(name, ())))
        start.sort()
    # Soft groups never rule a placement out: they stay in every recheck.
    everything = frozenset(
        n for n in problem.touched_groups
        if problem.group_defs.get(n) is None
        or problem.group_defs[n].kind not in group_kinds.WEIGHTED_KINDS)
    if len(start) > limit:
        return None
    # A count made while compiling says itself whether it refuses with
    # only some groups (``recount``): no recheck compiles them.
    recount = entry.get('recount')
    core = entry.get('core') or start
    if recount is not None and (recount(core) or recount(start)):
        # Its core first: when that alone refuses, the rest goes at once.
        if core != start and recount(core):
            start = list(core)
        kept = list(start)
        for name in start:
            trial = [n for n in kept if n != name]
            if recount(trial):
                kept = trial
        return {'groups': kept, 'capacity_only': False, 'minimal': False}
    if recheck(everything - set(start)) is not False:
        return None
    kept = list(start)
    for name in start:
        trial = [n for n in kept if n != name]
        if recheck(everything - set(trial)) is False:
            kept = trial
    if not kept:
        return {'groups': [], 'capacity_only': True, 'minimal': True}
    return {'groups': kept, 'capacity_only': False, 'minimal': True}
