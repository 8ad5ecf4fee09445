"""``ValetFilter``: Nova boots and moves servers where Valet decides.

The filter decides once per scheduling request (``filter_all``), after
every other filter, and lets through only the host Valet chose:

* plan A, a server Heat planned (scheduler hint ``heat_resource_uuid``, or
  the stack and resource hints): ``reserve`` its placement within the
  candidates, binding Nova's instance UUID to it. Valet replans within the
  candidates when the planned host is no longer among them;
* plan B, a server Valet already placed (a resize, migration, evacuation,
  rebuild, or a reschedule: its instance UUID is known): ``replan`` it
  within the candidates;
* plan C, anything else: a one-server plan (or one plan of every server
  of a multi-create request) honouring the groups the server names.

When Valet cannot answer, ``[valet] failure_mode`` decides: ``reject`` (no
host) or ``yield`` (every candidate). When Valet answers that no host
will do, a one-server request fails with Nova's NoValidHost carrying
Valet's reason (the server's fault says it); nothing else the filter
meets is raised into nova-scheduler, and one request costs at most
``[valet] timeout``.
"""

import dataclasses
import logging
import threading
import time
import weakref

from nova import exception as nova_exception
from nova.scheduler import filters
from oslo_config import cfg

from valet.client import exceptions as client_exc
from valet.plugins.nova import conf as filter_conf
from valet.plugins.nova import names as names_mod
from valet.plugins.nova import request as spec

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

# Nova server group policies Valet can honour, as (group type, level).
SERVER_GROUP_RULES = {'anti-affinity': 'diversity', 'affinity': 'affinity'}
SERVER_GROUP_PREFIX = 'nova-server-group-'
# Multi-create requests remembered between the filter's calls for them.
MULTI_CREATE_TTL = 600.0


class Budget:
    """What is left of one request's time budget."""

    def __init__(self, seconds, clock=time.monotonic):
        self.clock = clock
        self.seconds = seconds
        self.deadline = clock() + seconds

    def remaining(self):
        left = self.deadline - self.clock()
        if left <= 0:
            raise client_exc.Timeout(
                'Valet did not decide within %.1f s' % self.seconds)
        return left


@dataclasses.dataclass
class _MultiCreate:
    """The plan of a multi-create request while Nova asks per instance."""

    spec_ref: object
    placements: dict                 # orchestration id -> Valet host name
    bound: dict = dataclasses.field(default_factory=dict)  # oid -> uuid
    instances: list = dataclasses.field(default_factory=list)
    # Host name -> its HostState.num_instances when last seen: Nova
    # counts one up on the host it picks for each instance.
    counts: dict = dataclasses.field(default_factory=dict)
    created: float = dataclasses.field(default_factory=time.monotonic)

    def unbound(self):
        return {oid: host for oid, host in self.placements.items()
                if oid not in self.bound}


