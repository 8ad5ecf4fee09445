"""Paged lists and the indexed metadata lookup through a deployed Valet.

valet-api under uwsgi and a valet-engine process (``deployment``) on
MariaDB and PostgreSQL (SQLite runs the same storage code in the storage
contract and the deployed fuzz run): groups, plans and placements listed a
page at a time with microversion 1.1 give every object exactly once, in
order, following ``next`` links; ``GET /v1/placements?heat_stack_id=X``
finds exactly the stack's placements; the 1.0 lists stay whole.
"""

from urllib import parse

from valet.tests.functional import databases
from valet.tests.functional.deploy import base

V11 = dict(base.ADMIN, **{'OpenStack-API-Version':
                          'workload-placement 1.1'})
STACKS = 4
SERVERS = 3


class _Paging:
    """Mixed into a DeploymentTestCase with ``SERVER``."""

    SERVER = None

    def setUp(self):
        super().setUp()
        self.connection = self.useFixture(
            databases.DatabaseFixture(self.SERVER())).url
        self.deploy()

    def walk(self, path, key, limit):
        """Every object of a list, following ``next`` links; also the
        number of pages."""
        seen, pages = [], 0
        url = '%s%slimit=%d' % (path, '&' if '?' in path else '?', limit)
        while url:
            resp = self.call('GET', url, headers=V11)
            self.assertEqual(200, resp.status_code, resp.text)
            body = resp.json()
            seen.extend(body[key])
            pages += 1
            nexts = [link['href'] for link in body['links']
                     if link['rel'] == 'next']
            url = None
            if nexts:
                parts = parse.urlsplit(nexts[0])
                url = parts.path + '?' + parts.query
        return seen, pages

    def test_pages_and_metadata_lookup(self):
        for i in range(5):
            resp = self.call('POST', '/v1/groups', json={
                'name': 'g%d' % i, 'type': 'diversity', 'level': 'host'})
            self.assertEqual(201, resp.status_code, resp.text)
        stacks = []
        for i in range(STACKS):
            stack = 'stack-%d' % i
            servers = {'%s-s%d' % (stack, j): dict(
                base.server('s%d' % j), metadata={'heat_stack_id': stack})
                for j in range(SERVERS)}
            resp = self.call('POST', '/v1/plans', headers=base.member('p1'),
                             json={'plan_name': 'plan-%d' % i,
                                   'stack_id': stack, 'resources': servers})
            self.assertEqual(201, resp.status_code, resp.text)
            stacks.append(stack)

        groups, pages = self.walk('/v1/groups', 'groups', 2)
        self.assertEqual(['g%d' % i for i in range(5)],
                         [g['name'] for g in groups])
        self.assertEqual(3, pages)
        plans, pages = self.walk('/v1/plans', 'plans', 3)
        self.assertEqual(['plan-%d' % i for i in range(STACKS)],
                         [p['name'] for p in plans])
        self.assertEqual(2, pages)
        self.assertTrue(all(len(p['placements']) == SERVERS for p in plans))
        everything = self.call('GET', '/v1/placements').json()['placements']
        placements, _ = self.walk('/v1/placements', 'placements', 5)
        self.assertEqual(sorted(p['id'] for p in everything),
                         sorted(p['id'] for p in placements))
        self.assertEqual(len(placements), len({p['id'] for p in placements}))

        found, pages = self.walk('/v1/placements?heat_stack_id=stack-2',
                                 'placements', 2)
        self.assertEqual(['stack-2-s%d' % j for j in range(SERVERS)],
                         sorted(p['orchestration_id'] for p in found))
        self.assertEqual(2, pages)
        whole = self.call('GET', '/v1/placements?heat_stack_id=stack-1')
        self.assertEqual(['placements'], list(whole.json()))
        self.assertEqual(SERVERS, len(whole.json()['placements']))

        resp = self.call('GET', '/v1/plans?marker=nope', headers=V11)
        self.assertEqual(400, resp.status_code)
        self.assertEqual('valet.request.marker_not_found',
                         resp.json()['errors'][0]['code'])


class MySQLPagingTest(_Paging, base.DeploymentTestCase):
    SERVER = databases.MySQLServer


class PostgreSQLPagingTest(_Paging, base.DeploymentTestCase):
    SERVER = databases.PostgreSQLServer
