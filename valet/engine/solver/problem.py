"""Compile a request and the data-centre model into a search problem.

Everything the search needs is worked out here once per decision: which
servers move, their demand vectors, where each may go regardless of the
others (static masks), and the initial state of every group rule. Invalid
requests are rejected here, before any search, with a precise error.
"""

import numpy as np

from valet.engine.model import errors
from valet.engine.model import extra_specs as extra_specs_mod
from valet.engine.model import groups as g
from valet.engine.solver import group_defs
from valet.engine.solver import model_cache
from valet.engine.solver import request_servers
from valet.engine.solver import rules
from valet.engine.solver.rules.base import EPS

# ndarray.sum without its Python wrapper (the same reduction).
_ADD = np.add.reduce


_NO_SLOTS = np.zeros(0, dtype=np.int64)
_INF = float('inf')
# Entries a request-keyed part of the model cache keeps (``_bounded``).
_BOUND = 1024
# What a problem computes from the request's servers and the model alone,
# whatever groups it ignores (shared with ``like``).
_SHARED = ('demand', 'unknown_rc', 'weights', 'scale', 'size', 'static',
           'static_reasons', 'named_slots')


class Problem:
    """One decision's search problem. Holds no reference to I/O."""

    def __init__(self, dc, request, ignore_groups=frozenset(), pins=None,
                 movable_extra=(), like=None):
        """``like``: a problem of the same request, model, pins and
        servers (only the ignored groups differ, as in the explanation's
        rechecks) whose demands and static masks are shared, read-only,
        instead of computed again."""
        self.dc = dc
        # The model's per-generation cache (model_cache), looked up once:
        # the model does not change while a decision is made.
        self._model_parts = model_cache.parts(dc)
        self.request = request
        self.topology = dc.topology
        self.ignore_groups = frozenset(ignore_groups)
        self._exclusivity = None
        self.group_defs = group_defs.definitions(dc, request)
        # Without nesting in the request and with every group counted,
        # what placed servers belong to is the model's alone (cached).
        self._model_only = not self.ignore_groups and not any(
            group.parents for group in request.groups)
        self._check_nesting()
        self.children = {}
        for group in self.group_defs.values():
            for parent in group.parents:
                self.children.setdefault(parent, set()).add(group.name)
        self.servers, self.current, self.removed = (
            request_servers.servers_to_place(dc, request, movable_extra))
        self.ids = [s.id for s in self.servers]
        self.index = {sid: i for i, sid in enumerate(self.ids)}
        self.pins = dict(pins or {})
        # Conflicts the request creates with placed servers, found while
        # compiling: no search can fix them.
        self.blocked = []
        self._build_state()
        same = (like is not None and like.dc is dc
                and like.request is request and like.ids == self.ids
                and like.pins == self.pins and like.current == self.current)
        if same:
            for name in _SHARED:
                setattr(self, name, getattr(like, name))
        else:
            self._build_demands()
        self._build_closures()
        if not same:
            self._build_static_masks()
        self._compile_rules()

    def release(self):
        """Drop everything the problem holds, caches included, once its
        decision is made (nothing reads it after). Some caches refer back
        to the problem (the proofs' root view and its trackers, the
        searches' shared start): without this the problem and its arrays
        would wait for the cyclic garbage collector, whose collections
        they would trigger inside later calls. The root views made on it
        (``root_view``) go with it."""
        for view in self.__dict__.get('_root_views', ()):
            view.__dict__.clear()
        self.__dict__.clear()

    def cached(self, part):
        """``model_cache.store(self.dc, part)``, without the lookup."""
        found = self._model_parts.get(part)
        if found is None:
            found = self._model_parts[part] = {}
        return found

    # ------------------------------------------------------------ validation
    def _check_nesting(self):
        if self._model_only:
            # The request nests nothing: the model's nesting, checked
            # once per model generation, is all there is.
            cache = self.cached('nesting')
            if 'ok' not in cache:
                try:
                    group_defs.check_nesting(dict(self.dc.groups), self.topology)
                    cache['ok'] = True
                except errors.InvalidRequest:
                    cache['ok'] = False
            if cache['ok']:
                return
        group_defs.check_nesting(self.group_defs, self.topology)

    # ----------------------------------------------------------------- state
    def _build_state(self):
        dc = self.dc
        arrays = dc.arrays()
        self.slots = dc.slots
        self.domain = arrays.domain
        self.present = arrays.present
        self.capacity = arrays.capacity
        self.attr = arrays.attr
        # Usable hosts, free room and counts are the model's alone: once
        # per model generation, read-only (shared by its problems); a
        # problem whose servers move changes copies of the last two.
        state = self.cached('state')
        if not state:
            state['usable'] = arrays.present & arrays.enabled
            state['free'] = arrays.capacity - arrays.used
            state['count'] = arrays.count.copy()
            for part in state.values():
                part.flags.writeable = False
        self.usable = state['usable']
        free, count = state['free'], state['count']
        if self.current or self.removed:
            free, count = free.copy(), count.copy()
        # Servers that move (or leave) give their resources back first.
        for sid in list(self.current) + list(self.removed):
            placed = dc.servers[sid]
            slot = dc.slot_of(placed.host)
            vec, _ = dc.demand_vector(placed.demand)
            free[slot] += vec
            count[slot] -= 1
        self.free = free
        self.base_count = count
        self.moving = set(self.current) | set(self.removed)

    def _build_demands(self):
        dc = self.dc
        self.unknown_rc = []
        # Servers of one flavour share a demand: its vector once per model
        # generation (the model's resource classes make it; read only).
        # Keyed by the amounts as given once they are checked: amounts
        # equal as keys (1 and 1.0) give equal vectors.
        vectors = _bounded(self, 'demand_vectors')
        # The distinct vectors, and per server which (flavours repeat).
        distinct, rows, which = {}, [], []
        for server in self.servers:
            demand = server.demand
            if not isinstance(demand, dict) or not demand:
                raise errors.InvalidRequest(
                    'server %s has no demand (no flavor resolved)' %
                    server.id, code='valet.request.bad_demand',
                    server=server.id)
            for amount in demand.values():
                kind = type(amount)
                # The common case, without the isinstance calls.
                if ((kind is not int and kind is not float) or
                        not amount >= 0 or amount == _INF):
                    _check_demand(server)
                    break
            try:
                key = tuple(demand.items())
                found = vectors.get(key)
            except TypeError:       # an unhashable amount: checked above
                key = found = None
            if found is None:
                found = dc.demand_vector(demand)
                found[0].flags.writeable = False
                if key is not None:
                    vectors[key] = found
            vec, unknown = found
            k = distinct.get(id(vec))
            if k is None:
                k = distinct[id(vec)] = len(rows)
                rows.append(vec)
            which.append(k)
            self.unknown_rc.append(unknown)
        # The distinct rows stacked, then one per server (float vectors of
        # the model's resource classes: the same matrix as filled row by
        # row).
        self.demand = (np.array(rows, dtype=float).take(which, 0) if rows
                       else np.zeros((0, len(dc.resource_classes))))
        # Weights: how heavily the request uses each resource class relative
        # to what is free; fragmentation is measured in these terms.
        total = _ADD(self.demand, axis=0)
        # What is free and the mean capacity are the model's alone when
        # nothing moves: once per model generation.
        norms = self.cached('norms')
        # (What is free, whether there is any and its divisor.)
        avail = norms.get('avail') if not self.moving else None
        if avail is None:
            avail = np.where(self.usable[:, None],
                             np.maximum(self.free, 0), 0).sum(axis=0)
            avail = (avail > 0, np.maximum(avail, EPS))
            if not self.moving:
                norms['avail'] = avail
        share = np.where(avail[0], total / avail[1], 0.0)
        # Its sum once (twice only when it is none).
        whole = _ADD(share)
        if whole <= 0:
            share = np.ones_like(share)
            whole = _ADD(share)
        self.weights = share / whole
        scale = norms.get('scale')
        if scale is None:
            caps = self.capacity[self.usable]
            # The mean as np.mean works it out, without its wrapper.
            scale = (caps.sum(axis=0) / len(caps) if len(caps)
                     else np.ones(len(share)))
            scale = norms['scale'] = np.where(scale > 0, scale, 1.0)
            scale.flags.writeable = False       # shared, read-only
        self.scale = scale
        self.size = _ADD(self.demand * self.weights / self.scale, axis=1)

    # ---------------------------------------------------------------- groups
    def _closure(self, names):
        return g.closure(names, self.group_defs, self.ignore_groups)

    def _placed_closure(self, sid):
        """The groups of a placed server, through nesting."""
        groups = self.dc.servers[sid].groups
        if not self._model_only:
            return set(self._closure(groups))
        cache = self.cached('closure')
        found = cache.get(groups)
        if found is None:
            found = cache[groups] = frozenset(self._closure(groups))
        return set(found)

    def _build_closures(self):
        defs = self.group_defs
        for server in self.servers:
            for name in server.groups:
                if name not in defs:
                    raise errors.InvalidRequest(
                        'server %s names unknown group %s' % (
                            server.id, name),
                        code='valet.request.unknown_group', group=name,
                        server=server.id)
        closures = {}
        # Servers naming the same groups walk the nesting once; without
        # nesting in the request (and nothing ignored) the walk is the
        # model's: once per model generation (in walk order, as the
        # sets were always filled).
        walked = (_bounded(self, 'walks')
                  if self._model_only else {})
        for i, server in enumerate(self.servers):
            found = walked.get(server.groups)
            if found is None:
                found = walked[server.groups] = tuple(
                    self._closure(server.groups))
            closures[('new', i)] = set(found)
        # Placed servers in any group the request touches matter too.
        touched = set()
        for members in closures.values():
            touched |= members
        self.touched_groups = touched
        # Placed members of an exclusivity group the request does not touch
        # that are in no other group only keep outsiders out of their
        # domains: the exclusivity rule counts them per domain at once
        # (model_cache), the closures leave them out.
        isolated = self._isolated()
        # Untouched groups whose every placed member is isolated (most
        # stored groups): no closure to add, their members taken at once.
        self.isolated = self._wholly_isolated(isolated)
        for name in touched:
            self.isolated.pop(name, None)
        for name in (touched | self.exclusivity_groups()).difference(
                self.isolated):
            alone = isolated.get(name) if name not in touched else None
            members = self.placed_servers(name)
            if alone:
                self.isolated[name] = alone
                members = members - alone[0]
            for sid in members:
                if sid in self.moving:
                    continue
                key = ('old', sid)
                if key not in closures:
                    closures[key] = self._placed_closure(sid)
        self._add_affinity_partners(closures)
        # What placed servers inherit among themselves is theirs already
        # (possibly drift, tolerated); only what the request adds counts
        # against it.
        old_only = {k: set(v) for k, v in closures.items() if k[0] == 'old'}
        exclusive = self.exclusivity_groups()
        # The placed servers' closures are some of these (as they are
        # now): when none of these names both kinds, none of theirs does
        # and neither takes anything on.
        if _names_both(closures, defs, exclusive):
            _inherit_exclusivity(old_only, defs, self.topology, exclusive)
            take_on_exclusivity(closures, defs, self.topology)
        self.old_memberships = old_only
        self.closures = closures
        # Each group's members, indexed once for the rule builders.
        self.members_of = {}
        for key, names in closures.items():
            for name in names:
                new, old = self.members_of.setdefault(name, ([], []))
                (new if key[0] == 'new' else old).append(key[1])
        for key, members in closures.items():
            if key[0] != 'new' or exclusive.isdisjoint(members):
                # Only a request's server is refused here (placed ones
                # keep what they have), and only one in an exclusivity
                # group (``exclusive`` holds every one its closure may
                # name): the others' walk would find nothing.
                continue
            seen = {}
            for name in members:
                group = defs.get(name)
                if group is None or group.kind != g.EXCLUSIVITY:
                    continue
                other = seen.setdefault(group.level, name)
                if other != name:
                    server = self.servers[key[1]].id
                    raise errors.InvalidRequest(
                        'server %s would belong to exclusivity groups %s '
                        'and %s at the same level %s' % (
                            server, other, name, group.level),
                        code='valet.request.multiple_exclusivity',
                        server=server, groups=sorted([other, name]))

    def _isolated(self):
        """{exclusivity group: (ids, host slots)} of its placed members in
        no other group, per model generation (the model's alone)."""
        if not self._model_only:
            return _Isolated()
        cache = self.cached('isolated')
        if 'groups' not in cache:
            found = _Isolated()
            for name, group in self.dc.groups.items():
                if group.kind != g.EXCLUSIVITY:
                    continue
                placed = self.placed_servers(name)
                alone = sorted(sid for sid in placed
                               if self._placed_closure(sid) == {name})
                if alone:
                    found[name] = (frozenset(alone), np.array(
                        [self.dc.slot_of(self.dc.servers[sid].host)
                         for sid in alone], dtype=np.int64))
                    if len(alone) == len(placed):
                        found.whole.add(name)
            cache['groups'] = found
        return cache['groups']

    def isolated_counts(self, level):
        """Per domain of ``level``: isolated members of the untouched
        exclusivity groups (``self.isolated``) that stay put."""
        ndom = self.dc.domain_count(level)
        # Only the groups of this level keep outsiders out of its domains
        # (a host-exclusive member does not close its rack).
        everything = self._isolated_at(level)
        if not everything:
            return np.zeros(ndom, dtype=np.int64)
        if self.moving and any(self.moving & self.isolated[n][0]
                               for n in self.isolated if n in everything):
            slots = [self.isolated_slots(n) for n in sorted(self.isolated)
                     if n in everything]
            slots = np.concatenate(slots) if slots else _NO_SLOTS
            return np.bincount(self.domain[level, slots],
                               minlength=ndom).astype(np.int64)
        cache = self.cached('isolated_counts')
        if level not in cache:
            slots = np.concatenate([s for _, s in everything.values()])
            cache[level] = np.bincount(self.domain[level, slots],
                                       minlength=ndom).astype(np.int64)
        counts = cache[level].copy()
        for name in everything.keys() - self.isolated.keys():
            # Counted per domain in one call (np.subtract.at's fixed cost
            # is several times bincount's; the same whole counts).
            counts -= np.bincount(self.domain[level, everything[name][1]],
                                  minlength=ndom)
        return counts

    def _level_index(self, name):
        return self.topology.index(self.dc.groups[name].level)

    def _isolated_at(self, level):
        """``_isolated()`` of the groups of ``level`` only."""
        everything = self._isolated()
        if not everything:
            return everything
        cache = self.cached('isolated')
        key = ('level', level)
        if key not in cache:
            cache[key] = {n: v for n, v in everything.items()
                          if self._level_index(n) == level}
        return cache[key]

    def isolated_slots(self, name):
        """Host slots of a group's isolated members that stay put."""
        alone = self.isolated.get(name)
        if alone is None:
            return _NO_SLOTS
        ids, slots = alone
        if self.moving and self.moving & ids:
            keep = [k for k, sid in enumerate(sorted(ids))
                    if sid not in self.moving]
            slots = slots[keep]
        return slots

    def _add_affinity_partners(self, closures):
        """Placed partners of exclusivity members inherit the group too."""
        defs = self.group_defs
        # Closures leave ignored groups out, as exclusivity_groups does.
        exclusive = self.exclusivity_groups()
        done = set()
        while True:
            # Every group of such a closure first, then the affinity
            # groups among them (each name's kind read once, not once per
            # closure naming it).
            named = set()
            for members in closures.values():
                if not exclusive.isdisjoint(members):
                    named |= members
            named -= done
            wanted = {n for n in named if defs.get(n) is not None and
                      defs[n].kind == g.AFFINITY}
            if not wanted:
                return
            for name in sorted(wanted):
                done.add(name)
                for sid in self.placed_servers(name):
                    key = ('old', sid)
                    if sid not in self.moving and key not in closures:
                        closures[key] = self._placed_closure(sid)

    def placed_servers(self, name):
        """Placed servers in a group, through the nesting of this problem's
        definitions (a request may nest a group with placed members in a
        new parent)."""
        if self._model_only:
            cache = self.cached('placed')
            found = cache.get(name)
            if found is None:
                found = cache[name] = frozenset(self._placed_servers(name))
            return found
        return self._placed_servers(name)

    def _placed_servers(self, name):
        children = self.children
        found, seen, stack = set(), set(), [name]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            found |= self.dc.group_servers(current)
            stack.extend(sorted(children.get(current, ())))
        return found

    def exclusivity_groups(self):
        # Asked while compiling closures and the exclusivity rule. The
        # stored groups' are the model's (a request's group of a stored
        # name has its kind); the request's own are added.
        if self._exclusivity is None:
            cache = self.cached('exclusivity')
            stored = cache.get('stored')
            if stored is None:
                stored = cache['stored'] = frozenset(
                    name for name, group in self.dc.groups.items()
                    if group.kind == g.EXCLUSIVITY)
            extra = [group.name for group in self.request.groups
                     if group.kind == g.EXCLUSIVITY]
            # The stored set itself when it is all: its hash is kept.
            found = stored.union(extra) if extra else stored
            self._exclusivity = (found - self.ignore_groups
                                 if self.ignore_groups else found)
        return self._exclusivity

    def _wholly_isolated(self, isolated):
        """{group: isolated members} of the exclusivity groups whose every
        placed member is isolated (a new dict; per model generation)."""
        names = self.exclusivity_groups()
        if not self._model_only:
            return {n: isolated[n] for n in names & isolated.whole}
        cache = self.cached('exclusivity')
        found = cache.get(('whole', names))
        if found is None:
            found = cache[('whole', names)] = {
                n: isolated[n] for n in names & isolated.whole}
        return dict(found)

    def exclusivity_levels(self):
        """The levels (indices, ascending) of the exclusivity groups."""
        names = self.exclusivity_groups()
        cache = self.cached('exclusivity')
        found = cache.get(('levels', names))
        if found is None:
            found = cache[('levels', names)] = sorted(
                {self.topology.index(self.group_defs[n].level)
                 for n in names})
        return found

    def servers_per_domain(self, level):
        """Servers staying per domain of ``level`` (a new array)."""
        ndom = self.dc.domain_count(level)
        if self.moving:
            return self._servers_per_domain(level, ndom)
        cache = self.cached('servers_per_domain')
        found = cache.get(level)
        if found is None:
            found = cache[level] = self._servers_per_domain(level, ndom)
        return found.copy()

    def _servers_per_domain(self, level, ndom):
        present = np.flatnonzero(self.domain[level] >= 0)
        return np.bincount(self.domain[level, present],
                           weights=self.base_count[present],
                           minlength=ndom).astype(np.int64)

    def members(self, name):
        """Request indices and placed ids of a group's members."""
        new, old = self.members_of.get(name, ((), ()))
        return sorted(new), sorted(old)

    def domain_index(self, level):
        """(per host its domain of ``level`` with -1 read as 0, and whether
        it has one): what the rules' masks index their per-domain counts
        with at every node, worked out once per level."""
        cache = self.__dict__.setdefault('_domain_index', {})
        found = cache.get(level)
        if found is None:
            # The domains are the model's: once per model generation
            # (read only, shared); the problem keeps them at hand (asked
            # at every node).
            model = self.cached('domain_index')
            found = model.get(level)
            if found is None:
                dom = self.domain[level]
                found = (np.where(dom >= 0, dom, 0), dom >= 0)
                for part in found:
                    part.flags.writeable = False
                model[level] = found
            cache[level] = found
        return found

    def host_domain(self, level, sid):
        return int(self.domain[level, self.dc.slot_of(
            self.dc.servers[sid].host)])

    def _compile_rules(self):
        """Every registered rule kind compiles its groups, in order."""
        self.constraints = []
        for module in rules.MODULES:
            self.constraints.extend(module.compile(self))
        self.server_rules = [[] for _ in self.servers]
        for c, constraint in enumerate(self.constraints):
            members = (range(len(self.servers)) if constraint.members is None
                       else constraint.members)
            for i in members:
                self.server_rules[i].append(c)

    # -------------------------------------------------- helpers for rules
    def server_names(self, indices, limit=5):
        """Request servers by name, for explanations (a few, then a count).
        """
        labels = [self.servers[i].name or self.servers[i].id
                  for i in sorted(indices)]
        if len(labels) > limit:
            return '%s and %d more' % (', '.join(labels[:limit]),
                                       len(labels) - limit)
        return ', '.join(labels)

    def vector(self, vec):
        """A resource vector as {resource class: amount}, zeros left out."""
        return {rc: float(vec[c])
                for c, rc in enumerate(self.dc.resource_classes) if vec[c]}

    # ---------------------------------------------------------- static masks
    def _build_static_masks(self):
        dc = self.dc
        attr = self.attr
        attr_hosts = dc.attribute_hosts()
        self.static = []
        self.static_reasons = []
        # Hosts a server names as candidates or exclusions (the search
        # keeps each in a symmetry class of its own).
        self.named_slots = set()
        # A zone and extra specs pass the same hosts until the model
        # changes (read-only masks, shared).
        cache = self.cached('static_filters')
        # Servers alike in every filter share their (read-only) masks.
        alike = {}
        usable = self.usable.copy()
        for i, server in enumerate(self.servers):
            zone = server.availability_zone
            if zone is not None and not isinstance(zone, str):
                raise errors.InvalidRequest(
                    'server %s: availability zone %r is not a zone name'
                    % (server.id, zone), code='valet.request.bad_zone',
                    server=server.id)
            # No zone and no extra specs (most servers) skip the string
            # and sorting work: the same None and () they give.
            az = zone.split(':')[0] or None if zone else None
            extra = server.extra_specs
            specs = tuple(sorted(extra.items())) if extra else ()
            key = (az, specs)
            if key not in cache:
                ok_az = np.array([az is None or h.availability_zone == az
                                  for h in attr_hosts], dtype=bool)
                ok_specs = np.array(
                    [extra_specs_mod.host_passes(
                        dict(specs), h.aggregates, h.traits)[0]
                     for h in attr_hosts], dtype=bool)
                if len(attr_hosts) == 0:
                    ok_az = ok_specs = np.zeros(1, dtype=bool)
                found = (ok_az[attr], ok_specs[attr])
                for part in found:
                    part.flags.writeable = False
                cache[key] = found
            pin = self.pins.get(server.id)
            unknown = self.unknown_rc[i]
            same = (key, server.candidate_hosts, server.excluded_hosts, pin,
                    tuple(sorted(unknown)) if unknown else ())
            found = alike.get(same)
            if found is not None:
                self.static.append(found[0])
                self.static_reasons.append(found[1])
                continue
            az_mask, spec_mask = cache[key]
            steps = [('disabled', usable),
                     ('availability_zone', az_mask),
                     ('extra_specs', spec_mask)]
            if server.candidate_hosts is not None:
                steps.append(('candidate_hosts', self._host_set_mask(
                    server.candidate_hosts, named=True)))
            if server.excluded_hosts:
                steps.append(('excluded_hosts', ~self._host_set_mask(
                    server.excluded_hosts, named=True)))
            if pin is not None:
                steps.append(('kept_in_place', self._host_set_mask({pin})))
            if self.unknown_rc[i]:
                steps.append(('capacity:' + sorted(self.unknown_rc[i])[0],
                              np.zeros(self.slots, dtype=bool)))
            # Every step's hosts (there are always the first three): the
            # first two combined into a new array, the rest into it.
            mask = steps[0][1] & steps[1][1]
            for _, step in steps[2:]:
                mask &= step
            self.static.append(mask)
            self.static_reasons.append(steps)
            alike[same] = (mask, steps)

    def _host_set_mask(self, names, named=False):
        """The hosts of ``names``; ``named``: the request's servers name
        them (``named_slots``)."""
        slots = self.dc.slots_of(names)
        if named:
            self.named_slots.update(slots)
        mask = np.zeros(self.slots, dtype=bool)
        mask[slots] = True
        return mask


