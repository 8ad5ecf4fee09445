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

# The kinds of the original Valet v1 API (microversion 1.0).
V1_KINDS = (AFFINITY, DIVERSITY, EXCLUSIVITY)
# Every group kind, in the order documentation and errors list them.
KINDS = V1_KINDS + (AT_MOST,)

# Kinds whose groups carry ``max_per_domain``, and its range.
LIMITED_KINDS = (AT_MOST,)
MAX_PER_DOMAIN_MIN = 1
MAX_PER_DOMAIN_MAX = 100000


def limit_error(kind, max_per_domain):
    """Why ``max_per_domain`` does not suit a group of ``kind`` (None if
    it does): kinds in LIMITED_KINDS need a whole number in range, the
    others none."""
    if kind not in LIMITED_KINDS:
        if max_per_domain is None:
            return None
        return 'max_per_domain applies only to groups of type %s' % (
            ', '.join(LIMITED_KINDS))
    if (isinstance(max_per_domain, bool)
            or not isinstance(max_per_domain, int)
            or not MAX_PER_DOMAIN_MIN <= max_per_domain
            <= MAX_PER_DOMAIN_MAX):
        return ('a group of type %s needs max_per_domain, a whole number '
                'from %d to %d, not %r' % (
                    kind, MAX_PER_DOMAIN_MIN, MAX_PER_DOMAIN_MAX,
                    max_per_domain))
    return None


# Topology levels, lowest first, when the operator configures none.
DEFAULT_LEVELS = ('host', 'rack', 'zone', 'region')
# The level of a group that names none.
DEFAULT_LEVEL = DEFAULT_LEVELS[0]
