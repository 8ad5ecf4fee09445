"""Plan decisions of the engine (create, update, migrate) and their
results as domain data.

Each decision is made the same way whether it is kept or is a dry run
(``dry_run``): the same translation, the same solver call on the same
model. A dry run then stops: no plan, no placement, no group membership,
no model change, no reservation; a refusal is its answer instead of an
error.

Results cross RPC as plain dicts of the domain (``result``), never as a
REST representation: the API builds that, with whatever its microversion
adds.
"""

import dataclasses
import functools
import json

from oslo_log import log as logging

from valet.common import exception
from valet.engine.model import request as request_mod
from valet.engine import solver
from valet.engine import translate
from valet import objects

# Decisions log under the endpoint's name, as before they moved here
# (operators filter on it).
LOG = logging.getLogger('valet.engine.service')

# Placement fields the engine keeps to itself (the model's rebuild data).
_INTERNAL = ('spec',)
# Decision fields RPC does not carry: the assignment is in the
# placements.
_NOT_SENT = ('assignment',)


def jsonable(value):
    """Explanations may hold numpy numbers, tuples or sets."""
    def default(obj):
        if isinstance(obj, (set, frozenset)):
            return sorted(obj, key=str)
        for cast in (int, float):
            try:
                if cast(obj) == obj:
                    return cast(obj)
            except (TypeError, ValueError):
                pass
        return str(obj)
    return json.loads(json.dumps(value, default=default))


_PLAIN = frozenset((str, int, float, bool, type(None)))


def plain(value):
    """``jsonable(value)``, built directly where the value is already
    JSON's (exact types: str keys, lists, tuples, scalars), the usual
    case; anything else (numpy numbers, sets, other keys) takes the
    JSON trip. A decision's copy without the text costs a fraction."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                return jsonable(value)
            out[key] = item if type(item) in _PLAIN else plain(item)
        return out
    if kind is list or kind is tuple:
        return [item if type(item) in _PLAIN else plain(item)
                for item in value]
    return jsonable(value)


def no_placement(decision, what):
    explanation = jsonable(decision.explanation or {})
    summary = explanation.get('summary') or 'no valid host'
    # The refusal is the engine's decision: its log says it, not only the
    # API's access log.
    LOG.info('No placement for %s (reason %s, %s ms): %s', what,
             explanation.get('reason', 'infeasible'),
             decision.stats.get('elapsed_ms'), summary)
    return exception.NoPlacement('No placement for %s: %s' % (what, summary),
                                 details=explanation)


def decision_data(decision):
    """A decision as a plain dict; a plan without servers is decided
    trivially (feasible, optimal, nothing to count)."""
    if decision is None:
        return {'feasible': True, 'optimal': True, 'objective': {},
                'moved': [], 'removed': [], 'explanation': None}
    # Field by field: the assignment (an entry per server) is never
    # copied, and nothing is deep-copied twice (asdict, then JSON).
    return {name: plain(getattr(decision, name))
            for name in _fields(type(decision), _NOT_SENT)}


@functools.lru_cache(maxsize=None)
def _fields(cls, left_out):
    # Worked out once a class, not for every placement of every answer.
    return tuple(f.name for f in dataclasses.fields(cls)
                 if f.name not in left_out)


def placement_data(placement):
    """A placement's fields but ``spec``, a copy of its own (``result``)."""
    cls = type(placement)
    attrs = placement.__dict__
    if tuple(attrs) == _fields(cls, ()):
        # The usual record, its attributes exactly its fields in their
        # order: one copy in C, then the internal ones dropped, instead
        # of a read per field (the same dict).
        data = attrs.copy()
        for name in _INTERNAL:
            data.pop(name, None)
        metadata = data.get('metadata')
        if type(metadata) is dict:
            # The usual field types, checked in C (the metadata's place
            # held by None meanwhile): only the metadata needs a copy.
            data['metadata'] = None
            if _PLAIN.issuperset(map(type, data.values())):
                data['metadata'] = plain(metadata) if metadata else {}
                return data
            data['metadata'] = metadata
    else:
        data = {name: getattr(placement, name)
                for name in _fields(cls, _INTERNAL)}
    for name, value in data.items():
        if type(value) not in _PLAIN:
            # The metadata (a mapping), or a field of another type.
            data[name] = plain(value)
    return data


