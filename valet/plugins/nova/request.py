"""What the filter reads from Nova's ``RequestSpec``.

Only the fields used here are read, each one tolerating its absence (an
unset field raises on access in Nova's objects).
"""

import json
import logging

LOG = logging.getLogger(__name__)

# Scheduler hints Heat sets on the servers it creates.
HEAT_RESOURCE_UUID = 'heat_resource_uuid'
HEAT_STACK_ID = 'heat_stack_id'
HEAT_ROOT_STACK_ID = 'heat_root_stack_id'
HEAT_RESOURCE_NAME = 'heat_resource_name'
HEAT_PATH_IN_STACK = 'heat_path_in_stack'
HEAT_HINTS = (HEAT_ROOT_STACK_ID, HEAT_STACK_ID, 'heat_stack_name',
              HEAT_PATH_IN_STACK, HEAT_RESOURCE_NAME, HEAT_RESOURCE_UUID)

# Group memberships: a scheduler hint and server metadata key (names,
# comma-separated), server metadata ``valet`` ({"groups": [...]}, JSON
# text), flavor extra specs ``valet`` (same) and ``valet:groups`` (names).
GROUPS_HINT = 'valet_groups'
METADATA_KEY = 'valet'
EXTRA_SPEC_LIST_KEY = 'valet:groups'

SERVER_TYPE = 'OS::Nova::Server'


class BadMembership(ValueError):
    """A group membership written in a shape Valet does not read."""


def field(obj, name, default=None):
    """An object field, or ``default`` when unset or absent."""
    if obj is None:
        return default
    try:
        if hasattr(obj, 'obj_attr_is_set') and name in getattr(
                obj, 'fields', {}) and not obj.obj_attr_is_set(name):
            return default
        value = getattr(obj, name)
    except (AttributeError, NotImplementedError):
        return default
    return default if value is None else value


def hints(spec_obj):
    """``{hint: [values]}``; Nova keeps every hint as a list of strings."""
    found = field(spec_obj, 'scheduler_hints', {}) or {}
    out = {}
    for key, value in found.items():
        if isinstance(value, (list, tuple)):
            out[key] = [str(v) for v in value]
        elif value is not None:
            out[key] = [str(value)]
    return out


def hint(spec_obj, key):
    values = hints(spec_obj).get(key) or []
    return values[0] if values else None


def heat_hints(spec_obj):
    """The Heat hints present, flat (the metadata Heat plans carry)."""
    found = hints(spec_obj)
    return {k: found[k][0] for k in HEAT_HINTS if found.get(k)}


def heat_hints_for_reserve(spec_obj):
    """Every ``heat_*`` hint as Heat gave it: ``heat_path_in_stack`` as
    its list of levels, the others as one string; {} unless the hints
    locate the server in its stack (root stack, path and name), which is
    what Valet needs to plan a stack it has not seen."""
    found = hints(spec_obj)
    if not all(found.get(k) for k in (HEAT_ROOT_STACK_ID, HEAT_PATH_IN_STACK,
                                      HEAT_RESOURCE_NAME)):
        return {}
    out = {}
    for key, values in found.items():
        if not key.startswith('heat_') or not values:
            continue
        out[key] = list(values) if key == HEAT_PATH_IN_STACK else values[0]
    return out


def instance_uuid(spec_obj):
    return field(spec_obj, 'instance_uuid')


def num_instances(spec_obj):
    try:
        return max(1, int(field(spec_obj, 'num_instances', 1)))
    except (TypeError, ValueError):
        return 1


def project_id(spec_obj):
    return field(spec_obj, 'project_id')


def flavor(spec_obj):
    return field(spec_obj, 'flavor')


def _names(value, where):
    if isinstance(value, str):
        value = [n for n in value.split(',')]
    if not isinstance(value, list) or not all(
            isinstance(n, str) for n in value):
        raise BadMembership('%s must list group names' % where)
    return [n.strip() for n in value if n.strip()]


def _valet_value(value, where):
    if value in (None, ''):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadMembership('%s is not JSON like {"groups": [...]}'
                                % where)
    if not isinstance(value, dict):
        raise BadMembership('%s must be like {"groups": [...]}' % where)
    return _names(value.get('groups') or [], where + '.groups')


def group_names(spec_obj, metadata=None):
    """Every group the server names, first mention first."""
    names = []
    for value in hints(spec_obj).get(GROUPS_HINT) or []:
        names += _names(value, 'scheduler hint %s' % GROUPS_HINT)
    metadata = metadata or {}
    names += _valet_value(metadata.get(METADATA_KEY),
                          'server metadata %s' % METADATA_KEY)
    if metadata.get(GROUPS_HINT):
        names += _names(metadata[GROUPS_HINT],
                        'server metadata %s' % GROUPS_HINT)
    specs = field(flavor(spec_obj), 'extra_specs', {}) or {}
    names += _valet_value(specs.get(METADATA_KEY),
                          'flavor extra spec %s' % METADATA_KEY)
    if specs.get(EXTRA_SPEC_LIST_KEY):
        names += _names(specs[EXTRA_SPEC_LIST_KEY],
                        'flavor extra spec %s' % EXTRA_SPEC_LIST_KEY)
    return list(dict.fromkeys(names))


def server_group(spec_obj):
    """``(uuid, policy)`` of the Nova server group, or None."""
    group = field(spec_obj, 'instance_group')
    if group is None:
        return None
    policy = field(group, 'policy')
    if policy is None:
        policies = field(group, 'policies', []) or []
        policy = policies[0] if policies else None
    uuid = field(group, 'uuid')
    if not uuid or not policy:
        return None
    return str(uuid), str(policy)


def flavor_description(spec_obj):
    """The request's flavor, whole: Valet needs not know it already (a
    flavor made since its last look at Nova is fine). A server booted
    from a volume asks no root disk of its host."""
    found = flavor(spec_obj)
    root = 0 if field(spec_obj, 'is_bfv', False) else field(
        found, 'root_gb', 0)
    return {'name': field(found, 'name'),
            'vcpus': int(field(found, 'vcpus', 0)),
            'ram': int(field(found, 'memory_mb', 0)),
            'disk': int(root),
            'ephemeral': int(field(found, 'ephemeral_gb', 0)),
            'swap': int(field(found, 'swap', 0)),
            'extra_specs': {str(k): str(v) for k, v in (
                field(found, 'extra_specs', {}) or {}).items()}}


def server_resource(spec_obj, name, groups):
    """The HOT-style resource Valet plans for one server of the request."""
    properties = {'flavor': flavor_description(spec_obj)}
    zone = field(spec_obj, 'availability_zone')
    if zone:
        properties['availability_zone'] = zone
    if groups:
        properties['metadata'] = {METADATA_KEY: {'groups': list(groups)}}
    return {'name': name, 'type': SERVER_TYPE, 'properties': properties}


def build_metadata(spec_obj):
    """The server's metadata while Nova builds it (its build request), or
    {} when it cannot be read (no API database, a move, a test)."""
    uuid = instance_uuid(spec_obj)
    context = getattr(spec_obj, '_context', None)
    if not uuid or context is None:
        return {}
    try:
        from nova import objects
        build = objects.BuildRequest.get_by_instance_uuid(context, uuid)
        return dict(build.instance.metadata or {})
    except Exception as exc:    # not found, no API DB: groups come elsewhere
        LOG.debug('No build request metadata for %s: %s', uuid, exc)
        return {}
