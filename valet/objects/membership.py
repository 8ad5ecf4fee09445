"""Every way a server joins a Valet group, read in one place.

A server names its groups (by name or id) in any of these, and all count:

* its metadata: ``valet`` as a mapping or JSON text ``{"groups": [...]}``
  (Heat templates, ``nova boot --meta valet='{"groups": ["g"]}'``), or
  ``valet_groups`` as comma-separated names (metadata set on a running
  server, read back from Nova);
* ``OS::Valet::GroupAssignment`` resources of the same plan: ``group`` is a
  group name or id, or ``{"get_resource": X}`` where X is an
  ``OS::Valet::Group`` resource of the plan; ``resources`` lists server
  resource names, orchestration ids or ``{"get_resource": name}``.
  ``ATT::Valet::GroupAssignment`` (the earlier spelling) works the same
  with ``group_name``;
* its flavor's extra spec ``valet`` (JSON ``{"groups": [...]}``) or
  ``valet:groups`` (comma-separated names).

The parser only reads shapes: whether a group exists, and whether the
project may use it, is for the caller (the API, or the engine for flavor
extra specs, which only the engine knows). Every shape error is a
``MembershipError`` naming the resource and the key at fault.
"""

import json
import re

from valet.objects import group as group_mod

SERVER_TYPE = 'OS::Nova::Server'
GROUP_TYPE = 'OS::Valet::Group'
ASSIGNMENT_TYPE = 'OS::Valet::GroupAssignment'
LEGACY_ASSIGNMENT_TYPE = 'ATT::Valet::GroupAssignment'
ASSIGNMENT_TYPES = (ASSIGNMENT_TYPE, LEGACY_ASSIGNMENT_TYPE)

METADATA_KEY = 'valet'
LIST_KEY = 'valet_groups'
EXTRA_SPEC_KEY = 'valet'
EXTRA_SPEC_LIST_KEY = 'valet:groups'

MAX_GROUPS = 64
# A group name (RFC 3986 unreserved characters) or id.
REF = re.compile(r'^[A-Za-z0-9._~:-]{1,255}$')
# The same without the surrounding blanks REF's users strip first.
_PLAIN_REF = re.compile(r'[A-Za-z0-9._~:-]{1,255}')
USAGE = ('{"groups": ["<group name or id>", ...]}')


class MembershipError(ValueError):
    """A group membership written in a shape Valet does not read."""

    def __init__(self, message, resource=None):
        super().__init__(message)
        self.message = message
        self.resource = resource


def _unique(refs):
    # Keep the first mention of each reference, in order.
    return tuple(dict.fromkeys(refs))


def _names(value, where, resource):
    """A list of group names or ids."""
    if not isinstance(value, list) or not all(
            isinstance(n, str) and REF.match(n.strip()) for n in value):
        raise MembershipError('%s must be a list of group names or ids '
                              '(letters, digits and ._~:-)' % where,
                              resource)
    if len(value) > MAX_GROUPS:
        raise MembershipError('%s names %d groups; at most %d are allowed'
                              % (where, len(value), MAX_GROUPS), resource)
    return [n.strip() for n in value]


def group_list(value, where, resource=None):
    """A plain list of group names or ids (an inventory's ``groups``)."""
    if value is None:
        return ()
    return _unique(_names(value, where, resource))


def _decoded(value, where, resource):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise MembershipError('%s is not valid JSON; use %s'
                                  % (where, USAGE), resource)
    return value


def _comma_list(value, where, resource):
    if isinstance(value, list):
        return _names(value, where, resource)
    if not isinstance(value, str):
        raise MembershipError('%s must be comma-separated group names'
                              % where, resource)
    return _names([n for n in value.split(',') if n.strip()], where,
                  resource)


def valet_value(value, where, resource=None):
    """The groups of a ``valet`` value: a mapping or JSON text."""
    if value is None or value == '':
        return ()
    value = _decoded(value, where, resource)
    if not isinstance(value, dict):
        raise MembershipError('%s must be an object like %s'
                              % (where, USAGE), resource)
    unknown = sorted(set(value) - {'groups'})
    if unknown:
        raise MembershipError('%s has unknown key(s) %s; use %s' % (
            where, ', '.join(map(str, unknown)), USAGE), resource)
    if value.get('groups') is None:
        return ()
    return _unique(_names(value['groups'], where + '.groups', resource))


