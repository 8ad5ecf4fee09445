#!/usr/bin/env python3
"""Place a sample stack through a running valet-api and print the result.

The stack is a small web application on the sample inventory: two web
servers kept on different racks (rack diversity), an app tier whose two
servers share a host (host affinity) nested in a host-diversity group with
a third one, and a database pair on hosts dedicated to it (exclusivity).
It talks only HTTP (noauth headers, as the all-in-one server expects).
Racks and zones are read from the static inventory file the server uses.

    python tools/sample_stack.py --url http://127.0.0.1:8090 \
        [--inventory etc/valet/inventory.sample.yaml]

It prints two tables: each server's host, rack and zone; and each group's
kind and level, with one line saying why the placement keeps it.
"""

import argparse
import collections
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

import yaml

DEFAULT_INVENTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 '..', 'etc', 'valet', 'inventory.sample.yaml')

HEADERS = {'Content-Type': 'application/json', 'X-Roles': 'admin',
           'X-Project-Id': 'demo', 'X-User-Id': 'demo'}

GROUPS = [
    {'name': 'web-racks', 'type': 'diversity', 'level': 'rack',
     'description': 'web servers on different racks'},
    {'name': 'app-hosts', 'type': 'diversity', 'level': 'host',
     'description': 'app units on different hosts'},
    {'name': 'app-pair', 'type': 'affinity', 'level': 'host',
     'description': 'the app pair shares a host'},
    {'name': 'db-dedicated', 'type': 'exclusivity', 'level': 'host',
     'description': 'database hosts run nothing else'},
]

SERVERS = [
    ('web-1', 'm1.medium', ['web-racks']),
    ('web-2', 'm1.medium', ['web-racks']),
    ('app-1', 'm1.large', ['app-pair', 'app-hosts']),
    ('app-2', 'm1.large', ['app-pair', 'app-hosts']),
    ('app-3', 'm1.large', ['app-hosts']),
    ('db-1', 'm1.xlarge', ['db-dedicated']),
    ('db-2', 'm1.xlarge', ['db-dedicated']),
]


def call(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers=HEADERS)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            text = resp.read().decode()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read().decode() or 'null')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', default='http://127.0.0.1:8090')
    parser.add_argument('--inventory', default=DEFAULT_INVENTORY,
                        help='the static inventory valet-api runs with '
                             '(for racks and zones)')
    args = parser.parse_args()
    for group in GROUPS:
        status, body = call(args.url, 'POST', '/v1/groups', group)
        if status not in (201, 409):  # 409: it exists from an earlier run
            print('creating group %s failed: %s %s' % (group['name'],
                                                       status, body))
            return 1
    resources = {}
    for name, flavor, groups in SERVERS:
        resources[str(uuid.uuid4())] = {
            'name': name, 'type': 'OS::Nova::Server',
            'properties': {'flavor': flavor, 'image': 'cirros',
                           'metadata': {'valet': {'groups': groups}}}}
    stack = str(uuid.uuid4())
    status, body = call(args.url, 'POST', '/v1/plans', {
        'plan_name': 'sample-web-app', 'stack_id': stack,
        'resources': resources})
    if status != 201:
        print('the plan was not placed (%s):' % status)
        print(json.dumps(body, indent=2))
        return 1
    plan = body['plan']
    status, listing = call(args.url, 'GET', '/v1/placements')
    others = [p for p in (listing or {}).get('placements', [])
              if p.get('plan_id') != plan['id']]
    inventory = load_inventory(args.inventory)
    print('Plan %s for stack %s:' % (plan['id'], stack))
    print()
    print_tables(plan, inventory, others)
    return 0


def load_inventory(path):
    """Each host's domains, and the servers already running per host."""
    with open(path) as f:
        data = yaml.safe_load(f)
    levels = data.get('levels', ['host', 'rack', 'zone', 'region'])
    domains = {h['name']: dict({lvl: h.get(lvl) for lvl in levels[1:]},
                               host=h['name'])
               for h in data['hosts']}
    running = collections.defaultdict(list)
    for server in data.get('servers') or []:
        running[server['host']].append(server['name'])
    return {'domains': domains, 'running': running}


def table(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = [header, ['-' * w for w in widths]] + rows
    return '\n'.join('  '.join(str(c).ljust(w) for c, w in
                               zip(line, widths)).rstrip()
                     for line in lines)


def why(group, members, where, inventory, others):
    """One line: how the placement of the members keeps the group."""
    level = group['level']
    by_domain = collections.OrderedDict()
    for name in sorted(members):
        by_domain.setdefault(where[name][level], []).append(name)
    if group['type'] == 'affinity':
        if len(by_domain) != 1:
            return 'NOT KEPT: members in %d %ss' % (len(by_domain), level)
        return 'all %d in %s %s' % (len(members), level, next(iter(by_domain)))
    if group['type'] == 'diversity':
        units = ['%s in %s' % ('+'.join(names), domain)
                 for domain, names in by_domain.items()]
        return 'one %s each: %s' % (level, ', '.join(units))
    # Exclusivity: nothing outside the group in the members' domains.
    hosts = [h for h, d in inventory['domains'].items()
             if d[level] in by_domain]
    intruders = sorted(
        [n for h in hosts for n in inventory['running'].get(h, [])] +
        [p['name'] for p in others if p.get('location') in hosts] +
        [n for n, w in where.items() if n not in members and
         w[level] in by_domain])
    if intruders:
        return 'NOT KEPT: %s also there' % ', '.join(intruders)
    return '%s %s: no other server there' % (
        level + ('s' if len(by_domain) > 1 else ''), ', '.join(by_domain))


def print_tables(plan, inventory, others):
    groups_of = {name: groups for name, _, groups in SERVERS}
    where = {}
    rows = []
    for placement in sorted(plan['placements'].values(),
                            key=lambda p: p['name']):
        name, hostname = placement['name'], placement['location']
        where[name] = inventory['domains'].get(
            hostname, {'host': hostname, 'rack': '?', 'zone': '?'})
        rows.append([name, hostname, where[name]['rack'],
                     where[name]['zone'], ', '.join(groups_of[name])])
    print(table(['server', 'host', 'rack', 'zone', 'groups'], rows))
    print()
    rows = []
    for group in GROUPS:
        members = [n for n, _, gs in SERVERS if group['name'] in gs]
        rows.append([group['name'], group['type'], group['level'],
                     why(group, members, where, inventory, others)])
    print(table(['group', 'kind', 'level', 'why'], rows))


if __name__ == '__main__':
    sys.exit(main())
