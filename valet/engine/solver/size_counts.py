"""Per resource class and demand size, the rows needing at least that
size against the room of the hosts their masks allow.

The capacity proof and the new-host bound (``proofs.py``) count this way:
a row is a server (or a list of servers host affinity holds on one
host); for each distinct demand ``size`` of one resource class, largest
first, the rows needing at least it, their demand together, the union of
their masks, that union's room on the hosts asked about and how many
rows of that size the room takes (host by host). ``steps`` gives those
numbers for every size at once.

When every demand and room is a whole number (and their sums small
enough to be exact) every sum is exact in any order, so the sizes are
counted together: one matrix of unions, its room and fits in a few
array operations. Otherwise each size is summed as the plain formula
does, in its order (``_plain_steps``).
"""

import math

import numpy as np

from valet.engine.solver.rules.base import EPS

_ADD = np.add.reduce     # .sum() without its wrapper
# Whole numbers below this add up exactly whatever the order.
EXACT = 2.0 ** 52
# Sizes times hosts up to which class_steps sums host by host in plain
# numbers (below it, fewer calls than the arrays' few).
FEW = 96


def whole(values):
    """Whether every value is a whole number and their sizes' sum is
    below ``EXACT``: every sum of some of them is exact then."""
    values = np.asarray(values, dtype=float).ravel()
    # (Not below EXACT: too large, infinite or NaN.)
    if not float(_ADD(np.abs(values))) < EXACT:
        return False
    return bool(np.logical_and.reduce(np.floor(values) == values))


def by_size(need, masks, row_masks=None):
    """Per distinct ``size`` of ``need`` above EPS, largest first: (size,
    the rows needing at least that much, the union of their masks). A
    row is a server (its mask ``masks.index``) or, with ``row_masks``, a
    list of masks' indices. The union grows as the size falls, so each
    mask is added once; it is the same array until one is."""
    return _by_size(need.tolist(), masks, row_masks)


def _by_size(values, masks, row_masks, ranked_too=False, shared=None):
    """``by_size`` of one column given as a list (a few dozen rows: read
    one by one, without an array call per step); ``ranked_too``: with
    the values in that order too. ``shared``: a list the columns of one
    count share; a column that ranks the rows as one before and cuts
    them at the same places (flavours' columns grow together) takes its
    rows and unions."""
    # Largest first; a reversed sort stays stable: equal demands keep
    # their row order, as ``(-need).argsort(kind='stable')`` has them.
    order = sorted(range(len(values)), key=values.__getitem__,
                   reverse=True)
    ranked = [values[r] for r in order]
    # The distinct sizes, largest first (as ranked).
    sizes = [v for k, v in enumerate(ranked)
             if v > EPS and (k == 0 or v != ranked[k - 1])]
    if not sizes:
        return ([], ranked) if ranked_too else []
    # (The order compared first: a column ranked otherwise pays one list
    # comparison, not a count of its cuts.)
    cuts = None
    for rows, known in shared or ():
        if rows == order and len(known) == len(sizes):
            if cuts is None:
                cuts = _cuts(ranked, sizes)
            if cuts == [len(big) for _, big, _ in known]:
                out = [(size, big, where)
                       for size, (_, big, where) in zip(sizes, known)]
                return (out, ranked) if ranked_too else out
    out = _unions(order, ranked, sizes, masks, row_masks)
    if shared is not None:
        shared.append((order, out))
    return (out, ranked) if ranked_too else out


def _cuts(ranked, sizes):
    """Per size, how many ranked rows need at least it."""
    cuts = []
    j, n = 0, len(ranked)
    for size in sizes:
        floor = size - EPS
        while j < n and ranked[j] >= floor:
            j += 1
        cuts.append(j)
    return cuts


def _unions(order, ranked, sizes, masks, row_masks):
    """Per size: (the size, the rows needing at least it, as an array,
    and the union of their masks). The union grows as the size falls, so
    each mask is added once; it is the same array until one is."""
    # Per ranked row its masks' indices (a server's one as it is).
    single = row_masks is None
    if single:
        index = masks.rows()
        kinds = [index[r] for r in order]
    else:
        kinds = [row_masks[r] for r in order]
    rows = np.array(order, dtype=np.intp)
    unique = masks.unique
    where = np.zeros(len(unique[0]), dtype=bool)
    added = set()
    out = []
    j, n = 0, len(ranked)
    for size in sizes:
        floor = size - EPS
        while j < n and ranked[j] >= floor:
            for k in ((kinds[j],) if single else kinds[j]):
                if k not in added:
                    added.add(k)
                    where = where | unique[k]
            j += 1
        out.append((size, rows[:j], where))
    return out


def steps(need, column, masks, hosts, row_masks=None, exact=False):
    """Per size of ``by_size``: (size, the rows, their demand together,
    the room of their union's ``hosts`` in ``column``, how many rows of
    that size that room takes host by host).

    The values are the plain formula's: ``float(add(need[rows]))``,
    ``float(add(column[where & hosts]))`` and ``int(add(floor(room /
    size + EPS)))``. ``exact``: every demand and room is whole
    (``whole``), so the sums are counted at once."""
    return class_steps(need[:, None], column[:, None], masks, hosts,
                       row_masks, exact)[0]


