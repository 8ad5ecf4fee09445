"""The original Valet's search, re-implemented from its description.

Written fresh from ``original-valet.md`` section 6.5 (and section 5 for
the group semantics); it is a baseline, so it is kept faithful rather
than weak:

1. weights: the request's demand per resource class over the data
   centre's free amount, normalised to sum to 1;
2. nodes (servers, and top-level affinity groups with their subtree) are
   placed largest first by weighted demand;
3. the search goes down the levels (rack, then host; higher levels only
   when a group asks for them), filtering candidates at each level
   (named/request affinity, diversity, exclusivity, no-exclusivity,
   availability zone and extra specs, capacity against the aggregate of
   the candidate);
4. candidates are ranked best fit: ``sum((1 - w) * avail / dc_avail)``
   ascending, the fullest feasible one first;
5. a group (or a server above host level) tries its candidates in order
   and places its children recursively inside the chosen one; on failure
   the tentative placements are rolled back and the next candidate is
   tried. A server at host level takes the first candidate.

Diversity and exclusivity are carried by the largest enclosing affinity
group whose level is not above theirs (the parser's "push up"), which is
what makes a nested affinity group one diversity unit.
"""

import numpy as np

from valet.engine.model import groups as g
from bench import view as view_mod

NAME = 'original'


class Node:
    """A server, or an affinity group with its subtree."""

    def __init__(self, vm=None, group=None, level=0):
        self.vm = vm
        self.group = group
        self.level = level
        self.children = []
        self.vms = []
        self.parent = None
        self.demand = None
        self.sort_base = 0.0
        self.div = {}            # diversity rule name -> unit key
        self.static = None       # hosts every server of the node may use

    @property
    def single_host(self):
        return self.level == 0


