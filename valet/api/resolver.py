"""Resolve the Valet groups a plan's servers ask for.

A server names its groups in ``properties.metadata.valet`` — a dict or a
JSON string (Nova metadata values are strings) of the form
``{"groups": [name or id, ...]}``. Each group must exist (404) and, when
it has members, the caller's project must be one of them (409). The
engine receives a copy of the resources in which every reference is the
group's name and ``valet`` is a dict, plus the definitions of the groups
and of the groups they are nested in.
"""

import copy
import json

from valet.api import errors
from valet.api import schemas
from valet.api.schemas import groups as group_schema
from valet.storage import base as storage_base

SERVER_TYPES = ('OS::Nova::Server',)


def _group_refs(orch_id, resource):
    """The group references of one server, or None when it has none."""
    metadata = (resource.get('properties') or {}).get('metadata')
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise _invalid(orch_id, 'properties.metadata must be an object')
    valet = metadata.get('valet')
    if valet is None:
        return None
    if isinstance(valet, str):
        try:
            valet = json.loads(valet)
        except ValueError:
            raise _invalid(orch_id, 'properties.metadata.valet is not '
                                    'valid JSON')
    schemas.validate(valet, group_schema.SERVER_VALET_METADATA,
                     what='properties.metadata.valet of resource %s'
                     % orch_id)
    return valet.get('groups', [])


def _invalid(orch_id, what):
    return errors.APIError(
        400, errors.GROUP_METADATA_INVALID,
        'Resource %s: %s; use {"groups": ["<group name or id>", ...]}.'
        % (orch_id, what))


def _definition(group):
    return {'name': group.name, 'type': group.type, 'level': group.level,
            'parents': list(group.parents)}


class GroupResolver:
    """Looks groups up in storage once per request."""

    def __init__(self, storage, project_id):
        self.storage = storage
        self.project_id = project_id
        self._cache = {}

    def _lookup(self, ref):
        if ref not in self._cache:
            try:
                self._cache[ref] = self.storage.get_group(ref)
            except storage_base.NotFound:
                self._cache[ref] = None
        return self._cache[ref]

    def _require(self, ref):
        group = self._lookup(ref)
        if group is None:
            raise errors.APIError(
                404, errors.GROUP_NOT_FOUND,
                "Group '%s' not found; create it with POST /v1/groups "
                'before referring to it.' % ref)
        if group.members and self.project_id not in group.members:
            raise errors.APIError(
                409, errors.GROUP_NOT_MEMBER,
                'Project %s is not a member of group %s (%s); an '
                'administrator can add it with PUT /v1/groups/%s/members.'
                % (self.project_id, group.name, group.id, group.id))
        return group

    def _with_ancestors(self, groups, definitions):
        """Add the definitions of ``groups`` and every enclosing group."""
        todo = list(groups)
        while todo:
            group = todo.pop()
            if group.name in definitions:
                continue
            definitions[group.name] = _definition(group)
            for parent in group.parents:
                found = self._lookup(parent)
                # A parent deleted under us is the engine's to report.
                if found is not None:
                    todo.append(found)

    def resolve(self, resources):
        """(resources for the engine, {group name: definition})."""
        resolved = copy.deepcopy(resources)
        definitions = {}
        for orch_id, resource in resolved.items():
            if resource.get('type') not in SERVER_TYPES:
                continue
            refs = _group_refs(orch_id, resource)
            if refs is None:
                continue
            groups = [self._require(ref) for ref in refs]
            names = list(dict.fromkeys(g.name for g in groups))
            resource['properties']['metadata']['valet'] = {'groups': names}
            self._with_ancestors(groups, definitions)
        return resolved, definitions
