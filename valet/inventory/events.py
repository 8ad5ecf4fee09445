"""Changes in the cloud the engine's model must follow.

Inventory sources (the Nova notification listener, the periodic resync)
turn what they read into these plain records; the engine applies them to
its model and storage one at a time under its decision lock. They carry no
I/O and no oslo objects, so that producers and the engine stay apart.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class ServerUp:
    """A server runs on ``host`` (created, resized, migrated, evacuated).

    ``uuid`` is Nova's instance UUID. ``demand`` maps resource classes
    (``VCPU``, ``MEMORY_MB``, ``DISK_GB``, …) to amounts, from the flavor.
    ``metadata`` is the server's metadata, where a Heat-created server may
    name its Valet orchestration id (``valet_orchestration_id``) and groups
    (``valet_groups``, comma separated).
    """

    uuid: str
    host: str
    demand: dict
    event_type: str
    name: str | None = None
    project: str | None = None
    flavor: str | None = None
    metadata: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ServerGone:
    """A server was deleted (its resources are free again)."""

    uuid: str
    event_type: str
    host: str | None = None


@dataclasses.dataclass(frozen=True)
class HostStatus:
    """A compute service changed state or appeared.

    ``enabled`` is False when the service is disabled or forced down.
    ``known`` is False for a host the event source has not seen before
    (``service.create``): the engine then refreshes the host from the
    inventory, since a notification does not carry capacities.
    """

    host: str
    enabled: bool
    event_type: str
    known: bool = True


@dataclasses.dataclass(frozen=True)
class HostGone:
    """A compute service was deleted."""

    host: str
    event_type: str


@dataclasses.dataclass(frozen=True)
class InventoryChanged:
    """Something the topology comes from changed (a host aggregate gained
    or lost a host, or its metadata changed); the event does not say
    enough to follow it, so the engine resyncs soon."""

    event_type: str
    reason: str


EVENT_TYPES = (ServerUp, ServerGone, HostStatus, HostGone, InventoryChanged)
