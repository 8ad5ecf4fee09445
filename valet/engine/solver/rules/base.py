"""The protocol every group rule kind implements.

A rule kind is one module under ``valet.engine.solver.rules`` with a
``KIND`` (the group type it handles) and a ``compile(problem)`` function
that turns the problem's groups of that kind into :class:`Constraint`
objects. The problem, the search and the explanations know rules only
through this protocol:

* ``compile`` (module level): against the model and the request, once per
  decision; it may add to ``problem.blocked`` conflicts with placed
  servers that no search can fix;
* :meth:`Constraint.start`: a :class:`Tracker`, the rule's mutable state
  in one search;
* :meth:`Tracker.mask` (prune candidates), :meth:`Tracker.apply` /
  :meth:`Tracker.undo` (the search state), :meth:`Tracker.root_bound`
  (new hosts the rule forces, before anything is placed);
* soft rules (``soft`` True) never prune: their trackers keep the
  search's weighted violation count (``search.soft``) current in
  ``apply``/``undo`` and say per host what placing a server there adds
  (:meth:`Tracker.penalty`); their constraints give the violations of a
  complete placement and a lower bound (see :mod:`.soft`);
* a tracker may answer for one host too: ``allows(i, h)`` means exactly
  ``mask(i)[h]``, worked out for that host alone (the search asks it when
  only a host or two are left to test; affinity and diversity have it);
* a tracker may rank hosts too: ``bias(i, hosts)`` gives what to add to
  the search's ranking of those hosts for server ``i``, or None (affinity:
  the new hosts the group would open, :mod:`..rack_choice`);
* :meth:`Constraint.label` and :meth:`Constraint.explain` (explanations).

The validator does not use any of this: it checks each kind on its own.
"""

import numpy as np

from valet.objects import group_kinds

# Slack in capacity comparisons (demands and capacities are floats).
EPS = 1e-9


