"""/v1/plans: the placement plan of a stack.

The API validates, authorises and resolves groups; the engine decides and
stores (create, update, migrate, delete). Plans are project-owned: another
project's plan answers 404 as if it did not exist.

The engine answers plan results (domain data, ``valet.engine.planning``);
the REST representation is built here. From microversion 1.8 a create or
update also returns the engine's ``decision`` and may be a dry run.
"""


from valet.api.controllers import base
from valet.api import errors
from valet.api import microversion
from valet.api import resolver
from valet.api import router
from valet.api.schemas import plans as schema
from valet.engine import local
from valet.policies import plans as policies
from valet import policy
from valet.storage import base as storage_base

DECISION_VERSION = '1.8'
# The decision's members are fixed by the microversion; the objective's
# values are whatever the engine minimised (clients ignore names they do
# not know), so new objective terms need no new microversion.
_DECISION = ('feasible', 'optimal', 'objective', 'moved', 'removed')
# Shown only when the engine refused (a dry run).
_REFUSAL = ('explanation', 'proven_infeasible')


def not_found(ref):
    return errors.APIError(
        404, errors.PLAN_NOT_FOUND,
        "Plan '%s' not found; address a plan by its id or its stack id."
        % ref)


def plan_exists(stack_id):
    return errors.APIError(
        409, errors.PLAN_EXISTS,
        'A plan for stack %s already exists; change it with PUT '
        '/v1/plans/%s (action "update") or delete it first.'
        % (stack_id, stack_id))


def render_plan(result):
    """The v1 representation of an engine plan result (the fields
    ``objects.Plan.to_dict`` gives), read straight from the result: no
    record object per placement. Fields a newer engine adds are left
    out."""
    plan = result['plan']
    return {'id': plan['id'], 'name': plan['name'],
            'stack_id': plan['stack_id'],
            'placements': {
                p['orchestration_id']: {'name': p['name'],
                                        'location': p.get('location')}
                for p in result['placements']}}


def render_decision(decision):
    """The ``decision`` object (1.8); its ``objective`` holds every value
    the engine reports, whatever their names."""
    out = {key: decision.get(key) for key in _DECISION}
    out['feasible'] = bool(out['feasible'])
    out['optimal'] = bool(out['optimal'])
    out['objective'] = dict(out['objective'] or {})
    out['moved'] = list(out['moved'] or [])
    out['removed'] = list(out['removed'] or [])
    if not out['feasible']:
        for key in _REFUSAL:
            out[key] = decision.get(key)
    return out


def render(req, result, status, dry_run=False):
    """``(status, body)`` of a create/update/migrate answer."""
    body = {'plan': render_plan(result)}
    if microversion.at_least(req.environ, DECISION_VERSION):
        body['decision'] = render_decision(result['decision'])
        if dry_run:
            body['dry_run'] = True
    return status, body