class ValetFilter(filters.BaseHostFilter):
    """Lets through only the host Valet chose for the request."""

    # Every instance of a multi-create request reaches the filter: Nova
    # narrows the hosts from one instance to the next, so the filter
    # hands it the hosts still planned for the instances left.
    run_filter_once_per_request = False
    # A rebuild asks whether the server's host still suits it.
    RUN_ON_REBUILD = True

    def __init__(self, conf=None, client=None):
        super().__init__()
        self.conf = conf or CONF
        try:
            filter_conf.register_opts(self.conf)
        except cfg.DuplicateOptError:
            pass
        self._client = client
        self._lock = threading.Lock()
        self._multi = {}

    # ------------------------------------------------------------ plumbing
    @property
    def client(self):
        if self._client is None:
            self._client = filter_conf.make_client(self.conf)
        return self._client

    def host_passes(self, host_state, spec_obj):
        # filter_all decides for the whole request; nothing passes alone.
        return False

    def filter_all(self, filter_obj_list, spec_obj):
        hosts = list(filter_obj_list)
        if not hosts:
            return hosts
        uuid = spec.instance_uuid(spec_obj)
        try:
            budget = Budget(filter_conf.timeout(self.conf))
            chosen = self._filter(hosts, spec_obj, budget)
        except client_exc.ValetClientError as exc:
            if not exc.is_outage:
                # Valet answered: no candidate honours the server's rules.
                LOG.info('Valet: no host for instance %s among %d '
                         'candidates: %s', uuid, len(hosts), exc)
                return _refused(spec_obj, exc.detail or str(exc))
            return self._failed(hosts, uuid, exc)
        except spec.BadMembership as exc:
            LOG.info('Valet: instance %s names its groups wrongly: %s',
                     uuid, exc)
            return _refused(spec_obj, str(exc))
        except Exception as exc:    # never into nova-conductor
            LOG.exception('Valet filter failed for instance %s', uuid)
            return self._failed(hosts, uuid, exc)
        LOG.debug('Valet: instance %s goes to %s', uuid,
                  [h.host for h in chosen])
        return chosen

    def _failed(self, hosts, uuid, exc):
        mode = self.conf[filter_conf.GROUP].failure_mode
        if mode == filter_conf.YIELD:
            LOG.warning('Valet cannot decide for instance %s (%s); '
                        'failure_mode=yield: Nova chooses among %d hosts',
                        uuid, exc, len(hosts))
            return hosts
        LOG.error('Valet cannot decide for instance %s (%s); '
                  'failure_mode=reject: no host', uuid, exc)
        return []

    # ------------------------------------------------------------ deciding
    def _filter(self, hosts, spec_obj, budget):
        names = names_mod.HostNames(hosts)
        locations = names.locations
        if self._is_multi_create(spec_obj, budget):
            return names.select(self._multi_create(
                hosts, names, spec_obj, budget))
        return names.select([self._decide(spec_obj, locations, budget)])

    def _is_multi_create(self, spec_obj, budget):
        """A boot of several instances (not a move: Nova keeps the
        original boot's ``num_instances`` in a moved server's request)."""
        if spec.num_instances(spec_obj) < 2 or spec.hint(
                spec_obj, spec.HEAT_RESOURCE_UUID):
            return False
        if self._in_flight(spec_obj) is not None:
            return True         # a later call about the same request
        uuid = spec.instance_uuid(spec_obj)
        return not uuid or self._placement_of(uuid, budget) is None

    def _decide(self, spec_obj, locations, budget):
        uuid = spec.instance_uuid(spec_obj)
        orchestration_id = self._heat_orchestration_id(spec_obj, budget)
        if orchestration_id is not None:
            try:
                # Heat's hints let Valet plan a stack it has not seen yet
                # (Heat's convergence engine plans nothing beforehand).
                placement = self.client.reserve(
                    orchestration_id, locations, resource_id=uuid,
                    hints=spec.heat_hints_for_reserve(spec_obj),
                    timeout=budget.remaining())
                LOG.info('Valet: instance %s (Heat resource %s) reserved '
                         'on %s', uuid, orchestration_id,
                         placement['location'])
                return placement['location']
            except client_exc.NotFound:
                LOG.info('Valet has no plan for Heat resource %s; placing '
                         'instance %s on its own', orchestration_id, uuid)
        known = self._placement_of(uuid, budget) if uuid else None
        if known is not None:
            return self._replan(known['id'], uuid, locations, budget)
        return self._plan_one(spec_obj, uuid, locations, budget)

    def _heat_orchestration_id(self, spec_obj, budget):
        found = spec.hint(spec_obj, spec.HEAT_RESOURCE_UUID)
        if found:
            return found
        heat = spec.heat_hints(spec_obj)
        stack = heat.get(spec.HEAT_STACK_ID) or heat.get(
            spec.HEAT_ROOT_STACK_ID)
        resource = heat.get(spec.HEAT_RESOURCE_NAME)
        if not (stack and resource):
            return None
        key = (spec.HEAT_STACK_ID if heat.get(spec.HEAT_STACK_ID)
               else spec.HEAT_ROOT_STACK_ID)
        query = {key: stack, spec.HEAT_RESOURCE_NAME: resource}
        if heat.get(spec.HEAT_PATH_IN_STACK):
            query[spec.HEAT_PATH_IN_STACK] = heat[spec.HEAT_PATH_IN_STACK]
        found = self.client.list_placements(timeout=budget.remaining(),
                                            **query)
        if len(found) == 1:
            return found[0]['orchestration_id']
        return None

    def _placement_of(self, uuid, budget):
        """The placement bound to a server, or None.

        An ad-hoc server's placement is named by its instance UUID and is
        bound once Nova reports the server built; asked about before that
        (a reschedule, an early move), its plan exists already and the
        ad-hoc path replans it (see ``_plan_one``).
        """
        bound = self.client.list_placements(timeout=budget.remaining(),
                                            resource_id=uuid)
        return bound[0] if bound else None

    def _replan(self, placement_id, uuid, locations, budget):
        placement = self.client.replan(placement_id, locations,
                                       resource_id=uuid,
                                       timeout=budget.remaining())
        LOG.info('Valet: instance %s replanned to %s', uuid,
                 placement['location'])
        return placement['location']

    def _groups(self, spec_obj, budget):
        groups = spec.group_names(spec_obj, spec.build_metadata(spec_obj))
        mapped = self._server_group(spec_obj, budget)
        if mapped:
            groups.append(mapped)
        return groups

    def _server_group(self, spec_obj, budget):
        """The Valet group standing for the request's Nova server group
        (created on first use), or None when its policy has no rule."""
        found = spec.server_group(spec_obj)
        if found is None:
            return None
        uuid, policy = found
        kind = SERVER_GROUP_RULES.get(policy)
        if kind is None:
            return None     # soft policies stay Nova's weighers' business
        rules = spec.field(spec.field(spec_obj, 'instance_group'), 'rules',
                           {}) or {}
        if str(rules.get('max_server_per_host', '1')) != '1':
            return None
        name = SERVER_GROUP_PREFIX + uuid
        try:
            self.client.create_group(
                name, kind, 'host', timeout=budget.remaining(),
                description='Nova server group %s (%s)' % (uuid, policy))
        except client_exc.Conflict:
            pass            # made by an earlier boot of the group
        project = spec.project_id(spec_obj)
        if project:
            try:
                self.client.add_members(name, [project],
                                        timeout=budget.remaining())
            except client_exc.Conflict:
                pass
        return name

    def _plan_one(self, spec_obj, uuid, locations, budget):
        resource = spec.server_resource(spec_obj, uuid,
                                        self._groups(spec_obj, budget))
        try:
            plan = self.client.create_plan(
                uuid, uuid, {uuid: resource}, locations=locations,
                project_id=spec.project_id(spec_obj),
                timeout=budget.remaining())
        except client_exc.Conflict as exc:
            if exc.code != 'valet.plan.exists':
                raise
            # Asked again for the same instance (a reschedule).
            return self._replan(uuid, uuid, locations, budget)
        location = plan['placements'][uuid]['location']
        LOG.info('Valet: instance %s planned on %s', uuid, location)
        return location

    # -------------------------------------------------------- multi-create
    def _multi_create(self, hosts, names, spec_obj, budget):
        """Valet names of the hosts still planned for this request.

        The first call plans every instance at once. Nova then picks one
        of the hosts returned for each instance in turn; the filter sees
        where each one went (Nova records it in the host's ``instances``)
        at the next call and binds that instance to a placement planned
        there, so the hosts returned next are the ones still planned.
        Nova records the instance in the host's ``instances`` only for a
        server group; otherwise the host whose ``num_instances`` grew is
        where it went.
        """
        uuid = spec.instance_uuid(spec_obj)
        with self._lock:
            self._expire()
        state = self._in_flight(spec_obj)
        if state is None:
            state = self._plan_many(spec_obj, uuid, names.locations, budget)
            _count_instances(state, hosts, names)
            with self._lock:
                self._multi[id(spec_obj)] = state
        elif uuid in state.instances:
            # Nova asks again about an instance it placed (to pick its
            # alternates): only its own host; Valet plans no alternates.
            mine = {state.placements[oid]
                    for oid, bound in state.bound.items() if bound == uuid}
            return mine or set(state.unbound().values())
        else:
            self._bind_landed(state, hosts, names, budget)
        state.instances.append(uuid)
        choices = set(state.unbound().values())
        if len(choices) == 1 and uuid not in state.bound.values():
            # Only one host can take this instance: bind it now (the last
            # instance is never seen landing).
            self._bind(state, uuid, next(iter(choices)), budget)
        return choices

    def _in_flight(self, spec_obj):
        """The multi-create state of this very request object, or None."""
        with self._lock:
            state = self._multi.get(id(spec_obj))
        if state is None or state.spec_ref() is not spec_obj:
            return None
        return state

    def _plan_many(self, spec_obj, first_uuid, locations, budget):
        count = spec.num_instances(spec_obj)
        groups = self._groups(spec_obj, budget)
        stack_id = first_uuid
        resources = {}
        for index in range(count):
            oid = '%s-%d' % (first_uuid, index)
            resources[oid] = spec.server_resource(spec_obj, oid, groups)
        try:
            plan = self.client.create_plan(
                stack_id, stack_id, resources, locations=locations,
                project_id=spec.project_id(spec_obj),
                timeout=budget.remaining())
        except client_exc.Conflict as exc:
            if exc.code != 'valet.plan.exists':
                raise
            plan = self.client.show_plan(stack_id,
                                         timeout=budget.remaining())
        placements = {oid: p['location']
                      for oid, p in plan['placements'].items()}
        LOG.info('Valet: %d instances of request %s planned on %s',
                 count, first_uuid, sorted(placements.values()))
        return _MultiCreate(spec_ref=_ref(spec_obj), placements=placements)

    def _bind_landed(self, state, hosts, names, budget):
        grown = _count_instances(state, hosts, names)
        bound = set(state.bound.values())
        pending = [u for u in state.instances if u not in bound]
        for earlier in pending:
            landed = next((names.name(h) for h in hosts
                           if earlier in (getattr(h, 'instances', None)
                                          or {})), None)
            if landed is None and len(pending) == 1 and len(grown) == 1:
                landed = grown[0]
            if landed is None:
                LOG.warning('Valet: cannot tell where Nova put instance %s',
                            earlier)
                continue
            self._bind(state, earlier, landed, budget)

    def _bind(self, state, uuid, host, budget):
        oid = next((o for o, h in sorted(state.unbound().items())
                    if h == host), None)
        if oid is None:
            LOG.warning('Valet: instance %s is on %s, where none of its '
                        "request's placements is", uuid, host)
            return
        state.bound[oid] = uuid
        try:
            self.client.reserve(oid, [host], resource_id=uuid,
                                timeout=budget.remaining())
        except client_exc.ValetClientError as exc:
            # The notification of its build binds it later.
            LOG.warning('Valet: binding instance %s to placement %s '
                        'failed: %s', uuid, oid, exc)

    def _expire(self):
        now = time.monotonic()
        for key, state in list(self._multi.items()):
            if state.spec_ref() is None or \
                    now - state.created > MULTI_CREATE_TTL:
                del self._multi[key]


def _refused(spec_obj, reason):
    """No host, with Valet's reason for a one-server request.

    Nova puts a NoValidHost's reason in the server's fault, where users
    (and Heat, in the stack's status reason) read why the boot failed;
    an empty answer only says there were not enough hosts. Nothing is
    claimed before the first instance is placed, so raising it there is
    what Nova's scheduler does itself. A multi-create may already hold
    claims for earlier instances, which only an empty answer lets Nova
    release.
    """
    if spec.num_instances(spec_obj) > 1:
        return []
    raise nova_exception.NoValidHost(reason='Valet: %s' % reason)


def _count_instances(state, hosts, names):
    """Record each host's instance count; return the hosts whose count
    grew since the last call."""
    grown = []
    for host in hosts:
        count = getattr(host, 'num_instances', None)
        if not isinstance(count, int):
            continue
        name = names.name(host)
        before = state.counts.get(name)
        if before is not None and count > before:
            grown.append(name)
        state.counts[name] = count
    return grown


def _ref(obj):
    try:
        return weakref.ref(obj)
    except TypeError:
        return lambda: obj
