"""Build the engine's model from what the cloud reports and what Valet stored.

One function, ``build``, serves the engine's start, a standby taking
over, and every periodic resync: the model is rebuilt from an inventory
snapshot plus the stored placements, and the differences between the
two sources come back as *repairs* for storage. ``drift`` compares the
model before and after, so a resync can log each change once.

Rules, when the inventory observes running servers (Placement
allocations):

- a placement whose server runs (its Nova UUID, or its orchestration id
  for an ad-hoc boot, is a consumer) is modelled where the server really
  is; if that is not the stored host, storage is repaired;
- a placement still waiting for its server keeps its host reserved until
  ``planned_timeout`` has passed since the engine first saw it waiting,
  then it is released (host cleared): Nova never built it;
- a placement whose server was built but is no longer running is released
  after ``missing_timeout`` (its server was deleted behind Valet's back);
- a server the inventory sees holding resources on several hosts without
  knowing which one it runs on (an evacuated server whose source host is
  down, when Nova's servers are not read) is modelled on its placement's
  host if that is one of them: the evacuation's replan chose it;
- a running server no placement knows is imported as it is, with the
  groups the inventory names for it, and checked against them; a group
  nobody created yet is kept as a pending membership, which counts the
  moment the group is created.

A static inventory observes nothing: stored placements are modelled where
they were planned, and its own servers are added as they are listed.
"""

import dataclasses

from oslo_log import log as logging

from valet.engine.model import datacenter
from valet.engine.model import errors as model_errors
from valet.engine.model import groups as groups_mod
from valet.engine.model import topology as topology_mod
from valet.engine import translate
from valet.inventory import base as inventory_base
from valet.objects import membership

LOG = logging.getLogger(__name__)

MOVED = 'moved'
RELEASED = 'released'


@dataclasses.dataclass
class Repair:
    """One change storage needs so that it agrees with the cloud."""

    placement: object          # valet.objects.Placement, as stored
    action: str                # MOVED or RELEASED
    location: str | None
    reason: str
    resource_id: str | None = None     # binds the Nova UUID when set

    def describe(self):
        p = self.placement
        if self.action == MOVED:
            return ('placement %s (%s, plan %s) moved from %s to %s: %s' % (
                p.id, p.name, p.plan_id, p.location, self.location,
                self.reason))
        return ('placement %s (%s, plan %s) released from %s: %s' % (
            p.id, p.name, p.plan_id, p.location, self.reason))

    def applied(self):
        """The placement as it must be stored after the repair."""
        p = dataclasses.replace(self.placement, location=self.location)
        if self.resource_id:
            p.resource_id = self.resource_id
        if self.action == RELEASED:
            p.release()
        return p


@dataclasses.dataclass
class Rebuilt:
    dc: object
    bindings: dict             # Nova UUID -> orchestration id
    repairs: list
    imported: int
    restored: int


@dataclasses.dataclass
class Timeouts:
    planned: float = 3600.0
    missing: float = 300.0


def group_definitions(snapshot, stored_groups, placements):
    """Every group the model needs, storage first."""
    defs = {}
    for p in placements:
        for group in translate.groups_from_spec(p.spec):
            defs.setdefault(group.name, group)
    for group in list(snapshot.groups) + list(stored_groups):
        defs[group.name] = groups_mod.Group(
            name=group.name, kind=group.type, level=group.level,
            parents=tuple(group.parents), parameters=group.parameters)
    return defs


def _place(dc, server, what):
    try:
        dc.place(server)
        return True
    except model_errors.ModelError as exc:
        LOG.warning('Cannot model %s: %s', what, exc.message)
        return False


def server_of(dc, p, host, demand=None):
    """The model's server for placement ``p`` on ``host``; ``demand`` (what
    the cloud reports) wins over the planned one. Groups the model does not
    define (yet) are kept: they count once the group is created."""
    return datacenter.PlacedServer(
        id=p.orchestration_id, host=host,
        demand=dict(demand or p.spec.get('demand') or {}),
        groups=tuple(p.spec.get('groups') or ()),
        project=p.project_id, stack=p.plan_id, name=p.name)


