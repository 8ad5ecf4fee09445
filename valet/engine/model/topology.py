"""Topology levels: the ordered list of failure/locality domains.

The lowest level is always ``host``. Every host names its ancestor (its
domain) at each level above it; the model never derives those from host
names.
"""

from valet.engine.model import errors
from valet.objects import group_kinds

DEFAULT_LEVELS = group_kinds.DEFAULT_LEVELS


class Topology:
    """An ordered tuple of level names, lowest first."""

    def __init__(self, levels=DEFAULT_LEVELS):
        levels = tuple(levels)
        if not levels or levels[0] != 'host':
            raise errors.ModelError(
                'the lowest topology level must be "host"', levels=levels,
                code='valet.model.levels')
        if len(set(levels)) != len(levels):
            raise errors.ModelError(
                'topology levels must be unique', levels=levels,
                code='valet.model.levels')
        self.levels = levels
        self._index = {name: i for i, name in enumerate(levels)}

    def index(self, level):
        """Position of a level (0 = host); InvalidRequest when unknown."""
        try:
            return self._index[level]
        except (KeyError, TypeError):
            raise errors.InvalidRequest(
                'unknown level %r; known levels are %s' % (
                    level, ', '.join(self.levels)),
                code='valet.request.unknown_level', level=level,
                levels=list(self.levels))

    def __contains__(self, level):
        return level in self._index

    def __len__(self):
        return len(self.levels)

    def __iter__(self):
        return iter(self.levels)

    @property
    def upper_levels(self):
        """The levels above host, lowest first."""
        return self.levels[1:]

    def __eq__(self, other):
        return isinstance(other, Topology) and other.levels == self.levels

    def __hash__(self):
        return hash(self.levels)

    def __repr__(self):
        return 'Topology(%r)' % (self.levels,)
