"""Schemas of /v1/groups."""

from valet.api.schemas import common

TYPES = ['affinity', 'diversity', 'exclusivity']
DESCRIPTION = common.free_text(1024)


def create(levels):
    """POST /v1/groups; ``levels`` are the configured topology levels."""
    return {
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


UPDATE = {
    'type': 'object',
    'properties': {'description': DESCRIPTION},
    'required': ['description'],
    'additionalProperties': False,
    'description': 'only the description of a group can change',
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