def build(snapshot, placements, stored_groups, waiting_since, now,
          timeouts=None):
    """A new model, the Nova bindings and the storage repairs it implies.

    ``waiting_since`` maps placement ids to the (monotonic) time the
    engine first saw them waiting for, or missing, their server; it is
    updated in place so that timeouts run across resyncs.
    """
    timeouts = timeouts or Timeouts()
    topology = topology_mod.Topology(snapshot.levels)
    dc = datacenter.DataCenter.build(snapshot.hosts, topology=topology)
    defs = group_definitions(snapshot, stored_groups, placements)
    for name in sorted(defs):
        try:
            dc.define_group(defs[name])
        except model_errors.EngineError as exc:
            LOG.warning('Group %s left out of the model: %s', name,
                        exc.message)
    observed = snapshot.observed
    running = {s.id: s for s in snapshot.servers}
    if observed:
        _prefer_stored_hosts(running, placements,
                             getattr(snapshot, 'unsure_hosts', None) or {})
    claims = _metadata_claims(snapshot, placements, running) \
        if observed else {}
    bindings, repairs = {}, []
    restored = 0
    still_waiting = set()
    for p in placements:
        if p.resource_id:
            bindings[p.resource_id] = p.orchestration_id
        if not observed:
            if p.location and p.location in dc.hosts:
                restored += _place(dc, server_of(dc, p, p.location, None),
                                   'placement %s' % p.id)
            elif p.location:
                LOG.warning('Placement %s (%s) is on host %s, which the '
                            'inventory does not have; left out of the '
                            'model', p.id, p.orchestration_id, p.location)
            continue
        uuid = p.resource_id or p.orchestration_id
        seen = running.pop(uuid, None)
        bind = None
        if seen is None and not p.resource_id and p.id in claims:
            uuid = bind = claims[p.id]
            seen = running.pop(uuid)
        if seen is not None:
            bindings[uuid] = p.orchestration_id
            if seen.host != p.location or bind:
                repairs.append(Repair(p, MOVED, seen.host,
                                      'its server %s runs there' % uuid,
                                      resource_id=bind))
            restored += _place(dc, server_of(dc, p, seen.host, seen.demand),
                               'placement %s' % p.id)
            continue
        if not p.location:
            continue                    # released earlier: holds nothing
        if p.location not in dc.hosts:
            repairs.append(Repair(p, RELEASED, None,
                                  'host %s is no longer in the inventory'
                                  % p.location))
            continue
        limit = timeouts.missing if p.resource_id else timeouts.planned
        since = waiting_since.setdefault(p.id, now)
        still_waiting.add(p.id)
        if now - since >= limit:
            reason = ('its server %s is no longer running' % p.resource_id
                      if p.resource_id else
                      'Nova did not build it within %d s' % limit)
            repairs.append(Repair(p, RELEASED, None, reason))
            continue
        restored += _place(dc, server_of(dc, p, p.location, None),
                           'placement %s' % p.id)
    for pid in list(waiting_since):
        if pid not in still_waiting:
            del waiting_since[pid]
    imported = 0
    metadata = snapshot.server_metadata or {}
    names_by_id = {g.id: g.name for g in stored_groups}
    pending = {}
    # Without observation nothing was popped: these are all listed servers.
    for server in running.values():
        if not server.groups and metadata.get(server.id):
            server = dataclasses.replace(server, groups=groups_in_metadata(
                metadata[server.id], server.id))
        groups = tuple(dict.fromkeys(names_by_id.get(g, g)
                                     for g in server.groups))
        if groups != tuple(server.groups):
            server = dataclasses.replace(server, groups=groups)
        for name in groups:
            if name not in dc.groups:
                pending.setdefault(name, []).append(server.name or server.id)
        if server.host not in dc.hosts:
            LOG.warning('Server %s runs on host %s, which the model does '
                        'not have', server.id, server.host)
            continue
        imported += _place(dc, server, 'server %s' % server.id)
    for name, servers in sorted(pending.items()):
        # Kept: the group may be created later, and they count from then.
        LOG.info('Group %s is not defined yet; %d running server(s) name '
                 'it (%s) and count as its members once it is created',
                 name, len(servers), ', '.join(sorted(servers)[:5]))
    return Rebuilt(dc=dc, bindings=bindings, repairs=repairs,
                   imported=imported, restored=restored)


