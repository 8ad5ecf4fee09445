"""Schemas of /v1/placements."""

from valet.api.schemas import common
from valet.api.schemas import plans

ACTION = {
    'type': 'object',
    'properties': {
        'action': {'enum': ['reserve', 'replan'],
                   'description': '"reserve" (the default) or "replan"'},
        'locations': dict(common.HOSTS, minItems=1),
        'resource_id': common.ID,
        # Microversion 1.2: Heat's scheduler hints of the server.
        'hints': plans.RESOURCE_METADATA,
    },
    'required': ['locations'],
    'additionalProperties': False,
}

# Core fields a placement list can be filtered on; any other key is
# looked up in the placement's metadata.
CORE_FILTERS = ('id', 'name', 'orchestration_id', 'plan_id', 'resource_id',
                'location', 'reserved')

LIST_QUERY = {
    'type': 'object', 'maxProperties': 32,
    'propertyNames': {'pattern': common.METADATA_KEY},
    'properties': {
        'reserved': {'enum': ['true', 'false'],
                     'description': '"true" or "false"'},
    },
    'additionalProperties': {'type': 'string', 'maxLength': 1024},
    'description': 'at most 32 exact-match filters: id, name, '
                   'orchestration_id, plan_id, resource_id, location, '
                   'reserved or a metadata key',
}
