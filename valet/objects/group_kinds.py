"""The group vocabulary: the kinds of QoS group and the default levels.

The API schemas, the engine, the inventories and storage take the list of
kinds and the default topology levels from here; nothing else spells them.
"""

AFFINITY = 'affinity'
DIVERSITY = 'diversity'
EXCLUSIVITY = 'exclusivity'

# Every group kind, in the order documentation and errors list them.
KINDS = (AFFINITY, DIVERSITY, EXCLUSIVITY)

# Topology levels, lowest first, when the operator configures none.
DEFAULT_LEVELS = ('host', 'rack', 'zone', 'region')
# The level of a group that names none.
DEFAULT_LEVEL = DEFAULT_LEVELS[0]
