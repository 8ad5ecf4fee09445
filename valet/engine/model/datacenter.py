"""The data-centre model: hosts, domains, capacities and placed servers.

Capacities and usage live in numpy arrays indexed by a host slot, so that
the solver can filter and rank thousands of hosts with a few vector
operations, and so that loading a large data centre costs little more
than reading it. Every change (a server placed, removed or moved; a host
added, removed, resized or disabled) is an incremental update.
"""

import dataclasses

import numpy as np

from valet.engine.model import errors
from valet.engine.model import groups as groups_mod
from valet.engine.model import resources
from valet.engine.model import topology as topology_mod

_INITIAL_SLOTS = 64
# place_all: from this many servers the usage arrays are written at once.
_BULK_FROM = 8
# Amounts numpy adds as these exact Python numbers (the float64 sums of
# ``place``; ints up to 2**53 are floats exactly); anything else takes
# ``place``'s own write.
_BULK_AMOUNTS = frozenset((int, float))
_EXACT = 2 ** 53


@dataclasses.dataclass
class PlacedServer:
    """A server that runs (or is planned) on a host."""

    id: str
    host: str
    demand: dict
    groups: tuple = ()
    project: str | None = None
    stack: str | None = None
    name: str | None = None

    def __post_init__(self):
        self.groups = tuple(self.groups)


