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


@dataclasses.dataclass(frozen=True)
class Group:
    """A named QoS group.

    ``parents`` names the groups this group is nested in (a group is a
    member of its parents, just as a server is a member of the groups it
    lists). Named groups persist across stacks: the data-centre model keeps
    their definitions and where their members run.
    """

    name: str
    kind: str
    level: str = group_kinds.DEFAULT_LEVEL
    parents: tuple = ()
    project: str | None = None
    # at-most groups: members allowed in one domain of ``level``.
    max_per_domain: int | None = None
    # spread groups: how many members a domain of ``level`` may have more
    # than the emptiest.
    max_skew: int | None = None
    # soft-affinity/soft-diversity groups: what one violation costs.
    weight: int | None = None

    def __post_init__(self):
        object.__setattr__(self, 'parents', tuple(self.parents))

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
