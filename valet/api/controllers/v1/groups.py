"""/v1/groups: QoS groups and their member projects.

Groups are global (not project-owned). The API validates, authorises and
renders; every change (create, update, delete, member projects) is made
by the engine over RPC, which stores it and updates its model before the
API answers, so that the next plan sees it. Reads come from storage.
"""

from oslo_config import cfg

from valet.api.controllers import base
from valet.api import errors
from valet.api import microversion
from valet.api import projects
from valet.api import router
from valet.api.schemas import groups as schema
from valet import objects
from valet.objects import group_kinds
from valet.policies import groups as policies
from valet import policy
from valet.storage import base as storage_base

DEFAULT_LEVELS = group_kinds.DEFAULT_LEVELS
# Groups nest (``parents``) from this microversion on.
NESTING_VERSION = '1.4'
# Each group kind, and its parameters, from the microversion the group
# vocabulary names for it (group_kinds.TABLE).


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
            router.Route((), {'GET': self.list, 'POST': self.create},
                         query=('GET',)),
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

    def _rendered(self, req, group):
        """The v1 representation, with ``parents`` from 1.4 on and the
        kind's parameters from the kind's microversion on."""
        if isinstance(group, dict):
            group = objects.Group.from_portable(group)
        out = group.to_dict()
        if self._nesting(req):
            out['parents'] = list(group.parents)
        kind = group_kinds.BY_NAME.get(group.type)
        if kind is not None and microversion.at_least(req.environ,
                                                      kind.since):
            # Table order, whatever order storage kept them in.
            for spec in kind.parameters:
                if group.parameters.get(spec.name) is not None:
                    out[spec.name] = group.parameters[spec.name]
        return out

    @staticmethod
    def _kinds(req):
        """The group kinds the request's microversion exposes."""
        return tuple(kind.name for kind in group_kinds.TABLE
                     if microversion.at_least(req.environ, kind.since))

    @staticmethod
    def _nesting(req):
        return microversion.at_least(req.environ, NESTING_VERSION)

    @staticmethod
    def _nesting_project(ctx):
        # Whoever may add projects to any group may nest in any group;
        # others only in groups open to their project.
        if policy.authorize(ctx, policies.ADD_MEMBERS, do_raise=False):
            return None
        return ctx.project_id

    # ----------------------------------------------------------- handlers
    def list(self, req):
        ctx = self.context(req)
        policy.authorize(ctx, policies.LIST)
        page = self.page(req)
        return page.render('groups', self.storage.list_groups(
            limit=page.fetch, marker=page.marker),
            lambda g: self._rendered(req, g))

    def create(self, req):
        ctx = self.context(req)
        policy.authorize(ctx, policies.CREATE)
        nesting = self._nesting(req)
        body = self.body(req, schema.create(
            topology_levels(self.conf), self._kinds(req), nesting=nesting))
        group = {'name': body['name'], 'type': body['type'],
                 'level': body['level'],
                 'description': body.get('description', '')}
        # The schema let through only the parameters of the body's type;
        # the engine gets the defaults of those left out.
        group.update(group_kinds.with_defaults(
            body['type'], group_kinds.picked(body)))
        nested = {}
        if body.get('parents'):
            group['parents'] = body['parents']
            nested['project_id'] = self._nesting_project(ctx)
        stored = self.engine.create_group(self.rpc_context(ctx), group,
                                          **nested)
        # v1 answers creates and updates with the bare group.
        return 201, self._rendered(req, stored)

    def show(self, req, group_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.SHOW)
        return {'group': self._rendered(req, self._get(group_id))}

    def update(self, req, group_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.UPDATE)
        if not self._nesting(req):
            body = self.body(req, schema.UPDATE)
            return 201, self._rendered(req, self.engine.update_group(
                self.rpc_context(ctx), group_id, body['description']))
        body = self.body(req, schema.UPDATE_NESTED)
        nested = {}
        if 'parents' in body:
            nested = {'parents': body['parents'],
                      'project_id': self._nesting_project(ctx)}
        return 201, self._rendered(req, self.engine.update_group(
            self.rpc_context(ctx), group_id, body.get('description'),
            **nested))

    def delete(self, req, group_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.DELETE)
        self.engine.delete_group(self.rpc_context(ctx), group_id)
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
        return 201, self._rendered(req, self.engine.add_group_members(
            self.rpc_context(ctx), group_id, list(dict.fromkeys(new))))

    def remove_members(self, req, group_id):
        ctx = self.context(req)
        policy.authorize(ctx, policies.REMOVE_MEMBERS)
        self.engine.remove_group_members(self.rpc_context(ctx), group_id)
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
        self.engine.remove_group_members(self.rpc_context(ctx), group_id,
                                         project_id)
        return 204, None

    @staticmethod
    def _member_not_found(group, project_id):
        return errors.APIError(
            404, errors.GROUP_MEMBER_NOT_FOUND,
            'Project %s is not a member of group %s.'
            % (project_id, group.name))