def find_root(parent, x):
    """The representative of ``x`` in the union-find forest ``parent``
    (a list or dict of parents; roots are their own), halving the path
    on the way."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def affinity_roots(problem, level, closures=None):
    """Per key of ``closures`` (the problem's own by default): the root
    of the servers affinity groups at ``level`` or below hold in one
    domain with it (links may run through any server). Only the
    partition counts, not which key is a root; for the problem's own
    closures worked out once per level (every diversity, at-most and
    proof count of the level asks)."""
    if closures is None or closures is problem.closures:
        cache = problem.__dict__.setdefault('_affinity_roots', {})
        found = cache.get(level)
        if found is None:
            found = cache[level] = _affinity_roots(
                problem, level, problem.closures)
        return found
    return _affinity_roots(problem, level, closures)


def _affinity_roots(problem, level, closures):
    defs = problem.group_defs
    index = problem.topology.index
    low = {}        # group name -> whether an affinity group <= level
    parent = {k: k for k in closures}
    first = {}
    for k, names in closures.items():
        for name in names:
            tie = low.get(name)
            if tie is None:
                group = defs.get(name)
                tie = low[name] = (group is not None
                                   and group.kind == group_kinds.AFFINITY
                                   and index(group.level) <= level)
            if not tie:
                continue
            other = first.setdefault(name, k)
            if other != k:
                parent[find_root(parent, k)] = find_root(parent, other)
    return {k: find_root(parent, k) for k in closures}


def member_masks(problem, members):
    """Per member the hosts its static filters and capacity allow before
    anything is placed (read-only, cached on the problem: the counts, the
    soft rules' reach and the root's feasible masks ask)."""
    masks = problem.__dict__.get('_member_masks')
    if masks is None:
        masks = problem.__dict__['_member_masks'] = _member_masks(problem)
    return [masks[i] for i in members]


def _member_masks(problem):
    """``member_masks`` of every server, in one comparison: nearly every
    decision asks for most of them (the root bounds, the counts, the
    proofs), and one batched comparison costs about what one row does."""
    classes = alike_classes(problem)
    # Servers alike (one static mask, one demand) share one mask (read
    # only): each worked out once, by its first member.
    first = {}
    for i, k in enumerate(classes):
        first.setdefault(k, i)
    by_class = {}
    if first:
        rows = list(first.values())
        # (ndarray.all's reduction without its wrapper.)
        fit = np.logical_and.reduce(
            problem.free[None, :, :] >= problem.demand[rows][:, None, :] - EPS,
            axis=2)
        for row, (k, i) in zip(fit, first.items()):
            by_class[k] = row & problem.static[i]
    return [by_class[k] for k in classes]


def alike_classes(problem):
    """Per server a small int, equal for servers with the same static
    mask (the same array) and the same demand: what their masks before
    anything is placed depend on. Once per problem."""
    found = problem.__dict__.get('_alike_classes')
    if found is None:
        ids = {}
        static = problem.static
        # Each row's bytes cut from the matrix's (C order: the row's own
        # ``tobytes``), without a view per row.
        raw = problem.demand.tobytes()
        width = len(raw) // max(1, len(problem.servers))
        found = problem.__dict__['_alike_classes'] = [
            ids.setdefault((id(static[i]), raw[i * width:(i + 1) * width]),
                           len(ids))
            for i in range(len(problem.servers))]
    return found


def domains_as_list(problem, level):
    """Per host its domain of ``level`` as a list of ints (-1: none),
    once per problem: what the trackers' apply and undo index their
    counts with at every node (cheaper than the array's element)."""
    cache = problem.__dict__.setdefault('_domains_as_list', {})
    found = cache.get(level)
    if found is None:
        found = cache[level] = problem.domain[level].tolist()
    return found


def own_domains(problem, level):
    """Whether every host is its own domain of ``level``, numbered as the
    host (the host level as the model numbers it), once per problem and
    level: a per-domain array is then a per-host one."""
    cache = problem.__dict__.setdefault('_own_domains', {})
    found = cache.get(level)
    if found is None:
        dom = problem.domain[level]
        found = cache[level] = bool(
            problem.dc.domain_count(level) == len(dom) == problem.slots
            and np.array_equal(dom, np.arange(len(dom))))
    return found


def root_feasible(search, i):
    """``search.feasible_mask(i)`` before anything is placed, from parts
    worked out once per problem: the static mask and capacity per static
    mask and demand, each rule's mask per ``mask_key`` (the root bounds
    of several rules ask for the same servers, and the proofs' root
    search for every server). Read-only; any placement made, it is asked
    anew.

    Every search of a problem starts from the same state (its free room,
    each rule's tracker from the compiled rule; the options play no part
    in a mask), so the root's masks are the problem's, whichever search
    asks."""
    if search.n_placed:
        return search.feasible_mask(i)
    cache = _root_cache(search.p)
    found = cache.get(i)
    if found is not None:
        return found
    return _work_out(search, cache, alike_classes(search.p), i)


def root_feasible_all(search):
    """``root_feasible`` of every server, in server order (the proofs ask
    for them all)."""
    n = len(search.p.servers)
    if search.n_placed:
        return [search.feasible_mask(i) for i in range(n)]
    # root_feasible's lookups once for every server.
    cache = _root_cache(search.p)
    alike = alike_classes(search.p)
    out = []
    for i in range(n):
        found = cache.get(i)
        if found is None:
            found = _work_out(search, cache, alike, i)
        out.append(found)
    return out


def _work_out(search, cache, alike, i):
    """``root_feasible(search, i)`` not cached yet: its parts, each
    worked out once per problem."""
    p = search.p
    keyers = cache['keyers']
    # A soft rule's mask lets every host through: no part of it.
    keys = [(c, keyers[c](i)) for c in cache['hard'][i]]
    # The mask is a function of these keys alone: servers with the same
    # ones (most members of a group) share it, the parts not combined
    # again.
    whole = ('all', alike[i], tuple(keys))
    found = cache.get(whole)
    if found is None:
        # At the root the search's free room is the problem's.
        found = member_masks(p, (i,))[0]
        for key in keys:
            part = cache.get(key)
            if part is None:
                part = cache[key] = search.trackers[key[0]].mask(i)
            found = found & part
        cache[whole] = found
    cache[i] = found
    return found


def has_hard_rules(problem):
    """Whether any server has a hard rule (a rule whose mask prunes)."""
    return any(_root_cache(problem)['hard'])


def root_rule_mask(search, c, i):
    """Rule ``c``'s mask for server ``i`` before anything is placed
    (``search.trackers[c].mask(i)``), the part ``root_feasible`` keeps
    per rule and ``mask_key``: the explanation's funnel and group checks
    read the root's masks without a tracker of their own. Read-only."""
    if search.n_placed:
        return search.trackers[c].mask(i)
    p = search.p
    cache = _root_cache(p)
    if p.constraints[c].soft:
        # Soft rules never prune (their trackers' masks are all hosts).
        found = cache.get('everywhere')
        if found is None:
            found = cache['everywhere'] = np.ones(p.slots, dtype=bool)
            found.flags.writeable = False
        return found
    key = (c, cache['keyers'][c](i))
    part = cache.get(key)
    if part is None:
        part = cache[key] = search.trackers[c].mask(i)
    return part


def _root_cache(p):
    """The problem's root masks: per server, per (rule, mask_key) and per
    combination of those (``root_feasible``)."""
    cache = p.__dict__.get('_root_feasible')
    if cache is None:
        # Each rule's mask_key function, and per server its hard rules,
        # looked up once per problem.
        soft = [rule.soft for rule in p.constraints]
        cache = p.__dict__['_root_feasible'] = {
            'keyers': [mask_keyer(c) for c in p.constraints],
            'hard': [[c for c in cs if not soft[c]]
                     for cs in p.server_rules]}
    return cache


def root_union(search, members):
    """The hosts ``root_feasible`` allows any of ``members`` (alike
    servers share one mask: each distinct one is added once)."""
    out = np.zeros(search.p.slots, dtype=bool)
    added = {}      # id -> mask (kept alive: an id is not reused)
    for i in members:
        mask = root_feasible(search, i)
        if id(mask) not in added:
            added[id(mask)] = mask
            out |= mask
    return out


def mask_key(rule, i):
    """What a rule's mask for server i depends on besides the rule,
    before anything is placed (servers with equal keys get equal masks).
    """
    return mask_keyer(rule)(i)


def mask_keyer(rule):
    """``mask_key`` of one rule, as a function of the server (kept on
    the rule: it is immutable once compiled)."""
    found = rule.__dict__.get('_mask_keyer')
    if found is None:
        found = rule.__dict__['_mask_keyer'] = _keyer(rule)
    return found


def _keyer(rule):
    if rule.kind == group_kinds.DIVERSITY:
        unit, anchored = rule.unit, rule.anchored

        def diversity_key(i):
            # Units without a domain yet are alike.
            found = unit[i]
            return found if found in anchored else None
        return diversity_key
    if rule.kind == group_kinds.EXCLUSIVITY:
        return rule.member_of.get
    if rule.kind in (group_kinds.AFFINITY, group_kinds.AT_MOST,
                     group_kinds.SPREAD):
        return _no_key
    return _own_key


def _no_key(i):
    return None


def _own_key(i):
    return i


def groups_to_place(problem, kind):
    """(name, group, level index, new members, placed members) of every
    group of ``kind`` the request touches and adds members to, by name."""
    return _groups_by_kind(problem).get(kind, ())


def _groups_by_kind(problem):
    # Every rule kind asks while the problem compiles: the touched groups
    # sorted and split by kind once (each kind's list in name order, as
    # one walk per kind over the sorted names gives it).
    found = problem.__dict__.get('_groups_by_kind')
    if found is None:
        found = problem.__dict__['_groups_by_kind'] = {}
        for name in sorted(problem.touched_groups):
            group = problem.group_defs[name]
            new, old = problem.members(name)
            if new:
                found.setdefault(group.kind, []).append(
                    (name, group, problem.topology.index(group.level), new,
                     old))
    return found


class Constraint:
    """One compiled rule of one decision; immutable during the search.

    ``members`` are the request server indices the rule constrains, or
    None when it constrains every server (as exclusivity does: outsiders
    must keep out). ``level`` is a topology level index. ``together`` says
    the members end in one domain (the search orders them as a cluster).
    """

    kind = None
    together = False
    soft = False

    def __init__(self, name, level, members):
        self.name = name
        self.level = level
        self.members = members

    def start(self, search):
        """The rule's state in a new search."""
        raise NotImplementedError

    def label(self, i):
        """The funnel's name of this rule for request server ``i``."""
        return '%s:%s' % (self.kind, self.name)

    def explain(self, problem, tracker):
        """Entries for the explanation's ``groups`` view: why no domain can
        hold this rule's members whatever the search does (a counting
        argument), or nothing. ``tracker`` gives the rule's masks before
        anything is placed (``mask(i)``; the explanation passes the root's
        cached masks, ``root_view.RuleMasks``)."""
        return []


class Tracker:
    """A constraint's mutable state in one search.

    ``apply`` returns a token handed back to ``undo``; an ``undo`` follows
    its ``apply`` in reverse order, so a token may describe what to reset.
    """

    def __init__(self, constraint, search):
        self.rule = constraint
        self.search = search
        self.p = search.p

    def mask(self, i):
        """Hosts where request server ``i`` may go under this rule now."""
        raise NotImplementedError

    # Optional: ``allows(i, h)``, the same as ``bool(self.mask(i)[h])``
    # for one host without the whole mask (``Search.feasible_at`` uses it
    # when a tracker has it, else the mask).

    def apply(self, i, h):
        return None

    def undo(self, i, h, token):
        pass

    def root_bound(self, in_use):
        """New hosts this rule forces (consolidation), nothing placed yet.

        ``in_use`` masks usable hosts that already run servers. A soft
        rule answers for placements at its fewest violations (its
        ``lower_bound``): the cost ranks soft violations first, so any
        placement with more costs more whatever its new hosts.
        """
        return 0
