"""Client side of the engine's RPC interface (``[engine] topic``).

The API never decides placements: it calls these methods, each a blocking
``call`` bounded by ``[engine] rpc_timeout``. An engine that does not answer
in time raises ``EngineUnavailable`` (the API answers 503), never hangs.
Errors the engine raises (``valet.common.exception``) come back as the same
classes.

Messages carry plain JSON-able dicts:

``plan`` (create_plan)::

    {"plan_name": str, "stack_id": str, "project_id": str|None,
     "resources": {<orchestration id>: {"name": str, "type": str,
                   "properties": {...HOT server properties...},
                   "metadata": {...scheduler hints...}}},
     "groups": {<group name>: {"name", "type", "level", "parents": [...]}},
     "locations": [host, ...] | None}

Every group a server joins through its metadata or an
``OS::Valet::GroupAssignment`` has already been resolved by the API
against stored groups (the server's ``properties.metadata.valet.groups``
then lists their names); ``groups`` holds their definitions (and those of
their parents). Groups a flavor's extra specs name are resolved by the
engine.

Replies carry domain data, never a REST representation (the API builds
that, microversions included). Plan calls answer a plan result
(``valet.engine.planning.result``)::

    {"plan": {"id", "name", "stack_id", "project_id", "generation"},
     "placements": [{"id", "name", "orchestration_id", "plan_id",
                     "location", "resource_id", "reserved", "metadata",
                     "project_id", "generation"}],
     "decision": {"feasible", "optimal", "objective": {...}, "moved",
                  "removed", "explanation", "stats", ...},
     "dry_run": bool, "removed": [placement id, ...]}

Versions (the engine serves every 1.x; the client names the version a
call needs, so an engine older than the API fails clearly):

* 1.0: the original calls; ``create_plan``, ``update_plan``,
  ``migrate``, ``reserve``, ``replan`` and ``reserve_stack_server``
  answer the v1 REST representation of the plan or placement. Kept for an
  API not yet upgraded and for the engine's own Heat stack planner;
  removed in 2.0.
* 1.1: ``plan_create``, ``plan_update`` (both with ``dry_run``) and
  ``plan_migrate`` answer plan results; ``placement_reserve``,
  ``placement_replan`` and ``placement_reserve_stack_server`` answer the
  placement's fields (``planning.placement_data``); ``capacity`` answers
  how many more of one server fit.
"""

import oslo_messaging as messaging
from oslo_messaging.rpc import dispatcher

from valet.common import exception

# What the engine serves; the client asks for the version each call needs.
RPC_API_VERSION = '1.1'
BASE_VERSION = '1.0'
ALLOWED_EXMODS = ['valet.common.exception']
# How an engine older than a call's version refuses it: the dispatcher's
# errors, rebuilt as themselves by the fake driver and as RemoteError
# (named only) by the real ones, which do not import oslo.messaging's
# modules on the caller's side.
_TOO_OLD = ('UnsupportedVersion', 'NoSuchMethod')


def _engine_too_old(exc, version):
    if version is None or version == BASE_VERSION:
        return False
    if isinstance(exc, (dispatcher.UnsupportedVersion,
                        dispatcher.NoSuchMethod,
                        messaging.RPCVersionCapError)):
        return True
    return (isinstance(exc, messaging.RemoteError) and
            exc.exc_type in _TOO_OLD)


def get_transport(conf, url=None):
    return messaging.get_rpc_transport(
        conf, url=url, allowed_remote_exmods=ALLOWED_EXMODS)