def from_metadata(metadata, where='metadata', resource=None):
    """Group references in server metadata (a mapping or JSON text)."""
    if metadata is None or metadata == '':
        return ()
    metadata = _decoded(metadata, where, resource)
    if not isinstance(metadata, dict):
        raise MembershipError('%s must be an object' % where, resource)
    refs = list(valet_value(metadata.get(METADATA_KEY),
                            '%s.%s' % (where, METADATA_KEY), resource))
    if metadata.get(LIST_KEY) not in (None, ''):
        refs += _comma_list(metadata[LIST_KEY],
                            '%s.%s' % (where, LIST_KEY), resource)
    return _unique(refs)


def from_extra_specs(extra_specs, flavor=None):
    """Group references in a flavor's extra specs."""
    specs = extra_specs or {}
    where = 'extra spec %%s of flavor %s' % flavor if flavor else \
        'flavor extra spec %s'
    refs = list(valet_value(specs.get(EXTRA_SPEC_KEY),
                            where % EXTRA_SPEC_KEY))
    if specs.get(EXTRA_SPEC_LIST_KEY) not in (None, ''):
        refs += _comma_list(specs[EXTRA_SPEC_LIST_KEY],
                            where % EXTRA_SPEC_LIST_KEY, None)
    return _unique(refs)


# Lists of plain names already read, by their tuple, with what they
# read as: a plan's servers name the same few groups, and each list was
# checked name by name (a regular expression apiece) on every server, in
# the API and again in the engine. Only lists of plain text are kept, so
# a tuple equal to a key is one of text equal to it.
_PLAIN_LISTS = {}
_MAX_PLAIN_LISTS = 512


def _plain_names(names):
    """``_unique(names)`` when ``names`` (a list) holds at most MAX_GROUPS
    plain names (no blanks to strip), else None."""
    try:
        return _PLAIN_LISTS[tuple(names)]
    except KeyError:
        pass
    except TypeError:       # an element that is no name (a dict, a list)
        return None
    if len(names) > MAX_GROUPS or not all(
            type(n) is str and _PLAIN_REF.fullmatch(n) for n in names):
        return None
    refs = _unique(names)
    if len(_PLAIN_LISTS) >= _MAX_PLAIN_LISTS:
        _PLAIN_LISTS.clear()
    _PLAIN_LISTS[tuple(names)] = refs
    return refs


def _common_refs(metadata):
    """The references of ``metadata`` in its common shapes (none, or
    ``valet`` a mapping listing plain names), or None: ``from_metadata``
    then reads it, and words any error. Every plan names each server's
    groups, and the parse runs in the API and again in the engine: the
    common shape skips building the error wording for every server."""
    if metadata is None or metadata == '':
        return ()
    if type(metadata) is not dict or metadata.get(LIST_KEY) not in (
            None, ''):
        return None
    value = metadata.get(METADATA_KEY)
    if value is None or value == '':
        return ()
    if type(value) is not dict or len(value) != 1:
        return None
    names = value.get('groups')
    if type(names) is not list:
        return None
    return _plain_names(names)


def server_metadata_refs(orch_id, resource):
    """Group references in one server resource's properties.metadata."""
    properties = resource.get('properties') or {}
    if not isinstance(properties, dict):
        raise MembershipError('resource %s: properties must be an object'
                              % orch_id, orch_id)
    metadata = properties.get('metadata')
    refs = _common_refs(metadata)
    if refs is not None:
        return refs
    return from_metadata(metadata,
                         'resource %s: properties.metadata' % orch_id,
                         orch_id)


def _sorted_ids(resources):
    """The ids of ``resources`` sorted as text (``sorted(key=str)``), without
    a str() call per id when they are all text already (JSON's keys are)."""
    if all(type(k) is str for k in resources):
        return sorted(resources)
    return sorted(resources, key=str)