class DataCenter:
    """Everything the engine knows about the cloud it places into."""

    def __init__(self, topology=None,
                 resource_classes=resources.STANDARD):
        self.topology = topology or topology_mod.Topology()
        self.resource_classes = list(resource_classes)
        self._rc_index = {rc: i for i, rc in enumerate(self.resource_classes)}
        self.hosts = {}              # name -> HostSpec
        self._slot = {}              # name -> slot
        self._names = []             # slot -> name (None when free)
        self._free_slots = []
        slots, nrc, nlev = _INITIAL_SLOTS, len(self.resource_classes), len(
            self.topology)
        self._capacity = np.zeros((slots, nrc))
        self._used = np.zeros((slots, nrc))
        self._present = np.zeros(slots, dtype=bool)
        self._enabled = np.zeros(slots, dtype=bool)
        self._count = np.zeros(slots, dtype=np.int64)
        self._attr = np.zeros(slots, dtype=np.int64)
        self._domain = np.full((nlev, slots), -1, dtype=np.int64)
        self._domain_ids = [dict() for _ in range(nlev)]
        self._domain_names = [[] for _ in range(nlev)]
        self._attr_ids = {}          # attribute key -> id
        self._attr_hosts = []        # id -> a HostSpec with those attributes
        self.servers = {}            # id -> PlacedServer
        self._host_servers = {}      # slot -> set of server ids
        self.groups = {}             # name -> Group
        # Only direct memberships are stored; nesting is resolved on read,
        # so that (re)defining a group's parents never leaves stale state.
        self._direct = {}            # group name -> ids listing it
        self._children = {}          # group name -> groups nested in it
        self.generation = 0          # bumped on every change

    # ----------------------------------------------------------------- build
    @classmethod
    def build(cls, hosts, servers=(), groups=(), topology=None,
              resource_classes=None):
        """A model from host specs, group definitions and placed servers."""
        hosts = list(hosts)
        if resource_classes is None:
            seen = list(resources.STANDARD)
            for spec in hosts:
                for rc in spec.capacity:
                    if rc not in seen:
                        seen.append(rc)
            resource_classes = seen
        dc = cls(topology, resource_classes)
        dc._reserve(len(hosts))
        for spec in hosts:
            dc.add_host(spec)
        for group in groups:
            dc.define_group(group)
        for server in servers:
            dc.place(server)
        return dc

    def _reserve(self, wanted):
        size = len(self._present)
        if wanted <= size:
            return
        new = max(wanted, size * 2)
        grow = new - size

        def pad(arr, fill, axis=0):
            shape = list(arr.shape)
            shape[axis] = grow
            return np.concatenate(
                [arr, np.full(shape, fill, dtype=arr.dtype)], axis=axis)

        self._capacity = pad(self._capacity, 0.0)
        self._used = pad(self._used, 0.0)
        self._present = pad(self._present, False)
        self._enabled = pad(self._enabled, False)
        self._count = pad(self._count, 0)
        self._attr = pad(self._attr, 0)
        self._domain = pad(self._domain, -1, axis=1)

    def _add_resource_class(self, rc):
        self._rc_index[rc] = len(self.resource_classes)
        self.resource_classes.append(rc)
        column = np.zeros((len(self._present), 1))
        self._capacity = np.concatenate([self._capacity, column], axis=1)
        self._used = np.concatenate([self._used, column.copy()], axis=1)
        for slot, name in enumerate(self._names):
            if name is not None and rc in self.hosts[name].capacity:
                self._capacity[slot, -1] = self.hosts[name].usable(rc)

    def _domain_id(self, level_index, name):
        ids = self._domain_ids[level_index]
        did = ids.get(name)
        if did is None:
            did = ids[name] = len(self._domain_names[level_index])
            self._domain_names[level_index].append(name)
        return did

    def _attr_id(self, spec):
        key = spec.attribute_key()
        aid = self._attr_ids.get(key)
        if aid is None:
            aid = self._attr_ids[key] = len(self._attr_hosts)
            self._attr_hosts.append(spec)
        return aid

    # ----------------------------------------------------------------- hosts
    def add_host(self, spec):
        if spec.name in self.hosts:
            raise errors.ModelError('host %s already exists' % spec.name,
                                    code='valet.model.host_exists',
                                    host=spec.name)
        missing = [lvl for lvl in self.topology.upper_levels
                   if not spec.domains.get(lvl)]
        if missing:
            raise errors.ModelError(
                'host %s names no domain at level(s) %s' % (
                    spec.name, ', '.join(missing)),
                code='valet.model.host_domains', host=spec.name,
                levels=missing)
        if self._free_slots:
            slot = self._free_slots.pop()
            self._names[slot] = spec.name
        else:
            slot = len(self._names)
            self._reserve(slot + 1)
            self._names.append(spec.name)
        self.hosts[spec.name] = spec
        self._slot[spec.name] = slot
        self._host_servers[slot] = set()
        self._count[slot] = 0
        self._used[slot] = 0.0
        self._present[slot] = True
        self._write_host(slot, spec)
        self.generation += 1
        return slot

    def _write_host(self, slot, spec):
        for rc in spec.capacity:
            if rc not in self._rc_index:
                self._add_resource_class(rc)
        self._capacity[slot] = [spec.usable(rc)
                                for rc in self.resource_classes]
        self._enabled[slot] = bool(spec.enabled)
        self._attr[slot] = self._attr_id(spec)
        self._domain[0, slot] = slot
        for li, level in enumerate(self.topology.upper_levels, start=1):
            self._domain[li, slot] = self._domain_id(li, spec.domains[level])

    def update_host(self, spec):
        """Resize, enable/disable or re-home a host; its servers stay."""
        slot = self._host_slot(spec.name)
        missing = [lvl for lvl in self.topology.upper_levels
                   if not spec.domains.get(lvl)]
        if missing:
            raise errors.ModelError(
                'host %s names no domain at level(s) %s' % (
                    spec.name, ', '.join(missing)),
                code='valet.model.host_domains', host=spec.name,
                levels=missing)
        self.hosts[spec.name] = spec
        self._write_host(slot, spec)
        self.generation += 1

    def remove_host(self, name, force=False):
        """Forget a host. With servers on it, refuse unless ``force``.

        With ``force`` its servers are forgotten too and returned.
        """
        slot = self._host_slot(name)
        ids = sorted(self._host_servers[slot])
        if ids and not force:
            raise errors.ModelError(
                'host %s still runs %d server(s)' % (name, len(ids)),
                code='valet.model.host_busy', host=name, servers=ids)
        removed = [self.remove_server(sid) for sid in ids]
        del self.hosts[name]
        del self._slot[name]
        del self._host_servers[slot]
        self._names[slot] = None
        self._free_slots.append(slot)
        self._present[slot] = False
        self._enabled[slot] = False
        self._capacity[slot] = 0.0
        self._used[slot] = 0.0
        self._domain[:, slot] = -1
        self.generation += 1
        return removed

    def _host_slot(self, name):
        try:
            return self._slot[name]
        except KeyError:
            raise errors.ModelError('unknown host %s' % name,
                                    code='valet.model.unknown_host',
                                    host=name)

    # ---------------------------------------------------------------- groups
    def define_group(self, group, replace=False):
        """Define (or re-state) a group; its members count at once.

        Servers may name a group before it is defined: their memberships
        are kept and count from the moment it is. ``replace`` lets a new
        definition change the kind or level of a known one (the group's
        owner changed it; servers that now break it are reported, not
        moved).
        """
        known = self.groups.get(group.name)
        if not replace and known is not None and (known.kind, known.level) != (
                group.kind, group.level):
            raise errors.ModelError(
                'group %s is already defined as %s at level %s' % (
                    group.name, known.kind, known.level),
                code='valet.model.group_conflict', group=group.name)
        if group.kind not in groups_mod.KINDS:
            raise errors.ModelError('unknown group kind %r' % group.kind,
                                    code='valet.model.group_kind')
        self.topology.index(group.level)
        if known is not None:
            for parent in known.parents:
                self._children.get(parent, set()).discard(group.name)
        for parent in group.parents:
            self._children.setdefault(parent, set()).add(group.name)
        self.groups[group.name] = group
        self.generation += 1

    def forget_group(self, name):
        if self.group_servers(name):
            raise errors.ModelError(
                'group %s still has placed members' % name,
                code='valet.model.group_busy', group=name)
        group = self.groups.pop(name, None)
        if group is not None:
            for parent in group.parents:
                self._children.get(parent, set()).discard(name)
        self._direct.pop(name, None)
        self.generation += 1

    def pending_groups(self):
        """``{group name: server count}`` of groups servers name that are
        not defined (yet)."""
        return {name: len(ids) for name, ids in sorted(self._direct.items())
                if ids and name not in self.groups}

    def group_closure(self, names):
        """The named groups and every group they are nested in."""
        return groups_mod.closure(names, self.groups)

    def group_servers(self, name):
        """Ids of the placed servers that belong to a group (transitively)."""
        members = set()
        seen = set()
        stack = [name]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            members |= self._direct.get(current, set())
            stack.extend(self._children.get(current, ()))
        return members

    # --------------------------------------------------------------- servers
    def place(self, server):
        """Record a server on its host."""
        if server.id in self.servers:
            raise errors.ModelError('server %s is already placed' % server.id,
                                    code='valet.model.server_exists',
                                    server=server.id)
        slot = self._host_slot(server.host)
        for rc in server.demand:
            if rc not in self._rc_index:
                self._add_resource_class(rc)
        used = self._used[slot]
        for rc, amount in server.demand.items():
            used[self._rc_index[rc]] += amount
        self._count[slot] += 1
        self._host_servers[slot].add(server.id)
        self.servers[server.id] = server
        for name in server.groups:
            self._direct.setdefault(name, set()).add(server.id)
        self.generation += 1

    def place_all(self, servers):
        """``place`` each server in turn, the usage arrays written once.

        The model ends exactly as after a ``place`` per server, an error
        included (the servers before it stay recorded): a plan's servers
        cost a few array writes each otherwise. Each usage cell still
        gets its amounts added one by one in order (``np.add.at``
        is unbuffered), so the sums are the same to the bit.
        """
        if len(servers) < _BULK_FROM:
            # The bulk write's fixed cost is more than a few places'.
            for server in servers:
                self.place(server)
            return
        index, placed_ids = self._rc_index, self.servers
        host_servers, direct = self._host_servers, self._direct
        slot_of = self._slot
        slots, cells, amounts = [], ([], []), []
        add_row, add_col, add_amount = (cells[0].append, cells[1].append,
                                        amounts.append)
        try:
            for server in servers:
                sid = server.id
                if sid in placed_ids:
                    raise errors.ModelError(
                        'server %s is already placed' % sid,
                        code='valet.model.server_exists', server=sid)
                slot = slot_of.get(server.host)
                if slot is None:
                    slot = self._host_slot(server.host)     # raises
                mark = len(amounts)
                for rc, amount in server.demand.items():
                    col = index.get(rc)
                    if col is None or type(amount) not in _BULK_AMOUNTS \
                            or not -_EXACT <= amount <= _EXACT:
                        break
                    add_row(slot)
                    add_col(col)
                    add_amount(amount)
                else:
                    slots.append(slot)
                    host_servers[slot].add(sid)
                    placed_ids[sid] = server
                    for name in server.groups:
                        # No new set per server when the group has one.
                        members = direct.get(name)
                        if members is None:
                            members = direct[name] = set()
                        members.add(sid)
                    continue
                # Rare (a new resource class, an amount numpy might cast
                # otherwise): this server's amounts are dropped and it is
                # placed as ``place`` does it, after what is pending.
                del cells[0][mark:], cells[1][mark:], amounts[mark:]
                self._write_usage(slots, cells, amounts)
                self.place(server)
        finally:
            self._write_usage(slots, cells, amounts)

    def _write_usage(self, slots, cells, amounts):
        # What ``place_all`` has pending: usage amounts, a server count
        # and a generation per server.
        if amounts:
            np.add.at(self._used, (np.array(cells[0], dtype=np.intp),
                                   np.array(cells[1], dtype=np.intp)),
                      np.array(amounts, dtype=self._used.dtype))
            del cells[0][:], cells[1][:], amounts[:]
        if slots:
            np.add.at(self._count, np.array(slots, dtype=np.intp), 1)
            self.generation += len(slots)
            del slots[:]

    def remove_server(self, server_id):
        """Forget a server; returns it."""
        try:
            server = self.servers.pop(server_id)
        except KeyError:
            raise errors.ModelError('unknown server %s' % server_id,
                                    code='valet.model.unknown_server',
                                    server=server_id)
        slot = self._slot[server.host]
        used = self._used[slot]
        for rc, amount in server.demand.items():
            used[self._rc_index[rc]] -= amount
        self._count[slot] -= 1
        self._host_servers[slot].discard(server_id)
        for name in server.groups:
            members = self._direct.get(name)
            if members is not None:
                members.discard(server_id)
        self.generation += 1
        return server

    def move_server(self, server_id, host):
        """Move a placed server to another host."""
        self._host_slot(host)
        server = self.remove_server(server_id)
        self.place(dataclasses.replace(server, host=host))

    def servers_on(self, host):
        return sorted(self._host_servers[self._host_slot(host)])

    # ---------------------------------------------------------------- views
    @property
    def slots(self):
        """Number of host slots in the arrays (some may be free)."""
        return len(self._names)

    def host_name(self, slot):
        return self._names[slot]

    def slot_of(self, name):
        return self._host_slot(name)

    def slots_of(self, names):
        """Slots of the named hosts the model knows (others are skipped)."""
        return [self._slot[n] for n in names if n in self._slot]

    def domain_of(self, host, level):
        li = self.topology.index(level)
        did = self._domain[li, self._host_slot(host)]
        return self._domain_names[li][did] if li else host

    def domain_name(self, level_index, domain_id):
        if level_index == 0:
            return self._names[domain_id]
        return self._domain_names[level_index][domain_id]

    def domain_count(self, level_index):
        if level_index == 0:
            return self.slots
        return len(self._domain_names[level_index])

    def free(self, host):
        """Free usable capacity of one host, per resource class."""
        slot = self._host_slot(host)
        return {rc: float(self._capacity[slot, i] - self._used[slot, i])
                for i, rc in enumerate(self.resource_classes)}

    def capacity(self, host):
        slot = self._host_slot(host)
        return {rc: float(self._capacity[slot, i])
                for i, rc in enumerate(self.resource_classes)}

    def arrays(self):
        """Read-only views for the solver (sliced to the used slots).

        The same views until the model changes (every decision asks):
        kept with the generation, the slot count and the arrays they view
        (growing replaces those)."""
        n = self.slots
        key = (self.generation, n, id(self._capacity), id(self._used),
               id(self._domain))
        found = self.__dict__.get('_arrays_seen')
        if found is not None and found[0] == key:
            return found[1]
        arrays = ModelArrays(
            capacity=self._capacity[:n], used=self._used[:n],
            present=self._present[:n], enabled=self._enabled[:n],
            count=self._count[:n], attr=self._attr[:n],
            domain=self._domain[:, :n])
        self._arrays_seen = (key, arrays)
        return arrays

    def attribute_hosts(self):
        """One HostSpec per attribute class (index = class id)."""
        return list(self._attr_hosts)

    def demand_vector(self, demand):
        """A demand dict as a vector over the model's resource classes.

        Resource classes the model has never seen come back in the second
        value: no host offers them.
        """
        vec = np.zeros(len(self.resource_classes))
        unknown = {}
        for rc, amount in demand.items():
            i = self._rc_index.get(rc)
            if i is None:
                if amount > 0:
                    unknown[rc] = amount
            else:
                vec[i] = amount
        return vec, unknown


@dataclasses.dataclass(frozen=True)
class ModelArrays:
    capacity: np.ndarray
    used: np.ndarray
    present: np.ndarray
    enabled: np.ndarray
    count: np.ndarray
    attr: np.ndarray
    domain: np.ndarray
