"""The group vocabulary: the kinds of QoS group, their parameters and the
default levels.

``TABLE`` declares every kind once: its name, the API microversion that
exposes it and the parameters its groups carry (name, whole-number range,
default). The API schemas and representations, objects.Group, storage,
the engine's translation and the static inventory read the table and
carry parameters as a ``{name: value}`` mapping, so a new kind with a new
parameter is one entry here (plus its rule module, validator check, the
microversion and docs); nothing else spells kinds or parameter names.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A whole-number parameter of a group kind."""

    name: str
    low: int
    high: int
    # None: a group of the kind must give it; otherwise what it gets.
    default: int | None = None
    # What the value means (the API schema's hint, the api-ref's words).
    meaning: str = ''

    @property
    def required(self):
        return self.default is None

    def error(self, kind, value):
        """Why ``value`` does not suit a group of ``kind`` (None if it
        does; None stands for "not given")."""
        if value is None:
            if not self.required:
                return None
            return ('a group of type %s needs %s, a whole number from %d '
                    'to %d, not None' % (kind, self.name, self.low,
                                         self.high))
        if (isinstance(value, bool) or not isinstance(value, int)
                or not self.low <= value <= self.high):
            return ('a group of type %s %s %s, a whole number from %d to '
                    '%d, not %r' % (kind, 'needs' if self.required
                                    else 'takes', self.name, self.low,
                                    self.high, value))
        return None


@dataclasses.dataclass(frozen=True)
class Kind:
    name: str
    # The API microversion from which groups of the kind can be created
    # and their parameters are shown.
    since: str
    parameters: tuple = ()


AFFINITY = 'affinity'
DIVERSITY = 'diversity'
EXCLUSIVITY = 'exclusivity'
# At most ``max_per_domain`` members in any one domain of the level.
AT_MOST = 'at-most'
# Members spread over the level's domains, no domain more than
# ``max_skew`` members ahead of the emptiest.
SPREAD = 'spread'
# Preferences, never refusals: members together (or apart) where the
# placement allows, each violation costing ``weight`` in the objective.
SOFT_AFFINITY = 'soft-affinity'
SOFT_DIVERSITY = 'soft-diversity'

MAX_PER_DOMAIN = Parameter(
    'max_per_domain', 1, 100000,
    meaning='members allowed in one domain of the level')
MAX_SKEW = Parameter(
    'max_skew', 1, 100000,
    meaning='members a domain of the level may hold beyond the emptiest')
WEIGHT = Parameter(
    'weight', 1, 100, default=1,
    meaning='what one violation of the preference costs')

# Every group kind, in the order documentation and errors list them.
TABLE = (
    Kind(AFFINITY, '1.0'),
    Kind(DIVERSITY, '1.0'),
    Kind(EXCLUSIVITY, '1.0'),
    Kind(AT_MOST, '1.5', (MAX_PER_DOMAIN,)),
    Kind(SPREAD, '1.6', (MAX_SKEW,)),
    Kind(SOFT_AFFINITY, '1.7', (WEIGHT,)),
    Kind(SOFT_DIVERSITY, '1.7', (WEIGHT,)),
)
BY_NAME = {kind.name: kind for kind in TABLE}
KINDS = tuple(BY_NAME)
# The kinds of the original Valet v1 API (microversion 1.0).
V1_KINDS = tuple(kind.name for kind in TABLE if kind.since == '1.0')
# Every parameter of any kind, by name, in table order.
PARAMETERS = {p.name: p for kind in TABLE for p in kind.parameters}


def kinds_with(name):
    """The kinds whose groups carry the parameter ``name``."""
    return tuple(kind.name for kind in TABLE
                 if any(p.name == name for p in kind.parameters))


def parameters_of(kind):
    """The Parameters of ``kind`` (none for an unknown kind)."""
    found = BY_NAME.get(kind)
    return found.parameters if found is not None else ()


def picked(mapping):
    """``{name: value}`` of the parameters ``mapping`` (a request body, a
    plan's group definition, an inventory entry) gives, None left out."""
    return {name: mapping[name] for name in PARAMETERS
            if mapping.get(name) is not None}


def problems(kind, parameters):
    """``(name, why)`` for each parameter in ``parameters`` (a mapping)
    that does not suit a group of ``kind``, and each it lacks; table
    order."""
    for name in PARAMETERS:
        why = _one_error(kind, name, parameters.get(name))
        if why:
            yield name, why
    for name in sorted(set(parameters) - set(PARAMETERS)):
        if parameters[name] is not None:
            yield name, '%s is no parameter of any group type' % name


def parameters_error(kind, parameters):
    """The first of ``problems`` (its text), or None."""
    for _name, why in problems(kind, parameters):
        return why
    return None


def with_defaults(kind, parameters):
    """``parameters`` with the defaults of ``kind``'s optional parameters
    it leaves out."""
    out = dict(parameters)
    for spec in parameters_of(kind):
        if out.get(spec.name) is None and spec.default is not None:
            out[spec.name] = spec.default
    return out


def default(kind, name):
    """The value a group of ``kind`` has for ``name`` when none is given
    (None if the kind has no such parameter or it is required)."""
    for spec in parameters_of(kind):
        if spec.name == name:
            return spec.default
    return None


def _one_error(kind, name, value):
    for spec in parameters_of(kind):
        if spec.name == name:
            return spec.error(kind, value)
    if value is None:
        return None
    return '%s applies only to groups of type %s' % (
        name, ', '.join(kinds_with(name)))


def limit_error(kind, max_per_domain):
    """Why ``max_per_domain`` does not suit a group of ``kind`` (None if
    it does)."""
    return _one_error(kind, MAX_PER_DOMAIN.name, max_per_domain)


def skew_error(kind, max_skew):
    """As limit_error, for ``max_skew``."""
    return _one_error(kind, MAX_SKEW.name, max_skew)


def weight_error(kind, weight):
    """As limit_error, for ``weight`` (optional: None suits a soft
    group)."""
    return _one_error(kind, WEIGHT.name, weight)


def parameter_error(kind, max_per_domain=None, max_skew=None, **others):
    """parameters_error with the parameters as keywords."""
    given = dict(others, max_per_domain=max_per_domain, max_skew=max_skew)
    return parameters_error(kind, {k: v for k, v in given.items()
                                   if v is not None})


# Kinds whose groups carry a weight (soft rules), and its range.
WEIGHTED_KINDS = kinds_with(WEIGHT.name)
WEIGHT_MIN = WEIGHT.low
WEIGHT_MAX = WEIGHT.high
WEIGHT_DEFAULT = WEIGHT.default

# Topology levels, lowest first, when the operator configures none.
DEFAULT_LEVELS = ('host', 'rack', 'zone', 'region')
# The level of a group that names none.
DEFAULT_LEVEL = DEFAULT_LEVELS[0]