def result(plan, placements, decision, dry_run=False, removed=()):
    """``{"plan", "placements", "decision", "dry_run", "removed"}``:
    the plan's fields, its placements' fields (a list), the decision and
    the ids of the placements an update dropped.

    The answer is as a trip through JSON would leave it, and shares
    nothing: every container in it is new, every other value of JSON's
    own types (``plain``). The local engine client
    (``valet.engine.local``) hands it over without a copy of its own.
    """
    return {'plan': {name: plain(getattr(plan, name))
                     for name in _fields(type(plan), ())},
            'placements': [placement_data(p) for p in placements],
            'decision': decision_data(decision),
            'dry_run': bool(dry_run),
            'removed': [plain(r) for r in removed]}


def v1_plan(data):
    """The RPC 1.0 reply (the v1 REST representation) of a ``result``."""
    plan = objects.Plan(**_known(objects.Plan, data['plan']))
    return plan.to_dict([objects.Placement(**_known(objects.Placement, p))
                         for p in data['placements']])


def _known(cls, data):
    fields = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in fields}


def _metadata(resource):
    metadata = resource.get('metadata') or {}
    return dict(metadata) if isinstance(metadata, dict) else {}


def _refused(decision, what, dry_run):
    if not dry_run:
        raise no_placement(decision, what)


PLAN_EXISTS = 'valet.plan.exists'


def plan_exists(stack_id):
    return exception.Conflict(
        'A plan for stack %s already exists; update it or delete it '
        'first' % stack_id, code=PLAN_EXISTS,
        details={'stack_id': stack_id})


def _has_plan(endpoint, ref):
    """Whether a plan has ``ref`` as its id or its stack's (False when
    storage cannot say: the caller's first error stands)."""
    try:
        endpoint.storage.get_plan(ref)
    except Exception:
        return False
    return True


def create(endpoint, plan, dry_run=False):
    """Place a new stack (see ``rpcapi``'s plan message); a result.

    A stack that has a plan is refused (409) before any other error. It
    is looked up only where that can change the answer: when the create
    fails, whatever the failure (the insert's own refusal of a second
    plan for the stack included), and before a dry run answers. A create
    that succeeds was checked by the insert, which every storage driver
    refuses for a stack that has a plan; a separate lookup first cost
    every create a query.
    """
    if not isinstance(plan, dict):
        raise exception.BadRequest('plan must be a mapping')
    stack_id = plan.get('stack_id')
    endpoint._require(stack_id, 'stack_id')
    try:
        return _create(endpoint, plan, stack_id, dry_run)
    except Exception as exc:
        if (getattr(exc, 'code', None) != PLAN_EXISTS
                and _has_plan(endpoint, stack_id)):
            raise plan_exists(stack_id) from None
        raise


def _create(endpoint, plan, stack_id, dry_run):
    new = objects.Plan(name=str(plan.get('plan_name') or stack_id),
                       stack_id=stack_id, project_id=plan.get('project_id'))
    work = translate.translate(
        plan.get('resources') or {}, plan.get('groups'), endpoint.flavors,
        stack=new.id, project=new.project_id,
        locations=plan.get('locations'), records=endpoint.groups)
    decision = None
    if work.request.servers:
        decision = endpoint._decide(work.request)
        if not decision.feasible:
            _refused(decision, 'stack %s (plan %s)' % (
                stack_id, new.name), dry_run)
    placements = [
        objects.Placement(
            name=server.name, orchestration_id=server.id, plan_id=new.id,
            location=decision.assignment.get(server.id),
            metadata=_metadata(work.resources[server.id]),
            spec=work.specs[server.id], project_id=new.project_id)
        for server in work.request.servers]
    if dry_run:
        if _has_plan(endpoint, stack_id):
            raise plan_exists(stack_id)
        out = result(new, placements, decision, dry_run=True)
        # A plan a dry run did not create has no id anyone can use.
        out['plan']['id'] = None
        for p in out['placements']:
            p['plan_id'] = p['id'] = None
        return out
    endpoint._fence()
    # The answer is built from these objects: the write answers nothing.
    endpoint.storage.insert_plan(new, placements)
    if decision is not None:
        solver.apply_decision(endpoint.dc, work.request, decision)
        LOG.info('Plan %s (stack %s): %d servers on %d hosts, %s ms',
                 new.id, stack_id, len(placements),
                 decision.objective.get('hosts_used'),
                 decision.stats.get('elapsed_ms'))
    return result(new, placements, decision)


