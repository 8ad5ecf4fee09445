"""Placement requests: what the engine is asked to decide."""

import dataclasses

CREATE = 'create'
UPDATE = 'update'
REPLAN = 'replan'
MIGRATE = 'migrate'
ADHOC = 'adhoc'
KINDS = (CREATE, UPDATE, REPLAN, MIGRATE, ADHOC)


@dataclasses.dataclass
class ServerRequest:
    """One server to place.

    ``groups`` names the groups the server is directly a member of.
    ``candidate_hosts`` (None = any) and ``excluded_hosts`` restrict where it
    may go; ``extra_specs`` are flavor extra specs matched against host
    aggregate metadata (``aggregate_instance_extra_specs:`` scope and
    unscoped keys) and ``trait:NAME=required|forbidden``.
    """

    id: str
    demand: dict
    name: str | None = None
    groups: tuple = ()
    availability_zone: str | None = None
    extra_specs: dict = dataclasses.field(default_factory=dict)
    candidate_hosts: frozenset | None = None
    excluded_hosts: frozenset = frozenset()

    def __post_init__(self):
        self.groups = tuple(self.groups)
        if self.name is None:
            self.name = self.id
        if self.candidate_hosts is not None:
            self.candidate_hosts = frozenset(self.candidate_hosts)
        self.excluded_hosts = frozenset(self.excluded_hosts)


@dataclasses.dataclass
class PlacementRequest:
    """A whole decision: the servers, the groups they use, and the kind.

    ``servers`` are the servers to place (create, adhoc), or the complete
    new definition of a stack (update), or the one server to move
    (replan, migrate: ``target``). ``groups`` defines every group the
    servers or groups name that the data-centre model does not know yet
    (or re-states one it knows; both must agree).

    For ``replan`` and ``migrate``, ``target`` is the id of a placed server
    and ``candidate_hosts``/``excluded_hosts`` restrict where it may go;
    every other placed server stays where it is.
    """

    servers: list
    groups: list = dataclasses.field(default_factory=list)
    kind: str = CREATE
    stack: str | None = None
    project: str | None = None
    target: str | None = None
    candidate_hosts: frozenset | None = None
    excluded_hosts: frozenset = frozenset()

    def __post_init__(self):
        self.servers = list(self.servers)
        self.groups = list(self.groups)
        if self.candidate_hosts is not None:
            self.candidate_hosts = frozenset(self.candidate_hosts)
        self.excluded_hosts = frozenset(self.excluded_hosts)