def _prefer_stored_hosts(running, placements, unsure):
    """Model a server the inventory cannot pin to one of its hosts on
    the host its placement names, when that is one of them.

    An evacuated server holds resources on its source host until that
    host's nova-compute comes back; without Nova's word on where it runs,
    the placement (which the evacuation's replan moved) says it best.
    ``running`` is changed in place: the server's id moves to the entry on
    the placement's host, and its other entry becomes the extra copy.
    """
    for p in placements:
        uuid = p.resource_id or p.orchestration_id
        if p.location not in (unsure.get(uuid) or ()):
            continue
        guessed = running.get(uuid)
        copy_id = inventory_base.extra_copy_id(uuid, p.location)
        actual = running.get(copy_id)
        if guessed is None or actual is None or guessed.host == p.location:
            continue
        del running[copy_id]
        running[uuid] = dataclasses.replace(actual, id=uuid)
        other_id = inventory_base.extra_copy_id(uuid, guessed.host)
        running[other_id] = dataclasses.replace(guessed, id=other_id)


def _metadata_claims(snapshot, placements, running):
    """{placement id: Nova UUID} for running servers whose metadata names
    an unbound placement of their own project (Heat sets the key)."""
    bound = {p.resource_id for p in placements if p.resource_id}
    unbound = {p.orchestration_id: p for p in placements
               if not p.resource_id}
    claims = {}
    for sid, metadata in (snapshot.server_metadata or {}).items():
        server = running.get(sid)
        named = (metadata or {}).get('valet_orchestration_id')
        if server is None or sid in bound or named not in unbound:
            continue
        p = unbound[named]
        if p.project_id is None or p.project_id == server.project:
            claims.setdefault(p.id, sid)
    return claims


def groups_in_metadata(metadata, server=None):
    """The group names or ids a running server's metadata names
    (``valet_groups``, or ``valet`` as the original wrote it); metadata in
    a shape Valet does not read is logged and names no group."""
    try:
        return membership.from_metadata(metadata or {})
    except membership.MembershipError as exc:
        LOG.warning('Server %s: group metadata ignored: %s', server or '?',
                    exc.message)
        return ()


def _host_changes(old, new):
    changes = []
    fields = ('capacity', 'reserved', 'allocation_ratios', 'standby_percent',
              'domains',
              'availability_zone', 'aggregates', 'traits', 'enabled')
    for field in fields:
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            if field == 'enabled':
                changes.append('enabled' if after else 'disabled')
            else:
                changes.append('%s %s -> %s' % (field, _short(before),
                                                _short(after)))
    return changes


def _short(value):
    if isinstance(value, (set, frozenset)):
        value = sorted(value)
    if isinstance(value, dict):
        value = dict(sorted(value.items()))
    return str(value)


def drift(old, new, skip=()):
    """Human-readable differences between two models (old may be None).

    Servers in ``skip`` are left out (their repair is logged already).
    """
    if old is None:
        return []
    found = []
    for name in sorted(set(new.hosts) - set(old.hosts)):
        found.append('host %s added' % name)
    for name in sorted(set(old.hosts) - set(new.hosts)):
        found.append('host %s removed' % name)
    for name in sorted(set(old.hosts) & set(new.hosts)):
        changes = _host_changes(old.hosts[name], new.hosts[name])
        if changes:
            found.append('host %s: %s' % (name, '; '.join(changes)))
    skip = set(skip)
    for sid in sorted(set(new.servers) - set(old.servers) - skip):
        s = new.servers[sid]
        found.append('server %s found on %s' % (sid, s.host))
    for sid in sorted(set(old.servers) - set(new.servers) - skip):
        s = old.servers[sid]
        found.append('server %s gone from %s' % (sid, s.host))
    for sid in sorted((set(old.servers) & set(new.servers)) - skip):
        before, after = old.servers[sid], new.servers[sid]
        if before.host != after.host:
            found.append('server %s moved from %s to %s' % (
                sid, before.host, after.host))
        elif dict(before.demand) != dict(after.demand):
            found.append('server %s resized: %s -> %s' % (
                sid, _short(before.demand), _short(after.demand)))
    return found