def update(endpoint, plan_id, resources, groups, original_resources=None,
           plan_name=None, dry_run=False):
    """Re-plan a stack: keep, move, add and drop servers; a result."""
    plan = endpoint.storage.get_plan(plan_id)
    existing = {p.orchestration_id: p
                for p in endpoint._plan_placements(plan)}
    work = translate.translate(
        resources or {}, groups, endpoint.flavors, kind=request_mod.UPDATE,
        stack=plan.id, project=plan.project_id, records=endpoint.groups)
    decision = endpoint._decide(work.request)
    if not decision.feasible:
        _refused(decision, 'the update of stack %s' %
                 plan.stack_id, dry_run)
    placements = []
    for server in work.request.servers:
        host = decision.assignment.get(server.id)
        p = existing.get(server.id)
        if p is None:
            p = objects.Placement(
                name=server.name, orchestration_id=server.id,
                plan_id=plan.id, project_id=plan.project_id)
        else:
            # A dry run must not touch the stored records it read.
            p = dataclasses.replace(p)
            if p.location != host:
                # A reservation holds a host; a new host needs a new one.
                p.reserved = False
        p.name, p.location = server.name, host
        p.metadata = _metadata(work.resources[server.id])
        p.spec = work.specs[server.id]
        placements.append(p)
    kept = set(work.server_ids)
    removed = [p.id for oid, p in existing.items() if oid not in kept]
    if plan_name:
        plan.name = str(plan_name)
    if dry_run:
        return result(plan, placements, decision, dry_run=True,
                      removed=removed)
    endpoint._fence()
    endpoint.storage.save_plan(plan, placements, removed)
    solver.apply_decision(endpoint.dc, work.request, decision)
    # Servers the model did not hold (host gone) are dropped here too.
    LOG.info('Plan %s updated: %d servers, %d moved, %d removed',
             plan.id, len(placements), len(decision.moved), len(removed))
    return result(plan, placements, decision, removed=removed)


def migrate(endpoint, plan_id, resource, excluded_hosts):
    """Where one server should move: advice only (a result whose
    placements show the advised hosts; nothing is stored)."""
    plan = endpoint.storage.get_plan(plan_id)
    placements = endpoint._plan_placements(plan)
    target = next((p for p in placements if resource in (
        p.orchestration_id, p.resource_id, p.id)), None)
    if target is None:
        raise exception.BadRequest(
            'Unknown resource or orchestration id %s in plan %s' % (
                resource, plan.id), code='valet.plan.resource_unknown',
            details={'resource': resource})
    # The current host is excluded too (a lost server has no other way of
    # learning it).
    excluded = set(excluded_hosts or ()) | (
        {target.location} if target.location else set())
    request = endpoint._move_request(target, request_mod.MIGRATE,
                                     excluded=excluded)
    decision = endpoint._decide(request)
    if not decision.feasible:
        raise no_placement(decision, 'migrating %s' % resource)
    advised = [
        dataclasses.replace(p, location=decision.assignment.get(
            p.orchestration_id, p.location))
        for p in placements]
    return result(plan, advised, decision, dry_run=True)


def capacity(endpoint, query):
    """How many more of one server fit, and where: ``query`` is
    ``{"flavor": name or id, "groups": [names], "definitions": {name:
    definition} (as a plan's groups), "availability_zone", "level",
    "project_id"}``; the answer is ``capacity.Answer.to_dict()`` plus the
    flavor's name. Reads the model only."""
    from valet.engine import capacity as capacity_mod
    if not isinstance(query, dict):
        raise exception.BadRequest('query must be a mapping',
                                   code='valet.request.invalid')
    names = query.get('groups') or []
    if not isinstance(names, list) or not all(
            isinstance(n, str) and n for n in names):
        raise exception.BadRequest('groups must be a list of group names',
                                   code='valet.request.invalid')
    level = query.get('level') or 'host'
    if level not in endpoint.dc.topology:
        raise exception.BadRequest(
            "Level '%s' is not a level of this cloud's topology; use one "
            'of %s.' % (level, ', '.join(endpoint.dc.topology.levels)),
            code='valet.capacity.level_unknown', details={'level': level})
    # The queried server is translated like a plan's, so a flavor, its
    # extra specs and its groups mean the same in both.
    server = {'name': 'capacity-query', 'type': translate.SERVER_TYPE,
              'properties': {
                  'flavor': query.get('flavor'),
                  'availability_zone': query.get('availability_zone'),
                  'metadata': {'valet': {'groups': names}}}}
    work = translate.translate(
        {'capacity-query': server}, query.get('definitions') or {},
        endpoint.flavors, project=query.get('project_id'),
        records=endpoint.groups)
    answer = capacity_mod.count(
        endpoint.dc, work.request.servers[0], work.request.groups,
        level=level, work_budget=endpoint.options.max_work)
    data = answer.to_dict()
    data['flavor'] = work.specs['capacity-query']['flavor']
    LOG.info('Capacity query for %s: %d (%s), %d work units',
             data['flavor'], answer.count,
             'exact' if answer.exact else 'upper bound', answer.work)
    return data
