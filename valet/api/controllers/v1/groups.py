"""/v1/groups: QoS groups and their member projects.

Groups are global (not project-owned) and the only objects the API writes
itself. Membership changes re-read and retry on a lost optimistic-
concurrency race instead of overwriting another writer's change.
"""

from oslo_config import cfg

from valet.api.controllers import base
from valet.api import errors
from valet.api import projects
from valet.api import router
from valet.api.schemas import groups as schema
from valet import objects
from valet.policies import groups as policies
from valet import policy
from valet.storage import base as storage_base

DEFAULT_LEVELS = ('host', 'rack', 'zone', 'region')
_RETRIES = 3


def topology_levels(conf):
    """The configured topology levels ([inventory] levels), lowest first.

    A static inventory file may name its own levels; the engine then
    rejects a group whose level that inventory lacks.
    """
    try:
        levels = conf.inventory.levels
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        levels = None
    return tuple(levels or DEFAULT_LEVELS)


def not_found(ref):
    return errors.APIError(
        404, errors.GROUP_NOT_FOUND,
        "Group '%s' not found; GET /v1/groups lists the groups, POST "
        "/v1/groups creates one." % ref)


class GroupsController(base.Controller):

    def routes(self):
        return [
            router.Route((), {'GET': self.list, 'POST': self.create}),
            router.Route(('{group_id}',), {'GET': self.show,
                                           'PUT': self.update,
                                           'DELETE': self.delete}),
            router.Route(('{group_id}', 'members'),
                         {'PUT': self.add_members,
                          'DELETE': self.remove_members}),
            router.Route(('{group_id}', 'members', '{project_id}'),
                         {'GET': self.show_member,
                          'DELETE': self.remove_member}),
        ]

    # ------------------------------------------------------------ helpers
    def _get(self, ref):
        try:
            return self.storage.get_group(ref)
        except storage_base.NotFound:
            raise not_found(ref)

    def _change(self, ref, mutate):
        """Apply ``mutate(group)`` and store it, retrying lost races."""
        for _attempt in range(_RETRIES):
            group = self._get(ref)
            mutate(group)
            try:
                stored = self.storage.update_group(group)
            except storage_base.Conflict:
                continue
            return stored if stored is not None else group
        raise errors.APIError(
            409, errors.STORAGE_CONFLICT,
            'Group %s is being changed by other requests; retry.' % ref)

    def _projects_with_servers(self, ctx, group, projects):
        """Which of ``projects`` still have servers placed in ``group``."""
        servers = self.engine.group_members(self.rpc_context(ctx),
                                            group.name) or []
        busy = {s.get('project_id') for s in servers}
        return sorted(p for p in projects if p in busy)

    # ----------------------------------------------------------- handlers
    def list(self, req):
        ctx = self.context(req)
        policy.authorize(ctx, policies.LIST)
        return {'groups': [g.to_dict() for g in self.storage.list_groups()]}

    def create(self, req):
        ctx = self.context(req)
        policy.authorize(ctx, policies.CREATE)
        body = self.body(req, schema.create(topology_levels(self.conf)))
        group = objects.Group(name=body['name'], type=body['type'],
                              level=body['level'],
                              description=body.get('description', ''))
        try:
            stored = self.storage.create_group(group)
        except storage_base.Conflict:
            raise errors.APIError(
                409, errors.GROUP_DUPLICATE,
                "A group named '%s' already exists; group names are unique "
                'across the cloud.' % group.name)
        # v1 answers creates and updates with the bare group.
        return 201, (stored if stored is not None else group).to_dict()

    def show(self, req, group_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.SHOW)
        return {'group': self._get(group_id).to_dict()}

    def update(self, req, group_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.UPDATE)
        body = self.body(req, schema.UPDATE)

        def mutate(group):
            group.description = body['description']
        return 201, self._change(group_id, mutate).to_dict()

    def delete(self, req, group_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.DELETE)
        group = self._get(group_id)
        if group.members:
            raise errors.APIError(
                409, errors.GROUP_HAS_MEMBERS,
                'Unable to delete group %s: it has members; remove them '
                'first with DELETE /v1/groups/%s/members.'
                % (group.name, group.id))
        servers = self.engine.group_members(self.rpc_context(ctx),
                                            group.name)
        if servers:
            raise errors.APIError(
                409, errors.GROUP_MEMBER_IN_USE,
                'Unable to delete group %s: %d placed server(s) still '
                'belong to it; delete their plans first.'
                % (group.name, len(servers)))
        try:
            self.storage.delete_group(group.id)
        except storage_base.NotFound:
            raise not_found(group_id)
        return 204, None

    def add_members(self, req, group_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.ADD_MEMBERS)
        new = self.body(req, schema.MEMBERS)['members']
        unknown = projects.unknown_projects(req.environ, dict.fromkeys(new))
        if unknown:
            raise errors.APIError(
                409, errors.GROUP_MEMBERS_INVALID,
                'Member list contains project ids Keystone does not know: '
                '%s. Nothing was added.' % ', '.join(unknown))

        def mutate(group):
            group.members = list(group.members) + [
                p for p in dict.fromkeys(new) if p not in group.members]
        return 201, self._change(group_id, mutate).to_dict()

    def remove_members(self, req, group_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.REMOVE_MEMBERS)
        group = self._get(group_id)
        busy = self._projects_with_servers(ctx, group, group.members)
        if busy:
            raise errors.APIError(
                409, errors.GROUP_MEMBER_IN_USE,
                'Project(s) %s still have servers in group %s; delete '
                'those servers first.' % (', '.join(busy), group.name))

        def mutate(g):
            g.members = []
        self._change(group.id, mutate)
        return 204, None

    def show_member(self, req, group_id, project_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.SHOW_MEMBER)
        group = self._get(group_id)
        if project_id not in group.members:
            raise self._member_not_found(group, project_id)
        return 204, None

    def remove_member(self, req, group_id, project_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.REMOVE_MEMBERS)
        group = self._get(group_id)
        if project_id not in group.members:
            raise self._member_not_found(group, project_id)
        if self._projects_with_servers(ctx, group, [project_id]):
            raise errors.APIError(
                409, errors.GROUP_MEMBER_IN_USE,
                'Project %s still has servers in group %s; delete those '
                'servers first.' % (project_id, group.name))

        def mutate(g):
            if project_id not in g.members:
                raise self._member_not_found(g, project_id)
            g.members = [p for p in g.members if p != project_id]
        self._change(group.id, mutate)
        return 204, None

    @staticmethod
    def _member_not_found(group, project_id):
        return errors.APIError(
            404, errors.GROUP_MEMBER_NOT_FOUND,
            'Project %s is not a member of group %s.'
            % (project_id, group.name))
