"""The interface every inventory driver implements.

An inventory says what the data centre holds right now: its topology
levels, its hosts (with their ancestors, capacities and attributes), the
flavors server resources name, and the servers already running. The engine
builds its model from one snapshot and keeps it current from then on.

Hosts and placed servers are the engine model's own plain dataclasses
(``HostSpec``, ``PlacedServer``); they carry no I/O, so sharing them saves a
translation layer. Groups are ``valet.objects.Group``, as storage has them.
"""

import abc
import dataclasses


class InventoryError(Exception):
    """The inventory cannot be read or is inconsistent."""


@dataclasses.dataclass
class InventorySnapshot:
    """One consistent view of the data centre.

    ``levels`` are the topology levels, lowest (``host``) first; ``hosts``
    are ``HostSpec``; ``flavors`` maps a flavor name to
    ``{id, vcpus, ram, disk, ephemeral, swap, extra_specs}``; ``servers``
    are ``PlacedServer`` already running; ``groups`` are
    ``valet.objects.Group`` the inventory defines.

    ``unmapped`` reports hosts the inventory could not place in the
    topology: ``{level: [host names]}`` (whether they are in ``hosts``
    depends on the driver's configuration). ``server_metadata`` maps a
    server id to its metadata, where the inventory knows it.
    """

    levels: tuple
    hosts: list = dataclasses.field(default_factory=list)
    flavors: dict = dataclasses.field(default_factory=dict)
    servers: list = dataclasses.field(default_factory=list)
    groups: list = dataclasses.field(default_factory=list)
    unmapped: dict = dataclasses.field(default_factory=dict)
    server_metadata: dict = dataclasses.field(default_factory=dict)
    # True when ``servers`` is everything that runs (Placement allocations):
    # a stored placement whose server is not among them has not been built
    # or is gone. A static file lists only what it was given.
    observed: bool = False
    # {server id: [hosts]}: a server holding resources on several hosts
    # (an evacuated one keeps its source host's until that host is back)
    # whose running host the inventory cannot tell. It is listed under its
    # id on the first host and as ``extra_copy_id(id, host)`` on the others;
    # the engine models it on the host its stored placement names.
    unsure_hosts: dict = dataclasses.field(default_factory=dict)

    def find_flavor(self, ref):
        """A flavor by name, else by id; None when unknown."""
        if ref is None:
            return None
        ref = str(ref)
        if ref in self.flavors:
            return self.flavors[ref]
        for flavor in self.flavors.values():
            if str(flavor.get('id')) == ref:
                return flavor
        return None


def extra_copy_id(server_id, host):
    """The id of a server's resources on a host it does not run on."""
    return '%s@%s' % (server_id, host)


class Inventory(abc.ABC):
    """A source of data-centre snapshots."""

    def __init__(self, conf):
        self.conf = conf

    @abc.abstractmethod
    def load(self):
        """An InventorySnapshot; InventoryError when it cannot be had."""
