"""Which servers a request places, checked against the model.

A create or an ad-hoc request places new servers only; an update places
its stack's servers again (those it no longer lists leave); a replan or
a migration moves one placed server, with the partners asked to move
with it. Requests that cannot mean anything are refused here with a
precise error, before the problem is compiled.
"""

import dataclasses

from valet.engine.model import errors
from valet.engine.model import request as r


def servers_to_place(dc, request, movable_extra):
    """(servers to place, {id: current host}, [ids removed])."""
    if request.kind not in r.KINDS:
        raise errors.InvalidRequest(
            'unknown request kind %r; use one of %s' % (
                request.kind, ', '.join(r.KINDS)),
            code='valet.request.unknown_kind')
    seen = set()
    for server in request.servers:
        if server.id in seen:
            raise errors.InvalidRequest(
                'server %s appears twice in the request' % server.id,
                code='valet.request.duplicate_server', server=server.id)
        seen.add(server.id)
    current, removed = {}, []
    if request.kind in (r.CREATE, r.ADHOC):
        if request.kind == r.ADHOC and len(request.servers) != 1:
            raise errors.InvalidRequest(
                'an ad-hoc request places exactly one server, not %d' %
                len(request.servers), code='valet.request.adhoc_size')
        for server in request.servers:
            if server.id in dc.servers:
                raise errors.InvalidRequest(
                    'server %s is already placed; use an update or a '
                    'replan' % server.id,
                    code='valet.request.server_exists', server=server.id)
        return list(request.servers), current, removed
    if request.kind == r.UPDATE:
        if not request.stack:
            raise errors.InvalidRequest(
                'an update names the stack it updates',
                code='valet.request.no_stack')
        for server in request.servers:
            placed = dc.servers.get(server.id)
            if placed is not None:
                if placed.stack != request.stack:
                    raise errors.InvalidRequest(
                        'server %s belongs to stack %s, not %s' % (
                            server.id, placed.stack, request.stack),
                        code='valet.request.server_exists',
                        server=server.id)
                current[server.id] = placed.host
        removed = sorted(sid for sid, placed in dc.servers.items()
                         if placed.stack == request.stack
                         and sid not in seen)
        return list(request.servers), current, removed
    # replan / migrate: the target, plus partners asked to move with it.
    target = request.target
    if target not in dc.servers:
        raise errors.InvalidRequest(
            'server %r is not placed; nothing to %s' % (target,
                                                        request.kind),
            code='valet.request.unknown_server', server=target)
    given = {s.id: s for s in request.servers}
    servers = []
    for sid in [target] + [s for s in movable_extra if s != target]:
        placed = dc.servers[sid]
        server = given.get(sid) or r.ServerRequest(
            id=sid, demand=dict(placed.demand), name=placed.name,
            groups=placed.groups)
        if sid == target:
            excluded = set(server.excluded_hosts) | set(
                request.excluded_hosts)
            if request.kind == r.MIGRATE:
                excluded.add(placed.host)
            server = dataclasses.replace(
                server, excluded_hosts=frozenset(excluded),
                candidate_hosts=(request.candidate_hosts
                                 if request.candidate_hosts is not None
                                 else server.candidate_hosts))
        servers.append(server)
        current[sid] = placed.host
    return servers, current, removed
