#!/usr/bin/env python3
"""Place a sample application stack into a small in-memory data centre.

The data centre has 2 zones, 4 racks (2 per zone) and 16 hosts (4 per
rack); some servers of another stack already run in it. The sample stack
is a three-tier application kept in one zone (affinity), with its web
servers on distinct hosts and its caches on distinct racks (diversity),
and its databases on hosts of their own (exclusivity).

Run it from the repository with Valet installed::

    python tools/place_sample.py [--objective consolidate|spread] [--json]
    python tools/place_sample.py --too-big    # an infeasible request

It prints a table of where each server went (host, rack, zone), a table
of the groups (kind, level, and why the placement keeps each), and checks
the placement with the independent validator, or prints the explanation when no placement exists.
"""

import argparse
import json
import sys

from valet.engine.model import datacenter
from valet.engine.model import groups
from valet.engine.model import host
from valet.engine.model import request
from valet.engine.model import resources

FLAVORS = {
    'm1.small': {'vcpus': 1, 'ram': 2048, 'disk': 20},
    'm1.medium': {'vcpus': 2, 'ram': 4096, 'disk': 40},
    'm1.large': {'vcpus': 4, 'ram': 8192, 'disk': 80},
    'm1.xlarge': {'vcpus': 8, 'ram': 16384, 'disk': 160},
}


def sample_datacenter():
    """16 hosts in 4 racks in 2 zones, with a few servers already placed."""
    hosts = []
    for zi, zone in enumerate(('zone-a', 'zone-b')):
        for ri in range(2):
            rack = '%s-rack%d' % (zone, ri + 1)
            for hi in range(4):
                hosts.append(host.HostSpec(
                    name='%s-h%d' % (rack, hi + 1),
                    capacity={'VCPU': 16, 'MEMORY_MB': 65536,
                              'DISK_GB': 1000},
                    domains={'rack': rack, 'zone': zone, 'region': 'r1'},
                    allocation_ratios={'VCPU': 2.0},
                    reserved={'MEMORY_MB': 2048},
                    availability_zone=zone))
    existing = groups.Group('legacy-spread', groups.DIVERSITY, 'host')
    placed = []
    for i, hostname in enumerate(['zone-a-rack1-h1', 'zone-a-rack1-h2',
                                  'zone-a-rack2-h1', 'zone-b-rack1-h1',
                                  'zone-b-rack1-h3', 'zone-b-rack2-h4']):
        placed.append(datacenter.PlacedServer(
            id='legacy-%d' % i, host=hostname,
            demand=resources.flavor_demand(FLAVORS['m1.xlarge']),
            groups=('legacy-spread',), project='other', stack='legacy',
            name='legacy-%d' % i))
    return datacenter.DataCenter.build(hosts, servers=placed,
                                       groups=[existing])


def sample_request(too_big=False):
    """A three-tier stack: 3 web, 2 cache and 2 database servers."""
    stack_groups = [
        groups.Group('shop', groups.AFFINITY, 'zone'),
        groups.Group('shop-web', groups.DIVERSITY, 'host', parents=('shop',)),
        groups.Group('shop-cache', groups.DIVERSITY, 'rack',
                     parents=('shop',)),
        groups.Group('shop-db', groups.EXCLUSIVITY, 'host',
                     parents=('shop',)),
    ]
    servers = []

    def add(name, flavor, group):
        servers.append(request.ServerRequest(
            id=name, name=name, groups=(group,),
            demand=resources.flavor_demand(FLAVORS[flavor])))

    for i in range(3):
        add('web-%d' % i, 'm1.medium', 'shop-web')
    for i in range(2):
        add('cache-%d' % i, 'm1.large', 'shop-cache')
    for i in range(2):
        add('db-%d' % i, 'm1.xlarge', 'shop-db')
    if too_big:
        # Three caches on distinct racks, in one zone of two racks.
        add('cache-2', 'm1.large', 'shop-cache')
    return request.PlacementRequest(servers=servers, groups=stack_groups,
                                    kind=request.CREATE, stack='shop',
                                    project='demo')


