"""Schemas of /v1/plans."""

from valet.api.schemas import common

RESOURCE = {
    'type': 'object',
    'properties': {
        'name': common.free_text(255, 1),
        'type': {'type': 'string', 'pattern': '^[A-Za-z0-9_:.-]{1,255}$',
                 'description': 'a Heat resource type such as '
                                'OS::Nova::Server'},
        # HOT properties are open-ended; the engine reads what it knows.
        'properties': {'type': 'object', 'maxProperties': 256},
        'metadata': common.METADATA,
    },
    'required': ['name', 'type'],
    'additionalProperties': False,
}

RESOURCES = {
    'type': 'object', 'maxProperties': 1000,
    'propertyNames': common.ID,
    'additionalProperties': RESOURCE,
    'description': 'an object mapping orchestration ids to resources',
}

CREATE = {
    'type': 'object',
    'properties': {
        'plan_name': common.ID,
        'stack_id': common.ID,
        'resources': RESOURCES,
        'locations': common.HOSTS,
        'timeout': common.TIMEOUT,
    },
    'required': ['plan_name', 'stack_id', 'resources'],
    'additionalProperties': False,
}

ACTION = {
    'type': 'object',
    'properties': {'action': {'enum': ['update', 'migrate'],
                              'description': '"update" or "migrate"'}},
    'required': ['action'],
}

UPDATE = {
    'type': 'object',
    'properties': {
        'action': {'const': 'update'},
        'resources': RESOURCES,
        'original_resources': RESOURCES,
        'plan_name': common.ID,
        'timeout': common.TIMEOUT,
    },
    'required': ['action', 'resources'],
    'additionalProperties': False,
}

MIGRATE = {
    'type': 'object',
    'properties': {
        'action': {'const': 'migrate'},
        'resources': {'type': 'array', 'items': common.ID,
                      'minItems': 1, 'maxItems': 1,
                      'description': 'a list of exactly one orchestration '
                                     'or physical (Nova) id'},
        'excluded_hosts': common.HOSTS,
        'timeout': common.TIMEOUT,
    },
    'required': ['action', 'resources'],
    'additionalProperties': False,
}
