"""From RPC plan messages to the solver's requests.

A plan message (see ``valet.engine.rpcapi``) carries HOT-style resources
keyed by orchestration id. Only ``OS::Nova::Server`` resources become
servers to place; everything else in a stack is Valet's business only
through the groups the servers join, so it is ignored here. A server joins
a group through its metadata, an ``OS::Valet::GroupAssignment`` of the plan
or its flavor's extra specs (``valet.objects.membership`` reads them all).
Each server's flavor is resolved against the inventory, and what the
engine needs to rebuild its model later (demand, groups, zone, extra
specs) is kept as the placement's ``spec``.
"""

import dataclasses

from valet.common import exception
from valet.engine.model import groups as groups_mod
from valet.engine.model import request as request_mod
from valet.engine.model import resources as resources_mod
from valet.objects import flavor as flavor_rule
from valet.objects import group_kinds
from valet.objects import membership

SERVER_TYPE = membership.SERVER_TYPE


@dataclasses.dataclass
class Translation:
    """A request plus what storage needs for each of its servers.

    ``specs`` and ``resources`` are keyed by orchestration id, which is
    also the server id in the request and the model.
    """

    request: request_mod.PlacementRequest
    specs: dict
    resources: dict

    @property
    def server_ids(self):
        return [s.id for s in self.request.servers]


def _bad(message, code, **details):
    return exception.BadRequest(message, code=code, details=details)


def find_flavor(flavors, ref):
    """A flavor dict by name, else by id; None when unknown."""
    if ref is None or isinstance(ref, (dict, list)):
        return None
    ref = str(ref)
    if ref in flavors:
        return flavors[ref]
    for flavor in flavors.values():
        if str(flavor.get('id')) == ref:
            return flavor
    return None


_FLAVOR_SIZES = ('vcpus', 'ram', 'disk', 'ephemeral', 'swap')


def inline_flavor(ref, orch_id):
    """A flavor given whole in ``properties.flavor`` (Nova's scheduler
    filter sends the server's own, so a flavor created since the last
    inventory read is no obstacle), or None for a flavor name or id."""
    if not isinstance(ref, dict):
        return None
    flavor = {'name': str(ref.get('name') or 'inline')}
    for key in _FLAVOR_SIZES:
        value = ref.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or \
                value < 0:
            raise _bad('resource %s: properties.flavor.%s must be a whole '
                       'number from 0' % (orch_id, key),
                       'valet.plan.unknown_flavor', resource=orch_id)
        flavor[key] = value
    specs = ref.get('extra_specs') or {}
    if not isinstance(specs, dict) or not all(
            isinstance(k, str) and isinstance(v, str)
            for k, v in specs.items()):
        raise _bad('resource %s: properties.flavor.extra_specs must map '
                   'strings to strings' % orch_id,
                   'valet.plan.unknown_flavor', resource=orch_id)
    flavor['extra_specs'] = dict(specs)
    return flavor


def server_resources(resources):
    """``[(orchestration id, resource)]`` of the servers, sorted by id.

    Sorting keeps decisions deterministic whatever order the message used.
    """
    if not isinstance(resources, dict):
        raise _bad('resources must be a mapping of orchestration id to '
                   'resource', 'valet.plan.bad_resources')
    out = []
    for orch_id, resource in resources.items():
        if not isinstance(resource, dict):
            raise _bad('resource %s must be a mapping with type and '
                       'properties' % orch_id, 'valet.plan.bad_resource',
                       resource=orch_id)
        if resource.get('type') == SERVER_TYPE:
            out.append((str(orch_id), resource))
    return sorted(out, key=lambda item: item[0])


def plan_memberships(resources):
    """``{server orchestration id: (group refs)}`` from the servers'
    metadata and the plan's ``OS::Valet::GroupAssignment`` resources."""
    try:
        return membership.from_plan(resources)
    except membership.MembershipError as exc:
        raise _bad(exc.message, 'valet.plan.bad_metadata',
                   resource=exc.resource)


