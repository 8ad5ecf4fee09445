"""Group kinds and group definitions."""

import dataclasses

AFFINITY = 'affinity'
DIVERSITY = 'diversity'
EXCLUSIVITY = 'exclusivity'
KINDS = (AFFINITY, DIVERSITY, EXCLUSIVITY)


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
    level: str = 'host'
    parents: tuple = ()
    project: str | None = None

    def __post_init__(self):
        object.__setattr__(self, 'parents', tuple(self.parents))

    @property
    def key(self):
        return self.name
