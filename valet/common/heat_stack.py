"""The plan of a Heat stack, built the same way wherever Valet reads it.

A stack is planned once, whole, nested stacks and ResourceGroups included,
by either of two readers: Heat's stack lifecycle plugin (legacy engine;
Heat's own objects) and the engine's Heat reader (convergence; Heat's
REST preview). Both describe each resource as an *entry* and call
``plan_resources``, so both make the same plan.

A server is known by its **resource path**: the names of the resources
that lead to it from the root stack, then its own name — e.g.
``["tier", "1", "web"]`` for server ``web`` of member ``1`` of
ResourceGroup ``tier``. Heat's scheduler hints give the same path
(``heat_path_in_stack`` entries are ``"parentres,nestedstack"`` after the
root), while the generated names of nested stacks differ between a
preview and the real stack, so they take no part. The orchestration id of
a server is derived from its root stack id and path, so Nova's filter,
the plugin and the engine compute the same id without asking anyone.

Stdlib only: Heat's plugins import this module.
"""

import copy
import json
import uuid

SERVER_TYPE = 'OS::Nova::Server'
GROUP_TYPE = 'OS::Valet::Group'
ASSIGNMENT_TYPES = ('OS::Valet::GroupAssignment',
                    'ATT::Valet::GroupAssignment')

# Hint keys Heat adds to a server's scheduler hints.
ROOT_STACK_ID = 'heat_root_stack_id'
STACK_ID = 'heat_stack_id'
STACK_NAME = 'heat_stack_name'
PATH_IN_STACK = 'heat_path_in_stack'
RESOURCE_NAME = 'heat_resource_name'
RESOURCE_UUID = 'heat_resource_uuid'
# Valet's own metadata key: the resource path as a list.
RESOURCE_PATH = 'heat_resource_path'

# What the engine reads of a server; the rest of a server's properties
# (user data, networks, ...) stays out of the plan.
SERVER_PROPERTIES = ('name', 'flavor', 'image', 'availability_zone',
                     'metadata')

_NAMESPACE = uuid.UUID('7a6c1b1e-3f5d-4f49-9d67-0c5f6c0d9a11')


def path_from_hints(hints):
    """A server's resource path from Heat's scheduler hints, or None."""
    name = hints.get(RESOURCE_NAME)
    path_in_stack = hints.get(PATH_IN_STACK)
    if isinstance(name, list):
        name = name[0] if name else None
    if not name or path_in_stack is None:
        return None
    if isinstance(path_in_stack, str):
        path_in_stack = [path_in_stack]
    parents = []
    for level in list(path_in_stack)[1:]:
        # "parentres,nestedstackname": the resource name may itself
        # contain commas; stack names cannot.
        parent, _sep, _stack = str(level).rpartition(',')
        if not parent:
            return None
        parents.append(parent)
    return parents + [str(name)]


def root_stack_id(hints):
    value = hints.get(ROOT_STACK_ID)
    if isinstance(value, list):
        value = value[0] if value else None
    return value or None


def orchestration_id(root_id, path):
    """The orchestration id of the server at ``path`` in a root stack."""
    return str(uuid.uuid5(_NAMESPACE, json.dumps([root_id] + list(path))))


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _groups_of(metadata):
    """Group references already in a server's ``metadata.valet``."""
    if not isinstance(metadata, dict):
        return []
    valet = metadata.get('valet')
    if isinstance(valet, str):
        try:
            valet = json.loads(valet)
        except ValueError:
            return None     # the API reports it
    if valet is None:
        return []
    if not isinstance(valet, dict):
        return None
    return _as_list(valet.get('groups'))


def plan_resources(root_id, root_name, entries):
    """The ``resources`` of a plan for a root stack.

    ``entries`` are dicts ``{"path": [...], "type": str, "properties":
    {...}}``, one per resource of the stack and its nested stacks (nested
    stack resources themselves need not be listed). Servers are kept with
    the properties the engine reads; each ``OS::Valet::GroupAssignment``
    adds its group to every server it names — a server of its own stack,
    or every server under a resource of its own stack (a nested stack, a
    ResourceGroup) — so the plan carries memberships on servers only.
    """
    servers = {}
    assignments = []
    # get_resource of an OS::Valet::Group not created yet (always so in a
    # preview) gives the Heat resource name: map it to the group's name.
    group_names = {}
    for entry in entries:
        if entry.get('type') == GROUP_TYPE:
            name = (entry.get('properties') or {}).get('name')
            if name:
                group_names[tuple(str(p) for p in entry['path'])] = name

    def group_name(prefix, ref):
        # The group resource may be in this stack or in one above it
        # (passed down as a parameter).
        if not isinstance(ref, str):
            return ref
        for depth in range(len(prefix), -1, -1):
            found = group_names.get(tuple(prefix[:depth]) + (ref,))
            if found:
                return found
        return ref

    for entry in entries:
        path = [str(p) for p in entry['path']]
        props = entry.get('properties') or {}
        if entry.get('type') == SERVER_TYPE:
            kept = {key: copy.deepcopy(props[key])
                    for key in SERVER_PROPERTIES
                    if props.get(key) is not None}
            groups = _groups_of(kept.get('metadata'))
            if groups:
                kept['metadata']['valet'] = {'groups': [
                    group_name(path[:-1], g) for g in groups]}
            servers[tuple(path)] = kept
        elif entry.get('type') in ASSIGNMENT_TYPES:
            group = props.get('group') or props.get('group_name')
            if group:
                assignments.append((path[:-1], group_name(path[:-1], group),
                                    _as_list(props.get('resources'))))
    for prefix, group, names in assignments:
        for name in names:
            target = tuple(prefix + [str(name)])
            for path, props in servers.items():
                if path[:len(target)] != target:
                    continue
                metadata = props.setdefault('metadata', {})
                groups = _groups_of(metadata)
                if groups is None:
                    continue
                if group not in groups:
                    metadata['valet'] = {'groups': groups + [group]}
    resources = {}
    for path, props in servers.items():
        path = list(path)
        oid = orchestration_id(root_id, path)
        resources[oid] = {
            'name': '/'.join(path), 'type': SERVER_TYPE,
            'properties': props,
            'metadata': {ROOT_STACK_ID: root_id, STACK_NAME: root_name,
                         RESOURCE_NAME: path[-1], RESOURCE_PATH: path}}
    return resources
