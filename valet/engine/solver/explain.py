"""Why a request could not be placed, in numbers and in words.

Three views, cheapest first:

* per server, the *funnel*: how many hosts each filter ruled out, in order
  (static filters, capacity per resource class, then the group rules as
  they stand before the request), and how many were left;
* per group, whether any domain at its level could hold it at all;
* a smallest set of the request's groups that, with the capacities, makes
  the request impossible (a deletion filter over the groups), when there
  are few groups and time is left.

A server left with no host by the funnel, a group no domain can hold, a
diversity group with more units than domains that can take any of them,
or a conflict with placed servers is a counting argument: it proves the
request impossible whatever the search did, and the explanation says so
(``proven``, ``reason`` = ``infeasible``) instead of blaming the budget
(``reason`` = ``search_budget``).
"""

import time

import numpy as np

from valet.engine.solver import search as search_mod
from valet.engine.solver.problem import EPS

INFEASIBLE = 'infeasible'
SEARCH_BUDGET = 'search_budget'
# At most this many server names in one line of a summary.
_NAMES = 5


def explain(problem, result, options, deadline, recheck):
    """A machine-readable explanation with a readable ``summary``.

    ``recheck(ignore_groups)`` answers whether the request is feasible when
    the given groups are ignored (used for the conflict set).
    """
    fresh = search_mod.Search(problem, options)
    servers = [_funnel(problem, fresh, i) for i in range(len(problem.servers))]
    groups = list(problem.blocked) + _group_checks(problem, fresh)
    out = {'servers': [s for s in servers if s['remaining'] == 0],
           'groups': groups, 'search': None, 'conflict': None}
    if not out['servers'] and result.get('failures') is not None:
        worst = int(np.argmax(result['failures']))
        entry = servers[worst]
        entry['failed_in_search'] = int(result['failures'][worst])
        out['search'] = {
            'server': problem.ids[worst],
            'times_without_candidate': int(result['failures'][worst]),
            'funnel': entry,
            'proven': bool(result.get('proven_infeasible')),
        }
    if options.explain_conflicts:
        out['conflict'] = _conflict(problem, recheck, deadline)
    out['proven'] = _proven(out, result)
    out['reason'] = INFEASIBLE if out['proven'] else SEARCH_BUDGET
    out['summary'] = _summary(problem, out)
    return out


def _proven(out, result):
    """Whether the explanation holds a proof of infeasibility."""
    if result.get('proven_infeasible'):
        return True
    if out['servers'] or out['groups']:
        return True
    conflict = out.get('conflict') or {}
    return bool(conflict.get('capacity_only'))


def _server_label(problem, i):
    server = problem.servers[i]
    if server.name and server.name != server.id:
        return '%s (%s)' % (server.name, server.id)
    return server.id


def _names(problem, indices):
    labels = [problem.servers[i].name or problem.servers[i].id
              for i in sorted(indices)]
    if len(labels) > _NAMES:
        return '%s and %d more' % (', '.join(labels[:_NAMES]),
                                   len(labels) - _NAMES)
    return ', '.join(labels)


def _funnel(problem, fresh, i):
    level_names = problem.topology.levels
    alive = problem.present.copy()
    start = int(alive.sum())
    steps = []

    def cut(name, mask, **extra):
        nonlocal alive
        removed = int((alive & ~mask).sum())
        if removed:
            steps.append(dict(filter=name, hosts=removed, **extra))
        alive = alive & mask

    for name, mask in problem.static_reasons[i]:
        cut(name, mask)
    for c, rc in enumerate(problem.dc.resource_classes):
        need = problem.demand[i, c]
        if need > 0:
            cut('capacity:' + rc, problem.free[:, c] >= need - EPS)
    for a in problem.server_affinity[i]:
        rule = problem.affinity[a]
        cut('affinity:' + rule.name, fresh._affinity_mask(a),
            level=level_names[rule.level])
    for k in problem.server_diversity[i]:
        rule = problem.diversity[k]
        cut('diversity:' + rule.name,
            fresh._diversity_mask(k, rule.unit[i]),
            level=level_names[rule.level])
    for e, lvl in enumerate(problem.exclusivity):
        name = lvl.member_of.get(i)
        label = ('exclusivity:' + name) if name else 'exclusivity:others'
        cut(label, fresh._exclusivity_mask(e, lvl, i),
            level=level_names[lvl.level])
    return {'server': problem.ids[i], 'name': _server_label(problem, i),
            'hosts': start, 'ruled_out': steps,
            'remaining': int(alive.sum())}