class EngineAPI:
    """Calls to the active ``valet-engine``."""

    def __init__(self, conf, transport=None):
        self.conf = conf
        self.transport = transport or get_transport(conf)
        target = messaging.Target(topic=conf.engine.topic,
                                  version=BASE_VERSION)
        self.client = messaging.get_rpc_client(
            self.transport, target, timeout=conf.engine.rpc_timeout)

    def _call(self, ctxt, method, version=None, **kwargs):
        client = self.client
        if version is not None:
            client = client.prepare(version=version)
        try:
            return client.call(ctxt, method, **kwargs)
        except messaging.MessagingTimeout:
            raise exception.EngineUnavailable(
                'The placement engine did not answer within %s seconds; '
                'check that valet-engine is running.'
                % self.conf.engine.rpc_timeout)
        except messaging.MessageDeliveryFailure as exc:
            raise exception.EngineUnavailable(
                'The placement engine could not be reached: %s' % exc)
        except messaging.MessagingException as exc:
            if not _engine_too_old(exc, version):
                raise
            # An API upgraded before its engine (the wrong order): a
            # clean 503 naming the fix, not an engine failure.
            raise exception.EngineUnavailable(
                'The placement engine is older than this API: it does not '
                'serve RPC %s (%s). Upgrade valet-engine first, then '
                'valet-api.' % (version, method))

    def ping(self, ctxt):
        """Engine and storage health: {"engine": {...}, "storage": {...}}."""
        return self._call(ctxt, 'ping')

    # 1.0: replies are the v1 REST representation of the plan. Valet's
    # API calls the 1.1 methods below; these stay for callers inside the
    # engine and older APIs, and go with RPC 2.0.
    def create_plan(self, ctxt, plan):
        """Place a whole stack; returns the stored plan (v1 shape)."""
        return self._call(ctxt, 'create_plan', plan=plan)

    def update_plan(self, ctxt, plan_id, resources, groups,
                    original_resources=None, plan_name=None):
        """Re-plan a stack: keep, move, add and drop servers (v1 shape)."""
        return self._call(ctxt, 'update_plan', plan_id=plan_id,
                          resources=resources, groups=groups,
                          original_resources=original_resources,
                          plan_name=plan_name)

    def migrate(self, ctxt, plan_id, resource, excluded_hosts):
        """Advise a new host for one server (v1 shape)."""
        return self._call(ctxt, 'migrate', plan_id=plan_id,
                          resource=resource, excluded_hosts=excluded_hosts)

    # 1.1: replies are plan results (domain data).
    def plan_create(self, ctxt, plan, dry_run=False):
        """Place a whole stack; a plan result. ``dry_run``: decide
        exactly as for real, store and reserve nothing, and answer a
        refusal as a decision instead of an error."""
        return self._call(ctxt, 'plan_create', version='1.1', plan=plan,
                          dry_run=dry_run)

    def plan_update(self, ctxt, plan_id, resources, groups,
                    original_resources=None, plan_name=None,
                    dry_run=False):
        """Re-plan a stack: keep, move, add and drop servers; a plan
        result (``dry_run`` as in ``plan_create``)."""
        return self._call(ctxt, 'plan_update', version='1.1',
                          plan_id=plan_id, resources=resources,
                          groups=groups,
                          original_resources=original_resources,
                          plan_name=plan_name, dry_run=dry_run)

    def plan_migrate(self, ctxt, plan_id, resource, excluded_hosts):
        """Advise a new host for one server (orchestration or physical
        id); a plan result with the advised hosts (nothing stored)."""
        return self._call(ctxt, 'plan_migrate', version='1.1',
                          plan_id=plan_id, resource=resource,
                          excluded_hosts=excluded_hosts)

    def placement_reserve(self, ctxt, placement_id, locations,
                          resource_id):
        """``reserve`` answering the placement's fields (domain data)."""
        return self._call(ctxt, 'placement_reserve', version='1.1',
                          placement_id=placement_id, locations=locations,
                          resource_id=resource_id)

    def placement_replan(self, ctxt, placement_id, locations, resource_id):
        """``replan`` answering the placement's fields."""
        return self._call(ctxt, 'placement_replan', version='1.1',
                          placement_id=placement_id, locations=locations,
                          resource_id=resource_id)

    def placement_reserve_stack_server(self, ctxt, hints, locations,
                                       resource_id, project_id=None,
                                       any_project=False):
        """``reserve_stack_server`` answering the placement's fields."""
        return self._call(ctxt, 'placement_reserve_stack_server',
                          version='1.1', hints=hints, locations=locations,
                          resource_id=resource_id, project_id=project_id,
                          any_project=any_project)

    def capacity(self, ctxt, query):
        """How many more of one server fit, and where; see
        ``valet.engine.planning.capacity``. Stores nothing."""
        return self._call(ctxt, 'capacity', version='1.1', query=query)

    def delete_plan(self, ctxt, plan_id):
        """Forget a plan and free what its servers held."""
        return self._call(ctxt, 'delete_plan', plan_id=plan_id)

    def reserve(self, ctxt, placement_id, locations, resource_id):
        """Reserve a placement if its host is among ``locations``; else
        replan it within them. Returns the placement."""
        return self._call(ctxt, 'reserve', placement_id=placement_id,
                          locations=locations, resource_id=resource_id)

    def reserve_stack_server(self, ctxt, hints, locations, resource_id,
                             project_id=None, any_project=False):
        """Reserve the server of a Heat stack that Heat's scheduler
        ``hints`` name, planning the whole stack from Heat first when
        Valet has no placement for it. Returns the placement."""
        return self._call(ctxt, 'reserve_stack_server', hints=hints,
                          locations=locations, resource_id=resource_id,
                          project_id=project_id, any_project=any_project)

    def replan(self, ctxt, placement_id, locations, resource_id):
        """Re-place one server within ``locations`` (reserved siblings
        stay); returns the placement."""
        return self._call(ctxt, 'replan', placement_id=placement_id,
                          locations=locations, resource_id=resource_id)

    def delete_placement(self, ctxt, placement_id):
        return self._call(ctxt, 'delete_placement',
                          placement_id=placement_id)

    # Groups change through the engine, which stores them and updates its
    # model before answering; replies are ``dataclasses.asdict`` of
    # ``valet.objects.Group`` (the API renders them).
    def create_group(self, ctxt, group, project_id=None):
        """Create ``{"name", "type", "level", "description", "parents"}``
        (``parents``: names or ids). ``project_id`` is the caller's project
        when it may nest only in groups open to it."""
        kwargs = {'project_id': project_id} if project_id else {}
        return self._call(ctxt, 'create_group', group=group, **kwargs)

    def update_group(self, ctxt, group_id, description=None, parents=None,
                     project_id=None):
        """Change the description and/or the parents (None: keep)."""
        kwargs = {}
        if parents is not None:
            kwargs = {'parents': parents, 'project_id': project_id}
        return self._call(ctxt, 'update_group', group_id=group_id,
                          description=description, **kwargs)

    def add_group_members(self, ctxt, group_id, members):
        return self._call(ctxt, 'add_group_members', group_id=group_id,
                          members=members)

    def remove_group_members(self, ctxt, group_id, project_id=None):
        """Remove one member project, or all of them (None)."""
        return self._call(ctxt, 'remove_group_members', group_id=group_id,
                          project_id=project_id)

    def delete_group(self, ctxt, group_id):
        return self._call(ctxt, 'delete_group', group_id=group_id)

    def group_members(self, ctxt, group_name):
        """Placed servers of a group: [{"id", "project_id", "host"}]."""
        return self._call(ctxt, 'group_members', group_name=group_name)

    def invalid_placements(self, ctxt):
        """Placements that break their groups: {id: {"status", "message"}}."""
        return self._call(ctxt, 'invalid_placements')