def _get_resource(value):
    if isinstance(value, dict) and list(value) == ['get_resource']:
        return value['get_resource']
    return None


class _PlanIndex:
    """Resources of one plan by orchestration id and by resource name."""

    def __init__(self, resources):
        self.resources = resources
        self.by_name = {}
        for orch_id, resource in resources.items():
            name = resource.get('name') if isinstance(resource, dict) \
                else None
            if isinstance(name, str):
                self.by_name.setdefault(name, orch_id)

    def find(self, ref):
        if not isinstance(ref, str):
            return None
        if ref in self.resources:
            return ref
        return self.by_name.get(ref)

    def type_of(self, orch_id):
        resource = self.resources.get(orch_id)
        return resource.get('type') if isinstance(resource, dict) else None


def _assignment_group(index, orch_id, properties, legacy):
    key = 'group_name' if legacy else 'group'
    value = properties.get(key)
    if value is None or value == '':
        if legacy:
            raise MembershipError(
                'resource %s: ATT::Valet::GroupAssignment needs group_name; '
                'anonymous groups are not supported, create the group with '
                'POST /v1/groups and name it' % orch_id, orch_id)
        raise MembershipError(
            "resource %s: property 'group' must be specified (a group name "
            'or id, or {"get_resource": <OS::Valet::Group resource>})'
            % orch_id, orch_id)
    target = _get_resource(value)
    if target is not None:
        found = index.find(target)
        if found is None or index.type_of(found) != GROUP_TYPE:
            raise MembershipError(
                'resource %s: group refers to %r, which is not an %s '
                'resource of this plan' % (orch_id, target, GROUP_TYPE),
                orch_id)
        group_props = index.resources[found].get('properties') or {}
        name = group_props.get('name') if isinstance(group_props, dict) \
            else None
        if not isinstance(name, str) or not name.strip():
            raise MembershipError(
                'resource %s: %s resource %s has no properties.name, so '
                'the group it stands for is unknown' % (
                    orch_id, GROUP_TYPE, target), orch_id)
        return name.strip()
    if not isinstance(value, str) or not value.strip():
        raise MembershipError(
            'resource %s: %s must be a group name or id, or '
            '{"get_resource": <OS::Valet::Group resource>}'
            % (orch_id, key), orch_id)
    return value.strip()


def _assignment_members(index, orch_id, properties):
    members = properties.get('resources')
    if not isinstance(members, list) or not members:
        raise MembershipError(
            'resource %s: property resources must list the servers to '
            'assign (resource names or {"get_resource": name})' % orch_id,
            orch_id)
    out = []
    for item in members:
        ref = _get_resource(item)
        ref = item if ref is None else ref
        found = index.find(ref)
        if found is None:
            raise MembershipError(
                'resource %s: resources names %r, which is not a resource '
                'of this plan' % (orch_id, ref), orch_id)
        kind = index.type_of(found)
        if kind != SERVER_TYPE:
            raise MembershipError(
                'resource %s: resources names %r, a %s; only %s resources '
                'can join a group' % (orch_id, ref, kind, SERVER_TYPE),
                orch_id)
        out.append(found)
    return out


def from_assignments(resources):
    """``{server orchestration id: (group refs)}`` from assignment
    resources, in the order the assignments appear (sorted by id)."""
    if not isinstance(resources, dict):
        return {}
    # A plain loop: most plans have no assignment, and this look runs
    # for every plan in the API and again in the engine.
    for r in resources.values():
        if isinstance(r, dict) and r.get('type') in ASSIGNMENT_TYPES:
            break
    else:
        return {}
    index = _PlanIndex(resources)
    out = {}
    for orch_id in _sorted_ids(resources):
        resource = resources[orch_id]
        if not isinstance(resource, dict) or \
                resource.get('type') not in ASSIGNMENT_TYPES:
            continue
        properties = resource.get('properties') or {}
        if not isinstance(properties, dict):
            raise MembershipError('resource %s: properties must be an '
                                  'object' % orch_id, orch_id)
        legacy = resource['type'] == LEGACY_ASSIGNMENT_TYPE
        group = _assignment_group(index, orch_id, properties, legacy)
        for server in _assignment_members(index, orch_id, properties):
            out.setdefault(server, [])
            if group not in out[server]:
                out[server].append(group)
    return {k: tuple(v) for k, v in out.items()}


