"""Heat stacks planned whole when their first server is scheduled.

Heat's default (convergence) engine never calls stack lifecycle plugins,
so nothing plans a stack before Nova schedules its servers. When Nova's
filter asks to reserve a server Valet has no placement for, and Heat's
scheduler hints name its root stack, the engine reads that root stack
from Heat (``valet.inventory.openstack.heat``), plans all of its servers
in one decision (or re-plans the stack when it grew), then answers the
reservation. Heat is read outside the engine's lock (other decisions go on
meanwhile) but under a lock of the stack's own, so the concurrent first
servers of one stack make exactly one read and one plan; later servers
find their placement by the id their hints derive
(``valet.common.heat_stack.orchestration_id``).

When Heat deletes a stack (its ``orchestration.stack.delete.end``
notification, ``valet.inventory.openstack.heat_notifications``), the
planner drops the stack's plan under the same stack lock, so a plan being
made from a read that raced the deletion cannot outlive it.
"""

import threading
import time

from oslo_log import log as logging
from oslo_messaging.rpc import dispatcher

from valet.common import exception
from valet.common import heat_stack
from valet.engine import group_state
from valet.inventory import base as inventory_base
from valet.inventory.openstack import heat as heat_reader
from valet.objects import membership
from valet.storage import base as storage_base

LOG = logging.getLogger(__name__)

HINTS_INVALID = 'valet.placement.hints_invalid'
STACK_UNKNOWN = 'valet.placement.stack_unknown'
HEAT_UNAVAILABLE = 'valet.heat.unavailable'
# How often a stack's first server looks for its stack's declared groups.
GROUP_POLL_SECONDS = 0.25


def stack_path(hints):
    """(root stack id, resource path) the hints name; BadRequest if not."""
    if not isinstance(hints, dict):
        hints = {}
    root = heat_stack.root_stack_id(hints)
    path = heat_stack.path_from_hints(hints)
    if not root or not path:
        raise exception.BadRequest(
            'hints must carry heat_root_stack_id, heat_path_in_stack and '
            'heat_resource_name, as Heat sends them to Nova with '
            'stack_scheduler_hints = true', code=HINTS_INVALID)
    return root, path


def resolve_groups(records, resources, project_id):
    """(resources with every server's groups by name, definitions)."""
    def require(ref, orch_id, resource):
        return records.require(ref, project_id,
                               where=resource.get('name') or orch_id)
    try:
        return membership.resolve(resources, require, records.find)
    except membership.MembershipError as exc:
        raise exception.BadRequest(exc.message,
                                   code='valet.group.metadata_invalid')


def without_members_of(resources, missing):
    """(``resources`` without the servers that name a group of
    ``missing``, the orchestration ids of those servers)."""
    if not missing:
        return resources, frozenset()
    missing = set(missing)
    try:
        refs = membership.from_plan(resources)
    except membership.MembershipError:
        return resources, frozenset()   # resolve_groups says what is wrong
    left_out = {orch_id for orch_id, names in refs.items()
                if any(isinstance(n, str) and n in missing for n in names)}
    return ({k: v for k, v in resources.items() if k not in left_out},
            left_out)


def planner(endpoint):
    """The endpoint's planner, made on first use."""
    with endpoint.lock:
        if endpoint.stacks is None:
            endpoint.stacks = StackPlanner(endpoint)
        return endpoint.stacks


