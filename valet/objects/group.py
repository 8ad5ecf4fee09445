"""A QoS group as the API and storage see it."""

import dataclasses

from valet.objects import group_kinds
from valet.objects import ids


# A group constructed without an id gets a new one.
_NEW = object()


@dataclasses.dataclass(init=False)
class Group:
    """A named QoS group of one of the kinds of ``group_kinds.TABLE``.

    ``members`` are project (tenant) ids allowed to use the group; an empty
    list means every project may. ``parents`` names the groups this group is
    nested in. ``generation`` grows with every stored change and guards
    updates against lost writes. ``parameters`` holds the kind's parameters
    by name (``max_per_domain`` of an at-most group, ...); each can also be
    given to the constructor and read as an attribute of its own name
    (None when the group has none).
    """

    name: str
    type: str
    level: str = group_kinds.DEFAULT_LEVEL
    description: str = ''
    members: list = dataclasses.field(default_factory=list)
    parents: list = dataclasses.field(default_factory=list)
    id: str = dataclasses.field(default_factory=ids.new_id)
    generation: int = 0
    parameters: dict = dataclasses.field(default_factory=dict)

    def __init__(self, name, type, level=group_kinds.DEFAULT_LEVEL,
                 description='', members=None, parents=None, id=_NEW,
                 generation=0, parameters=None, **named):
        unknown = set(named) - set(group_kinds.PARAMETERS)
        if unknown:
            raise TypeError('Group() got unknown arguments %s'
                            % ', '.join(sorted(unknown)))
        self.name = name
        self.type = type
        self.level = level
        self.description = description
        self.members = list(members or [])
        self.parents = list(parents or [])
        self.id = ids.new_id() if id is _NEW else id
        self.generation = generation
        # A parameter that is None is one the group does not have.
        given = dict(parameters or {}, **named)
        self.parameters = {k: v for k, v in given.items() if v is not None}

    def __getattr__(self, name):
        # Only for names not found otherwise: the kinds' parameters.
        if name in group_kinds.PARAMETERS:
            return self.__dict__.get('parameters', {}).get(name)
        raise AttributeError(name)

    def portable(self):
        """Every field, as RPC carries a group between API and engine."""
        return dataclasses.asdict(self)

    @classmethod
    def from_portable(cls, data):
        """The inverse of ``portable`` (unknown keys are left out; the
        flat parameters of an older peer are read too)."""
        names = {f.name for f in dataclasses.fields(cls)}
        names.update(group_kinds.PARAMETERS)
        return cls(**{k: v for k, v in data.items() if k in names})

    def definition(self):
        """What the engine needs to define the group (sent with a plan):
        the parameters sit beside type and level."""
        out = {'name': self.name, 'type': self.type, 'level': self.level,
               'parents': list(self.parents)}
        out.update(self.parameters)
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
