#!/usr/bin/env python3
"""Place a sample stack through a running valet-api and print the result.

The stack is a small web application on the sample inventory: two web
servers kept on different racks (rack diversity), an app tier whose two
servers share a host (host affinity) nested in a host-diversity group with
a third one, and a database pair on hosts dedicated to it (exclusivity).
It talks only HTTP (noauth headers, as the all-in-one server expects).

    python tools/sample_stack.py --url http://127.0.0.1:8090
"""

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid

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
    print('Plan %s for stack %s:' % (plan['id'], stack))
    groups_of = {name: groups for name, _, groups in SERVERS}
    for placement in sorted(plan['placements'].values(),
                            key=lambda p: p['name']):
        print('  %-6s -> %-12s (%s)' % (placement['name'],
                                        placement['location'],
                                        ', '.join(groups_of[placement['name']])))
    return 0


if __name__ == '__main__':
    sys.exit(main())
