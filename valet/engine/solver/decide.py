"""One placement decision, from request to answer."""

import dataclasses
import time

import numpy as np

from valet.engine.model import datacenter
from valet.engine.model import errors
from valet.engine.model import groups as g
from valet.engine.model import request as r
from valet.engine.solver import decision as d
from valet.engine.solver import explain
from valet.engine.solver import problem as problem_mod
from valet.engine.solver import phases

# ndarray.sum without its Python wrapper (the same reduction).
_ADD = np.add.reduce


def decide(dc, request, options=None):
    """Decide where the request's servers go. The model is not changed.

    Raises InvalidRequest for requests no search could satisfy by
    construction; otherwise returns a Decision, feasible or explained.
    """
    options = options or d.SolverOptions()
    if options.objective not in d.OBJECTIVES:
        raise errors.InvalidRequest(
            'unknown objective %r; use one of %s' % (
                options.objective, ', '.join(d.OBJECTIVES)),
            code='valet.request.unknown_objective')
    made = []
    try:
        return _decide(dc, request, options, made)
    finally:
        # Every problem's caches refer back to it (the root view, the
        # searches' shared start): released, the decision's objects are
        # freed as it returns, not by the cyclic garbage collector inside
        # some later call.
        for problem in made:
            problem.release()


def _decide(dc, request, options, made):
    """:func:`decide`; each problem it builds is added to ``made``."""
    def new_problem(**kwargs):
        problem = problem_mod.Problem(dc, request, **kwargs)
        made.append(problem)
        return problem

    start = time.perf_counter()
    deadline = start + options.time_budget
    problem = new_problem()
    total_nodes = 0
    if request.kind == r.UPDATE and problem.current:
        # Keeping running servers where they are comes first.
        pinned = new_problem(pins=problem.current)
        result = phases.solve(pinned, options, deadline)
        total_nodes += result['nodes']
        if result['feasible']:
            return _decision(pinned, result, start, total_nodes)
    result = phases.solve(problem, options, deadline)
    total_nodes += result['nodes']
    if not result['feasible'] and request.kind == r.MIGRATE:
        partners = _affinity_partners(dc, problem, request.target)
        if partners:
            wider = new_problem(movable_extra=partners)
            result2 = phases.solve(wider, options, deadline)
            total_nodes += result2['nodes']
            if result2['feasible']:
                return _decision(wider, result2, start, total_nodes)
    if result['feasible']:
        return _decision(problem, result, start, total_nodes)

    def recheck(ignored):
        if not ignored:
            # The request itself: its own search already answered.
            return False if result['proven_infeasible'] else None
        quick = dataclasses.replace(options, improve=False,
                                    max_nodes=min(options.max_nodes, 5000))
        relaxed = problem_mod.Problem(dc, request, ignore_groups=ignored,
                                      like=problem)
        # Feasible or not is all a recheck asks (proofs at the first dead
        # end: most rechecks keep a conflict); released at once (a
        # conflict may take many rechecks).
        try:
            res = phases.solve(relaxed, quick, deadline, verdict=True)
        finally:
            relaxed.release()
        # Node budgets only, so the same on any machine: a search that ran
        # out of nodes proves nothing either way.
        if res['feasible']:
            return True
        return False if res['proven_infeasible'] else None

    why = explain.explain(problem, result, options, recheck)
    return d.Decision(
        feasible=False,
        proven_infeasible=bool(result['proven_infeasible'] or why['proven']),
        removed=list(problem.removed), explanation=why,
        stats=_stats(result, start, total_nodes))


def _affinity_partners(dc, problem, target):
    """Servers sharing an affinity group with the target (placed ones)."""
    closure = problem.closures.get(('new', 0), set())
    partners = set()
    for name in closure:
        group = problem.group_defs.get(name)
        if group is not None and group.kind == g.AFFINITY:
            partners |= set(dc.group_servers(name))
    partners.discard(target)
    return sorted(partners)