class PlansController(base.Controller):

    def routes(self):
        return [
            router.Route((), {'GET': self.list, 'POST': self.create},
                         query=('GET',)),
            router.Route(('{plan_id}',), {'GET': self.show,
                                          'PUT': self.update,
                                          'DELETE': self.delete}),
        ]

    # ------------------------------------------------------------ helpers
    def _get(self, ctx, ref, action):
        try:
            plan = self.storage.get_plan(ref)
        except storage_base.NotFound:
            raise not_found(ref)
        policy.authorize_owned(ctx, action, plan.project_id, not_found(ref),
                               policies.SHOW)
        return plan

    def _render(self, plan):
        placements = self.storage.list_placements(
            filters={'plan_id': plan.id})
        return plan.to_dict(placements)

    # ----------------------------------------------------------- handlers
    def list(self, req):
        ctx = self.context(req)
        policy.authorize(ctx, policies.LIST)
        page = self.page(req)
        every = policy.authorize(ctx, policies.LIST_ALL_PROJECTS,
                                 do_raise=False)
        project_id = None if every else ctx.project_id
        plans = self.storage.list_plans(project_id=project_id,
                                        limit=page.fetch, marker=page.marker)
        # One query for every listed plan's placements, not one per plan.
        by_plan = {}
        for placement in self.storage.list_placements(
                project_id=project_id,
                plan_ids=[p.id for p in plans] if page.paged else None):
            by_plan.setdefault(placement.plan_id, []).append(placement)
        return page.render('plans', plans,
                           lambda p: p.to_dict(by_plan.get(p.id, [])))

    def show(self, req, plan_id):
        ctx = self.context(req)
        return {'plan': self._render(self._get(ctx, plan_id,
                                               policies.SHOW))}

    def create(self, req):
        ctx = self.context(req)
        # A service (Nova's filter) may plan for other projects, and
        # needs the ordinary rule to plan for its own. A caller who may
        # do neither is refused before the body is read. The ordinary
        # rule is asked first: most callers plan for their own project,
        # and then it is the only rule asked.
        may_create = policy.authorize(ctx, policies.CREATE, do_raise=False)
        for_others = None
        if not may_create:
            for_others = policy.authorize(ctx, policies.CREATE_FOR_PROJECT,
                                          do_raise=False)
            if not for_others:
                policy.authorize(ctx, policies.CREATE)     # raises
        if microversion.at_least(req.environ, DECISION_VERSION):
            body = self.body(req, schema.CREATE_DRY_RUN)
        elif microversion.at_least(req.environ, '1.3'):
            body = self.body(req, schema.CREATE_FOR_PROJECT)
        else:
            body = self.body(req, schema.CREATE)
        project_id = body.get('project_id') or ctx.project_id
        if project_id != ctx.project_id:
            if not for_others:
                policy.authorize(ctx, policies.CREATE_FOR_PROJECT)
        elif not may_create:
            policy.authorize(ctx, policies.CREATE)              # raises
        dry_run = body.get('dry_run', False)
        # The engine refuses a second plan for a stack (its insert does,
        # under the engine's lock, and it looks the stack up when a create
        # fails); the API looks too only when the create fails, so that a
        # stack that exists answers 409 before any other error, whatever
        # engine answered.
        try:
            resources, groups = resolver.GroupResolver(
                self.storage, project_id).resolve(body['resources'])
            # Built from the decoded body for this call alone, and not
            # looked at again: the all-in-one engine takes it as it is.
            plan = local.HandedOver(plan_name=body['plan_name'],
                                    stack_id=body['stack_id'],
                                    project_id=project_id,
                                    resources=resources,
                                    groups=groups,
                                    locations=body.get('locations'))
            result = self.engine.plan_create(self.rpc_context(ctx), plan,
                                             dry_run=dry_run)
        except Exception as exc:
            if self._exists(exc, body['stack_id']):
                raise plan_exists(body['stack_id']) from None
            raise
        # A dry run creates nothing: 200, not 201.
        return render(req, result, 200 if dry_run else 201, dry_run)

    def _exists(self, exc, stack_id):
        """True when a create failed because ``stack_id`` has a plan."""
        if getattr(exc, 'code', None) == errors.PLAN_EXISTS:
            return True
        try:
            self.storage.get_plan(stack_id)
        except Exception:
            # Not found, or storage failing too: the first error stands.
            return False
        return True

    def update(self, req, plan_id):
        ctx = self.context(req)
        action = self.body(req, schema.ACTION)['action']
        if action == 'migrate':
            return self._migrate(req, ctx, plan_id)
        body = self.body(req, schema.UPDATE_DRY_RUN
                         if microversion.at_least(req.environ,
                                                  DECISION_VERSION)
                         else schema.UPDATE)
        plan = self._get(ctx, plan_id, policies.UPDATE)
        resources, groups = resolver.GroupResolver(
            self.storage, plan.project_id).resolve(body['resources'])
        dry_run = body.get('dry_run', False)
        result = self.engine.plan_update(
            self.rpc_context(ctx), plan.id, resources, groups,
            original_resources=body.get('original_resources'),
            plan_name=body.get('plan_name'), dry_run=dry_run)
        return render(req, result, 200 if dry_run else 201, dry_run)

    def _migrate(self, req, ctx, plan_id):
        body = self.body(req, schema.MIGRATE)
        plan = self._get(ctx, plan_id, policies.MIGRATE)
        resource = body['resources'][0]
        placements = self.storage.list_placements(
            filters={'plan_id': plan.id})
        if not any(resource in (p.orchestration_id, p.resource_id)
                   for p in placements):
            raise errors.APIError(
                400, errors.PLAN_RESOURCE_UNKNOWN,
                'Unknown resource or orchestration id %s in plan %s; give '
                'the orchestration id or Nova instance id of one of its '
                'servers.' % (resource, plan.id))
        result = self.engine.plan_migrate(
            self.rpc_context(ctx), plan.id, resource,
            body.get('excluded_hosts') or [])
        # Advice (nothing stored), answered 201 as it always was.
        return render(req, result, 201)

    def delete(self, req, plan_id):
        ctx = self.context(req)
        plan = self._get(ctx, plan_id, policies.DELETE)
        self.engine.delete_plan(self.rpc_context(ctx), plan.id)
        return 204, None