def _group_checks(problem, fresh):
    """Groups that cannot fit in any single domain of their level."""
    out = []
    level_names = problem.topology.levels
    for a, rule in enumerate(problem.affinity):
        ok_hosts = np.ones(problem.slots, dtype=bool)
        for m in rule.members:
            ok_hosts &= problem.static[m]
        dom = problem.domain[rule.level]
        need = problem.demand[rule.members].sum(axis=0)
        free = np.where(ok_hosts[:, None], np.maximum(problem.free, 0), 0)
        valid = dom >= 0
        ndom = problem.dc.domain_count(rule.level)
        dom_free = np.stack([np.bincount(dom[valid], weights=free[valid, c],
                                         minlength=ndom)
                             for c in range(free.shape[1])], axis=1)
        if rule.allowed is not None:
            keep = np.zeros(ndom, dtype=bool)
            keep[rule.allowed] = True
            dom_free = np.where(keep[:, None], dom_free, 0)
        fits = np.all(dom_free >= need - EPS, axis=1)
        if not fits.any():
            best = int(np.argmax((dom_free / np.maximum(need, EPS)).min(
                axis=1))) if ndom else 0
            out.append({
                'group': rule.name, 'kind': 'affinity',
                'level': level_names[rule.level],
                'reason': 'no %s has room for the whole group (%s)'
                          % (level_names[rule.level],
                             _names(problem, rule.members)),
                'needs': _vec(problem, need),
                'most_room': _vec(problem, dom_free[best]) if ndom else {},
            })
    for k, rule in enumerate(problem.diversity):
        units = set(rule.unit.values())
        dom = problem.domain[rule.level]
        usable_domains = set()
        for i in rule.members:
            ok = problem.static[i] & fresh._diversity_mask(k, rule.unit[i])
            ok &= np.all(problem.free >= problem.demand[i] - EPS, axis=1)
            usable_domains |= set(np.unique(dom[ok]).tolist())
        if len(units) > len(usable_domains):
            out.append({
                'group': rule.name, 'kind': 'diversity',
                'level': level_names[rule.level],
                'reason': '%d members (%s) need different %ss but only %d '
                          '%ss can take any of them' % (
                              len(units), _names(problem, rule.members),
                              level_names[rule.level],
                              len(usable_domains), level_names[rule.level]),
                'units': len(units), 'domains': len(usable_domains),
            })
    return out


def _conflict(problem, recheck, deadline, limit=12):
    """A smallest set of groups that, kept alone, still cannot be placed.

    ``recheck(ignored)`` is True (feasible with those groups ignored), False
    (not placeable) or None (could not tell in time).
    """
    names = sorted(problem.touched_groups)
    if len(names) > limit:
        return None
    everything = frozenset(names)
    verdict = recheck(everything)
    if verdict is None:
        return None
    if verdict is False:
        return {'groups': [], 'capacity_only': True, 'minimal': True}
    kept = list(names)
    for name in names:
        if time.perf_counter() > deadline:
            return {'groups': kept, 'capacity_only': False, 'minimal': False}
        trial = [n for n in kept if n != name]
        if recheck(everything - set(trial)) is False:
            kept = trial
    return {'groups': kept, 'capacity_only': False, 'minimal': True}


def _vec(problem, vec):
    return {rc: float(vec[c])
            for c, rc in enumerate(problem.dc.resource_classes) if vec[c]}


def _summary(problem, out):
    lines = []
    for entry in out['servers']:
        causes = ', '.join('%s ruled out %d' % (s['filter'], s['hosts'])
                           for s in entry['ruled_out'])
        lines.append('server %s: no host of %d is left (%s)' % (
            entry.get('name') or entry['server'], entry['hosts'],
            causes or 'no hosts'))
    for entry in out['groups']:
        lines.append('%s group %s: %s' % (entry['kind'], entry['group'],
                                          entry['reason']))
    search = out['search']
    if search and search['times_without_candidate']:
        lines.append(
            'server %s ran out of candidates %d times during the search' % (
                search['funnel'].get('name') or search['server'],
                search['times_without_candidate']))
    conflict = out.get('conflict')
    if conflict:
        if conflict['groups']:
            lines.append('together with host capacities, these groups make '
                         'the request impossible: %s' %
                         ', '.join(conflict['groups']))
        elif conflict.get('capacity_only'):
            lines.append('the servers do not fit even with every group '
                         'they join ignored')
    if out.get('proven'):
        lines.insert(0, 'the request is impossible')
    elif search or not lines:
        lines.append('the search budget ran out before a placement was '
                     'found; the request was not proven impossible')
    return '; '.join(lines)
