"""Apply one cloud event (``valet.inventory.events``) to model and storage.

The engine calls ``apply`` under its decision lock. Storage is written
first and the model changed only once storage has the change, so that an
outage between the two leaves nothing half-done: the event is retried,
and applying it again is harmless (every step sets a state, none adds to
one).

A server is known to the model by its orchestration id when Valet planned
it, else by its Nova UUID. ``bindings`` maps Nova UUIDs to orchestration
ids; a server Heat created may also name its orchestration id in its
metadata (``valet_orchestration_id``), which binds it on first sight.
"""

import dataclasses

from oslo_log import log as logging

from valet.engine.model import datacenter
from valet.engine import reconcile
from valet.inventory import events
from valet.objects import membership
from valet.storage import base as storage_base

LOG = logging.getLogger(__name__)

ORCHESTRATION_KEY = 'valet_orchestration_id'
# Server metadata a user (or Heat) sets to name the server's Valet groups.
GROUPS_KEY = membership.LIST_KEY


@dataclasses.dataclass
class Outcome:
    """What applying an event did; ``resync`` asks for a full resync."""

    changed: bool = False
    resync: bool = False
    message: str | None = None


def _names_groups(metadata):
    metadata = metadata or {}
    return membership.LIST_KEY in metadata or \
        membership.METADATA_KEY in metadata


class Follower:
    """Keeps one model and its storage in line with cloud events."""

    def __init__(self, storage):
        self.storage = storage

    def apply(self, dc, bindings, event):
        if isinstance(event, events.ServerUp):
            return self._server_up(dc, bindings, event)
        if isinstance(event, events.ServerGone):
            return self._server_gone(dc, bindings, event)
        if isinstance(event, events.HostStatus):
            return self._host_status(dc, event)
        if isinstance(event, events.HostGone):
            return self._host_gone(dc, bindings, event)
        if isinstance(event, events.InventoryChanged):
            return Outcome(resync=True, message=event.reason)
        LOG.warning('Ignoring unknown event %r', type(event).__name__)
        return Outcome()

    # -------------------------------------------------------------- servers
    def _model_id(self, dc, bindings, event):
        """(model id, whether a stored placement may own the server)."""
        bound = bindings.get(event.uuid)
        if bound is not None:
            return bound, True
        named = (event.metadata or {}).get(ORCHESTRATION_KEY) \
            if isinstance(event, events.ServerUp) else None
        claimed = dc.servers.get(named) if named else None
        # Metadata is the user's to write: it binds only within a project.
        if claimed is not None and claimed.stack and (
                claimed.project is None or claimed.project == event.project):
            return str(named), True
        current = dc.servers.get(event.uuid)
        return event.uuid, bool(current is not None and current.stack)

    def _stored(self, model_id):
        try:
            return self.storage.get_placement(model_id)
        except storage_base.NotFound:
            return None

    def _release(self, model_id, reason):
        placement = self._stored(model_id)
        if placement is None or not placement.location:
            return
        before = placement.location
        placement.release()
        self.storage.update_placement(placement)
        LOG.info('Placement %s (%s) released from %s: %s', placement.id,
                 placement.name, before, reason)

    def _server_up(self, dc, bindings, event):
        host = event.host
        if host not in dc.hosts:
            return Outcome(resync=True, message=(
                'server %s is on host %s, which the model does not have'
                % (event.uuid, host)))
        mid, owned = self._model_id(dc, bindings, event)
        current = dc.servers.get(mid)
        # Storage is written before the model, so a bound server the model
        # already has on this host is stored there too: no read needed.
        settled = (current is not None and current.host == host
                   and bindings.get(event.uuid) == mid)
        # Storage first for a Valet placement (even one released earlier).
        placement = self._stored(mid) if owned and not settled else None
        if placement is not None:
            update = (placement.location != host
                      or placement.resource_id != event.uuid)
            if update:
                before = placement.location
                placement.location = host
                placement.resource_id = event.uuid
                self.storage.update_placement(placement)
                if before != host:
                    LOG.info('Placement %s (%s) now on %s (was %s): %s',
                             placement.id, placement.name, host, before,
                             event.event_type)
            bindings[event.uuid] = placement.orchestration_id
            mid = placement.orchestration_id
            # A resync may have imported the server by its UUID before it
            # was bound: it must not count twice.
            stale = dc.servers.get(event.uuid)
            if mid != event.uuid and stale is not None and not stale.stack:
                dc.remove_server(event.uuid)
        demand = dict(event.demand) if event.demand else (
            dict(current.demand) if current else {})
        if current is not None:
            groups = current.groups
            if not current.stack and _names_groups(event.metadata):
                # A server Valet did not plan: its metadata is the truth.
                groups = reconcile.groups_in_metadata(event.metadata,
                                                      event.uuid)
            if (current.host == host and dict(current.demand) == demand
                    and tuple(current.groups) == tuple(groups)):
                return Outcome()
            dc.remove_server(mid)
            dc.place(dataclasses.replace(current, host=host, demand=demand,
                                         groups=groups))
            return Outcome(changed=True)
        if placement is not None:
            server = reconcile.server_of(dc, placement, host, demand)
        else:
            server = datacenter.PlacedServer(
                id=event.uuid, host=host, demand=demand,
                # Groups not defined yet are kept: they count once they
                # are created.
                groups=reconcile.groups_in_metadata(event.metadata,
                                                    event.uuid),
                project=event.project, name=event.name)
        dc.place(server)
        return Outcome(changed=True)

    def _server_gone(self, dc, bindings, event):
        mid, _owned = self._model_id(dc, bindings, event)
        current = dc.servers.get(mid)
        if current is None:
            return Outcome()
        if current.stack:
            self._release(mid, 'its server %s was deleted' % event.uuid)
        dc.remove_server(mid)
        return Outcome(changed=True)

    # ---------------------------------------------------------------- hosts
    def _host_status(self, dc, event):
        spec = dc.hosts.get(event.host)
        if spec is None:
            # A new compute service: its capacity comes from the inventory.
            return Outcome(resync=True, message='new host %s' % event.host)
        if spec.enabled == event.enabled:
            return Outcome()
        dc.update_host(dataclasses.replace(spec, enabled=event.enabled))
        LOG.info('Host %s %s (%s)', event.host,
                 'enabled' if event.enabled else 'disabled',
                 event.event_type)
        return Outcome(changed=True)

    def _host_gone(self, dc, bindings, event):
        if event.host not in dc.hosts:
            return Outcome()
        for sid in dc.servers_on(event.host):
            if dc.servers[sid].stack:
                self._release(sid, 'host %s was removed' % event.host)
        dc.remove_host(event.host, force=True)
        LOG.info('Host %s removed (%s)', event.host, event.event_type)
        return Outcome(changed=True)
