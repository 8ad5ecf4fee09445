"""Schemas of /v1/groups."""

from valet.api.schemas import common
from valet.objects import group_kinds

TYPES = list(group_kinds.V1_KINDS)
# Microversion 1.5: at-most groups and their limit.
TYPES_AT_MOST = list(group_kinds.V1_KINDS) + [group_kinds.AT_MOST]
# Microversion 1.6: spread groups and their skew.
TYPES_SPREAD = TYPES_AT_MOST + [group_kinds.SPREAD]
MAX_SKEW = {
    'type': 'integer',
    'minimum': group_kinds.MAX_SKEW_MIN,
    'maximum': group_kinds.MAX_SKEW_MAX,
    'description': 'members a domain of the level may hold beyond the '
                   'emptiest, a whole number from %d to %d' % (
                       group_kinds.MAX_SKEW_MIN, group_kinds.MAX_SKEW_MAX),
}
MAX_PER_DOMAIN = {
    'type': 'integer',
    'minimum': group_kinds.MAX_PER_DOMAIN_MIN,
    'maximum': group_kinds.MAX_PER_DOMAIN_MAX,
    'description': 'members allowed in one domain of the level, a whole '
                   'number from %d to %d' % (group_kinds.MAX_PER_DOMAIN_MIN,
                                             group_kinds.MAX_PER_DOMAIN_MAX),
}
DESCRIPTION = common.free_text(1024)


# Microversion 1.4: the groups a group is nested in, by name or id.
PARENTS = {
    'type': 'array',
    'items': dict(common.GROUP_NAME,
                  description='a group name or id (1 to 255 letters, '
                              'digits or . _ ~ -)'),
    'maxItems': 16,
    'uniqueItems': True,
    'description': 'a list of at most 16 distinct group names or ids',
}


def _with_parameter(schema, kind, field, spec):
    """``field`` comes with groups of type ``kind`` and nothing else."""
    schema['properties'][field] = spec
    schema.setdefault('allOf', []).append({
        'if': {'properties': {'type': {'const': kind}}},
        'then': {'required': [field],
                 'description': 'a group of type %s with %s' % (kind, field)},
        'else': {'not': {'required': [field]},
                 'description': '%s with type %s only' % (field, kind)},
    })


def create(levels, nesting=False, at_most=False, spread=False):
    """POST /v1/groups; ``levels`` are the configured topology levels;
    ``nesting`` (microversion 1.4) allows ``parents``; ``at_most``
    (microversion 1.5) the type at-most, which needs ``max_per_domain``;
    ``spread`` (microversion 1.6) the type spread, which needs
    ``max_skew``."""
    schema = {
        'type': 'object',
        'properties': {
            'name': common.GROUP_NAME,
            'type': {'enum': TYPES,
                     'description': 'one of %s' % ', '.join(TYPES)},
            'level': {'enum': list(levels),
                      'description': 'one of %s' % ', '.join(levels)},
            'description': DESCRIPTION,
        },
        'required': ['name', 'type', 'level'],
        'additionalProperties': False,
    }
    if nesting:
        schema['properties']['parents'] = PARENTS
    if at_most or spread:
        types = TYPES_SPREAD if spread else TYPES_AT_MOST
        schema['properties']['type'] = {
            'enum': types, 'description': 'one of %s' % ', '.join(types)}
        _with_parameter(schema, group_kinds.AT_MOST, 'max_per_domain',
                        MAX_PER_DOMAIN)
    if spread:
        _with_parameter(schema, group_kinds.SPREAD, 'max_skew', MAX_SKEW)
    return schema


UPDATE = {
    'type': 'object',
    'properties': {'description': DESCRIPTION},
    'required': ['description'],
    'additionalProperties': False,
    'description': 'only the description of a group can change',
}

# Microversion 1.4: the description, the parents, or both.
UPDATE_NESTED = {
    'type': 'object',
    'properties': {'description': DESCRIPTION, 'parents': PARENTS},
    'minProperties': 1,
    'additionalProperties': False,
    'description': 'description and/or parents (the only members that '
                   'can change)',
}

MEMBERS = {
    'type': 'object',
    'properties': {
        'members': {'type': 'array', 'items': common.PROJECT_ID,
                    'minItems': 1, 'maxItems': 1000},
    },
    'required': ['members'],
    'additionalProperties': False,
}