def build_groups(groups):
    """Model groups from the message's ``groups`` (mapping or list)."""
    if not groups:
        return []
    if isinstance(groups, dict):
        items = []
        for name, spec in groups.items():
            if not isinstance(spec, dict):
                raise _bad('group %s must be a mapping with type and level' %
                           name, 'valet.plan.bad_group', group=name)
            items.append(dict(spec, name=spec.get('name') or name))
    elif isinstance(groups, list):
        items = groups
    else:
        raise _bad('groups must be a mapping of group name to definition',
                   'valet.plan.bad_group')
    out = []
    for spec in sorted(items, key=lambda s: str(
            s.get('name') if isinstance(s, dict) else s)):
        if not isinstance(spec, dict) or not spec.get('name'):
            raise _bad('every group needs a name, a type and a level',
                       'valet.plan.bad_group')
        name = str(spec['name'])
        kind = spec.get('type') or spec.get('kind')
        if kind not in groups_mod.KINDS:
            raise _bad('group %s has unknown type %r; use one of %s' % (
                name, kind, ', '.join(groups_mod.KINDS)),
                'valet.plan.bad_group', group=name)
        parents = spec.get('parents') or ()
        if isinstance(parents, str) or not all(
                isinstance(p, str) for p in parents):
            raise _bad('group %s: parents must be a list of group names' %
                       name, 'valet.plan.bad_group', group=name)
        parameters = group_kinds.picked(spec)
        problem = group_kinds.parameters_error(kind, parameters)
        if problem:
            raise _bad('group %s: %s' % (name, problem),
                       'valet.plan.bad_group', group=name)
        level = str(spec.get('level') or group_kinds.DEFAULT_LEVEL)
        out.append(groups_mod.Group(
            name=name, kind=kind, level=level,
            parents=tuple(parents), project=spec.get('project'),
            parameters=parameters))
    return out


def group_definitions(names, groups):
    """``{name: {type, level, parents[, parameters by name]}}`` for the
    closure of ``names``.

    Stored with each placement so that a restarted engine can define the
    groups again even when they are no longer in storage.
    """
    return _definitions(names, {g.name: g for g in groups})


def _definitions(names, defs):
    out = {}
    for name in groups_mod.closure(names, defs):
        group = defs.get(name)
        if group is not None:
            out[name] = {'type': group.kind, 'level': group.level,
                         'parents': list(group.parents)}
            out[name].update(group.parameters)
    return out


def _flavor_groups(flavor, ref, name, orch_id, records, project):
    """Stored groups a flavor's extra specs name (404/409 as the API)."""
    try:
        refs = membership.from_extra_specs(flavor.get('extra_specs'),
                                           flavor.get('name', str(ref)))
    except membership.MembershipError as exc:
        raise _bad('resource %s (%s): %s' % (name, orch_id, exc.message),
                   'valet.plan.bad_metadata', resource=orch_id)
    if not refs:
        return []
    if records is None:
        raise _bad('resource %s (%s): flavor %s names groups, which only '
                   'the engine can resolve' % (name, orch_id, ref),
                   'valet.plan.bad_metadata', resource=orch_id)
    where = "flavor %s's extra specs" % flavor.get('name', ref)
    return [records.require(r, project, where) for r in refs]


def _server_flavor(orch_id, name, ref, flavors):
    """``(flavor, demand, extra specs)`` of the flavor a server names."""
    flavor = inline_flavor(ref, orch_id) or find_flavor(flavors, ref)
    if flavor is None:
        raise _bad('resource %s (%s) uses unknown flavor %r; known flavors '
                   'are %s' % (name, orch_id, ref,
                               ', '.join(sorted(flavors)) or '(none)'),
                   'valet.plan.unknown_flavor', resource=orch_id,
                   flavor=str(ref))
    try:
        demand = resources_mod.flavor_demand(flavor)
    except flavor_rule.FlavorError as exc:
        raise _bad('resource %s (%s): %s' % (name, orch_id, exc),
                   'valet.plan.unknown_flavor', resource=orch_id,
                   flavor=str(ref))
    # The membership key is Valet's, not a host requirement.
    extra_specs = {k: v for k, v in (flavor.get('extra_specs') or {}).items()
                   if k != membership.EXTRA_SPEC_KEY}
    return flavor, demand, extra_specs


