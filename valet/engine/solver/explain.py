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


import numpy as np

from valet.engine.solver.rules import base as rules_base
from valet.engine.solver.rules.base import EPS
from valet.engine.solver import proof_entries
from valet.engine.solver import proofs
from valet.engine.solver import root_view
from valet.objects import group_kinds

INFEASIBLE = 'infeasible'
SEARCH_BUDGET = 'search_budget'


def explain(problem, result, options, recheck):
    """A machine-readable explanation with a readable ``summary``.

    ``recheck(ignore_groups)`` answers whether the request is feasible when
    the given groups are ignored (used for the conflict set).
    """
    # The root the proofs reasoned about (their masks), if they ran.
    facts = proofs.root_facts(
        problem, options, lambda: root_view.RootView(problem, options))
    fresh = facts.s
    # The funnel of the servers left without a host; the others' only if
    # the search entry needs one.
    empty = facts.without_host()
    groups = [_public(e) for e in problem.blocked] + _group_checks(
        problem, fresh)
    proved = result.get('proofs') or []
    groups += proof_entries.group_entries(proved, groups)
    out = {'servers': [_funnel(problem, fresh, i) for i in empty],
           'groups': groups, 'search': None, 'conflict': None}
    if not out['servers'] and result.get('failures') is not None:
        worst = int(np.argmax(result['failures']))
        entry = _funnel(problem, fresh, worst)
        entry['failed_in_search'] = int(result['failures'][worst])
        out['search'] = {
            'server': problem.ids[worst],
            'times_without_candidate': int(result['failures'][worst]),
            'funnel': entry,
            'proven': bool(result.get('proven_infeasible')),
        }
    if options.explain_conflicts:
        out['conflict'] = proof_entries.conflict(
            problem, proved or problem.blocked, recheck) or _conflict(
            problem, recheck)
    out['proven'] = _proven(out, result)
    out['reason'] = INFEASIBLE if out['proven'] else SEARCH_BUDGET
    out['summary'] = _summary(problem, out)
    for line in proof_entries.summary_lines(proved):
        out['summary'] += '; ' + line
    return out


def _proven(out, result):
    """Whether the explanation holds a proof of infeasibility."""
    if result.get('proven_infeasible'):
        return True
    if out['servers'] or out['groups']:
        return True
    conflict = out.get('conflict') or {}
    return bool(conflict.get('capacity_only'))


def _public(entry):
    """A compile-time refusal as the explanation shows it (what its
    count used goes to the conflict set only)."""
    return {k: v for k, v in entry.items()
            if k not in ('groups', 'core', 'recount')}


def _server_label(problem, i):
    server = problem.servers[i]
    if server.name and server.name != server.id:
        return '%s (%s)' % (server.name, server.id)
    return server.id


def _funnel(problem, fresh, i):
    level_names = problem.topology.levels
    alive = problem.present
    start = left = int(np.count_nonzero(alive))
    steps = []

    def cut(name, mask, **extra):
        # What a filter rules out: the hosts left before it less after.
        nonlocal alive, left
        alive = alive & mask
        now = int(np.count_nonzero(alive))
        if left - now:
            steps.append(dict(filter=name, hosts=left - now, **extra))
        left = now

    for name, mask in problem.static_reasons[i]:
        cut(name, mask)
    for c, rc in enumerate(problem.dc.resource_classes):
        need = problem.demand[i, c]
        if need > 0:
            cut('capacity:' + rc, problem.free[:, c] >= need - EPS)
    for c in problem.server_rules[i]:
        rule = problem.constraints[c]
        cut(rule.label(i), rules_base.root_rule_mask(fresh, c, i),
            level=level_names[rule.level])
    return {'server': problem.ids[i], 'name': _server_label(problem, i),
            'hosts': start, 'ruled_out': steps,
            'remaining': left}


def _group_checks(problem, fresh):
    """Groups that no domain of their level can hold, rule by rule."""
    out = []
    for c, rule in enumerate(problem.constraints):
        out.extend(rule.explain(problem, root_view.RuleMasks(fresh, c)))
    return out


def _conflict(problem, recheck, limit=12):
    """A smallest set of groups that, kept alone, still cannot be placed.

    ``recheck(ignored)`` is True (feasible with those groups ignored),
    False (proven not placeable) or None (its node budget ran out first);
    at most ``limit`` + 1 rechecks keep the work bounded without a clock.
    """
    # Soft groups never rule a placement out: they are no cause.
    names = sorted(n for n in problem.touched_groups
                   if not _soft(problem.group_defs.get(n)))
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
        trial = [n for n in kept if n != name]
        if recheck(everything - set(trial)) is False:
            kept = trial
    return {'groups': kept, 'capacity_only': False, 'minimal': True}


def _soft(group):
    return group is not None and group.kind in group_kinds.WEIGHTED_KINDS


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
