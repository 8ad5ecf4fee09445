"""A one-server-at-a-time filter-and-weigh scheduler, like Nova's.

Servers are taken in request order. For each one, hosts are filtered
(enabled, capacity, availability zone, candidate/excluded hosts, flavor
extra specs, and the server-group filters) and weighed (free RAM, free
vCPU and free disk, each normalised over the hosts that passed, as Nova's
default weighers spread load), and the best host is taken. There is no
backtracking.

Only what Nova can express is honoured: a host-level affinity or
diversity group a server lists directly acts as a Nova server group
(affinity / anti-affinity). Rack-level groups, exclusivity and nesting
have no Nova equivalent and are ignored; the validator reports what that
breaks.
"""

import numpy as np

from valet.engine.model import groups as g
from bench import view as view_mod

NAME = 'greedy'


def _normalise(values):
    low, high = values.min(), values.max()
    if high - low <= 0:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def solve(dc, request):
    """(assignment or None, info). Never changes ``dc``."""
    view = view_mod.View(dc, request, rules=False)
    free = view.free.copy()
    # Hosts of each server group's members, as Nova's group filters see
    # them: placed members plus the ones this run already placed.
    members = {}
    rc = {name: view.rcs.index(name) for name in view.rcs}
    weigh_cols = [rc[name] for name in ('MEMORY_MB', 'VCPU', 'DISK_GB')
                  if name in rc]
    assignment = {}
    for i, server in enumerate(view.servers):
        ok = view.static[i] & np.all(free + view_mod.EPS >= view.demand[i],
                                     axis=1)
        for name in server.groups:
            grp = view.groups.get(name)
            if grp is None or grp.level != 'host' or grp.kind not in (
                    g.AFFINITY, g.DIVERSITY):
                continue
            hosts = members.get(name)
            if hosts is None:
                hosts = members[name] = {
                    view.index[dc.servers[p].host]
                    for p in dc.group_servers(name)}
            if not hosts:
                continue
            idx = sorted(hosts)
            in_group = np.zeros(len(ok), dtype=bool)
            in_group[idx] = True
            ok &= in_group if grp.kind == g.AFFINITY else ~in_group
        candidates = np.flatnonzero(ok)
        if not len(candidates):
            return None, {'failed_at': server.id}
        score = np.zeros(len(candidates))
        for col in weigh_cols:
            score += _normalise(free[candidates, col])
        # argmax keeps the first best host: deterministic ties.
        best = int(candidates[int(np.argmax(score))])
        free[best] -= view.demand[i]
        assignment[server.id] = view.names[best]
        for name in server.groups:
            if name in members:
                members[name].add(best)
            elif name in view.groups:
                members[name] = {view.index[dc.servers[p].host]
                                 for p in dc.group_servers(name)} | {best}
    return assignment, {}
