"""Schemas of /v1/plans."""

from valet.api.schemas import common

# Heat's scheduler hints as the original Heat plugin sent them: flat, with
# ``heat_path_in_stack`` a list of strings ("root", then
# "parentres,nestedstack" per level).
HINT_LIST = {'type': 'array', 'maxItems': 64,
             'items': {'type': 'string', 'maxLength': 1024}}
RESOURCE_METADATA = dict(
    common.METADATA,
    additionalProperties={'anyOf': [
        {'type': 'string', 'maxLength': 1024},
        {'type': ['number', 'boolean', 'null']},
        HINT_LIST]},
    description='a flat object of at most 64 keys (letters, digits, '
                '. _ ~ : -) whose values are strings, numbers, booleans, '
                'null or lists of strings (Heat\'s heat_path_in_stack)')

# Nova's availability zone hint: "zone", "zone:host" or "zone:host:node".
AVAILABILITY_ZONE = {
    'anyOf': [common.free_text(255), {'type': 'null'}],
    'description': 'an availability zone name as text ("zone", '
                   '"zone:host" or "zone:host:node") or null',
}

PROPERTIES = {
    'type': 'object', 'maxProperties': 256,
    'properties': {'availability_zone': AVAILABILITY_ZONE},
}

# Keys of a Heat resource definition the original Heat plugin copied from
# the parsed template (HOT spelling and CloudFormation's lower-cased).
# Accepted so that its requests keep working; Valet does not use them.
_TEMPLATE_KEYS = ('depends_on', 'deletion_policy', 'update_policy',
                  'dependson', 'deletionpolicy', 'updatepolicy',
                  'condition', 'external_id', 'description')

RESOURCE = {
    'type': 'object',
    'properties': dict(
        {key: {'description': 'a Heat template key; accepted and '
                              'ignored'} for key in _TEMPLATE_KEYS},
        name=common.free_text(255, 1),
        type={'type': 'string', 'pattern': '^[A-Za-z0-9_:.-]{1,255}$',
              'description': 'a Heat resource type such as '
                             'OS::Nova::Server'},
        # HOT properties are open-ended; the engine reads what it knows,
        # and what it reads is typed here.
        properties=PROPERTIES,
        metadata=RESOURCE_METADATA,
        # The Nova instance of a server that already exists (stack
        # update); null while Heat has not created it.
        resource_id={'anyOf': [common.ID, {'type': 'null'}]},
    ),
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

# 1.3: an admin or service caller (Nova's scheduler filter) plans a
# server for the project that owns it.
CREATE_FOR_PROJECT = dict(CREATE, properties=dict(
    CREATE['properties'], project_id=common.PROJECT_ID))

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

# 1.8: a what-if. The engine decides as for real and stores nothing.
DRY_RUN = {'type': 'boolean',
           'description': 'true or false: decide, answer the decision and '
                          'store nothing'}
CREATE_DRY_RUN = dict(CREATE_FOR_PROJECT, properties=dict(
    CREATE_FOR_PROJECT['properties'], dry_run=DRY_RUN))
UPDATE_DRY_RUN = dict(UPDATE, properties=dict(
    UPDATE['properties'], dry_run=DRY_RUN))
