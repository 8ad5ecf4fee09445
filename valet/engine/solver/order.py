"""The order a search places a request's servers in.

Servers an affinity group keeps together go one after the other (a
cluster), largest clusters first; servers with few hosts to go to first of
all. Placing the hardest servers first leaves the easy ones the room that
is left, wherever it is.
"""

import numpy as np

from valet.engine.solver.rules.base import find_root


def initial_order(problem):
    """Affinity clusters largest first; restricted servers before others;
    of equal size, those in more group rules first (they need the room
    the others could take anywhere else)."""
    p = problem
    n = len(p.servers)
    parent = list(range(n))

    def find(x):
        return find_root(parent, x)

    joined = False
    for rule in p.constraints:
        if rule.together:
            # The first member's root stays a root as the others join it.
            root = find_root(parent, rule.members[0])
            for m in rule.members[1:]:
                parent[find_root(parent, m)] = root
            joined = True
    if joined:
        clusters = {}
        for i in range(n):
            clusters.setdefault(find_root(parent, i), []).append(i)
    else:
        # Nothing held together: every server its own cluster.
        clusters = {i: [i] for i in range(n)}
    # Servers alike share their static mask: each counted once (as
    # Python ints: compared per cluster below).
    counted = {}
    for mask in p.static:
        if id(mask) not in counted:
            counted[id(mask)] = int(np.count_nonzero(mask))
    options = [counted[id(mask)] for mask in p.static]
    # Plain floats: the same values, without numpy's per-item indexing.
    sizes = p.size.tolist()
    # Per server how many group rules hold it (ties of size: most first).
    rules = [len(cs) for cs in p.server_rules]

    def cluster_key(members):
        if len(members) == 1:
            # A lone server (most): the same key without the generators.
            m = members[0]
            return (0 if options[m] <= 2 else 1, -sizes[m], -rules[m], m)
        few = min(options[m] for m in members)
        size = sum(sizes[m] for m in members)
        return (0 if few <= 2 else 1, -size,
                -max(rules[m] for m in members), min(members))

    # The keys differ (each ends with its cluster's least member): the
    # lists themselves are never compared.
    keyed = sorted((cluster_key(members), members)
                   for members in clusters.values())
    order = []
    for _, members in keyed:
        if len(members) == 1:
            order.append(members[0])
        else:
            order.extend(sorted(members, key=lambda m: (-sizes[m], m)))
    return order, clusters, find