def _with_groups(resource, names):
    """A copy of a server resource that lists exactly ``names`` (group
    names) in ``properties.metadata.valet``, the form the engine reads once
    group references are resolved; its other metadata stays. Only the
    levels it changes (resource, properties, metadata) are new: the rest is
    the caller's. A resource in that form already (its servers named
    their groups by name, the usual) is the caller's own, unchanged."""
    properties = resource.get('properties')
    if type(properties) is dict:
        metadata = properties.get('metadata')
        if type(metadata) is dict and LIST_KEY not in metadata:
            value = metadata.get(METADATA_KEY)
            if type(value) is dict and len(value) == 1:
                listed = value.get('groups')
                if type(listed) is list and listed == list(names):
                    return resource
    properties = dict(properties) if isinstance(properties, dict) else {}
    metadata = properties.get('metadata')
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    metadata.pop(LIST_KEY, None)
    metadata[METADATA_KEY] = {'groups': list(names)}
    properties['metadata'] = metadata
    return dict(resource, properties=properties)


def from_plan(resources):
    """``{server orchestration id: (group refs)}`` for every server of a
    plan that names a group, through its metadata or an assignment."""
    if not isinstance(resources, dict):
        return {}
    assigned = from_assignments(resources)
    out = {}
    for orch_id in _sorted_ids(resources):
        resource = resources[orch_id]
        if not isinstance(resource, dict) or \
                resource.get('type') != SERVER_TYPE:
            continue
        refs = server_refs(orch_id, resource, assigned)
        if refs:
            out[orch_id] = refs
    return out


def server_refs(orch_id, resource, assigned):
    """The group references of one server resource of a plan (a tuple,
    without repeats): its metadata's, then those ``assigned`` to it
    (``from_assignments`` of the plan). ``from_plan`` for one server,
    for a caller that reads a plan's servers one by one anyway."""
    # server_metadata_refs' common case, without its calls.
    properties = resource.get('properties')
    refs = _common_refs(properties.get('metadata')) if type(
        properties) is dict else None
    if refs is None:
        refs = server_metadata_refs(orch_id, resource)
    more = assigned.get(orch_id) if assigned else None
    if more:
        refs = _unique(refs + more)
    # Without assignments: unique already (server_metadata_refs).
    return refs


def resolve(resources, require, find):
    """``(resources, definitions)``: a new mapping of a plan's
    ``resources`` in which every server lists all its groups by name in
    ``properties.metadata.valet``, and ``{name: definition}`` of those
    groups and of every group they are nested in.

    ``resources`` is not changed. Only the servers whose metadata does not
    list their groups by name already are copied (as deep as their
    metadata); every other resource is the caller's own object, shared:
    callers remove entries from the mapping, or send it on, but change no
    resource in it.

    ``require(ref, orchestration id, resource)`` gives the stored group a
    server names, or raises the caller's error (not found, not a member);
    ``find(name)`` gives an enclosing group, or None. Shape errors raise
    ``MembershipError``.
    """
    memberships = from_plan(resources)
    resolved = dict(resources)
    chosen = {}
    for orch_id, refs in memberships.items():
        resource = resources[orch_id]
        if len(refs) == 1:
            # Most servers name one group: no list, no generators.
            group = require(refs[0], orch_id, resource)
            names = (group.name,)
            chosen[group.name] = group
        else:
            groups = [require(ref, orch_id, resource) for ref in refs]
            names = dict.fromkeys(g.name for g in groups)
            chosen.update((g.name, g) for g in groups)
        resolved[orch_id] = _with_groups(resource, names)
    definitions = {
        name: g.definition() for name, g in
        group_mod.with_ancestors(chosen.values(), find).items()}
    return resolved, definitions