def class_steps(need, room, masks, hosts, row_masks=None, exact=False):
    """``steps`` of every resource class: per column ``c``, those of
    ``need[:, c]`` (per row) against ``room[:, c]`` (per host). Counted
    exactly, the sizes of every class are counted together: one matrix
    of unions, its room and fits for all (a few array calls whatever the
    classes)."""
    columns = need.T.tolist()
    shared = []
    found = [_by_size(values, masks, row_masks, True, shared)
             for values in columns]
    if not exact:
        return _plain_classes(need, room, hosts, found)
    flat = [(c, size, where) for c, (sized, _) in enumerate(found)
            for size, _, where in sized]
    if not flat:
        return [[] for _ in found]
    if len(flat) * len(hosts) <= FEW:
        have, fits = _few_sums(flat, room, hosts)
    else:
        # One row per class and size: its union on the hosts asked about.
        unions = np.array([where for _, _, where in flat])
        unions &= hosts
        cols = room.T[[c for c, _, _ in flat]]
        have = _ADD(cols, axis=1, where=unions).tolist()
        per_host = np.floor(
            cols / np.array([size for _, size, _ in flat])[:, None] + EPS)
        fits = _ADD(per_host, axis=1, where=unions).tolist()
    if max(fits) + 1 >= EXACT:
        # Counts too large to add exactly at once (tiny sizes).
        return _plain_classes(need, room, hosts, found)
    out, k = [], 0
    for sized, ranked in found:
        # The rows' demand together: a running sum over the ranked rows
        # (whole numbers: the same as any order's sum).
        running, j, steps_c = 0.0, 0, []
        for size, big, _ in sized:
            while j < len(big):
                running += ranked[j]
                j += 1
            steps_c.append((size, big, running, have[k], int(fits[k])))
            k += 1
        out.append(steps_c)
    return out


def roomy(need, room, masks, hosts):
    """Whether no size of any class can fall short (``class_steps`` would
    find every step's demand within its room and its rows within its
    fits), from one look at each class's largest size: its rows' union
    is within every size's union, and a host takes at least as many of
    a smaller size. So when that union's room holds every row's demand
    together and as many rows of the largest size as the class has rows,
    every size does. For whole numbers (``whole``: every sum exact, so
    the comparisons are the steps' own); False says nothing."""
    columns = need.T.tolist()
    # (At most the steps' count: their sizes are distinct demands.)
    if sum([len(set(column)) for column in columns]) * len(hosts) <= FEW:
        return False    # class_steps sums host by host: cheaper than this
    index = masks.rows()
    # Per class: its largest size, how many rows need any of it, and the
    # masks of the rows needing the largest size.
    tops, counts, totals, unions = [], [], [], {}
    for column in columns:
        top = max(column) if column else 0.0
        # Whole numbers: the sum is exact in any order.
        totals.append(sum(column))
        if not top > EPS:
            # No size: nothing to count (any positive top divides).
            tops.append(1.0)
            counts.append(0)
            continue
        floor = top - EPS
        tops.append(top)
        counts.append(sum([1 for v in column if v > EPS]))
        kinds = frozenset([index[r] for r, v in enumerate(column)
                           if v >= floor])
        unions.setdefault(kinds, None)
    # Within each class's union: the room looked at is the same for all.
    where = hosts
    for kinds in unions:
        union = np.zeros(len(hosts), dtype=bool)
        for k in kinds:
            union |= masks.unique[k]
        where = where & union
    inside = room[where]
    have = _ADD(inside, axis=0).tolist()
    fits = _ADD(np.floor(inside / tops + EPS), axis=0).tolist()
    return all(total <= free and count <= fit for total, free, count, fit
               in zip(totals, have, counts, fits))


def _few_sums(flat, room, hosts):
    """class_steps' room and fits per (class, size, union) of ``flat``,
    host by host in plain numbers (a few hosts and sizes: fewer calls
    than the arrays'). Whole numbers (``exact``): every sum is exact, so
    the same values as the arrays' sums in any order (the fits as ints:
    the same whole numbers)."""
    cols = room.T.tolist()
    # Per union (one array for several sizes) its hosts asked about.
    picked = {}
    have, fits = [], []
    for c, size, where in flat:
        found = picked.get(id(where))
        if found is None:
            # (nonzero of the 1-d mask: flatnonzero without its wrappers.)
            found = picked[id(where)] = (
                where, (where & hosts).nonzero()[0].tolist())
        col = cols[c]
        rooms = [col[h] for h in found[1]]
        have.append(sum(rooms, 0.0))
        fits.append(sum([math.floor(r / size + EPS) for r in rooms]))
    return have, fits


def _plain_classes(need, room, hosts, found):
    return [_plain_steps(need[:, c], room[:, c], hosts, sized)
            if sized else [] for c, (sized, _) in enumerate(found)]


def _plain_steps(need, column, hosts, found):
    """``steps`` size by size, each sum in its own order."""
    out = []
    last = None
    for size, big, where in found:
        if where is not last:
            # The union grew (a new array): its room anew.
            last, room = where, column[where & hosts]
            have = float(_ADD(room))
        out.append((size, big, float(_ADD(need[big])), have,
                    int(_ADD(np.floor(room / size + EPS)))))
    return out
