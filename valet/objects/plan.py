"""Plans (one per stack) and placements (one per server)."""

import dataclasses

from valet.objects import ids

_new_id = ids.new_id


@dataclasses.dataclass
class Placement:
    """Where one server of a plan goes.

    ``orchestration_id`` is Heat's resource uuid (or the Nova instance uuid
    for an ad-hoc boot); ``resource_id`` is the Nova instance uuid once Nova
    builds it. ``spec`` is what the engine needs to rebuild its model
    (demand, groups, availability zone, extra specs); ``metadata`` holds the
    scheduler hints Heat sends.
    """

    name: str
    orchestration_id: str
    plan_id: str
    location: str | None = None
    resource_id: str | None = None
    reserved: bool = False
    metadata: dict = dataclasses.field(default_factory=dict)
    spec: dict = dataclasses.field(default_factory=dict)
    project_id: str | None = None
    id: str = dataclasses.field(default_factory=_new_id)
    generation: int = 0

    def release(self):
        """Hold no host any more (its server never came, or is gone); the
        record stays in its plan, and Nova's filter re-plans it if asked."""
        self.location = None
        self.reserved = False

    def to_dict(self):
        """The v1 representation."""
        return {'id': self.id, 'name': self.name,
                'orchestration_id': self.orchestration_id,
                'resource_id': self.resource_id, 'location': self.location,
                'reserved': self.reserved, 'metadata': dict(self.metadata),
                'plan_id': self.plan_id}


@dataclasses.dataclass
class Plan:
    """The placement plan of one stack."""

    name: str
    stack_id: str
    project_id: str | None = None
    id: str = dataclasses.field(default_factory=_new_id)
    generation: int = 0

    def to_dict(self, placements):
        """The v1 representation, with its placements."""
        return {'id': self.id, 'name': self.name, 'stack_id': self.stack_id,
                'placements': {
                    p.orchestration_id: {'name': p.name,
                                         'location': p.location}
                    for p in placements}}
