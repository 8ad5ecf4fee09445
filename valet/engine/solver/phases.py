"""A decision's search in two phases, on budgets counted in work.

The first phase finds a valid placement, restarting with the servers that
failed most moved to the front (a failing server tells us what to decide
earlier); the counting proofs (``proofs.py``) are asked at its first dead
end. The second phase goes on from that placement (the tree it left
behind holds none) with the best placement's cost as a bound, and stops
when the bound is proved optimal or the budget is spent.
"""

import numpy as np

from valet.engine.solver.budget import Budget
from valet.engine.solver.budget import SubBudget
from valet.engine.solver import order as order_mod
from valet.engine.solver import proofs
from valet.engine.solver import root_view
from valet.engine.solver import search as search_mod
from valet.engine.solver import soft_hosts
from valet.engine.solver import soft_joint

# The counting proofs are asked at the first dead end of the first search
# (a placement found without backtracking never pays for them), and at the
# latest after this many nodes beyond one per server.
PROBE_SLACK = 4
# With soft groups, the nodes the improvement phase may search without
# finding a cheaper placement before it gives up (per server, and at least
# STALL_FLOOR; work, not time): their counting bounds are weak, so the
# phase rarely proves their optimum. On the bench's soft instances of
# seeds 1 to 30 (360, 31 not proven at their first placement) every
# improvement came within 61 nodes of the one before (2.35 per server at
# most, 44 nodes on 6 servers), and these limits keep every decision;
# 2 per server lost one. Without soft groups the phase keeps its whole
# budget: a cheaper placement on new hosts can come late.
STALL = 3
STALL_FLOOR = 50


def solve(problem, options, deadline, verdict=False):
    """Search for the best placement; returns a result dict.

    ``verdict`` asks only whether a placement exists (the explanation's
    rechecks): no bounds and no improvement; a feasible result then has
    the first placement and no ``cost``, ``optimal`` or bounds.

    The first placement is searched within the node budget only, so the
    verdict is the same on any machine; ``deadline`` (a perf_counter
    value) only cuts the improvement phase, which then keeps the best
    placement found so far.
    """
    if problem.blocked:
        # Refused while compiling: no search state is needed.
        return {'restarts': 0, 'order': [], 'feasible': False,
                'proven_infeasible': True, 'failures': None, 'nodes': 0,
                'timed_out': False}
    search = search_mod.Search(problem, options)
    try:
        return _solve(problem, options, deadline, verdict, search)
    finally:
        search.release()


