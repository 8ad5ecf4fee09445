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
from valet.objects import group_kinds
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


# ------------------------------------------------------------------ nesting
# Codes of the answers to a change of a group's ``parents`` (microversion
# 1.4). Every refusal is a 400 except a parent the caller's project may not
# use (409, like joining such a group) and deleting a group others are
# nested in (409).
PARENT_NOT_FOUND = 'valet.group.parent_not_found'
PARENT_SELF = 'valet.group.parent_self'
PARENT_NOT_MEMBER = 'valet.group.parent_not_member'
NESTING_CYCLE = 'valet.group.nesting_cycle'
NESTING_KIND = 'valet.group.nesting_kind'
NESTING_LEVEL = 'valet.group.nesting_level'
HAS_CHILDREN = 'valet.group.has_children'

# Diversity and exclusivity groups hold servers and affinity groups only:
# "apart from each other" of groups that must themselves be apart has no
# single meaning the solver could honour.
_CONTAINERS = tuple(kind for kind in group_kinds.KINDS
                    if kind != group_kinds.AFFINITY)


def _nesting_error(code, message, **details):
    return exception.BadRequest(message, code=code, details=details)


def resolve_parents(group, refs, find, levels, project_id=None):
    """The names of the groups ``refs`` (names or ids) that ``group`` may
    be nested in; BadRequest or Conflict saying why not.

    ``find(ref)`` gives a stored group or None; ``levels`` are the
    topology's levels, lowest first. ``project_id`` is the caller's
    project when it may only use groups open to it (None: any group).
    The rules are the solver's: no cycle, no diversity or exclusivity
    group inside another, and a child's level not above its parent's.
    """
    names = []
    for ref in refs:
        if ref in (group.name, group.id):
            raise _nesting_error(
                PARENT_SELF, "Group '%s' cannot be nested in itself."
                % group.name, group=group.name)
        parent = find(ref)
        if parent is None:
            raise _nesting_error(
                PARENT_NOT_FOUND,
                "Parent group '%s' not found; GET /v1/groups lists the "
                'groups a group can be nested in.' % ref, parent=ref)
        if parent.name in names:
            continue
        if project_id is not None and parent.members and \
                project_id not in parent.members:
            raise exception.Conflict(
                'Project %s is not a member of group %s, so it cannot nest '
                'groups in it; an administrator can add it with PUT '
                '/v1/groups/%s/members.' % (project_id, parent.name,
                                            parent.id),
                code=PARENT_NOT_MEMBER, details={'parent': parent.name})
        _check_no_cycle(group, parent, find)
        _check_pair(group, parent, levels)
        names.append(parent.name)
    return names


def _check_pair(child, parent, levels):
    if child.type in _CONTAINERS and parent.type in _CONTAINERS:
        raise _nesting_error(
            NESTING_KIND,
            "A %s group cannot be nested in a %s group ('%s' in '%s'): "
            'a %s group holds servers and affinity groups only.' % (
                child.type, parent.type, child.name, parent.name,
                parent.type),
            group=child.name, parent=parent.name)
    rank = {level: i for i, level in enumerate(levels)}
    if parent.level not in rank:
        raise _nesting_error(
            NESTING_LEVEL,
            "Group '%s' is at level '%s', which is not a level of this "
            "cloud's topology (%s); nothing can be nested in it."
            % (parent.name, parent.level, ', '.join(levels)),
            group=child.name, parent=parent.name)
    if rank.get(child.level, len(levels)) > rank[parent.level]:
        raise _nesting_error(
            NESTING_LEVEL,
            "Group '%s' (level %s) cannot be nested in group '%s' (level "
            "%s): a nested group's level may not be higher than its "
            "parent's." % (child.name, child.level, parent.name,
                           parent.level),
            group=child.name, parent=parent.name)


def _check_no_cycle(child, parent, find):
    # Walk up from the parent: meeting the child again closes a loop.
    path = [child.name, parent.name]
    seen = set()
    todo = [(parent, path)]
    while todo:
        current, trail = todo.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        for ref in current.parents:
            if ref in (child.name, child.id):
                cycle = trail + [child.name]
                raise _nesting_error(
                    NESTING_CYCLE,
                    'Nesting %s in %s would make a cycle: %s.' % (
                        child.name, parent.name, ' -> '.join(cycle)),
                    groups=cycle)
            above = find(ref)
            if above is not None:
                todo.append((above, trail + [above.name]))


def children_of(group, groups):
    """Names of the ``groups`` directly nested in ``group`` (parents are
    stored as names; an id written by other tools counts too)."""
    refs = {group.name, group.id}
    return sorted(g.name for g in groups if refs.intersection(g.parents))


def has_children(group, children):
    return exception.Conflict(
        'Unable to delete group %s: group(s) %s are nested in it; change '
        'their parents (PUT /v1/groups/{group_id} with "parents") or delete '
        'them first.' % (group.name, ', '.join(children)),
        code=HAS_CHILDREN, details={'children': children})
