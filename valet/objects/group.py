"""A QoS group as the API and storage see it."""

import dataclasses
import uuid

from valet.objects import group_kinds


@dataclasses.dataclass
class Group:
    """A named affinity, diversity or exclusivity group.

    ``members`` are project (tenant) ids allowed to use the group; an empty
    list means every project may. ``parents`` names the groups this group is
    nested in. ``generation`` grows with every stored change and guards
    updates against lost writes.
    """

    name: str
    type: str
    level: str = group_kinds.DEFAULT_LEVEL
    description: str = ''
    members: list = dataclasses.field(default_factory=list)
    parents: list = dataclasses.field(default_factory=list)
    id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    generation: int = 0
    # at-most groups (microversion 1.5): members allowed per domain.
    max_per_domain: int | None = None
    # spread groups (microversion 1.6): how far ahead of the emptiest
    # domain any domain may be.
    max_skew: int | None = None

    def portable(self):
        """Every field, as RPC carries a group between API and engine."""
        return dataclasses.asdict(self)

    @classmethod
    def from_portable(cls, data):
        """The inverse of ``portable`` (unknown keys are left out)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})

    def definition(self):
        """What the engine needs to define the group (sent with a plan)."""
        out = {'name': self.name, 'type': self.type, 'level': self.level,
               'parents': list(self.parents)}
        if self.max_per_domain is not None:
            out['max_per_domain'] = self.max_per_domain
        if self.max_skew is not None:
            out['max_skew'] = self.max_skew
        return out

    def to_dict(self):
        """The v1 representation."""
        return {'id': self.id, 'name': self.name,
                'description': self.description, 'type': self.type,
                'level': self.level, 'members': list(self.members)}


def with_ancestors(groups, find):
    """``{name: group}`` of ``groups`` and every group they are nested in;
    ``find(name)`` gives a stored group, or None for one that is gone
    (the engine reports it)."""
    out = {}
    todo = list(groups)
    while todo:
        group = todo.pop()
        if group.name in out:
            continue
        out[group.name] = group
        for parent in group.parents:
            found = find(parent)
            if found is not None:
                todo.append(found)
    return out
