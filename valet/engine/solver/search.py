"""Depth-first search with backtracking and branch-and-bound.

Servers are assigned one at a time in an order that puts large and
constrained affinity clusters first; every assignment updates capacity and
group state incrementally and is undone on backtrack, so the search can
revisit any early choice (unlike a one-at-a-time scheduler). ``phases.py``
runs it: a first placement, then cheaper ones below its cost.

The cost is lexicographic: weighted soft-group violations first, then
(consolidating) moves and new hosts as the request kind ranks them. Soft
violations only grow as servers are placed, so a partial placement's
count bounds every completion's and the same branch and bound covers
both.
"""

import math

import numpy as np

from valet.engine.model import request as r
from valet.engine.solver import candidates
from valet.engine.solver import decision as d
from valet.engine.solver import deficits
from valet.engine.solver.deficits import Need
from valet.engine.solver import root_view
from valet.engine.solver.rules import soft as soft_rules
from valet.engine.solver.rules.base import EPS

# The ufuncs' reductions, without the array methods' Python wrappers (what
# .all() and .sum() call: the same result, less per-call overhead on the
# few dozen hosts of every node).
_ALL = np.logical_and.reduce
_SUM = np.add.reduce

# Hosts left by the bound test checked one by one (feasible_at), at most.
FEW_HOSTS = 2
# Cost: the first objective's unit outweighs any count of the second.
PRIMARY = 1000


