"""The engine service: the RPC server side of ``valet.engine.rpcapi``.

The engine holds the data-centre model in memory and makes one decision at
a time (a lock serialises every call that reads or changes the model).
Every result is written to storage before the reply, and only then applied
to the model, so that a crash between the two loses nothing: a restarted
engine rebuilds its model from the inventory and every stored placement.
"""

import dataclasses
import datetime
import functools
import threading
import time

from oslo_log import log as logging
import oslo_messaging as messaging

from valet.common import exception
from valet.conf import engine as engine_conf
from valet.engine.model import datacenter
from valet.engine.model import errors as model_errors
from valet.engine.model import request as request_mod
from valet.engine import follow
from valet.engine import group_state
from valet.engine import planning
from valet.engine import reconcile
from valet.engine import rpcapi
from valet.engine import solver
from valet.engine import stacks
from valet.engine.solver import validator
from valet.engine import translate
from valet import objects
from valet.objects import group_kinds
from valet.storage import base as storage_base

LOG = logging.getLogger(__name__)

GROUP_RULES = group_kinds.KINDS

# Failures worth retrying: the part is down, not wrong.
RETRYABLE = (storage_base.Unavailable, exception.StorageUnavailable)


# Shared with the plan decisions (valet.engine.planning).
_jsonable = planning.jsonable
_no_placement = planning.no_placement


def _portable(exc):
    # The exception's kwargs travel over RPC as JSON: make details JSON-safe.
    exc.kwargs = {'code': exc.code, 'details': _jsonable(exc.details or {})}
    return exc


def _mapped(exc):
    """A valet.common.exception for any error an engine call can meet."""
    if isinstance(exc, exception.ValetException):
        return exc
    if isinstance(exc, storage_base.NotFound):
        return exception.NotFound(str(exc))
    if isinstance(exc, storage_base.Conflict):
        return exception.Conflict(str(exc), code='valet.storage.conflict')
    if isinstance(exc, storage_base.Unavailable):
        return exception.StorageUnavailable(str(exc))
    if isinstance(exc, model_errors.InvalidRequest):
        if exc.code == 'valet.request.server_exists':
            return exception.Conflict(exc.message, code=exc.code,
                                      details=exc.details)
        return exception.BadRequest(exc.message, code=exc.code,
                                    details=exc.details)
    if isinstance(exc, model_errors.EngineError):
        return exception.ValetException(
            exc.message, code=exc.code, details=exc.details)
    return None


def rpc_method(locked=True):
    """Serialise (optionally) and turn every error into a portable one."""
    def wrap(func):
        @functools.wraps(func)
        def inner(self, ctxt, **kwargs):
            try:
                if not locked:
                    return func(self, ctxt, **kwargs)
                with self.lock:
                    self._ready()
                    return func(self, ctxt, **kwargs)
            except Exception as exc:
                mapped = _mapped(exc)
                if mapped is None:
                    LOG.exception('Engine call %s failed', func.__name__)
                    # Details stay in the engine's log, not in the answer.
                    mapped = exception.ValetException(
                        'The placement engine failed unexpectedly; see the '
                        'valet-engine log.', code='valet.engine.error')
                elif mapped.status >= 500:
                    LOG.error('Engine call %s: %s', func.__name__, exc)
                raise _portable(mapped) from exc
        return messaging.expected_exceptions(exception.ValetException)(inner)
    return wrap


