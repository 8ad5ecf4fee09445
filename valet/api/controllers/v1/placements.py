"""/v1/placements: where each server of a plan goes.

Listing filters exactly (AND) on core fields and on any metadata key
(Heat's scheduler hints). Reserve and replan are engine decisions.
Placements are project-owned: another project's answers 404.
"""

import dataclasses

from valet.api.controllers import base
from valet.api import errors
from valet.api import microversion
from valet.api import request as api_request
from valet.api import router
from valet.api.schemas import placements as schema
from valet import objects
from valet.policies import placements as policies
from valet import policy
from valet.storage import base as storage_base

_ACTIONS = {'reserve': policies.RESERVE, 'replan': policies.REPLAN}


def render(data):
    """The v1 representation of the placement fields the engine
    answers (RPC carries domain data; fields it adds are left out)."""
    names = {f.name for f in dataclasses.fields(objects.Placement)}
    known = {k: v for k, v in data.items() if k in names}
    for key in ('name', 'orchestration_id', 'plan_id'):
        known.setdefault(key, None)
    return objects.Placement(**known).to_dict()


def not_found(ref):
    return errors.APIError(
        404, errors.PLACEMENT_NOT_FOUND,
        "Placement '%s' not found; address a placement by its id or its "
        'orchestration id.' % ref)


def _metadata_value(text):
    """Metadata filter values are JSON when they parse (so ``true`` and
    ``3`` match booleans and numbers; quote a string that looks like
    one), else plain strings."""
    try:
        return api_request.strict_json(text)
    except ValueError:
        return text


def split_filters(query):
    """(core field filters, metadata filters) from a validated query."""
    core, metadata = {}, {}
    for key, value in query.items():
        if key == 'reserved':
            core[key] = value == 'true'
        elif key in schema.CORE_FILTERS:
            core[key] = value
        else:
            metadata[key] = _metadata_value(value)
    return core, metadata


class PlacementsController(base.Controller):

    def routes(self):
        return [
            router.Route((), {'GET': self.list}, query=('GET',)),
            router.Route(('{placement_id}',), {'GET': self.show,
                                               'POST': self.act,
                                               'DELETE': self.delete}),
        ]

    def _get(self, ctx, ref, action):
        try:
            placement = self.storage.get_placement(ref)
        except storage_base.NotFound:
            raise not_found(ref)
        policy.authorize_owned(ctx, action, placement.project_id,
                               not_found(ref), policies.SHOW)
        return placement

    def list(self, req):
        ctx = self.context(req)
        policy.authorize(ctx, policies.LIST)
        page = self.page(req, schema.LIST_QUERY)
        core, metadata = split_filters(page.params)
        every = policy.authorize(ctx, policies.LIST_ALL_PROJECTS,
                                 do_raise=False)
        found = self.storage.list_placements(
            filters=core, metadata=metadata or None,
            project_id=None if every else ctx.project_id,
            limit=page.fetch, marker=page.marker)
        return page.render('placements', found, lambda p: p.to_dict())

    def show(self, req, placement_id):
        ctx = self.context(req)
        placement = self._get(ctx, placement_id, policies.SHOW)
        return {'placement': placement.to_dict()}

    def act(self, req, placement_id):
        ctx = self.context(req)
        # Validate first: the answer must not depend on whether a foreign
        # placement exists.
        body = self.body(req, schema.ACTION)
        action = body.get('action', 'reserve')
        hints = body.get('hints')
        if hints is not None:
            if not microversion.at_least(req.environ, '1.2'):
                raise errors.APIError(
                    400, errors.INVALID,
                    '"hints" needs OpenStack-API-Version: '
                    'workload-placement 1.2 or later.')
            if action == 'reserve' and not self._exists(placement_id):
                return self._reserve_stack_server(req, ctx, body)
        placement = self._get(ctx, placement_id, _ACTIONS[action])
        call = self.engine.placement_reserve if action == 'reserve' \
            else self.engine.placement_replan
        result = call(self.rpc_context(ctx), placement.id,
                      body['locations'], body.get('resource_id'))
        return 201, {'placement': render(result)}

    def _exists(self, ref):
        try:
            self.storage.get_placement(ref)
        except storage_base.NotFound:
            return False
        return True

    def _reserve_stack_server(self, req, ctx, body):
        """A server of a Heat stack Valet has no placement for: the
        engine finds it by the hints, planning the whole stack from Heat
        first if needed (Heat's convergence engine plans nothing before)."""
        policy.authorize(ctx, policies.RESERVE)
        every = policy.authorize(ctx, policies.LIST_ALL_PROJECTS,
                                 do_raise=False)
        result = self.engine.placement_reserve_stack_server(
            self.rpc_context(ctx), hints=body['hints'],
            locations=body['locations'],
            resource_id=body.get('resource_id'),
            project_id=ctx.project_id, any_project=bool(every))
        return 201, {'placement': render(result)}

    def delete(self, req, placement_id):
        ctx = self.context(req)
        placement = self._get(ctx, placement_id, policies.DELETE)
        self.engine.delete_placement(self.rpc_context(ctx), placement.id)
        return 204, None
