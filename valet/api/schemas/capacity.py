"""Schema of GET /v1/capacity (microversion 1.8): its query string."""

from valet.api.schemas import common

QUERY = {
    'type': 'object',
    'properties': {
        'flavor': dict(common.ID, description='a flavor name or id the '
                       'engine knows'),
        'groups': {
            'type': 'string',
            'pattern': '^[A-Za-z0-9._~-]{1,255}(,[A-Za-z0-9._~-]{1,255})'
                       '{0,63}$',
            'description': 'at most 64 group names or ids, comma '
                           'separated'},
        'level': {'type': 'string', 'pattern': '^[A-Za-z0-9._~-]{1,64}$',
                  'description': 'a level of the topology (host, rack, '
                                 '...) for the per-domain counts'},
        'availability_zone': common.free_text(255, 1),
    },
    'required': ['flavor'],
    'additionalProperties': False,
}
