"""Search budgets counted in work, with a wall-clock safety net.

A decision must not depend on how busy the machine is: the search spends
nodes, and the node cap comes from the request's size, not the clock.
"""

import time


class Budget:
    """Deterministic node budget, with a wall-clock safety net or none.

    Nodes are counted in host evaluations (``work``): each node costs a few
    vector operations over every host, so big data centres get fewer.
    ``deadline`` None means the node count alone decides: finding a first
    placement never depends on how busy the machine is.
    """

    def __init__(self, options, slots, deadline, work=None, floor=100):
        work = options.max_work if work is None else work
        self.cap = max(floor, min(options.max_nodes, work // max(1, slots)))
        self.nodes = 0
        self.deadline = deadline
        self.timed_out = False
        # probe() at node probe_at (or at the first dead end with
        # probe_early); True stops the search (a proof).
        self.probe_at, self.probe, self.stopped = None, None, False
        self.probe_early = False
        # Nodes the search may go on without finding a cheaper placement
        # (None: no such limit); the count restarts at each one found.
        self.stall, self.since = None, 0

    def improved(self):
        self.since = 0

    def dead_end(self):
        """A server ran out of candidates: ask the proofs now if told to
        (they are asked once; spend() then stops the search)."""
        if self.probe_early and self.probe is not None:
            self.probe_early = False
            self.probe_at = None
            if self.probe():
                self.stopped = True

    def spend(self):
        self.nodes += 1
        self.since += 1
        if self.stall is not None and self.since > self.stall:
            return False
        if self.nodes == self.probe_at and self.probe():
            self.stopped = True
        if (self.deadline is not None and self.nodes & 31 == 0
                and time.perf_counter() > self.deadline):
            self.timed_out = True
        return (self.nodes < self.cap and not self.timed_out
                and not self.stopped)


class SubBudget:
    """A slice of a Budget for one restart attempt."""

    def __init__(self, parent, limit):
        self.parent = parent
        self.limit = limit
        self.used = 0

    def dead_end(self):
        self.parent.dead_end()

    def improved(self):
        self.parent.improved()

    def spend(self):
        self.used += 1
        ok = self.parent.spend()
        return ok and (self.limit is None or self.used < self.limit)

    @property
    def timed_out(self):
        return self.parent.timed_out