class Search(candidates.Ranking):
    """The mutable search state over one compiled problem."""

    def __init__(self, problem, options):
        self.p = problem
        self.options = options
        self.consolidate = options.objective == d.CONSOLIDATE
        p = problem
        # An update keeps running servers in place before anything else.
        if p.request.kind == r.UPDATE:
            self.w_new, self.w_move, self.stay_rank = 1, PRIMARY, 1e9
        else:
            self.w_new, self.w_move, self.stay_rank = PRIMARY, 1, 1e3
        n = len(p.servers)
        if not self.consolidate:
            # Spreading is a ranking, not a cost: only soft violations are
            # minimised (and only they can be proven).
            self.w_new = self.w_move = 0
        # One weighted soft violation outweighs every move and new host.
        self.soft_unit = (n + 1) * (PRIMARY + 1)
        self.free = p.free.copy()
        self.count = p.base_count.copy()
        # Usable hosts running servers (deficit), kept current by apply
        # and undo as a host's count leaves or comes back to zero.
        self.in_use = p.usable & (self.count > 0)
        shared = _shared(p)
        self._usable = shared.usable
        # Read-only, shared by the searches of the problem.
        self.was_empty = shared.was_empty
        # Hosts a placement would open now (empty, none of the request's
        # servers on them yet), kept current by apply and undo.
        self.opens = self.was_empty.copy()
        # Per host its symmetry key as read while empty: None until read
        # and again after each undo on the host, whose room may come back
        # a rounding off (candidates).
        self.room_keys = [None] * p.slots
        self.assign = [-1] * n
        # Servers placed now (those of assign not -1): none at the root.
        self.n_placed = 0
        self.new_hosts = 0
        self.moves = 0
        self.current_slot = shared.current_slot
        # Each rule's state in this search, and the rules of each server.
        trackers = self.trackers = [c.start(self) for c in p.constraints]
        self.soft_trackers = [t for t in trackers if t.rule.soft]
        if shared.rule_sets is None:
            shared.index_rule_sets(p, trackers)
        # Per server its rules' trackers, its soft ones, those that add to
        # the ranking (affinity: rack_choice) and those whose masks prune
        # (a soft rule's lets every host through: feasible_mask skips
        # it): read-only lists, one per set of rules servers share.
        per_set = [[trackers[c] for c in cs] for cs in shared.rule_sets]
        self.server_trackers = [per_set[k] for k in shared.set_of]
        self.server_soft = [per_set[k] for k in shared.soft_of]
        self.server_bias = [per_set[k] for k in shared.bias_of]
        self.server_masks = [per_set[k] for k in shared.masks_of]
        # Weighted violations so far (the soft trackers keep it current),
        # from placed members at first; what no placement avoids is worked
        # out when first asked (soft_root).
        if shared.soft is None:
            shared.soft = sum(t.rule.weight * t.rule.violations(t.count)
                              for t in self.soft_trackers)
        self.soft = shared.soft
        self._soft_root = None
        self.left = shared.left.copy()
        self.failures = np.zeros(n, dtype=np.int64)
        # A first placement left in place for resume() (dfs with keep).
        self._kept = None
        self._symmetry_levels = shared.symmetry_levels
        self._fixed_keys = shared.fixed_keys
        self.special = shared.special
        self.max_empty_free = shared.max_empty_free
        self._cap_list = shared.cap_list
        self._cap_div = shared.cap_div
        self._shared = shared
        self._ws = shared.ws
        self._demand_eps = shared.demand_eps
        self.demand_rows = shared.rows

    def release(self):
        """Drop the search's state once its decision is made. Each
        tracker, and each generator of candidates a first placement kept,
        refers back to the search: dropped here, the state is freed by
        reference counting, not left to the cyclic garbage collector."""
        self.__dict__.clear()

    @property
    def soft_root(self):
        """Weighted soft violations no placement avoids (phases may raise
        it)."""
        if self._soft_root is None:
            self._soft_root = self.soft_root_below(None)
        return self._soft_root

    @soft_root.setter
    def soft_root(self, value):
        self._soft_root = value

    def soft_root_below(self, placement):
        """The rules' soft_root, once per problem (a complete ``placement``
        lets each rule stop early: soft.weighted_bound)."""
        shared = self._shared
        if shared.soft_root is None:
            shared.soft_root = soft_rules.weighted_bound(
                self.p, [t.rule for t in self.soft_trackers], placement)
        return shared.soft_root

    # ------------------------------------------------------------- feasible
    def feasible_mask(self, i):
        """Hosts where server i may go given everything decided so far."""
        p = self.p
        # Array methods, not np.all & co.: their wrappers cost more than
        # the work on a few dozen hosts, at every node.
        mask = p.static[i] & _ALL(self.free >= self._demand_eps[i], axis=1)
        for tracker in self.server_masks[i]:
            mask &= tracker.mask(i)
        return mask

    def feasible_at(self, i, h):
        """``feasible_mask(i)[h]``: the same comparisons in plain floats,
        each rule asked for host h alone (``allows``, else its mask)."""
        if not self.p.static[i][h]:
            return False
        for room, demand in zip(self.free[h].tolist(),
                                self._shared.demand_eps_list(i)):
            if not room >= demand:
                return False
        for tracker in self.server_masks[i]:
            allows = getattr(tracker, 'allows', None)
            if not (allows(i, h) if allows is not None
                    else tracker.mask(i)[h]):
                return False
        return True

    # ------------------------------------------------------------ pruning
    def soft_added(self, i, h):
        """The weighted soft violations placing i on host h adds."""
        total = 0
        for tracker in self.server_soft[i]:
            total += tracker.added_on(h)
        return total

    def _can_beat(self, i, best_cost, need):
        """The feasible hosts for server i whose choice keeps the cost
        bound below ``best_cost``. The resource bound only takes hosts
        away: those that beat the bound without it come first, and when
        there are none (most dead ends) neither the deficit nor the
        feasible mask is worked out."""
        base = self.cost()
        w_new = self.w_new
        # What a host's choice may add to the cost (integers) and still
        # beat best_cost, before the resource bound.
        gap = best_cost - base
        if gap <= 0:
            # No host can: each adds to the cost, and one it opens lowers
            # the resource bound by at most one host.
            return np.zeros(self.p.slots, dtype=bool)
        cur = self.current_slot[i]
        if cur < 0 and not self.server_soft[i]:
            return self._plain_can_beat(i, best_cost, need, base)
        ok = (self._beats(i, gap) if cur < 0
              else self._beats_bounded(i, gap, 0, None))
        hosts = ok.nonzero()[0]
        if not hosts.size:
            return ok
        need, lb_used, _ = self._resolved(need)
        if lb_used and w_new:
            gap -= lb_used * w_new
            if gap <= 0:
                return np.zeros(self.p.slots, dtype=bool)
            ok = self._beats_bounded(i, gap, lb_used, need)
            hosts = ok.nonzero()[0]
        if hosts.size > FEW_HOSTS:
            mask = self.feasible_mask(i)
            mask &= ok
            return mask
        # A host or two (most nodes): each asked on its own.
        mask = np.zeros(self.p.slots, dtype=bool)
        for h in hosts.tolist():
            if self.feasible_at(i, h):
                mask[h] = True
        return mask

    def _plain_can_beat(self, i, best_cost, need, base):
        """_can_beat for a server without soft rules, running nowhere:
        only opening a host adds to the cost, the same for every host it
        opens, so one scalar test, and the resource bound worked out
        again only for the feasible hosts it opens."""
        w_new = self.w_new
        need, lb_used, low = self._resolved(need)
        if best_cost - base - lb_used * w_new <= 0:
            return np.zeros(self.p.slots, dtype=bool)
        mask = self.feasible_mask(i)
        opened = base + w_new
        if opened + lb_used * w_new < best_cost:
            return mask
        maybe = (mask & self.opens).nonzero()[0]
        mask = mask & ~self.opens
        maybe = maybe[self.p.usable.take(maybe)]
        if maybe.size:
            if low:
                # Every resource bound of such a deficit is 0 (deficits).
                mask[maybe] = opened < best_cost
                return mask
            lbs = self.bounds_for(need[None, :] - np.maximum(
                self.free[maybe], 0))
            mask[maybe] = opened + lbs * w_new < best_cost
        return mask

    def _beats(self, i, gap):
        """Per host whether placing soft server i there (not running
        anywhere) adds less than ``gap``, when the resource bound cannot
        drop: opening a host adds w_new, each soft rule its weighted
        violation. A term that reaches the gap alone rules hosts out (a
        mask, not a sum)."""
        opens = self.opens
        w_new = self.w_new
        out = extra = None
        if w_new >= gap:
            out = opens
        elif w_new:
            extra = opens * w_new
        unit = self.soft_unit
        for tracker in self.server_soft[i]:
            hit = tracker.adds(i)
            step = tracker.weight * unit
            if step >= gap:
                out = hit if out is None else out | hit
            elif extra is None:
                extra = hit * step
            else:
                extra = extra + hit * step
        if extra is None:
            return ~out
        ok = extra < gap
        if out is not None:
            ok &= ~out
        return ok

    def _beats_bounded(self, i, gap, lb_used, need):
        """_beats with moves (w_move) and a resource bound that may drop
        by a host where one is opened."""
        w_new = self.w_new
        opens = self.opens
        extra = opens * w_new
        cur = self.current_slot[i]
        if cur >= 0:
            extra = extra + (np.arange(self.p.slots) != cur) * self.w_move
        # Opening a host adds its room: the bound may drop for those, by
        # at most one host (an empty host's room is at most the divisor);
        # two leave room for rounding. Hosts over that are left out
        # before the bounds are worked out.
        drop = 2 * w_new if lb_used else 0
        barred = None
        for tracker in self.server_soft[i]:
            hit = tracker.adds(i)
            step = tracker.weight * self.soft_unit
            if step >= gap + drop:
                # A violation alone rules the host out: a mask, not a sum.
                barred = hit if barred is None else barred | hit
            else:
                extra = extra + hit * step
        ok = extra < gap
        if barred is not None:
            ok &= ~barred
        if not drop:
            # The bound cannot drop (or does not count).
            return ok
        maybe = opens & ~ok & self.p.usable & (extra < gap + drop)
        if barred is not None:
            maybe &= ~barred
        maybe = maybe.nonzero()[0]
        if maybe.size:
            lbs = self.bounds_for(need[None, :] - np.maximum(
                self.free[maybe], 0))
            ok[maybe] = extra[maybe] + (lbs - lb_used) * w_new < gap
        return ok

    # -------------------------------------------------------- apply / undo
    def apply(self, i, h):
        """Place server i on host h; returns what :meth:`undo` takes."""
        demand = self.demand_rows[i]
        # A view of the host's row, changed in place.
        row = self.free[h]
        row -= demand
        self.left -= demand
        count = self.count[h]
        self.count[h] = count + 1
        if not count and self._usable[h]:
            self.in_use[h] = True
        # A host the request's first server opens (the token: undo
        # reopens it, as no other of the request's servers is left there).
        opened = self.opens[h]
        if opened:
            self.new_hosts += 1
            self.opens[h] = False
        cur = self.current_slot[i]
        if cur >= 0 and cur != h:
            self.moves += 1
        trackers = self.server_trackers[i]
        tokens = None
        if trackers:
            # A loop, not a comprehension: no function object per node.
            tokens = []
            for tracker in trackers:
                tokens.append(tracker.apply(i, h))
        self.assign[i] = h
        self.n_placed += 1
        return opened, tokens

    def undo(self, i, h, undo):
        opened, tokens = undo
        demand = self.demand_rows[i]
        row = self.free[h]
        row += demand
        self.left += demand
        count = self.count[h] - 1
        self.count[h] = count
        if not count and self._usable[h]:
            self.in_use[h] = False
        self.room_keys[h] = None
        if opened:
            self.new_hosts -= 1
            self.opens[h] = True
        cur = self.current_slot[i]
        if cur >= 0 and cur != h:
            self.moves -= 1
        if tokens:
            trackers = self.server_trackers[i]
            for k in range(len(trackers) - 1, -1, -1):
                trackers[k].undo(i, h, tokens[k])
        self.assign[i] = -1
        self.n_placed -= 1

    # ------------------------------------------------------------- bounds
    def low_deficit(self):
        """Per resource class, a deficit's most to be low (deficits)."""
        return self._shared.low_deficit(self.p)

    def cost(self):
        return (self.soft * self.soft_unit + self.new_hosts * self.w_new
                + self.moves * self.w_move)

    def deficit(self):
        """Demand of unplaced servers beyond the room on hosts in use."""
        # The request's servers are counted in count too (in_use).
        room = self.free[self.in_use]
        room = _SUM(np.maximum(room, 0, out=room), axis=0)
        return self.left - room

    def bound_for(self, need):
        """New hosts needed at least to cover a deficit (resource bound)."""
        # A handful of resource classes: plain floats beat numpy here.
        best = 0
        for amount, cap in zip(need.tolist(), self._cap_list):
            if amount > EPS and cap:
                best = max(best, math.ceil(amount / cap - 1e-9))
        return best

    def bounds_for(self, needs):
        """bound_for over the rows of a matrix of deficits."""
        if not needs.size:
            return np.zeros(len(needs))
        # Dividing by inf gives 0 where no empty host has the resource.
        ratio = np.where(needs > EPS, np.ceil(needs / self._cap_div - 1e-9),
                         0)
        return np.maximum(ratio.max(axis=1), 0)

    def lower_bound(self):
        return self.bound_for(self.deficit()) if self.consolidate else 0

    def root_lower_bound(self, later=None):
        """New hosts needed at least, before anything is placed.

        The resource bound, and the most any one group rule forces (each
        rule's ``root_bound``). With ``later`` (a list), the rules whose
        root bound reads the problem alone (``root_bound_later``) or its
        root masks (``root_bound_at_root``) are put there instead of
        asked: :meth:`root_bound_later` asks them, at any state, only if
        the bound is still wanted then.
        """
        if not self.consolidate:
            return 0
        p = self.p
        bound = self.lower_bound()
        in_use = p.usable & (self.count > 0)
        for tracker in self.trackers:
            # A rule that forces at most what the bound holds already
            # cannot raise it (max keeps the bound on a tie): not asked.
            most = getattr(tracker, 'root_bound_most', None)
            if most is not None and bound >= most:
                continue
            if later is not None and (
                    getattr(tracker, 'root_bound_later', False)
                    or getattr(tracker, 'root_bound_at_root', False)):
                later.append(tracker)
                continue
            bound = max(bound, tracker.root_bound(in_use))
        return bound

    def root_bound_later(self, later, bound, root=None):
        """root_lower_bound's ``bound`` with the rules it put in ``later``
        asked too: the same value as asking them there (a max). A rule
        that reads root masks is asked on ``root`` (a
        ``root_view.RootView`` of the problem, made if None): this search
        may have placed servers since."""
        p = self.p
        in_use = p.usable & (p.base_count > 0)
        for tracker in later:
            most = getattr(tracker, 'root_bound_most', None)
            if most is not None and bound >= most:
                continue
            if getattr(tracker, 'root_bound_at_root', False):
                if root is None:
                    root = root_view.RootView(p, self.options)
                tracker = root.trackers[self.trackers.index(tracker)]
            bound = max(bound, tracker.root_bound(in_use))
        return bound

    # ---------------------------------------------------------------- dfs
    def dfs(self, order, budget, bound=None, keep=False):
        """Run one depth-first search over ``order``.

        Without ``bound`` it stops at the first placement. With one it
        looks for strictly cheaper placements. Returns (status, best
        assignment or None, its cost); status is 'found', 'exhausted' (the
        whole tree was searched) or 'limit' (budget spent). With ``keep``
        a first placement not proven optimal is left in place for
        :meth:`resume` (or :meth:`drop`).
        """
        n = len(order)
        if n == 0:
            return 'found', [], self.cost()
        walk = _Walk(order, bound)
        need = None
        if bound is not None:
            need = walk.needs[0] = Need(self)
        walk.iters[0] = self.candidates(order[0], bound, need)
        walk.made[0] = bound
        return self._run(walk, budget, bound is None, keep)

    def resume(self, order, budget, bound):
        """Go on from the placement a kept first search stopped at, for
        placements cheaper than ``bound``: what that search left behind
        holds no placement, so the tree is not walked down again."""
        walk, self._kept = self._kept, None
        if walk is None:
            return self.dfs(order, budget, bound)
        walk.best, walk.best_cost = None, bound
        return self._run(walk, budget, False, False)

    def drop(self):
        """Undo a kept first placement."""
        walk, self._kept = self._kept, None
        if walk is not None:
            self._unwind(walk.order, walk.chosen, walk.undos,
                         len(walk.order) - 1)

    def _run(self, walk, budget, first, keep):
        order, iters, needs = walk.order, walk.iters, walk.needs
        chosen, undos, made = walk.chosen, walk.undos, walk.made
        n = len(order)
        best, best_cost = walk.best, walk.best_cost
        depth = walk.depth
        # Whether the candidates at this depth were just made (under this
        # bound, in this state): their first host passed _can_beat's test,
        # which is _cannot_beat's for every host, a moment ago.
        fresh = False
        # The methods of every node, looked up once.
        apply, undo, spend = self.apply, self.undo, budget.spend
        candidates, cannot_beat = self.candidates, self._cannot_beat
        while True:
            i = order[depth]
            if chosen[depth] >= 0:
                undo(i, chosen[depth], undos[depth])
                chosen[depth] = -1
            if best_cost is not None and needs[depth] is None:
                # Resumed: the first search had no bound to work out.
                needs[depth] = Need(self)
                needs[depth].get()
            if best_cost is not None and made[depth] != best_cost:
                # A cheaper placement came after these candidates were
                # ranked: when no host here can beat it (what _can_beat
                # asks first), drop them all at once instead of one by
                # one through _cannot_beat.
                made[depth] = best_cost
                if (self.cost() + needs[depth].bound() * self.w_new
                        >= best_cost):
                    iters[depth] = _NONE
            h = next(iters[depth], None)
            if fresh:
                fresh = False
            elif h is not None and best_cost is not None:
                if cannot_beat(i, h, needs[depth], best_cost):
                    continue
            if h is None:
                self.failures[i] += 1
                budget.dead_end()
                if depth == 0:
                    return 'exhausted', best, best_cost
                iters[depth] = None
                depth -= 1
                continue
            if not spend():
                self._unwind(order, chosen, undos, depth - 1)
                return 'limit', best, best_cost
            undos[depth] = apply(i, h)
            chosen[depth] = h
            if depth == n - 1:
                cost = self.cost()
                if best_cost is None or cost < best_cost:
                    best, best_cost = list(self.assign), cost
                    budget.improved()
                if first and keep and best_cost > self.root_bound:
                    walk.depth = depth
                    self._kept = walk
                    return 'found', best, best_cost
                if first or best_cost <= self.root_bound:
                    self._unwind(order, chosen, undos, depth)
                    return ('found' if first else 'exhausted',
                            best, best_cost)
                continue
            if best_cost is not None:
                # Worked out by the candidates' first step, in this state,
                # only if some host may beat the bound; none to work out
                # when this depth's is well below zero (see deficits.Need).
                need = needs[depth]
                needs[depth + 1] = need if need.low() else Need(self)
                fresh = True
            depth += 1
            iters[depth] = candidates(order[depth], best_cost, needs[depth])
            made[depth] = best_cost

    def _cannot_beat(self, i, h, need, best_cost):
        opens = bool(self.opens[h])
        moved = self.current_slot[i] >= 0 and self.current_slot[i] != h
        cost = self.cost() + opens * self.w_new + moved * self.w_move
        if self.server_soft[i]:
            cost += self.soft_added(i, h) * self.soft_unit
        if cost >= best_cost:
            # The resource bound only adds to it.
            return True
        need, bound, low = self._resolved(need)
        if low:
            # Every resource bound of such a deficit is 0 (deficits).
            return False
        if opens:
            return (cost + self._bound_opening(need, h) * self.w_new
                    >= best_cost)
        return cost + bound * self.w_new >= best_cost

    def _resolved(self, need):
        """(deficit, its bound_for, whether it is low) of a deficit or a
        deficits.Need (worked out by now: its bound kept per depth)."""
        if type(need) is Need:
            return need.get(), need.bound(), need.low()
        return need, self.bound_for(need), False

    def _bound_opening(self, need, h):
        """bound_for(need - the room host h opens): a handful of resource
        classes, in plain floats (once per candidate tried)."""
        best = 0
        for amount, room, cap in zip(need.tolist(), self.free[h].tolist(),
                                     self._cap_list):
            if room > 0:
                amount -= room
            if amount > EPS and cap:
                best = max(best, math.ceil(amount / cap - 1e-9))
        return best

    def _unwind(self, order, chosen, undos, depth):
        for k in range(depth, -1, -1):
            if chosen[k] >= 0:
                self.undo(order[k], chosen[k], undos[k])
                chosen[k] = -1


