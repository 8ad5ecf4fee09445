"""The engine's group records: what storage holds, kept by the engine.

Groups change only through the engine (``EngineEndpoint.create_group`` and
friends), so the records here, the stored rows and the model's definitions
change together, under the engine's lock: a plan decided right after a
group was created or changed sees it. The records also resolve the group
references the engine reads itself (flavor extra specs), with the same
answers the API gives for the references it resolves (404 for a group
nobody created, 409 for a project that is not a member).
"""

from valet.common import exception
from valet.objects import group as group_mod
from valet.storage import base as storage_base

GROUP_NOT_FOUND = 'valet.group.not_found'
GROUP_NOT_MEMBER = 'valet.group.not_member'


def unknown(ref):
    """A group a change or lookup names that nobody created."""
    return exception.NotFound(
        "Group '%s' not found; GET /v1/groups lists the groups, "
        'POST /v1/groups creates one.' % ref, code=GROUP_NOT_FOUND,
        details={'group': ref})


def not_found(ref, where=None):
    suffix = ' (named in %s)' % where if where else ''
    return exception.NotFound(
        "Group '%s'%s not found; create it with POST /v1/groups before "
        'referring to it.' % (ref, suffix), code=GROUP_NOT_FOUND,
        details={'group': ref})


class GroupRecords:
    """Stored groups by name, read once per model build."""

    def __init__(self, storage):
        self.storage = storage
        self.by_name = {}

    def load(self, groups):
        self.by_name = {g.name: g for g in groups}

    def find(self, ref):
        """A stored group by name or id; None when there is none."""
        if not isinstance(ref, str):
            return None
        group = self.by_name.get(ref)
        if group is not None:
            return group
        for group in self.by_name.values():
            if group.id == ref:
                return group
        # Written behind the engine's back (an older API, valet-manage):
        # storage is the truth.
        try:
            group = self.storage.get_group(ref)
        except storage_base.NotFound:
            return None
        self.by_name[group.name] = group
        return group

    def require(self, ref, project_id, where=None):
        """The group a plan refers to, usable by ``project_id``."""
        group = self.find(ref)
        if group is None:
            raise not_found(ref, where)
        if group.members and project_id not in group.members:
            raise exception.Conflict(
                'Project %s is not a member of group %s (%s); an '
                'administrator can add it with PUT /v1/groups/%s/members.'
                % (project_id, group.name, group.id, group.id),
                code=GROUP_NOT_MEMBER, details={'group': group.name})
        return group

    def with_ancestors(self, groups):
        """``{name: stored group}`` of ``groups`` and every enclosing one."""
        return group_mod.with_ancestors(groups, self.find)

    def remember(self, group):
        self.by_name[group.name] = group

    def forget(self, group):
        self.by_name.pop(group.name, None)
