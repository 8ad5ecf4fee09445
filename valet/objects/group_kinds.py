"""The group vocabulary: the kinds of QoS group and the default levels.

The API schemas, the engine, the inventories and storage take the list of
kinds and the default topology levels from here; nothing else spells them.
"""

AFFINITY = 'affinity'
DIVERSITY = 'diversity'
EXCLUSIVITY = 'exclusivity'
# At most ``max_per_domain`` members in any one domain of the level
# (microversion 1.5).
AT_MOST = 'at-most'
# Members spread over the level's domains, no domain more than
# ``max_skew`` members ahead of the emptiest (microversion 1.6).
SPREAD = 'spread'
# Preferences, never refusals: members together (or apart) where the
# placement allows, each violation costing ``weight`` in the objective
# (microversion 1.7).
SOFT_AFFINITY = 'soft-affinity'
SOFT_DIVERSITY = 'soft-diversity'

# The kinds of the original Valet v1 API (microversion 1.0).
V1_KINDS = (AFFINITY, DIVERSITY, EXCLUSIVITY)
# Every group kind, in the order documentation and errors list them.
KINDS = V1_KINDS + (AT_MOST, SPREAD, SOFT_AFFINITY, SOFT_DIVERSITY)

# Kinds whose groups carry ``max_per_domain``, and its range.
LIMITED_KINDS = (AT_MOST,)
MAX_PER_DOMAIN_MIN = 1
MAX_PER_DOMAIN_MAX = 100000
# Kinds whose groups carry ``max_skew``, and its range.
SKEWED_KINDS = (SPREAD,)
MAX_SKEW_MIN = 1
MAX_SKEW_MAX = 100000
# Kinds whose groups carry ``weight``, and its range.
WEIGHTED_KINDS = (SOFT_AFFINITY, SOFT_DIVERSITY)
WEIGHT_MIN = 1
WEIGHT_MAX = 100


def _number_error(kind, field, value, kinds, low, high):
    if kind not in kinds:
        if value is None:
            return None
        return '%s applies only to groups of type %s' % (
            field, ', '.join(kinds))
    if (isinstance(value, bool) or not isinstance(value, int)
            or not low <= value <= high):
        return ('a group of type %s needs %s, a whole number from %d to '
                '%d, not %r' % (kind, field, low, high, value))
    return None


def limit_error(kind, max_per_domain):
    """Why ``max_per_domain`` does not suit a group of ``kind`` (None if
    it does): kinds in LIMITED_KINDS need a whole number in range, the
    others none."""
    return _number_error(kind, 'max_per_domain', max_per_domain,
                         LIMITED_KINDS, MAX_PER_DOMAIN_MIN,
                         MAX_PER_DOMAIN_MAX)


def skew_error(kind, max_skew):
    """Why ``max_skew`` does not suit a group of ``kind`` (None if it
    does), as limit_error for SKEWED_KINDS."""
    return _number_error(kind, 'max_skew', max_skew, SKEWED_KINDS,
                         MAX_SKEW_MIN, MAX_SKEW_MAX)


def parameter_error(kind, max_per_domain=None, max_skew=None):
    """The first of limit_error and skew_error that has something to say.
    """
    return (limit_error(kind, max_per_domain)
            or skew_error(kind, max_skew))


# Topology levels, lowest first, when the operator configures none.
DEFAULT_LEVELS = ('host', 'rack', 'zone', 'region')
# The level of a group that names none.
DEFAULT_LEVEL = DEFAULT_LEVELS[0]