class _Shared:
    """What every search of one problem starts from alike (the main
    search and the proofs' root search), worked out once."""

    def __init__(self, p):
        n = len(p.servers)
        # Never changed by a search: a list, shared.
        self.current_slot = [-1] * n
        if p.current:
            for i, sid in enumerate(p.ids):
                host = p.current.get(sid)
                if host is not None:
                    self.current_slot[i] = p.dc.slot_of(host)
        self.symmetry_levels = sorted(
            {c.level for c in p.constraints if c.level})
        # Per host asked: its attributes and domains (symmetry_key).
        self.fixed_keys = {}
        # Hosts the servers name or run on: each a class of its own.
        self.special = p.named_slots | {
            s for s in self.current_slot if s >= 0}
        # The request's whole demand (each search's start of ``left``).
        self.left = _SUM(p.demand, axis=0)
        # The distinct sets of rule indices servers have (their rules,
        # soft rules, ranking rules and pruning rules), and per server the
        # set of each kind (set by the first search: the tracker kinds
        # tell).
        self.rule_sets = None
        self.set_of = self.soft_of = self.bias_of = self.masks_of = None
        # Weighted soft violations at the start and at the least (set by
        # the first search: every search's trackers start alike).
        self.soft = self.soft_root = None
        # Which hosts were empty and the resource bound's divisors read
        # only the problem's free room, counts and usable hosts: the
        # model's alone when nothing moves, so once per model generation.
        cache = p.cached('search_shared')
        if p.moving:
            found = _empty_hosts(p)
        else:
            found = cache.get('empty')
            if found is None:
                found = cache['empty'] = _empty_hosts(p)
        self.was_empty, self.max_empty_free, self.cap_list, self.cap_div = (
            found)
        # (usable as a list: apply and undo read it per host; the model's
        # alone, so once per model generation; read only.)
        usable = cache.get('usable')
        if usable is None:
            usable = cache['usable'] = p.usable.tolist()
        self.usable = usable
        self._low_deficit = self._demand_eps_lists = None
        # The ranking's weights per resource class, and the demands less
        # the capacity slack (feasible_mask, at every node).
        self.ws = p.weights / p.scale
        # (a list of its rows: no matrix indexing at every node).
        self.demand_eps = list(p.demand - EPS)
        # Per server its demand row (views of p.demand: the same values,
        # without indexing the matrix at every node).
        self.rows = list(p.demand)

    def index_rule_sets(self, p, trackers):
        """Fill rule_sets and the per server indices into it."""
        soft = [t.rule.soft for t in trackers]
        biased = [hasattr(t, 'bias') for t in trackers]
        # Without soft (or ranking) rules a set's soft (ranking) part is
        # empty and its pruning part the set itself: not filtered.
        any_soft, any_biased = any(soft), any(biased)
        # Each distinct set numbered in the order first met (as a set,
        # then its soft, ranking and pruning parts).
        index = {}
        # Servers alike have the same rules: each set filtered once.
        sets = {}
        per_server = []
        for cs in p.server_rules:
            key = tuple(cs)
            found = sets.get(key)
            if found is None:
                if any_soft:
                    parts = (tuple([c for c in cs if soft[c]]),
                             tuple([c for c in cs if not soft[c]]))
                else:
                    parts = ((), key)
                ranked = (tuple([c for c in cs if biased[c]]) if any_biased
                          else ())
                found = sets[key] = (
                    index.setdefault(key, len(index)),
                    index.setdefault(parts[0], len(index)),
                    index.setdefault(ranked, len(index)),
                    index.setdefault(parts[1], len(index)))
            per_server.append(found)
        self.set_of, self.soft_of, self.bias_of, self.masks_of = (
            [list(column) for column in zip(*per_server)] if per_server
            else ([], [], [], []))
        self.rule_sets = list(index)

    def demand_eps_list(self, i):
        """demand_eps[i] as a list of floats (feasible_at)."""
        if self._demand_eps_lists is None:
            self._demand_eps_lists = [row.tolist() for row in self.demand_eps]
        return self._demand_eps_lists[i]

    def low_deficit(self, p):
        """Per resource class, a deficit's most to be low (deficits)."""
        if self._low_deficit is None:
            self._low_deficit = deficits.margins(p, self.cap_list)
        return self._low_deficit