class StackPlanner:
    """The convergence path of one engine (see the module docstring)."""

    # Swapped by tests.
    _clock = staticmethod(time.monotonic)
    _sleep = staticmethod(time.sleep)

    def __init__(self, endpoint, reader=None):
        self.endpoint = endpoint
        self._reader = reader
        self._guard = threading.Lock()
        self._stack_locks = {}      # root stack id -> lock of its readers

    def _stack_lock(self, root):
        with self._guard:
            return self._stack_locks.setdefault(root, threading.Lock())

    @property
    def reader(self):
        if self._reader is None:
            if not heat_reader.is_configured(self.endpoint.conf):
                raise exception.NotFound(
                    'Valet has no plan for this Heat stack and cannot read '
                    'it: [heat] is not configured on the engine',
                    code=STACK_UNKNOWN)
            self._reader = heat_reader.HeatStackReader(self.endpoint.conf)
        return self._reader

    def _call(self, method, ctxt, **kwargs):
        # The endpoint's RPC methods (the lock is re-entrant) wrap their
        # errors for oslo.messaging; unwrap them for the caller.
        try:
            return getattr(self.endpoint, method)(ctxt, **kwargs)
        except dispatcher.ExpectedException as exc:
            raise exc.exc_info[1]

    def _placement(self, orch_id):
        try:
            return self.endpoint.storage.get_placement(orch_id)
        except storage_base.NotFound:
            return None

    def _read(self, root):
        try:
            return self.reader.read(root)
        except heat_reader.StackNotFound as exc:
            raise exception.NotFound(str(exc), code=STACK_UNKNOWN)
        except inventory_base.InventoryError as exc:
            raise exception.EngineUnavailable(
                'Valet cannot read Heat stack %s: %s' % (root, exc),
                code=HEAT_UNAVAILABLE)

    def plan_stack(self, ctxt, root, project_id, any_project):
        """Plan (or re-plan) root stack ``root`` from Heat; (the servers
        left out of the plan, the missing groups that left them out)."""
        read = self._read(root)
        owner = read.project_id or project_id
        if not any_project and owner != project_id:
            # Another project's stack is none of the caller's business.
            raise exception.NotFound('Heat stack %s not found' % root,
                                     code=STACK_UNKNOWN)
        missing = self._await_declared_groups(read)
        resources, left_out = without_members_of(read.resources, missing)
        if left_out:
            # Heat may hold a nested stack back until another finishes
            # (whose servers are the ones waiting here): plan what can be
            # planned now; the servers left out re-plan the stack when they
            # reach Nova, by then with their groups.
            LOG.warning('Heat stack %s: groups %s still missing after %.0f '
                        's; planning the stack without their %d server(s)',
                        root, ', '.join(missing),
                        self.endpoint.conf.heat.declared_group_wait,
                        len(left_out))
        with self.endpoint.lock:
            self.endpoint._ready()
            self._plan(ctxt, root, read, owner, resources)
        return left_out, missing

    def _missing_groups(self, names):
        return [name for name in names
                if self.endpoint.groups.find(name) is None]

    def _await_declared_groups(self, read):
        """Wait, outside the engine's lock, until every group the stack
        declares exists: convergence creates a stack's resources in
        parallel, so a server of one nested stack may be scheduled before
        another nested stack's OS::Valet::Group is created. Waiting for
        Heat is no decision budget. Gives the groups still missing at
        ``[heat] declared_group_wait``."""
        missing = self._missing_groups(read.declared_groups)
        if not missing:
            return []
        LOG.info('Heat stack %s declares groups Heat has not created yet '
                 '(%s): waiting for them', read.stack_id,
                 ', '.join(missing))
        deadline = self._clock() + self.endpoint.conf.heat.declared_group_wait
        while missing and self._clock() < deadline:
            self._sleep(GROUP_POLL_SECONDS)
            missing = self._missing_groups(missing)
        return missing

    def _plan(self, ctxt, root, read, owner, resources):
        resources, groups = resolve_groups(self.endpoint.groups,
                                           resources, owner)
        try:
            plan = self.endpoint.storage.get_plan(root)
        except storage_base.NotFound:
            plan = None
        if plan is None:
            LOG.info('Planning Heat stack %s (%s) whole: %d servers',
                     root, read.name, len(resources))
            self._call('create_plan', ctxt, plan={
                'plan_name': read.name, 'stack_id': root,
                'project_id': owner, 'resources': resources,
                'groups': groups, 'locations': None})
        else:
            LOG.info('Re-planning Heat stack %s (%s): %d servers',
                     root, read.name, len(resources))
            self._call('update_plan', ctxt, plan_id=plan.id,
                       resources=resources, groups=groups)

    def forget(self, ctxt, stack_id):
        """Drop the plan of Heat stack ``stack_id``, which Heat deleted;
        False when Valet has none (a nested stack, a stack never
        planned, or the lifecycle plugin dropped it already)."""
        with self._stack_lock(stack_id):
            try:
                plan = self.endpoint.storage.get_plan(stack_id)
            except storage_base.NotFound:
                plan = None
            if plan is None or plan.stack_id != stack_id:
                LOG.debug('Heat deleted stack %s, which has no plan',
                          stack_id)
                return False
            try:
                self._call('delete_plan', ctxt, plan_id=plan.id)
            except exception.NotFound:
                return False
        with self._guard:
            self._stack_locks.pop(stack_id, None)
        LOG.info('Heat deleted stack %s (%s): its plan %s is dropped',
                 stack_id, plan.name, plan.id)
        return True

    def reserve(self, ctxt, hints, locations, resource_id, project_id,
                any_project, answer='reserve'):
        """Reserve the server the hints name, planning its stack first
        when Valet has no placement for it; ``answer`` is the endpoint's
        reserve call whose answer to return (``reserve``: v1,
        ``placement_reserve``: the placement's fields)."""
        root, path = stack_path(hints)
        orch_id = heat_stack.orchestration_id(root, path)
        placement = self._placement(orch_id)
        if placement is None:
            with self._stack_lock(root):
                # The first of concurrent servers reads and plans; the
                # others find their placements once it is done.
                placement = self._placement(orch_id)
                if placement is None:
                    left_out, missing = self.plan_stack(
                        ctxt, root, project_id, any_project)
                    if orch_id in left_out:
                        raise exception.NotFound(
                            'Heat stack %s: server %s is in a group Heat '
                            'has not created (of %s)' % (
                                root, '/'.join(path), ', '.join(missing)),
                            code=group_state.GROUP_NOT_FOUND)
                    placement = self._placement(orch_id)
            if placement is None:
                raise exception.NotFound(
                    'Heat stack %s has no server %s' % (root, '/'.join(path)),
                    code=STACK_UNKNOWN)
        elif not any_project and placement.project_id not in (
                None, project_id):
            raise exception.NotFound('Heat stack %s not found' % root,
                                     code=STACK_UNKNOWN)
        return self._call(answer, ctxt, placement_id=placement.id,
                          locations=locations, resource_id=resource_id)
