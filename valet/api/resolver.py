"""Resolve the Valet groups a plan's servers join.

A server joins groups through its metadata (``valet`` as a mapping or JSON
text ``{"groups": [name or id, ...]}``, or ``valet_groups``) and through
the plan's ``OS::Valet::GroupAssignment`` resources; both are read by the
one parser in ``valet.objects.membership``. Each group must exist (404)
and, when it has members, the caller's project must be one of them (409).
The engine receives a copy of the resources in which every server lists
all its groups by name in ``properties.metadata.valet``, plus the
definitions of the groups and of the groups they are nested in. Groups a
flavor's extra specs name are the engine's to resolve (only it knows the
flavors), with the same answers.
"""

from valet.api import errors
from valet.objects import membership
from valet.storage import base as storage_base


def _invalid(exc):
    return errors.APIError(
        400, errors.GROUP_METADATA_INVALID,
        '%s; a server joins groups with properties.metadata.valet = '
        '{"groups": ["<group name or id>", ...]} or an '
        'OS::Valet::GroupAssignment {"group": <name, id or get_resource>, '
        '"resources": [<server>, ...]}.' % exc.message)


class GroupResolver:
    """Looks groups up in storage once per request."""

    def __init__(self, storage, project_id):
        self.storage = storage
        self.project_id = project_id
        self._cache = {}
        # Groups this project may use, by reference: a plan names the
        # same few groups on many servers.
        self._allowed = {}

    def _lookup(self, ref):
        if ref not in self._cache:
            try:
                self._cache[ref] = self.storage.get_group(ref)
            except storage_base.NotFound:
                self._cache[ref] = None
        return self._cache[ref]

    def _require(self, ref, orch_id=None, resource=None):
        group = self._allowed.get(ref)
        if group is not None:
            return group
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
        self._allowed[ref] = group
        return group

    def resolve(self, resources):
        """(resources for the engine, {group name: definition})."""
        try:
            resolved, definitions = membership.resolve(
                resources, self._require, self._lookup)
        except membership.MembershipError as exc:
            raise _invalid(exc)
        # Their memberships are in the servers' metadata now.
        for orch_id in [k for k, r in resolved.items()
                        if r.get('type') in membership.ASSIGNMENT_TYPES]:
            del resolved[orch_id]
        return resolved, definitions
