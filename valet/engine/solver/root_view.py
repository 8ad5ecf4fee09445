"""The root of a problem's search, as the proofs and the explanation
read it: nothing placed, each rule's tracker built the first time it is
asked for.

The proofs read the root through ``rules.base.root_feasible``, whose
masks are the problem's whichever search works them out (the main
search's root bounds have most of them by the first dead end); the few
left need only their own rules' trackers, not a whole search state.
"""

from valet.engine.solver.rules import base


class RootView:
    """A search at the root for reading masks (never placed into)."""

    n_placed = 0        # nothing is ever placed at the root

    def __init__(self, problem, options):
        self.p = problem
        self.options = options
        # The root's free room is the problem's; a tracker's mask reads
        # it (affinity's look-ahead), none writes it.
        self.free = problem.free.view()
        self.free.flags.writeable = False
        self.trackers = RootTrackers(self)
        # Its trackers refer back to it: released with the problem.
        problem.__dict__.setdefault('_root_views', []).append(self)


class RootTrackers:
    """Per rule of the problem its tracker on a root view, built on first
    use (a sequence in the rules' order, like ``Search.trackers``)."""

    def __init__(self, view):
        self._view = view
        self._rules = view.p.constraints
        self._built = [None] * len(self._rules)

    def __len__(self):
        return len(self._rules)

    def __getitem__(self, c):
        found = self._built[c]
        if found is None:
            found = self._built[c] = self._rules[c].start(self._view)
        return found

    def __iter__(self):
        return (self[c] for c in range(len(self._rules)))


class RuleMasks:
    """One rule's masks at the root (``mask(i)``, as its tracker's there),
    read from the problem's root masks (``rules.base.root_rule_mask``):
    the explanation's group checks build no tracker for a mask the
    proofs or the root bounds worked out."""

    def __init__(self, search, c):
        self._search = search
        self._c = c

    def mask(self, i):
        return base.root_rule_mask(self._search, self._c, i)