class EngineEndpoint:
    """The methods of ``rpcapi.EngineAPI``, over the in-memory model."""

    target = messaging.Target(version=rpcapi.RPC_API_VERSION)

    def __init__(self, conf, storage, inventory):
        self.conf = conf
        self.health = {}             # part -> degraded-state description
        self.status_extra = None     # () -> {leadership, degraded}
        self.storage = storage
        self.inventory = inventory
        self.lock = threading.RLock()
        self.options = engine_conf.solver_options(conf)
        self.dc = None
        self.flavors = {}
        self.bindings = {}           # Nova UUID -> orchestration id
        self.waiting_since = {}      # placement id -> monotonic time
        self.timeouts = reconcile.Timeouts(
            planned=conf.reconcile.planned_timeout,
            missing=conf.reconcile.missing_timeout)
        self.clock = time.monotonic
        self.follower = follow.Follower(storage)
        self.groups = group_state.GroupRecords(storage)
        self.stacks = None             # Heat stacks, made on first use
        self.leadership = None       # set by the service when elected
        self._replay = None          # events seen while a resync reads
        self.started_at = datetime.datetime.now(
            datetime.timezone.utc).isoformat()

    # --------------------------------------------------------------- rebuild
    def rebuild(self, snapshot=None):
        """The model from an inventory snapshot plus every stored placement.

        Also the periodic resync: storage is repaired where the cloud
        disagrees with it, and every difference from the model held so far
        is logged once. The snapshot is read before taking the lock, since
        a large inventory takes seconds; events applied meanwhile are
        replayed on the new model.
        """
        if snapshot is None:
            with self.lock:
                self._replay = []
            try:
                snapshot = self.inventory.load()
            except Exception:
                with self.lock:
                    self._replay = None
                raise
        with self.lock:
            replay, self._replay = self._replay or [], None
            self._fence()
            stored_groups = self.storage.list_groups()
            result = reconcile.build(
                snapshot, self.storage.list_placements(),
                stored_groups, self.waiting_since,
                self.clock(), self.timeouts)
            for repair in result.repairs:
                self._fence()
                try:
                    self.storage.update_placement(repair.applied())
                except storage_base.Conflict:
                    # Changed meanwhile: the next resync looks again.
                    LOG.info('Drift not repaired (placement %s changed '
                             'meanwhile): %s', repair.placement.id,
                             repair.describe())
                    continue
                LOG.info('Drift repaired: %s', repair.describe())
            repaired = {r.placement.orchestration_id for r in result.repairs}
            for line in reconcile.drift(self.dc, result.dc, skip=repaired):
                LOG.info('Drift repaired: %s', line)
            for event in replay:
                self._apply_event(result.dc, result.bindings, event)
            self.dc, self.bindings = result.dc, result.bindings
            self.groups.load(stored_groups)
            self.flavors = dict(snapshot.flavors)
            dc = result.dc
            LOG.info('Engine model rebuilt: %d hosts, %d servers (%d from '
                     'storage, %d imported), %d groups, %d repairs',
                     len(dc.hosts), len(dc.servers), result.restored,
                     result.imported, len(dc.groups), len(result.repairs))
            return dc

    # --------------------------------------------------------------- events
    def handle_event(self, event):
        """Apply one cloud event; True when a resync should follow soon.

        Storage errors propagate (the caller retries the event later);
        an event the model cannot take is logged and dropped.
        """
        with self.lock:
            if self.dc is None:
                raise exception.EngineUnavailable(
                    'The engine model is not built yet')
            self._fence()
            if self._replay is not None:
                self._replay.append(event)
            return self._apply_event(self.dc, self.bindings, event)

    def _apply_event(self, dc, bindings, event):
        try:
            outcome = self.follower.apply(dc, bindings, event)
        except model_errors.ModelError as exc:
            LOG.warning('Event %s for %s dropped: %s', event.event_type,
                        getattr(event, 'uuid', getattr(event, 'host', '?')),
                        exc.message)
            return False
        if outcome.resync and outcome.message:
            LOG.info('Resync requested: %s', outcome.message)
        return outcome.resync

    def _ready(self):
        if self.dc is None:
            raise exception.EngineUnavailable(
                'The placement engine is starting or rebuilding its model; '
                'retry shortly.', code='valet.engine.starting')
        self._fence()

    def _fence(self):
        # A leader that lost its lease must not decide or write.
        if self.leadership is not None:
            self.leadership.assert_leader()

    # -------------------------------------------------------------- helpers
    def _decide(self, request):
        return solver.decide(self.dc, request, self.options)

    def _plan_placements(self, plan):
        return self.storage.list_placements(filters={'plan_id': plan.id})

    def _move_request(self, placement, kind, candidates=None, excluded=()):
        """A request moving one stored placement's server.

        A server the model lost (its host left the inventory) is placed
        afresh from its stored spec instead.
        """
        oid = placement.orchestration_id
        if oid in self.dc.servers:
            return request_mod.PlacementRequest(
                servers=[], kind=kind, target=oid, stack=placement.plan_id,
                project=placement.project_id,
                candidate_hosts=frozenset(candidates) if candidates else None,
                excluded_hosts=frozenset(excluded))
        server = dataclasses.replace(
            translate.server_from_spec(oid, placement.spec, placement.name),
            candidate_hosts=frozenset(candidates) if candidates else None,
            excluded_hosts=frozenset(excluded))
        return request_mod.PlacementRequest(
            servers=[server], kind=request_mod.ADHOC,
            groups=translate.groups_from_spec(placement.spec),
            stack=placement.plan_id, project=placement.project_id)

    @staticmethod
    def _require(value, name):
        if not isinstance(value, str) or not value:
            raise exception.BadRequest('%s must be a non-empty string' % name,
                                       code='valet.request.invalid')

    # ------------------------------------------------------------ endpoints
    @rpc_method(locked=False)
    def ping(self, ctxt):
        dc = self.dc
        extra = self.status_extra() if self.status_extra else {}
        degraded = extra.get('degraded') or {}
        status = 'starting' if dc is None else 'ok'
        if degraded:
            status = 'degraded'
        engine = {'status': status,
                  'host': self.conf.engine.host,
                  'started_at': self.started_at,
                  'hosts': len(dc.hosts) if dc else 0,
                  'servers': len(dc.servers) if dc else 0,
                  'groups': len(dc.groups) if dc else 0,
                  'degraded': _jsonable(degraded)}
        if 'leadership' in extra:
            engine['leadership'] = _jsonable(extra['leadership'])
        return {'engine': engine, 'storage': _jsonable(self.storage.health())}

    # RPC 1.0 plan methods answer the v1 REST representation; an API at
    # RPC 1.1 calls plan_create/plan_update/plan_migrate, which answer
    # domain results. The 1.0 methods go with RPC 2.0.
    @rpc_method()
    def create_plan(self, ctxt, plan):
        return planning.v1_plan(planning.create(self, plan))

    @rpc_method()
    def update_plan(self, ctxt, plan_id, resources, groups,
                    original_resources=None, plan_name=None):
        return planning.v1_plan(planning.update(
            self, plan_id, resources, groups, original_resources,
            plan_name))

    @rpc_method()
    def migrate(self, ctxt, plan_id, resource, excluded_hosts):
        return planning.v1_plan(planning.migrate(self, plan_id, resource,
                                                 excluded_hosts))

    @rpc_method()
    def plan_create(self, ctxt, plan, dry_run=False):
        """RPC 1.1: ``create_plan`` answering a ``planning.result``;
        ``dry_run`` decides and stores nothing."""
        return planning.create(self, plan, dry_run=bool(dry_run))

    @rpc_method()
    def plan_update(self, ctxt, plan_id, resources, groups,
                    original_resources=None, plan_name=None,
                    dry_run=False):
        """RPC 1.1: ``update_plan`` answering a ``planning.result``."""
        return planning.update(self, plan_id, resources, groups,
                               original_resources, plan_name,
                               dry_run=bool(dry_run))

    @rpc_method()
    def plan_migrate(self, ctxt, plan_id, resource, excluded_hosts):
        """RPC 1.1: ``migrate`` answering a ``planning.result``."""
        return planning.migrate(self, plan_id, resource, excluded_hosts)

    @rpc_method()
    def capacity(self, ctxt, query):
        """RPC 1.1: how many more of one server fit, and where
        (``valet.engine.capacity``); reads the model only."""
        return planning.capacity(self, query)

    @rpc_method()
    def delete_plan(self, ctxt, plan_id):
        plan = self.storage.get_plan(plan_id)
        placements = self._plan_placements(plan)
        self._fence()
        self.storage.delete_plan(plan.id)
        for p in placements:
            self._forget(p)
        LOG.info('Plan %s (stack %s) deleted', plan.id, plan.stack_id)

    def _forget(self, placement):
        placed = self.dc.servers.get(placement.orchestration_id)
        if placed is not None and placed.stack == placement.plan_id:
            self.dc.remove_server(placement.orchestration_id)

    # RPC 1.0 placement calls answer the v1 representation; the 1.1
    # placement_* calls answer the placement's fields (domain data).
    @rpc_method()
    def reserve(self, ctxt, placement_id, locations, resource_id):
        return self._reserve(placement_id, locations, resource_id).to_dict()

    @rpc_method()
    def placement_reserve(self, ctxt, placement_id, locations,
                          resource_id):
        return planning.placement_data(
            self._reserve(placement_id, locations, resource_id))

    def _reserve(self, placement_id, locations, resource_id):
        placement = self.storage.get_placement(placement_id)
        if not locations or placement.location in locations:
            placement.reserved = True
            placement.resource_id = resource_id or placement.resource_id
            self._fence()
            stored = self.storage.update_placement(placement)
            self._bind(placement)
            return stored or placement
        return self._replan(placement, locations, resource_id)

    @rpc_method(locked=False)
    def reserve_stack_server(self, ctxt, hints, locations, resource_id,
                             project_id=None, any_project=False):
        return self._reserve_stack_server(ctxt, hints, locations,
                                          resource_id, project_id,
                                          any_project, 'reserve')

    @rpc_method(locked=False)
    def placement_reserve_stack_server(self, ctxt, hints, locations,
                                       resource_id, project_id=None,
                                       any_project=False):
        return self._reserve_stack_server(ctxt, hints, locations,
                                          resource_id, project_id,
                                          any_project, 'placement_reserve')

    def _reserve_stack_server(self, ctxt, hints, locations, resource_id,
                              project_id, any_project, answer):
        # Convergence: the first server of an unplanned Heat stack plans
        # the whole stack (valet.engine.stacks). Reading Heat takes
        # seconds: it happens outside the engine's lock, which the
        # planner takes only to decide.
        with self.lock:
            self._ready()
            if self.stacks is None:
                self.stacks = stacks.StackPlanner(self)
        return self.stacks.reserve(ctxt, hints, locations, resource_id,
                                   project_id, any_project, answer)

    @rpc_method()
    def replan(self, ctxt, placement_id, locations, resource_id):
        placement = self.storage.get_placement(placement_id)
        return self._replan(placement, locations, resource_id).to_dict()

    @rpc_method()
    def placement_replan(self, ctxt, placement_id, locations, resource_id):
        placement = self.storage.get_placement(placement_id)
        return planning.placement_data(
            self._replan(placement, locations, resource_id))

    def _replan(self, placement, locations, resource_id):
        placement.reserved = False
        placement.resource_id = resource_id or placement.resource_id
        request = self._move_request(placement, request_mod.REPLAN,
                                     candidates=locations)
        decision = self._decide(request)
        if not decision.feasible:
            # Nova's instance id must stick even when no host is found: a
            # retry finds the placement by it.
            self.storage.update_placement(placement)
            raise _no_placement(decision, 'placement %s' % placement.id)
        placement.location = decision.assignment[placement.orchestration_id]
        placement.reserved = True
        self._fence()
        stored = self.storage.update_placement(placement)
        self._bind(placement)
        solver.apply_decision(self.dc, request, decision)
        return stored or placement

    def _bind(self, placement):
        if placement.resource_id:
            self.bindings[placement.resource_id] = placement.orchestration_id

    @rpc_method()
    def delete_placement(self, ctxt, placement_id):
        placement = self.storage.get_placement(placement_id)
        self._fence()
        self.storage.delete_placement(placement.id)
        self._forget(placement)

    # --------------------------------------------------------------- groups
    def _stored_group(self, ref):
        try:
            return self.storage.get_group(ref)
        except storage_base.NotFound:
            raise group_state.unknown(ref)

    def _change_group(self, ref, mutate):
        """Apply ``mutate(group)`` to the stored group, retrying lost
        races with writers outside the engine."""
        for _attempt in range(3):
            group = self._stored_group(ref)
            mutate(group)
            self._fence()
            try:
                stored = self.storage.update_group(group)
            except storage_base.Conflict:
                continue
            stored = stored if stored is not None else group
            self.groups.remember(stored)
            return stored
        raise exception.Conflict(
            'Group %s is being changed by other requests; retry.' % ref,
            code='valet.storage.conflict')

    def _parents(self, group, refs, project_id):
        if not isinstance(refs, list) or not all(
                isinstance(r, str) and r for r in refs):
            raise exception.BadRequest('parents must be a list of group '
                                       'names or ids',
                                       code='valet.request.invalid')
        return group_state.resolve_parents(
            group, refs, self.groups.find, self.dc.topology.levels,
            project_id)

    @rpc_method()
    def create_group(self, ctxt, group, project_id=None):
        """``project_id``: the caller's project when it may nest only in
        groups open to it (None: in any group)."""
        if not isinstance(group, dict):
            raise exception.BadRequest('group must be a mapping')
        for key in ('name', 'type', 'level'):
            self._require(group.get(key), key)
        # The kind's parameters sit beside type and level (group_kinds).
        parameters = group_kinds.picked(group)
        problem = group_kinds.parameters_error(group['type'], parameters)
        if group['type'] in group_kinds.KINDS and problem:
            raise exception.BadRequest(
                problem[0].upper() + problem[1:] + '.',
                code='valet.group.bad_parameter', details=parameters)
        new = objects.Group(name=group['name'], type=group['type'],
                            level=group['level'],
                            description=str(group.get('description') or ''),
                            parameters=group_kinds.with_defaults(
                                group['type'], parameters))
        if new.level not in self.dc.topology:
            raise exception.BadRequest(
                "Level '%s' is not a level of this cloud's topology; use one "
                'of %s.' % (new.level, ', '.join(self.dc.topology.levels)),
                code='valet.group.level_unknown',
                details={'level': new.level})
        new.parents = self._parents(new, group.get('parents') or [],
                                    project_id)
        definition = translate.group_model(new)
        self._fence()
        try:
            stored = self.storage.create_group(new) or new
        except storage_base.Conflict:
            raise exception.Conflict(
                "A group named '%s' already exists; group names are unique "
                'across the cloud.' % new.name, code='valet.group.duplicate')
        # Servers that named it before it existed are its members now.
        self.dc.define_group(definition, replace=True)
        self.groups.remember(stored)
        LOG.info('Group %s created (%s at level %s); %d server(s) already '
                 'in it', stored.name, stored.type, stored.level,
                 len(self.dc.group_servers(stored.name)))
        return stored.portable()

    @rpc_method()
    def update_group(self, ctxt, group_id, description=None, parents=None,
                     project_id=None):
        """Change the description and/or the parents (None: unchanged);
        ``project_id`` as in ``create_group``."""
        def mutate(group):
            if description is not None:
                group.description = str(description)
            if parents is not None:
                group.parents = self._parents(group, parents, project_id)
        stored = self._change_group(group_id, mutate)
        if parents is not None:
            # The next plan honours the new nesting.
            self.dc.define_group(translate.group_model(stored), replace=True)
        return stored.portable()

    @rpc_method()
    def add_group_members(self, ctxt, group_id, members):
        if not isinstance(members, list) or not all(
                isinstance(m, str) and m for m in members):
            raise exception.BadRequest('members must be a list of project '
                                       'ids', code='valet.request.invalid')

        def mutate(group):
            group.members = list(group.members) + [
                p for p in dict.fromkeys(members) if p not in group.members]
        stored = self._change_group(group_id, mutate)
        LOG.info('Group %s: members %s added', stored.name,
                 ', '.join(members))
        return stored.portable()

    def _projects_with_servers(self, group, projects):
        busy = {self.dc.servers[sid].project
                for sid in self.dc.group_servers(group.name)}
        return sorted(p for p in projects if p in busy)

    @rpc_method()
    def remove_group_members(self, ctxt, group_id, project_id=None):
        """Remove one member project, or every one (``project_id`` None);
        a project with servers in the group stays."""
        group = self._stored_group(group_id)
        if project_id is not None and project_id not in group.members:
            raise exception.NotFound(
                'Project %s is not a member of group %s.'
                % (project_id, group.name),
                code='valet.group.member_not_found')
        projects = [project_id] if project_id is not None else group.members
        busy = self._projects_with_servers(group, projects)
        if busy:
            raise exception.Conflict(
                'Project(s) %s still have servers in group %s; delete those '
                'servers first.' % (', '.join(busy), group.name),
                code='valet.group.member_in_use')

        def mutate(g):
            if project_id is None:
                g.members = []
            elif project_id not in g.members:
                raise exception.NotFound(
                    'Project %s is not a member of group %s.'
                    % (project_id, g.name),
                    code='valet.group.member_not_found')
            else:
                g.members = [p for p in g.members if p != project_id]
        stored = self._change_group(group.id, mutate)
        LOG.info('Group %s: member(s) %s removed', stored.name,
                 ', '.join(projects) or '(none)')

    @rpc_method()
    def delete_group(self, ctxt, group_id):
        group = self._stored_group(group_id)
        if group.members:
            raise exception.Conflict(
                'Unable to delete group %s: it has members; remove them '
                'first with DELETE /v1/groups/%s/members.'
                % (group.name, group.id), code='valet.group.has_members')
        servers = self.dc.group_servers(group.name)
        if servers:
            raise exception.Conflict(
                'Unable to delete group %s: %d server(s) still belong to '
                'it; delete their plans (or the servers) first.'
                % (group.name, len(servers)),
                code='valet.group.member_in_use')
        children = group_state.children_of(group,
                                           self.storage.list_groups())
        if children:
            raise group_state.has_children(group, children)
        self._fence()
        try:
            self.storage.delete_group(group.id)
        except storage_base.NotFound:
            raise exception.NotFound(
                "Group '%s' not found; GET /v1/groups lists the groups."
                % group_id, code=group_state.GROUP_NOT_FOUND)
        self.dc.forget_group(group.name)
        self.groups.forget(group)
        LOG.info('Group %s deleted', group.name)

    @rpc_method()
    def group_members(self, ctxt, group_name):
        name = group_name
        if name not in self.dc.groups:
            try:
                name = self.storage.get_group(group_name).name
            except storage_base.NotFound:
                raise exception.NotFound(
                    'Group %s not found' % group_name,
                    code='valet.group.not_found')
        ids = self.dc.group_servers(name)
        by_orch = self._placements_of(ids)
        out = []
        for sid in sorted(ids):
            server = self.dc.servers[sid]
            p = by_orch.get(sid)
            out.append({'id': p.id if p else sid,
                        'orchestration_id': sid,
                        'resource_id': p.resource_id if p else None,
                        'plan_id': p.plan_id if p else None,
                        'project_id': server.project,
                        'host': server.host})
        return out

    def _placements_of(self, orchestration_ids):
        wanted = set(orchestration_ids)
        if not wanted:
            return {}
        return {p.orchestration_id: p for p in self.storage.list_placements()
                if p.orchestration_id in wanted}

    @rpc_method()
    def invalid_placements(self, ctxt):
        problems = find_violations(self.dc)
        by_orch = self._placements_of(problems)
        out = {}
        for sid in sorted(problems):
            p = by_orch.get(sid)
            message = '; '.join(problems[sid])
            if p is not None:
                out[p.id] = {'status': 'error', 'message': message,
                             'orchestration_id': sid,
                             'resource_id': p.resource_id,
                             'plan_id': p.plan_id, 'location': p.location}
                continue
            # A server Valet did not place (found in the cloud), keyed by
            # its own id since it has no placement.
            server = self.dc.servers[sid]
            out[sid] = {'status': 'error', 'message': message,
                        'orchestration_id': None, 'resource_id': sid,
                        'plan_id': None, 'location': server.host}
        return out


def find_violations(dc):
    """``{server id: [message]}`` of servers whose host breaks a group rule.

    The independent validator only judges what a decision changes, so the
    model's servers are re-checked as if all were placed at once on an
    empty copy of the data centre.
    """
    if not dc.servers:
        return {}
    empty = datacenter.DataCenter.build(dc.hosts.values(),
                                        topology=dc.topology)
    servers = [request_mod.ServerRequest(id=s.id, demand=dict(s.demand),
                                         groups=s.groups, name=s.name)
               for s in dc.servers.values()]
    request = request_mod.PlacementRequest(
        servers=servers, groups=list(dc.groups.values()))
    assignment = {s.id: s.host for s in dc.servers.values()}
    found = {}
    for violation in validator.validate(empty, request, assignment):
        if violation.code not in GROUP_RULES:
            continue
        for sid in violation.servers:
            found.setdefault(sid, []).append(violation.message)
    return found