def _decision(problem, result, start, total_nodes):
    dc = problem.dc
    assignment, moved = {}, []
    slots = result['assignment']
    for i, sid in enumerate(problem.ids):
        host = dc.host_name(slots[i])
        assignment[sid] = host
        if sid in problem.current and problem.current[sid] != host:
            moved.append(sid)
    used = sorted(set(slots))
    # (A list's count: the same number without two array calls.)
    new_hosts = problem.base_count.take(used).tolist().count(0)
    # Only the hosts used change: their rows copied (in ``used`` order),
    # not every host's. Each server's demand taken off its host's row in
    # request order: in one call (the same subtractions as the loop)
    # unless there are only a few, where the call's fixed cost is more
    # than the loop's (in plain floats: the same subtractions, without
    # an array call per server).
    if len(slots) < 8:
        rows = problem.free.take(used, 0).tolist()
        row_of = {h: rows[k] for k, h in enumerate(used)}
        for h, need in zip(slots, problem.demand.tolist()):
            row = row_of[h]
            for c, amount in enumerate(need):
                row[c] -= amount
        free_after = np.array(rows, dtype=float)
    else:
        free_after = problem.free[used]
        np.subtract.at(free_after, np.searchsorted(used, slots),
                       problem.demand)
    frag = float(_ADD(np.maximum(free_after, 0, out=free_after) *
                      problem.weights / problem.scale,
                      axis=None)) if used else 0.0
    objective = {'new_hosts': new_hosts, 'moves': len(moved),
                 'hosts_used': len(used), 'fragmentation': round(frag, 6)}
    objective.update(_soft_objective(problem, result, slots, new_hosts))
    return d.Decision(
        feasible=True, assignment=assignment, removed=list(problem.removed),
        moved=moved, optimal=bool(result['optimal']), objective=objective,
        stats=_stats(result, start, total_nodes))


def _soft_objective(problem, result, slots, new_hosts):
    """Soft violations per group and weighted, and the proven bounds.

    ``bound`` holds, per component the search minimises, a value no
    placement at least as good in the earlier components goes under: the
    decision's own value where the search proved it, else the root bound
    (what the counting arguments force).
    """
    soft, total = {}, 0
    for rule in problem.constraints:
        if not rule.soft:
            continue
        count = rule.final_violations(problem, slots)
        soft[rule.name] = {'kind': rule.kind, 'weight': rule.weight,
                           'level': problem.topology.levels[rule.level],
                           'violations': count}
        total += rule.weight * count
    proven = bool(result['proven'])
    bound = {'soft_violations': total if proven else int(
        result['soft_root'])}
    if result['consolidate']:
        bound['new_hosts'] = new_hosts if proven else int(
            result['hosts_root'])
    return {'soft_violations': total, 'soft': soft, 'bound': bound}


def _stats(result, start, total_nodes):
    return {'nodes': int(total_nodes), 'restarts': int(result['restarts']),
            'timed_out': bool(result['timed_out']),
            'elapsed_ms': round((time.perf_counter() - start) * 1000.0, 3)}


def apply_decision(dc, request, decision):
    """Record a feasible decision in the model (place, move, remove)."""
    if not decision.feasible:
        raise errors.ModelError('an infeasible decision cannot be applied',
                                code='valet.model.infeasible')
    for group in request.groups:
        if group.name not in dc.groups or group.parents:
            dc.define_group(group)
    for sid in decision.removed:
        dc.remove_server(sid)
    given = {s.id: s for s in request.servers}
    # Servers new to the model are placed in runs (one write of the usage
    # arrays a run); every change keeps the assignment's order.
    fresh = []
    try:
        for sid, host in decision.assignment.items():
            placed = dc.servers.get(sid)
            if placed is None:
                spec = given[sid]
                fresh.append(datacenter.PlacedServer(
                    id=sid, host=host, demand=dict(spec.demand),
                    groups=spec.groups, project=request.project,
                    stack=request.stack, name=spec.name))
                continue
            run, fresh = fresh, []
            dc.place_all(run)
            spec = given.get(sid)
            dc.remove_server(sid)
            if spec is not None:
                placed = dataclasses.replace(
                    placed, demand=dict(spec.demand), groups=spec.groups,
                    name=spec.name)
            dc.place(dataclasses.replace(placed, host=host))
    finally:
        # An error leaves the servers ahead of it placed, as one by one.
        dc.place_all(fresh)