def _solve(problem, options, deadline, verdict, search):
    """:func:`solve` with its search made."""
    order, clusters, find = order_mod.initial_order(problem)
    # Finding a placement is worth a few full descents whatever the size.
    budget = Budget(options, problem.slots, None,
                    floor=max(100, 8 * len(order)))
    # New hosts: the bounds that read only the problem or its root masks
    # are asked once the first placement is found, if it is not proven
    # without them.
    later = []
    hosts_root = 0 if verdict else search.root_lower_bound(later)
    # Soft violations: at least those placed. What no placement avoids
    # waits for the first placement too (its bound may stop there): a
    # first placement is kept until then.
    search.root_bound = search.cost() + hosts_root * search.w_new
    status, best, cost = 'limit', None, None
    # Counting proofs (proofs.py) when the first search backtracks.
    proved = _Proofs(problem, options)
    budget.probe_at, budget.probe = len(order) + PROBE_SLACK, proved.refute
    budget.probe_early = True
    # Phase 1: find a placement; restart with the worst offender first.
    attempt = max(200, 20 * len(order))
    restarts = 0
    while True:
        last = restarts >= 8 or budget.cap - budget.nodes <= attempt
        search.failures[:] = 0
        # Kept: the improvement phase goes on from this placement.
        status, best, cost = search.dfs(
            order, SubBudget(budget, None if last else attempt),
            keep=not verdict)
        if (best is not None or status == 'exhausted' or last
                or budget.stopped):
            break
        worst = int(np.argmax(search.failures))
        front = sorted(clusters[find(worst)],
                       key=lambda m: (-problem.size[m], m))
        rest = [m for m in order if m not in set(front)]
        order = front + rest
        restarts += 1
        attempt *= 2
    result = {'restarts': restarts, 'order': order}
    if best is None:
        if status != 'exhausted' and not proved.asked:
            proved.refute()
        result.update(feasible=False,
                      proven_infeasible=status == 'exhausted' or bool(
                          proved.found),
                      failures=search.failures.copy(), nodes=budget.nodes,
                      timed_out=False, proofs=proved.found)
        return result
    if verdict:
        result.update(feasible=True, assignment=best, nodes=budget.nodes,
                      timed_out=False)
        return result
    # The soft bound, told the first placement (each rule may stop once
    # it reaches that placement's violations).
    search.soft_root = search.soft_root_below(best)
    _set_root_bound(search, hosts_root)
    # The cost's lower bound reached: nothing cheaper exists.
    proven = cost <= search.root_bound
    # The rules' later bounds on new hosts. With a soft gap no bound on
    # new hosts proves the placement (a soft violation outweighs every
    # new host): they wait for the soft bounds, which may close the gap
    # and prove it with the soft groups' own new hosts; if not, they are
    # asked before the counting proofs and the improvement phase.
    waiting = later if cost // search.soft_unit > search.soft_root else []
    if later and not waiting and not proven:
        hosts_root, proven = _ask_later(search, later, hosts_root, proved,
                                        cost)
    # Phase 2: branch and bound below the first placement's cost, if its
    # budget can reach a leaf four times (else it hardly ever improves).
    nodes = budget.nodes
    improve = Budget(options, problem.slots, deadline,
                     work=options.improve_work, floor=0)
    timed_out = False
    if (options.improve and not proven
            and cost // search.soft_unit > search.soft_root
            and improve.cap >= 4 * len(order)):
        # A soft gap: the soft groups' joint bound, asked only now (most
        # first placements leave none), may close it.
        joint = soft_joint.root(
            problem, [t.rule for t in search.soft_trackers],
            enough=cost // search.soft_unit)
        if joint > search.soft_root:
            search.soft_root = joint
            _set_root_bound(search, hosts_root)
            proven = cost <= search.root_bound
    if (options.improve and search.consolidate and not proven
            and improve.cap >= 4 * len(order)):
        # The bounds on new hosts, asked only when the cheap one leaves a
        # gap: they may close it before any improvement. First, when the
        # first placement has the fewest soft violations, the hosts the
        # soft groups open at that many (cheaper than the counting one).
        # (Either may stop once it reaches the first placement's.)
        opened = len({h for h in best if problem.base_count[h] == 0})
        if (search.soft_trackers
                and cost // search.soft_unit == search.soft_root):
            forced = soft_hosts.at_soft_root(
                problem, [t.rule for t in search.soft_trackers],
                search.soft_root, enough=opened)
            hosts_root = _raise_hosts(search, hosts_root, forced)
            proven = cost <= search.root_bound
        if waiting and not proven:
            hosts_root, proven = _ask_later(search, waiting, hosts_root,
                                            proved, cost)
            waiting = []
        if not proven:
            counted = proved.lower_bound(enough=opened)
            hosts_root = _raise_hosts(search, hosts_root, counted)
            proven = cost <= search.root_bound
    if waiting and not proven:
        hosts_root, proven = _ask_later(search, waiting, hosts_root, proved,
                                        cost)
    if (options.improve and (search.consolidate or search.soft_trackers)
            and not proven and improve.cap >= 4 * len(order)):
        if search.soft_trackers:
            improve.stall = max(STALL_FLOOR, STALL * len(order))
        status, improved, new_cost = search.resume(order, improve, cost)
        if improved is not None and new_cost < cost:
            best, cost = improved, new_cost
        proven = status == 'exhausted' or cost <= search.root_bound
        nodes += improve.nodes
        timed_out = improve.timed_out
    # A first placement still kept is not undone: the search ends here,
    # and every tracker's state is its own (nothing else reads it).
    # Spreading is not a cost the search proves anything of; only soft
    # violations are proven minimal then.
    optimal = search.consolidate and proven
    result.update(feasible=True, assignment=best, cost=cost, optimal=optimal,
                  proven=proven, consolidate=search.consolidate,
                  soft_root=search.soft_root, hosts_root=hosts_root,
                  nodes=nodes, timed_out=timed_out)
    return result


def _ask_later(search, later, hosts_root, proved, cost):
    """The new hosts' bound with the rules put in ``later`` asked
    (``Search.root_bound_later``); returns it and whether the placement
    of ``cost`` is proven optimal now."""
    forced = search.root_bound_later(later, hosts_root, proved.root())
    hosts_root = _raise_hosts(search, hosts_root, forced)
    return hosts_root, cost <= search.root_bound


def _raise_hosts(search, hosts_root, found):
    """The new hosts' bound raised to ``found`` (if above), the root's
    bound with it; returns the new hosts' bound."""
    if found > hosts_root:
        hosts_root = found
        _set_root_bound(search, hosts_root)
    return hosts_root


def _set_root_bound(search, hosts_root):
    """The root's cost bound from the soft and new-host bounds. At the
    root nothing is opened or moved (the first placement may still be in
    place: not search.cost())."""
    search.root_bound = (search.soft_root * search.soft_unit
                         + hosts_root * search.w_new)


class _Proofs:
    """The counting proofs of one problem, asked at most once each, on
    the root (``root_view``: the trackers of only the rules asked)."""

    def __init__(self, problem, options):
        self.problem = problem
        self.options = options
        self.asked = False
        self.found = []
        self._search = None

    def root(self):
        """The problem's root view (the proofs' and the later root
        bounds')."""
        if self._search is None:
            self._search = root_view.RootView(self.problem, self.options)
        return self._search

    def refute(self):
        self.asked = True
        self.found = proofs.refute(self.problem, self.root())
        return bool(self.found)

    def lower_bound(self, enough=None):
        p = self.problem
        return proofs.lower_bound(p, self.root(),
                                  p.usable & (p.base_count > 0), enough)