def _check_demand(server):
    """Refuse a server demanding anything but non-negative finite
    numbers (the first such amount, in the demand's order)."""
    for rc, amount in server.demand.items():
        if (isinstance(amount, bool) or
                not isinstance(amount, (int, float)) or
                amount != amount or amount < 0 or amount == _INF):
            raise errors.InvalidRequest(
                'server %s demands %r of %s; demands must be '
                'non-negative numbers' % (server.id, amount, rc),
                code='valet.request.bad_demand', server=server.id,
                resource_class=rc)


def _bounded(problem, part):
    """``Problem.cached`` for a part keyed by what requests bring
    (their flavours, their servers' group lists): emptied once it holds
    ``_BOUND`` entries, so distinct requests cannot grow it without end.
    """
    found = problem.cached(part)
    if len(found) >= _BOUND:
        found.clear()
    return found


class _Isolated(dict):
    """{group: (ids, slots)} of isolated placed members; ``whole`` names
    the groups all of whose placed members are isolated."""

    def __init__(self):
        super().__init__()
        self.whole = set()


def _inherit_exclusivity(closures, defs, topology, exclusive):
    """Affinity groups take on the exclusivity groups of their members
    (``exclusive``: the exclusivity groups the closures may name)."""
    if _names_both(closures, defs, exclusive):
        take_on_exclusivity(closures, defs, topology)


