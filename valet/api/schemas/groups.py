"""Schemas of /v1/groups."""

from valet.api.schemas import common
from valet.objects import group_kinds

TYPES = list(group_kinds.V1_KINDS)
# Microversion 1.5: at-most groups and their limit.
TYPES_AT_MOST = list(group_kinds.KINDS)
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


def create(levels, nesting=False, at_most=False):
    """POST /v1/groups; ``levels`` are the configured topology levels;
    ``nesting`` (microversion 1.4) allows ``parents``; ``at_most``
    (microversion 1.5) the type at-most, which needs ``max_per_domain``."""
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
    if at_most:
        types = TYPES_AT_MOST
        schema['properties']['type'] = {
            'enum': types, 'description': 'one of %s' % ', '.join(types)}
        schema['properties']['max_per_domain'] = MAX_PER_DOMAIN
        # The limit comes with an at-most group and with nothing else.
        schema['if'] = {'properties': {'type': {'const':
                                                group_kinds.AT_MOST}}}
        schema['then'] = {
            'required': ['max_per_domain'],
            'description': 'an at-most group with max_per_domain'}
        schema['else'] = {
            'not': {'required': ['max_per_domain']},
            'description': 'max_per_domain with type at-most only'}
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
