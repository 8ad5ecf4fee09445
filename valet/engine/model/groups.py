"""Group kinds and group definitions."""

import dataclasses

from valet.objects import group_kinds

# The vocabulary is the objects' (one spelling for API, engine, storage).
AFFINITY = group_kinds.AFFINITY
DIVERSITY = group_kinds.DIVERSITY
EXCLUSIVITY = group_kinds.EXCLUSIVITY
AT_MOST = group_kinds.AT_MOST
SPREAD = group_kinds.SPREAD
SOFT_AFFINITY = group_kinds.SOFT_AFFINITY
SOFT_DIVERSITY = group_kinds.SOFT_DIVERSITY
V1_KINDS = group_kinds.V1_KINDS
KINDS = group_kinds.KINDS


@dataclasses.dataclass(frozen=True, init=False)
class Group:
    """A named QoS group.

    ``parents`` names the groups this group is nested in (a group is a
    member of its parents, just as a server is a member of the groups it
    lists). Named groups persist across stacks: the data-centre model keeps
    their definitions and where their members run.

    ``parameters`` are the kind's parameters (``group_kinds.TABLE``) as
    sorted ``(name, value)`` pairs (hashable, like the rest). Each is also
    an attribute of its own name, which the rules read: ``max_per_domain``
    (at-most groups: members allowed in one domain of ``level``),
    ``max_skew`` (spread groups: how many members a domain may have more
    than the emptiest), ``weight`` (soft groups: what one violation costs;
    the kind's default when none was given); None for a kind without it.
    The constructor takes them by name too.
    """

    name: str
    kind: str
    level: str = group_kinds.DEFAULT_LEVEL
    parents: tuple = ()
    project: str | None = None
    parameters: tuple = ()

    def __init__(self, name, kind, level=group_kinds.DEFAULT_LEVEL,
                 parents=(), project=None, parameters=(), **named):
        unknown = set(named) - set(group_kinds.PARAMETERS)
        if unknown:
            raise TypeError('Group() got unknown arguments %s'
                            % ', '.join(sorted(unknown)))
        given = dict(parameters or ())
        given.update(named)
        given = group_kinds.with_defaults(kind, given)
        setattr_ = object.__setattr__
        setattr_(self, 'name', name)
        setattr_(self, 'kind', kind)
        setattr_(self, 'level', level)
        setattr_(self, 'parents', tuple(parents))
        setattr_(self, 'project', project)
        setattr_(self, 'parameters', tuple(sorted(
            (k, v) for k, v in given.items() if v is not None)))

    def __getattr__(self, name):
        # Only for names not found otherwise: the kinds' parameters.
        if name in group_kinds.PARAMETERS:
            for key, value in self.__dict__.get('parameters', ()):
                if key == name:
                    return value
            return group_kinds.default(self.__dict__.get('kind'), name)
        raise AttributeError(name)

    @property
    def key(self):
        return self.name


def closure(names, definitions, ignore=frozenset()):
    """The named groups and every group they are nested in, in walk order.

    ``definitions`` maps names to Group; unknown names are kept but not
    followed; names in ``ignore`` are left out (and not followed).
    """
    seen = []
    stack = [name for name in names if name not in ignore]
    while stack:
        name = stack.pop()
        if name in seen or name in ignore:
            continue
        seen.append(name)
        group = definitions.get(name)
        if group is not None:
            stack.extend(group.parents)
    return seen
