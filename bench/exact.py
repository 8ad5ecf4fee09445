"""An exact CP-SAT model of a placement, for small instances.

One boolean ``x[s, h]`` per server and host it may use (static filters
and the rules against servers already placed are applied up front by the
view), capacity per host and resource class, affinity through one
domain-choice boolean per domain, diversity by units (at most one unit
per domain), exclusivity through one "dedicated" boolean per group and
domain, at-most groups by a sum per domain (with the members placed
there), spread groups by a floor variable under every eligible domain's
count and each domain with a new member at most ``max_skew`` above it,
soft groups by a count per domain (soft-affinity: members minus the
largest count, through a maximum variable; soft-diversity: members minus
the domains used, one boolean per domain), and the objective of the
contract, lexicographic: the fewest weighted soft violations, then the
fewest new hosts (hosts that ran nothing before the decision), solved
in that order (two solves) when there are soft groups.

Demands are whole numbers (flavors are); free capacity is rounded down.
"""

import collections
import math

import numpy as np

from bench import view as view_mod
from valet.engine.model import groups as g

NAME = 'exact'
MAX_SERVERS = 30
MAX_HOSTS = 60


def fits(instance):
    """Whether an instance is small enough for the exact model."""
    return (instance.servers <= MAX_SERVERS
            and instance.hosts <= MAX_HOSTS)