class Search:

    def __init__(self, dc, request):
        self.view = v = view_mod.View(dc, request)
        self.free = v.free.copy()
        self.dom = v.domain
        self.hosts_ok = v.enabled
        self.rules = {rule.name: rule for rule in v.rules}
        # Placed and tentative memberships, per domain.
        self.aff = {r.name: dict.fromkeys(r.allowed or (), 1)
                    for r in v.affinity}
        self.div = {}
        for rule in v.diversity:
            self.div[rule.name] = {d: dict.fromkeys(units, 1)
                                   for d, units in rule.placed_units.items()}
        self.ex = {li: {'total': s['total'].copy(), 'any': s['any'].copy(),
                        'count': {k: c.copy() for k, c in s['count'].items()},
                        'member_of': s['member_of']}
                   for li, s in v.ex_levels.items()}
        self.vm_rules = [[] for _ in v.servers]
        for rule in v.rules:
            for i in rule.members:
                self.vm_rules[i].append(rule)
        self.journal = []
        self._weights()
        self.top = self._build_tree()

    # ----------------------------------------------------------- weights
    def _weights(self):
        v = self.view
        avail = np.clip(self.free[v.enabled].sum(axis=0), 0, None)
        self.dc_avail = np.where(avail > 0, avail, 1.0)
        app = v.demand.sum(axis=0) / self.dc_avail
        total = app.sum()
        self.w = app / total if total > 0 else np.full(len(app), 1.0 / len(
            app))

    def _sort_base(self, demand):
        return float(np.dot(self.w, demand / self.dc_avail))

    # -------------------------------------------------------------- tree
    def _aff_parent(self, name):
        """Nearest affinity ancestor of an affinity group (lowest level)."""
        v = self.view
        found, stack, seen = [], list(v.groups[name].parents), set()
        while stack:
            p = stack.pop()
            if p in seen or p not in v.groups:
                continue
            seen.add(p)
            if v.kind_of(p) == g.AFFINITY:
                found.append(p)
            else:
                stack.extend(v.groups[p].parents)
        return min(found, key=lambda n: (v.level_of(n), n)) if found else None

    def _build_tree(self):
        v = self.view
        affs = sorted({n for c in v.closure for n in c
                       if n in v.groups and v.kind_of(n) == g.AFFINITY})
        parent = {a: self._aff_parent(a) for a in affs}
        for a in affs:
            # Bring in ancestors that no server names directly.
            p = parent[a]
            while p is not None and p not in parent:
                parent[p] = self._aff_parent(p)
                p = parent[p]
        nodes = {a: Node(group=a, level=v.level_of(a)) for a in parent}
        vm_nodes = []
        for i in range(len(v.servers)):
            node = Node(vm=i)
            node.vms = [i]
            node.demand = v.demand[i].copy()
            vm_nodes.append(node)
            mine = [a for a in v.closure[i] if a in nodes]
            ancestors = set()
            for a in mine:
                p = parent[a]
                while p is not None:
                    ancestors.add(p)
                    p = parent[p]
            deepest = sorted((a for a in mine if a not in ancestors),
                             key=lambda n: (nodes[n].level, n))
            if deepest:
                owner = nodes[deepest[0]]
                node.parent = owner
                owner.children.append(node)
                # A server in two affinity trees merges them (as the
                # original parser did): the other tree hangs under this one.
                for other in deepest[1:]:
                    top = other
                    while parent[top] is not None:
                        top = parent[top]
                    mine_top = deepest[0]
                    while parent[mine_top] is not None:
                        mine_top = parent[mine_top]
                    if top != mine_top:
                        parent[top] = deepest[0]
                        nodes[top].level = min(nodes[top].level,
                                               owner.level)
        tops = [n for n in vm_nodes if n.parent is None]
        for a, p in parent.items():
            if p is None:
                tops.append(nodes[a])
            else:
                nodes[a].parent = nodes[p]
                nodes[p].children.append(nodes[a])
        for node in tops:
            self._finish(node)
        for rule in v.diversity:
            for i in rule.members:
                carrier = vm_nodes[i]
                while (carrier.parent is not None
                       and carrier.parent.level <= rule.level):
                    carrier = carrier.parent
                carrier.div[rule.name] = rule.unit[i]
        tops = [n for n in tops if n.vms]
        tops.sort(key=lambda n: -n.sort_base)
        return tops

    def _finish(self, node):
        if node.vm is None:
            node.vms = []
            node.demand = np.zeros(len(self.view.rcs))
            for child in node.children:
                self._finish(child)
                node.vms.extend(child.vms)
                node.demand = node.demand + child.demand
            node.children.sort(key=lambda n: -n.sort_base)
        node.sort_base = self._sort_base(node.demand)
        node.static = np.logical_and.reduce(
            self.view.static[node.vms]) if node.vms else None

    # ------------------------------------------------------- bookkeeping
    def assign(self, i, h):
        self._record(i, h, 1)
        self.journal.append((i, h))

    def _record(self, i, h, sign):
        self.free[h] -= sign * self.view.demand[i]
        for rule in self.vm_rules[i]:
            d = int(self.dom[rule.level][h])
            if rule.kind == g.AFFINITY:
                table, key = self.aff[rule.name], d
            elif rule.kind == g.DIVERSITY:
                table, key = self.div[rule.name].setdefault(d, {}), \
                    rule.unit[i]
            else:
                continue
            table[key] = table.get(key, 0) + sign
            if not table[key]:
                del table[key]
        for li, state in self.ex.items():
            d = self.dom[li][h]
            state['total'][d] += sign
            name = state['member_of'].get(i)
            if name is not None:
                state['count'][name][d] += sign
                state['any'][d] += sign

    def rollback(self, mark):
        while len(self.journal) > mark:
            i, h = self.journal.pop()
            self._record(i, h, -1)

    # ----------------------------------------------------------- filters
    def _domain_filters(self, node, ok, min_level):
        """Affinity, diversity and exclusivity rules of level >= min_level,
        checked at each host's domain of the rule's level."""
        for i in node.vms:
            for rule in self.vm_rules[i]:
                if rule.kind != g.AFFINITY or rule.level < min_level:
                    continue
                used = self.aff[rule.name]
                if used:
                    ok &= np.isin(self.dom[rule.level], list(used))
        for name, unit in node.div.items():
            rule = self.rules[name]
            if rule.level < min_level:
                continue
            bad = [d for d, units in self.div[name].items()
                   if any(u != unit for u in units)]
            if bad:
                ok &= ~np.isin(self.dom[rule.level], bad)
        for li, state in self.ex.items():
            if li < min_level:
                continue
            names = {state['member_of'].get(i) for i in node.vms}
            if len(names) != 1:
                continue        # mixed: the children check it lower down
            name = names.pop()
            dom = self.dom[li]
            if name is None:
                ok &= state['any'][dom] == 0
            else:
                ok &= (state['total'] - state['count'][name])[dom] == 0
        return ok

    def candidates(self, node, scope, lvl):
        """Domain ids at ``lvl`` that pass the filters, best fit first."""
        dom = self.dom[lvl]
        ok = scope & self.hosts_ok
        if node.single_host:
            ok &= node.static & np.all(
                self.free + view_mod.EPS >= node.demand, axis=1)
            ok = self._domain_filters(node, ok, 0)
            passing = np.zeros(self.view.n_domains[lvl], dtype=bool)
            passing[dom[ok]] = True
        else:
            ok = self._domain_filters(node, ok, lvl)
            passing = np.zeros(self.view.n_domains[lvl], dtype=bool)
            passing[dom[ok]] = True
            # Aggregate capacity of the candidate must cover the group.
            avail = self._avail(scope, lvl)
            passing &= np.all(avail + view_mod.EPS >= node.demand, axis=1)
            # Each server must fit some host of the candidate.
            for i in node.vms:
                fit = ok & self.view.static[i] & np.all(
                    self.free + view_mod.EPS >= self.view.demand[i], axis=1)
                for rule in self.vm_rules[i]:
                    if rule.kind == g.AFFINITY and self.aff[rule.name]:
                        fit &= np.isin(self.dom[rule.level],
                                       list(self.aff[rule.name]))
                has = np.zeros(len(passing), dtype=bool)
                has[dom[fit]] = True
                passing &= has
        cands = np.flatnonzero(passing)
        if not len(cands):
            return cands
        avail = self._avail(scope, lvl)[cands]
        key = ((1.0 - self.w) * avail / self.dc_avail).sum(axis=1)
        return cands[np.lexsort((cands, key))]

    def _avail(self, scope, lvl):
        mask = scope & self.hosts_ok
        if lvl == 0:
            return np.where(mask[:, None], self.free, 0.0)
        n = self.view.n_domains[lvl]
        dom = self.dom[lvl][mask]
        free = self.free[mask]
        return np.stack([np.bincount(dom, weights=free[:, r], minlength=n)
                         for r in range(free.shape[1])], axis=1)

    # ------------------------------------------------------------ search
    def place(self, node, scope, lvl):
        for c in self.candidates(node, scope, lvl):
            mark = len(self.journal)
            sub = scope & (self.dom[lvl] == c)
            if lvl == 0 and node.vm is not None:
                # A server at host level takes the first candidate.
                self.assign(node.vm, int(c))
                return True
            if node.vm is None and node.level == lvl:
                ok = self.place_children(node, sub, lvl)
            else:
                ok = self.place(node, sub, lvl - 1)
            if ok:
                return True
            self.rollback(mark)
        return False

    def place_children(self, node, scope, lvl):
        return all(self.place(child, scope, lvl) for child in node.children)

    def run(self):
        v = self.view
        top_level = min(1, len(v.levels) - 1)
        everywhere = np.ones(len(v.names), dtype=bool)
        for node in self.top:
            if not self.place(node, everywhere, max(top_level, node.level)):
                return None
        return {v.servers[i].id: v.names[h] for i, h in self.journal}


def solve(dc, request):
    """(assignment or None, info). Never changes ``dc``."""
    search = Search(dc, request)
    assignment = search.run()
    return assignment, {}
