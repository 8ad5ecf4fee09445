"""The improvement search's deficit per depth, worked out when needed.

The deficit (``Search.deficit``: the demand of the servers not placed
beyond the room on the hosts in use) feeds the resource bound of every
cost test of a depth. A depth's :class:`Need` works it out when first
asked: the candidates ask at their first step, in the state the depth
was entered in, and only when some host may beat the bound, so a depth
whose candidates never ask (most dead ends) is left without it.

A depth below one whose deficit is well below zero (:meth:`Need.low`)
takes that deficit as its own, without working one out: placing a server
takes its demand from what is left and at most as much from the room on
the hosts in use (a host it opens only adds room), so the deficit never
grows down the tree; and every resource bound (``bound_for``,
``_bound_opening``, ``bounds_for``) of a deficit at most EPS in each
resource class that counts is 0, whatever its value. The margin
(:func:`margins`) is many orders of magnitude above the rounding of free
room and sums.
"""

import math

import numpy as np

# A deficit is well below zero under this share of the room and demand in
# play (rounding is about 1e-16 of it per step).
MARGIN = 1e-6


def margins(problem, cap_list):
    """Per resource class, the most a deficit well below zero may be: a
    MARGIN share of the free room and demand in play; inf for a class no
    empty host has (no resource bound counts it)."""
    p = problem
    scale = np.abs(p.free).sum(axis=0) + np.abs(p.demand).sum(axis=0)
    return [-MARGIN * (1.0 + m) if cap else math.inf
            for m, cap in zip(scale.tolist(), cap_list)]


class Need:
    """One depth's deficit (``value``), worked out at the first ``get``."""

    __slots__ = ('search', 'value', '_low', '_bound')

    def __init__(self, search):
        self.search = search
        self.value = None
        self._low = None
        self._bound = None

    def get(self):
        if self.value is None:
            self.value = self.search.deficit()
        return self.value

    def bound(self):
        """bound_for of the deficit (worked out first if need be), once
        per depth: 0 where it is low."""
        found = self._bound
        if found is None:
            value = self.get()
            found = self._bound = (
                0 if self.low() else self.search.bound_for(value))
        return found

    def low(self):
        """Whether the deficit, worked out already, is at most its margin
        in every resource class (once per depth); False while it is not
        worked out (it is not worked out here: the state may have
        moved on)."""
        found = self._low
        if found is None:
            if self.value is None:
                return False
            found = self._low = all(
                amount <= most for amount, most in zip(
                    self.value.tolist(), self.search.low_deficit()))
        return found