def solve(dc, request, time_limit=20.0, workers=2, seed=1):
    """(assignment or None, info). ``info['optimal']`` says whether the
    objective is proven minimal; ``info['proven_infeasible']`` whether no
    placement exists at all."""
    from ortools.sat.python import cp_model

    view = view_mod.View(dc, request)
    mask = view.static & view.group_mask
    n_s = len(view.servers)
    if n_s and not mask.any(axis=1).all():
        return None, {'optimal': False, 'proven_infeasible': True,
                      'status': 'NO_HOST'}
    model = cp_model.CpModel()
    x = {}
    by_host = collections.defaultdict(list)
    for i in range(n_s):
        hosts = np.flatnonzero(mask[i])
        for h in hosts:
            h = int(h)
            x[i, h] = model.NewBoolVar('x%d_%d' % (i, h))
            by_host[h].append(i)
        model.AddExactlyOne(x[i, int(h)] for h in hosts)

    # Capacity, only where the candidates could overflow the host.
    for h, servers in by_host.items():
        for rc in range(len(view.rcs)):
            demand = [int(math.ceil(view.demand[i, rc] - 1e-9))
                      for i in servers]
            limit = int(math.floor(view.free[h, rc] + view_mod.EPS))
            if sum(demand) > limit:
                model.Add(sum(d * x[i, h] for d, i in zip(demand, servers)
                              if d) <= limit)

    def domain_vars(members, level):
        """Per domain at ``level``: the member variables in it."""
        out = collections.defaultdict(list)
        dom = view.domain[level]
        for i in members:
            for h in np.flatnonzero(mask[i]):
                out[int(dom[h])].append((i, int(h)))
        return out

    for rule in view.affinity:
        per_domain = domain_vars(rule.members, rule.level)
        # A domain is a choice only if every member can use it.
        choices = {d: model.NewBoolVar('a_%s_%d' % (rule.name, d))
                   for d, pairs in per_domain.items()
                   if {i for i, _ in pairs} == set(rule.members)}
        if not choices:
            return None, {'optimal': False, 'proven_infeasible': True,
                          'status': 'NO_DOMAIN'}
        model.AddExactlyOne(choices.values())
        for d, pairs in per_domain.items():
            for i, h in pairs:
                if d in choices:
                    model.AddImplication(x[i, h], choices[d])
                else:
                    model.Add(x[i, h] == 0)

    for rule in view.diversity:
        for d, pairs in domain_vars(rule.members, rule.level).items():
            units = collections.defaultdict(list)
            for i, h in pairs:
                units[rule.unit[i]].append(x[i, h])
            if len(units) < 2:
                continue
            present = []
            for key, xs in sorted(units.items(), key=lambda kv: str(kv[0])):
                if len(xs) == 1:
                    present.append(xs[0])
                    continue
                occ = model.NewBoolVar('d_%s_%d' % (rule.name, d))
                for var in xs:
                    model.AddImplication(var, occ)
                present.append(occ)
            model.AddAtMostOne(present)

    for li, state in view.ex_levels.items():
        dom = view.domain[li]
        members = collections.defaultdict(list)
        for i, name in state['member_of'].items():
            members[name].append(i)
        for name, group in sorted(members.items()):
            inside = set(group)
            for d, pairs in domain_vars(group, li).items():
                ded = model.NewBoolVar('e_%s_%d' % (name, d))
                for i, h in pairs:
                    model.AddImplication(x[i, h], ded)
                hosts = {h for h in np.flatnonzero(dom == d)}
                for j in range(n_s):
                    if j in inside:
                        continue
                    for h in hosts:
                        if (j, int(h)) in x:
                            model.AddImplication(x[j, int(h)], ded.Not())

    for rule in view.at_most:
        for d, pairs in domain_vars(rule.members, rule.level).items():
            room = rule.limit - rule.placed_count.get(d, 0)
            if len(pairs) > room:
                model.Add(sum(x[i, h] for i, h in pairs) <= room)

    for rule in view.spread:
        # Domains at the level with a host some member may ever use; the
        # emptiest sets the floor, domains with a new member are judged.
        dom = view.domain[rule.level]
        hosts = view.eligible[rule.members].any(axis=0)
        eligible = sorted({int(d) for d in dom[hosts]})
        per_domain = domain_vars(rule.members, rule.level)
        top = len(rule.members) + max(rule.placed_count.values(), default=0)
        floor = model.NewIntVar(0, top, 'm_%s' % rule.name)
        for d in eligible:
            xs = [x[i, h] for i, h in per_domain.get(d, ())]
            count = rule.placed_count.get(d, 0) + sum(xs)
            model.Add(floor <= count)
            if xs:
                judged = model.NewBoolVar('j_%s_%d' % (rule.name, d))
                for var in xs:
                    model.AddImplication(var, judged)
                model.Add(count - floor <= rule.skew).OnlyEnforceIf(judged)

    soft = {}
    for rule in view.soft:
        per_domain = domain_vars(rule.members, rule.level)
        total = len(rule.members) + sum(rule.placed_count.values())
        counts = []
        for d in sorted(set(per_domain) | set(rule.placed_count)):
            counts.append(rule.placed_count.get(d, 0) + sum(
                x[i, h] for i, h in per_domain.get(d, ())))
        if rule.kind == g.SOFT_AFFINITY:
            top = model.NewIntVar(0, total, 't_%s' % rule.name)
            box = []
            for k, count in enumerate(counts):
                var = model.NewIntVar(0, total, 'c_%s_%d' % (rule.name, k))
                model.Add(var == count)
                box.append(var)
            model.AddMaxEquality(top, box)
            soft[rule.name] = (rule.weight, total - top)
        else:
            used = []
            for k, count in enumerate(counts):
                occ = model.NewBoolVar('u_%s_%d' % (rule.name, k))
                model.Add(occ <= count)
                used.append(occ)
            # Redundant (no more domains used than members, and new
            # members held together by hard affinity use one domain per
            # chain), but without it the solver's bound hardly moves.
            model.Add(sum(used) <= total)
            model.Add(sum(used) <= len(rule.placed_count)
                      + _chains(view, rule))
            soft[rule.name] = (rule.weight, total - sum(used))

    new = []
    for h, servers in by_host.items():
        if view.was_empty[h]:
            used = model.NewBoolVar('n%d' % h)
            for i in servers:
                model.AddImplication(x[i, h], used)
            new.append(used)
    weighted = sum(w * v for w, v in soft.values())
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    soft_bound = 0
    if soft:
        # Lexicographic in two solves (each within ``time_limit``): the
        # fewest weighted soft violations, then, with them fixed when
        # proven, the fewest new hosts; a big-M sum proves far less.
        model.Minimize(weighted)
        status = solver.Solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, {'status': solver.StatusName(status),
                          'optimal': False, 'soft_bound': 0,
                          'proven_infeasible': status == cp_model.INFEASIBLE}
        soft_bound = int(math.ceil(solver.BestObjectiveBound() - 1e-9))
        for var in x.values():
            model.AddHint(var, solver.Value(var))
        if status == cp_model.OPTIMAL:
            model.Add(weighted == int(round(solver.ObjectiveValue())))
            model.Minimize(sum(new))
        else:
            # One weighted soft violation outweighs every new host.
            model.Minimize((len(new) + 1) * weighted + sum(new))
    else:
        model.Minimize(sum(new))
    status = solver.Solve(model)
    info = {'status': solver.StatusName(status),
            'optimal': status == cp_model.OPTIMAL,
            'proven_infeasible': status == cp_model.INFEASIBLE,
            'bound': solver.BestObjectiveBound()}
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, info
    assignment = {}
    for (i, h), var in x.items():
        if solver.Value(var):
            assignment[view.servers[i].id] = view.names[h]
    info['objective'] = int(round(solver.ObjectiveValue()))
    info['soft_violations'] = int(solver.Value(weighted)) if soft else 0
    info['soft'] = {name: int(solver.Value(v)) for name, (_, v) in
                    soft.items()}
    info['new_hosts'] = int(sum(solver.Value(v) for v in new))
    # What the first solve proved of the soft violations (all of them
    # when the second is optimal).
    info['soft_bound'] = (info['soft_violations'] if info['optimal']
                          else max(0, soft_bound))
    return assignment, info


def _chains(view, rule):
    """Members of a soft group, one per chain of hard affinity groups of
    level not above the group's."""
    parent = {i: i for i in rule.members}

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for other in view.affinity:
        if other.level <= rule.level:
            inside = [i for i in other.members if i in parent]
            for i in inside[1:]:
                parent[find(i)] = find(inside[0])
    return len({find(i) for i in rule.members})