def take_on_exclusivity(closures, defs, topology):
    """Round after round until nothing changes: each affinity group's
    members take on the exclusivity groups (of its level or above) any of
    them is in."""
    changed = True
    while changed:
        changed = False
        members_of = {}
        for key, names in closures.items():
            for name in names:
                members_of.setdefault(name, []).append(key)
        for name, keys in members_of.items():
            group = defs.get(name)
            if group is None or group.kind != g.AFFINITY:
                continue
            level = topology.index(group.level)
            inherited = set()
            for key in keys:
                for other in closures[key]:
                    ex = defs.get(other)
                    if (ex is not None and ex.kind == g.EXCLUSIVITY and
                            topology.index(ex.level) >= level):
                        inherited.add(other)
            for key in keys:
                missing = inherited - closures[key]
                if missing:
                    closures[key] |= missing
                    changed = True


def _names_both(closures, defs, exclusive):
    """Whether a closure names an exclusivity group (of ``exclusive``)
    and an affinity group: an affinity group takes on only what its
    members' closures name with it, so without one nothing is taken."""
    kinds = {}
    for names in closures.values():
        if exclusive.isdisjoint(names):
            continue
        for name in names:
            kind = kinds.get(name)
            if kind is None:
                group = defs.get(name)
                kind = kinds[name] = group.kind if group is not None else ''
            if kind == g.AFFINITY:
                return True
    return False