class _FlavorMemo:
    """What a flavor reference gives, worked out once per translation
    rather than for every server naming it. Only answers are kept: the
    first server naming a bad flavor raises, and ends the translation."""

    def __init__(self):
        # key -> (flavor, demand, extra specs, stored groups it names).
        self.flavors = {}
        # (flavor key, group names, zone) -> the spec those servers share.
        self.specs = {}

    @staticmethod
    def key(ref):
        # A flavor given whole is the server's own; 1 and True are not
        # the same reference.
        return None if isinstance(ref, (dict, list)) else (type(ref), ref)


def build_server(orch_id, resource, flavors, refs, locations=None,
                 records=None, project=None, memo=None):
    """``(ServerRequest, spec, stored groups its flavor names)`` of one
    server resource; ``refs`` are the group names its metadata and the
    plan's assignments give it. ``records`` resolves the groups its
    flavor's extra specs name; ``memo`` (a ``_FlavorMemo``) keeps the
    flavors of one translation."""
    properties = resource.get('properties') or {}
    if not isinstance(properties, dict):
        raise _bad('resource %s: properties must be a mapping' % orch_id,
                   'valet.plan.bad_resource', resource=orch_id)
    name = resource.get('name') or properties.get('name') or orch_id
    ref = properties.get('flavor')
    if ref is None or ref == '':
        raise _bad('resource %s (%s) names no flavor; set properties.flavor '
                   'to a flavor name or id' % (name, orch_id),
                   'valet.plan.unknown_flavor', resource=orch_id)
    zone = properties.get('availability_zone') or None
    # _FlavorMemo.key, inline: this runs for every server of a plan.
    key = None if memo is None or isinstance(ref, (dict, list)) else (
        type(ref), ref)
    known = memo.flavors.get(key) if key is not None else None
    if known is None:
        # Its flavor, then its zone, then its flavor's groups: the first
        # error is the one answered.
        flavor, demand, extra_specs = _server_flavor(orch_id, name, ref,
                                                     flavors)
        _check_zone(zone, name, orch_id)
        from_flavor = _flavor_groups(flavor, ref, name, orch_id, records,
                                     project)
        if key is not None:
            memo.flavors[key] = (flavor, demand, extra_specs, from_flavor)
    else:
        flavor, demand, extra_specs, from_flavor = known
        if zone is not None and type(zone) is not str:
            _check_zone(zone, name, orch_id)
    if from_flavor:
        refs = list(refs) + [g.name for g in from_flavor]
    # One name or none (the usual) has no repeats to drop.
    names = tuple(refs) if len(refs) < 2 else tuple(dict.fromkeys(refs))
    # Every server its own dicts, as if its flavor were read for it alone.
    server = request_mod.ServerRequest(
        orch_id, dict(demand), str(name), names, zone, dict(extra_specs),
        frozenset(locations) if locations else None)
    if key is None:
        spec = _spec(server.demand, names, zone, server.extra_specs, flavor,
                     ref)
    else:
        # Servers of one flavor reference, groups and zone have equal
        # specs: they share one, with dicts of its own (not a server's),
        # so that storage writes its text once
        # (``valet.storage.sql.driver``). Specs are only read after this.
        spec = memo.specs.get((key, names, zone))
        if spec is None:
            spec = memo.specs[key, names, zone] = _spec(
                dict(demand), names, zone, dict(extra_specs), flavor, ref)
    return server, spec, from_flavor


def _check_zone(zone, name, orch_id):
    if zone is not None and not isinstance(zone, str):
        raise _bad('resource %s (%s): properties.availability_zone must be '
                   'a zone name, not %s'
                   % (name, orch_id, type(zone).__name__),
                   'valet.plan.bad_resource', resource=orch_id)


def _spec(demand, names, zone, extra_specs, flavor, ref):
    # ``group_definitions`` is added once every server is read.
    return {'demand': demand, 'groups': list(names),
            'availability_zone': zone, 'extra_specs': extra_specs,
            'flavor': flavor['name'] if 'name' in flavor else str(ref)}


