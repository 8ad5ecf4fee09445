"""The hosts a server may go to next, best first, one per symmetry class.

Part of the search (``search.Search`` takes these methods): the ranking
(objective, staying put, the affinity look-ahead's bias, soft groups) and
the symmetry classes that let the search try interchangeable empty hosts
once. Two empty hosts are interchangeable when their free room (its exact
bytes), attributes and domains at every level a rule reads are the same;
a host running servers, or one a server names, is a class of its own.
"""

# Ranking: opening an empty host outweighs any fragmentation difference.
NEW_HOST_RANK = 1e6
# Ranking: a soft violation outweighs opening a host (the cost's order).
SOFT_RANK = 1e7


class Ranking:
    """The candidates' methods of ``search.Search`` (its state: free,
    count, opens, the trackers and what ``_Shared`` keeps)."""

    def scores(self, i, idx):
        """Lower is better; used hosts first when consolidating."""
        # take and a dot product: fewer numpy calls on a few dozen hosts.
        left = (self.free.take(idx, 0) - self.demand_rows[i]) @ self._ws
        if self.consolidate:
            score = left + self.opens.take(idx) * NEW_HOST_RANK
        else:
            score = -left
        cur = self.current_slot[i]
        if cur >= 0:
            score = score + (idx != cur) * self.stay_rank
        for tracker in self.server_bias[i]:
            extra = tracker.bias(i, idx)
            if extra is not None:
                score = score + extra
        soft = self.server_soft[i]
        if soft:
            # Each ranking times SOFT_RANK, whole multiples of it: the
            # same sum as the rankings' times SOFT_RANK, one product less.
            # (in place: each ranking and score are this call's own.)
            rank = soft[0].rank(i, SOFT_RANK)
            for k in range(1, len(soft)):
                rank += soft[k].rank(i, SOFT_RANK)
            score += rank.take(idx)
        return score

    def symmetry_key(self, h):
        """Host h's class now."""
        # count holds the request's servers too.
        if h in self.special or self.count[h]:
            return ('host', h)
        return (self.free[h].tobytes(), self._fixed_key(h))

    def _fixed_key(self, h):
        # The host's attributes and domains never change: once per host.
        fixed = self._fixed_keys.get(h)
        if fixed is None:
            p = self.p
            fixed = self._fixed_keys[h] = (int(p.attr[h]), tuple(
                int(p.domain[lv, h]) for lv in self._symmetry_levels))
        return fixed

    def candidates(self, i, best_cost=None, need=None):
        """Feasible hosts for server i, best first, one per symmetry class.

        With ``best_cost``, hosts that cannot lead to a cheaper placement
        (by the resource bound) are dropped up front, in one vector step.
        ``need`` is then the deficit, or a :class:`deficits.Need` that
        works it out when first asked (before anything changes the state).
        """
        if best_cost is None:
            mask = self.feasible_mask(i)
        else:
            mask = self._can_beat(i, best_cost, need)
        idx = mask.nonzero()[0]
        if idx.size <= 1:
            # No choice to rank (an affinity partner's host, say).
            if idx.size:
                yield int(idx[0])
            return
        score = self.scores(i, idx)
        best = int(score.argmin())
        first = int(idx[best])
        yield first
        seen = {self.symmetry_key(first)}
        order = idx[score.argsort(kind='stable')].tolist()
        # The counts read in one step (each resume finds them as here: the
        # subtrees tried since are undone, and counts are integers); an
        # empty host's key as last read unless an undo has been on it
        # since (room_keys: the free room it reads changes nowhere else).
        busy = self.count.take(order).tolist()
        special, keys = self.special, self.room_keys
        for h, used in zip(order, busy):
            if h == first:
                continue
            if used or h in special:
                # A class of its own (each host comes once): no key to
                # compare.
                yield h
                continue
            key = keys[h]
            if key is None:
                key = keys[h] = self.symmetry_key(h)
            if key in seen:
                continue
            seen.add(key)
            yield h
