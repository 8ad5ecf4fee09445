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

import numpy as np

from valet.engine.solver.rules.base import EPS

_ADD = np.add.reduce     # .sum() without its wrapper
# Whole numbers below this add up exactly whatever the order.
EXACT = 2.0 ** 52


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
    # The array method: np.argsort's result without its wrapper.
    order = (-need).argsort(kind='stable')
    # Plain lists: a few dozen servers, read one by one.
    ranked = need[order].tolist()
    # The distinct sizes, largest first (as ranked).
    sizes = [v for k, v in enumerate(ranked)
             if v > EPS and (k == 0 or v != ranked[k - 1])]
    if not sizes:
        return
    # Per ranked row its masks' indices (a server's one as it is).
    single = row_masks is None
    if single:
        kinds = masks.index[order].tolist()
    else:
        kinds = [row_masks[r] for r in order.tolist()]
    unique = masks.unique
    where = np.zeros(len(unique[0]), dtype=bool)
    added = set()
    j, n = 0, len(ranked)
    for size in sizes:
        floor = size - EPS
        while j < n and ranked[j] >= floor:
            for k in ((kinds[j],) if single else kinds[j]):
                if k not in added:
                    added.add(k)
                    where = where | unique[k]
            j += 1
        yield size, order[:j], where


def steps(need, column, masks, hosts, row_masks=None, exact=False):
    """Per size of ``by_size``: (size, the rows, their demand together,
    the room of their union's ``hosts`` in ``column``, how many rows of
    that size that room takes host by host).

    The values are the plain formula's: ``float(add(need[rows]))``,
    ``float(add(column[where & hosts]))`` and ``int(add(floor(room /
    size + EPS)))``. ``exact``: every demand and room is whole
    (``whole``), so the sums are counted at once."""
    found = list(by_size(need, masks, row_masks))
    if not found:
        return []
    if not exact:
        return _plain_steps(need, column, hosts, found)
    sizes = [size for size, _, _ in found]
    rows = [big for _, big, _ in found]
    # The rows' demand together: a running sum over the ranked rows
    # (whole numbers: the same as any order's sum).
    ranked = need[rows[-1]].tolist()
    running, totals, j = 0.0, [], 0
    for big in rows:
        while j < len(big):
            running += ranked[j]
            j += 1
        totals.append(running)
    # One row per size: its union on the hosts asked about.
    unions = np.array([where for _, _, where in found])
    unions &= hosts
    have = (unions @ column).tolist()
    per_host = np.floor(column / np.array(sizes)[:, None] + EPS)
    fits = _ADD(per_host, axis=1, where=unions).tolist()
    if max(fits) + 1 >= EXACT:
        # Counts too large to add exactly at once (tiny sizes).
        return _plain_steps(need, column, hosts, found)
    return [(size, big, total, room_of, int(fit))
            for size, big, total, room_of, fit in zip(
                sizes, rows, totals, have, fits)]


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