def _group_names(records):
    """``ref -> group name``: references by id become names (the API
    sends names already). Each reference is looked up once per request: a
    group only the message defines is not stored, and every server naming
    it would otherwise read storage again."""
    names = {}

    def name_of(ref):
        if records is None:
            return ref
        if ref not in names:
            names[ref] = getattr(records.find(ref), 'name', ref)
        return names[ref]
    return name_of


def translate(resources, groups, flavors, kind=request_mod.CREATE,
              stack=None, project=None, locations=None, records=None):
    """A Translation of a stack's resources for one request kind.

    ``locations`` (an ad-hoc boot's candidate hosts) restricts every
    server; a single server with locations is an ``adhoc`` request.
    ``records`` (the engine's ``GroupRecords``) resolves the groups only
    the engine sees (flavor extra specs) and group ids.
    """
    if locations is not None and (
            not isinstance(locations, list) or
            not all(isinstance(h, str) for h in locations)):
        raise _bad('locations must be a list of host names',
                   'valet.plan.bad_locations')
    model_groups = build_groups(groups)
    servers = server_resources(resources)
    try:
        assigned = membership.from_assignments(resources)
    except membership.MembershipError as exc:
        raise _bad(exc.message, 'valet.plan.bad_metadata',
                   resource=exc.resource)
    flavor_groups = {}
    specs, kept, requests = {}, {}, []
    name_of = _group_names(records)
    memo = _FlavorMemo()
    defs = {g.name: g for g in model_groups}
    try:
        # One pass: each server's groups are read as it is built
        # (``plan_memberships`` server by server).
        for orch_id, resource in servers:
            refs = membership.server_refs(orch_id, resource, assigned)
            server, spec, from_flavor = build_server(
                orch_id, resource, flavors,
                [name_of(r) for r in refs] if refs else refs, locations,
                records, project, memo)
            if from_flavor:
                flavor_groups.update((g.name, g) for g in from_flavor)
            elif not flavor_groups and 'group_definitions' not in spec:
                # Once per spec: servers alike share theirs
                # (build_server). Groups only flavors name are known
                # after the last server: then it waits for them.
                spec['group_definitions'] = _definitions(server.groups,
                                                         defs)
            requests.append(server)
            specs[orch_id] = spec
            kept[orch_id] = resource
    except Exception:
        # Every server's groups were read before any server was built:
        # an error there is still the one answered.
        plan_memberships(resources)
        raise
    if flavor_groups:
        known = set(defs)
        for group in records.with_ancestors(flavor_groups.values()).values():
            if group.name not in known:
                model_groups.append(group_model(group))
        defs = {g.name: g for g in model_groups}
        # Their ancestors may enclose any server's groups: every spec's
        # definitions are read again.
        for spec in specs.values():
            spec.pop('group_definitions', None)
        for server in requests:
            spec = specs[server.id]
            if 'group_definitions' not in spec:
                spec['group_definitions'] = _definitions(server.groups,
                                                         defs)
    if kind == request_mod.CREATE and locations and len(requests) == 1:
        kind = request_mod.ADHOC
    request = request_mod.PlacementRequest(
        servers=requests, groups=model_groups, kind=kind, stack=stack,
        project=project)
    return Translation(request=request, specs=specs, resources=kept)


def group_model(group):
    """The model's definition of a stored ``valet.objects.Group``."""
    return groups_mod.Group(name=group.name, kind=group.type,
                            level=group.level, parents=tuple(group.parents),
                            parameters=group.parameters)


def server_from_spec(orch_id, spec, name=None):
    """A ServerRequest from a stored placement's ``spec``."""
    return request_mod.ServerRequest(
        id=orch_id, demand=dict(spec.get('demand') or {}), name=name,
        groups=tuple(spec.get('groups') or ()),
        availability_zone=spec.get('availability_zone'),
        extra_specs=dict(spec.get('extra_specs') or {}))


def groups_from_spec(spec):
    """Model groups from a stored placement's ``group_definitions``."""
    out = []
    for name, d in sorted((spec.get('group_definitions') or {}).items()):
        level = d.get('level', group_kinds.DEFAULT_LEVEL)
        out.append(groups_mod.Group(name=name, kind=d.get('type'),
                                    level=level,
                                    parents=tuple(d.get('parents') or ()),
                                    parameters=group_kinds.picked(d)))
    return out
