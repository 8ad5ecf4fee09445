"""Schemas of /v1/groups."""

import functools

from valet.api.schemas import common
from valet.objects import group_kinds

TYPES = list(group_kinds.V1_KINDS)
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


def parameter(spec):
    """The schema of a kind's parameter (a ``group_kinds.Parameter``)."""
    out = {'type': 'integer', 'minimum': spec.low, 'maximum': spec.high,
           'description': '%s, a whole number from %d to %d' % (
               spec.meaning, spec.low, spec.high)}
    if spec.default is not None:
        out['description'] += ' (default %d)' % spec.default
    return out


def _with_parameter(schema, kinds, spec):
    """``spec`` comes with groups of ``kinds`` (required if it has no
    default) and nothing else."""
    schema['properties'][spec.name] = parameter(spec)
    named = ', '.join(kinds)
    which = ({'const': kinds[0]} if len(kinds) == 1
             else {'enum': list(kinds)})
    rule = {'if': {'properties': {'type': which}},
            'else': {'not': {'required': [spec.name]},
                     'description': '%s with type %s only' % (
                         spec.name, named)}}
    if spec.required:
        rule['then'] = {'required': [spec.name],
                        'description': 'a group of type %s with %s' % (
                            named, spec.name)}
    schema.setdefault('allOf', []).append(rule)


# One schema object per distinct request shape, so that its validator is
# built once (valet.api.schemas caches validators by schema).
@functools.lru_cache(maxsize=64)
def create(levels, kinds=group_kinds.V1_KINDS, nesting=False):
    """POST /v1/groups; ``levels`` are the configured topology levels;
    ``kinds`` the group kinds the request's microversion exposes (names
    from ``group_kinds.TABLE``), each with its parameters; ``nesting``
    (microversion 1.4) allows ``parents``. Arguments are hashable (tuples)
    and the schema is shared: do not change it."""
    kinds = list(kinds)
    schema = {
        'type': 'object',
        'properties': {
            'name': common.GROUP_NAME,
            'type': {'enum': kinds,
                     'description': 'one of %s' % ', '.join(kinds)},
            'level': {'enum': list(levels),
                      'description': 'one of %s' % ', '.join(levels)},
            'description': DESCRIPTION,
        },
        'required': ['name', 'type', 'level'],
        'additionalProperties': False,
    }
    if nesting:
        schema['properties']['parents'] = PARENTS
    for name, spec in group_kinds.PARAMETERS.items():
        having = [kind for kind in kinds
                  if spec in group_kinds.parameters_of(kind)]
        if having:
            _with_parameter(schema, having, spec)
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