def table(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = [header, ['-' * w for w in widths]] + rows
    return '\n'.join('  '.join(str(c).ljust(w) for c, w in
                               zip(line, widths)).rstrip()
                     for line in lines)


def _members(group, req):
    """Servers in the group or in a group nested under it."""
    names = {group.name}
    changed = True
    while changed:
        changed = False
        for g in req.groups:
            if g.name not in names and set(g.parents) & names:
                names.add(g.name)
                changed = True
    return [s for s in req.servers if set(s.groups) & names]


def why(group, dc, req, decision):
    """One line: where the members went at the group's level."""
    by_domain = {}
    for server in _members(group, req):
        domain = dc.domain_of(decision.assignment[server.id], group.level)
        by_domain.setdefault(domain, []).append(server.name)
    if group.kind == groups.AFFINITY:
        return 'all %d in %s %s' % (
            sum(map(len, by_domain.values())), group.level,
            ', '.join(by_domain))
    if group.kind == groups.DIVERSITY:
        return 'one %s each: %s' % (group.level, ', '.join(
            '%s in %s' % ('+'.join(names), domain)
            for domain, names in sorted(by_domain.items())))
    return '%s%s of their own: %s' % (
        group.level, 's' if len(by_domain) > 1 else '',
        ', '.join(sorted(by_domain)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--objective', default='consolidate',
                        choices=('consolidate', 'spread'))
    parser.add_argument('--too-big', action='store_true',
                        help='ask for a placement that cannot exist')
    parser.add_argument('--json', action='store_true',
                        help='print the whole decision as JSON')
    args = parser.parse_args(argv)

    try:
        from valet.engine.solver import decide
        from valet.engine.solver.decision import SolverOptions
    except ImportError as exc:
        print('the placement solver is not available: %s' % exc,
              file=sys.stderr)
        return 2

    dc = sample_datacenter()
    req = sample_request(too_big=args.too_big)
    decision = decide(dc, req, SolverOptions(objective=args.objective))

    if args.json:
        print(json.dumps(decision.to_dict(), indent=2, sort_keys=True,
                         default=str))
        return 0 if decision.feasible else 1

    print('Data centre: %d hosts, %d racks, %d zones, %d servers running'
          % (len(dc.hosts), dc.domain_count(1), dc.domain_count(2),
             len(dc.servers)))
    print('Stack %r: %d servers, groups %s' % (
        req.stack, len(req.servers),
        ', '.join('%s (%s/%s)' % (g.name, g.kind, g.level)
                  for g in req.groups)))
    print()
    if not decision.feasible:
        print('No placement exists%s.' % (
            '' if decision.proven_infeasible else ' within the search budget'))
        explanation = decision.explanation or {}
        if explanation.get('summary'):
            print(explanation['summary'])
            print()
        print(json.dumps(explanation, indent=2, sort_keys=True, default=str))
        return 1

    rows = []
    for server in req.servers:
        hostname = decision.assignment[server.id]
        rows.append([server.name, hostname, dc.domain_of(hostname, 'rack'),
                     dc.domain_of(hostname, 'zone'), ', '.join(server.groups)])
    print(table(['server', 'host', 'rack', 'zone', 'groups'], rows))
    print()
    print(table(['group', 'kind', 'level', 'why'],
                [[g.name, g.kind, g.level, why(g, dc, req, decision)]
                 for g in req.groups]))
    print()
    print('objective: %s%s' % (
        args.objective, ' (proven optimal)' if decision.optimal else ''))
    for key, value in sorted(decision.objective.items()):
        print('  %s: %s' % (key, value))

    try:
        from valet.engine.solver import validator
    except ImportError:
        return 0
    violations = validator.validate(dc, req, decision.assignment,
                                    decision.removed)
    if violations:
        print('INVALID placement:')
        for violation in violations:
            print('  %s' % violation)
        return 3
    print('validator: the placement obeys every rule')
    return 0


if __name__ == '__main__':
    sys.exit(main())
