"""Building blocks shared by the resource schemas."""

# RFC 3986 unreserved characters: safe in URLs without escaping.
GROUP_NAME = {
    'type': 'string', 'pattern': '^[A-Za-z0-9._~-]{1,255}$',
    'description': 'a group name of 1 to 255 letters, digits or . _ ~ - '
                   '(RFC 3986 unreserved characters)',
}

# Stack, orchestration, Nova instance and Valet ids: UUIDs in practice;
# any short URL-safe token is accepted.
ID = {
    'type': 'string', 'pattern': '^[A-Za-z0-9._~:-]{1,255}$',
    'description': 'an id of 1 to 255 letters, digits or . _ ~ : -',
}

# Keystone project ids are 32 hex digits; other id schemes (LDAP-backed
# domains, tests) use short word characters. Empty or odd ones are wrong.
PROJECT_ID = {
    'type': 'string', 'pattern': '^[A-Za-z0-9_-]{1,64}$',
    'description': 'a project id of 1 to 64 letters, digits, _ or -',
}

HOST = {
    'type': 'string', 'pattern': '^[A-Za-z0-9._~:@-]{1,255}$',
    'description': 'a host name of 1 to 255 letters, digits or . _ ~ : @ -',
}

HOSTS = {'type': 'array', 'items': HOST, 'maxItems': 10000}


def free_text(max_length, min_length=0):
    """Printable text in any script; no control characters, no lone
    surrogates (they cannot be stored as UTF-8)."""
    return {
        'type': 'string', 'minLength': min_length, 'maxLength': max_length,
        'pattern': '^[^\\x00-\\x1f\\x7f\\ud800-\\udfff]*$',
        'description': 'text of %d to %d characters without control '
                       'characters' % (min_length, max_length),
    }


# Scheduler hints Heat passes (heat_stack_id, ...): flat and searchable.
METADATA_KEY = '^[A-Za-z0-9._~:-]{1,255}$'
METADATA = {
    'type': 'object', 'maxProperties': 64,
    'propertyNames': {'pattern': METADATA_KEY},
    'additionalProperties': {
        'anyOf': [{'type': 'string', 'maxLength': 1024},
                  {'type': ['number', 'boolean', 'null']}],
    },
    'description': 'a flat object of at most 64 keys (letters, digits, '
                   '. _ ~ : -) whose values are strings, numbers, booleans '
                   'or null',
}

# Accepted for compatibility with v1 clients and ignored: the API waits
# for the engine for [engine] rpc_timeout.
TIMEOUT = {'type': ['string', 'number'], 'maxLength': 32}