def _empty_hosts(p):
    """(per host whether it was empty, per resource class the most free
    room of an empty usable host, the same as a list with 0 where none
    has any and as the resource bound's divisors with inf there), all
    read-only."""
    was_empty = p.base_count == 0
    was_empty.flags.writeable = False
    cap = np.where((was_empty & p.usable)[:, None], p.free, 0).max(
        axis=0) if p.slots else np.zeros(p.demand.shape[1])
    cap.flags.writeable = False
    # The resource bound's divisors (it is asked at every node).
    cap_list = [c if c > EPS else 0.0 for c in cap.tolist()]
    cap_div = np.where(cap > EPS, cap, np.inf)
    cap_div.flags.writeable = False
    return was_empty, cap, cap_list, cap_div


def _shared(p):
    found = p.__dict__.get('_search_shared')
    if found is None:
        found = p.__dict__['_search_shared'] = _Shared(p)
    return found


# An exhausted candidate list.
_NONE = iter(())


class _Walk:
    """One depth-first search's stack: per depth the candidates left,
    the deficit the bound starts from, the host chosen and its undo."""

    def __init__(self, order, bound):
        n = len(order)
        self.order = order
        self.iters = [None] * n
        self.needs = [None] * n
        self.chosen = [-1] * n
        self.undos = [None] * n
        # The bound each depth's candidates were filtered with.
        self.made = [None] * n
        self.depth = 0
        self.best, self.best_cost = None, bound
