"""Dry runs, decisions and capacity (microversion 1.8) in the client.

What the client sends (microversions, bodies, queries) is checked against
a recording stand-in for its HTTP layer; what it returns, against a real
Valet (``valet-api --all-in-one``) with its real engine.
"""

import uuid

from keystoneauth1 import session as ks_session
import testtools

from valet import client
from valet.client import v1
from valet.tests.unit.client import fixtures as valet_fixtures

SERVER = 'OS::Nova::Server'


def server(name, flavor='m1.small', groups=None):
    props = {'flavor': flavor}
    if groups:
        props['metadata'] = {'valet': {'groups': groups}}
    return {'name': name, 'type': SERVER, 'properties': props}


class RecordingHTTP:

    def __init__(self, answer, microversion=None):
        self.answer = answer
        self.microversion = microversion
        self.sent = []

    def request(self, method, path, body=None, query=None, timeout=None,
                microversion=None):
        self.sent.append({'method': method, 'path': path, 'body': body,
                          'query': query, 'microversion': microversion})
        return 200, self.answer


ANSWER = {'plan': {'id': 'p', 'placements': {}},
          'decision': {'feasible': True}}


class RequestTest(testtools.TestCase):

    def client(self, answer=ANSWER, microversion=None):
        self.http = RecordingHTTP(answer, microversion)
        return v1.Client(None, http=self.http)

    def test_default_create_and_update_are_unchanged(self):
        valet = self.client()
        self.assertEqual(ANSWER['plan'], valet.create_plan('n', 's', {}))
        self.assertEqual(ANSWER['plan'], valet.update_plan('s', {}))
        for sent in self.http.sent:
            self.assertIsNone(sent['microversion'])
            self.assertNotIn('dry_run', sent['body'])

    def test_dry_run_asks_for_1_8_and_returns_the_whole_answer(self):
        valet = self.client(dict(ANSWER, dry_run=True))
        out = valet.create_plan('n', 's', {}, dry_run=True,
                                project_id='other')
        self.assertEqual(dict(ANSWER, dry_run=True), out)
        sent = self.http.sent[-1]
        self.assertEqual(('POST', '/v1/plans', '1.8'), (
            sent['method'], sent['path'], sent['microversion']))
        self.assertEqual((True, 'other'), (sent['body']['dry_run'],
                                           sent['body']['project_id']))
        valet.update_plan('s/1', {}, dry_run=True)
        sent = self.http.sent[-1]
        self.assertEqual(('PUT', '/v1/plans/s%2F1', '1.8', True), (
            sent['method'], sent['path'], sent['microversion'],
            sent['body']['dry_run']))

    def test_decision_without_dry_run(self):
        valet = self.client()
        out = valet.update_plan('s', {}, decision=True)
        self.assertEqual({'plan', 'decision', 'dry_run'}, set(out))
        self.assertFalse(out['dry_run'])
        self.assertNotIn('dry_run', self.http.sent[-1]['body'])
        self.assertEqual('1.8', self.http.sent[-1]['microversion'])

    def test_a_newer_client_microversion_is_kept(self):
        valet = self.client(microversion='latest')
        valet.create_plan('n', 's', {}, dry_run=True)
        valet.capacity('m1.small')
        self.assertEqual([None, None],
                         [s['microversion'] for s in self.http.sent])

    def test_capacity_query(self):
        valet = self.client({'capacity': {'count': 2}})
        self.assertEqual({'count': 2}, valet.capacity(
            'm1.small', groups=['web', 'db'], level='rack',
            availability_zone='az1'))
        self.assertEqual({'flavor': 'm1.small', 'groups': 'web,db',
                          'level': 'rack', 'availability_zone': 'az1'},
                         self.http.sent[-1]['query'])
        self.assertEqual(('GET', '/v1/capacity', '1.8'), (
            self.http.sent[-1]['method'], self.http.sent[-1]['path'],
            self.http.sent[-1]['microversion']))
        valet.capacity('m1.small')
        self.assertEqual({'flavor': 'm1.small'}, self.http.sent[-1]['query'])


class ServerTest(valet_fixtures.WithValetTestCase):

    def setUp(self):
        super().setUp()
        self.client = client.Client(ks_session.Session(
            additional_headers=valet_fixtures.ADMIN_HEADERS),
            endpoint_override=self.valet.url, timeout=60)
        self.suffix = uuid.uuid4().hex[:8]

    def test_dry_run_stores_nothing_and_a_refusal_is_an_answer(self):
        stack = 'dry-' + self.suffix
        out = self.client.create_plan('app', stack, {
            'a': server('a'), 'b': server('b')}, dry_run=True)
        self.assertTrue(out['dry_run'])
        self.assertIsNone(out['plan']['id'])
        self.assertTrue(out['decision']['feasible'])
        self.assertIn('objective', out['decision'])
        self.assertRaises(client.NotFound, self.client.show_plan, stack)
        refused = self.client.create_plan('big', stack, {
            'x': server('x', flavor='m1.huge')}, dry_run=True)
        self.assertFalse(refused['decision']['feasible'])
        self.assertTrue(refused['decision']['explanation']['servers'])

    def test_real_create_with_decision_and_dry_run_update(self):
        stack = 'real-' + self.suffix
        out = self.client.create_plan('app', stack, {'a': server('a')},
                                      decision=True)
        self.addCleanup(self.client.delete_plan, stack)
        self.assertFalse(out['dry_run'])
        self.assertTrue(out['plan']['id'])
        self.assertTrue(out['decision']['feasible'])
        update = self.client.update_plan(stack, {}, dry_run=True)
        self.assertEqual(['a'], update['decision']['removed'])
        self.assertEqual({'a'}, set(self.client.show_plan(stack)[
            'placements']))

    def test_capacity(self):
        huge = self.client.capacity('m1.huge')
        self.assertEqual((0, []), (huge['count'], huge['domains']))
        name = 'apart-' + self.suffix
        self.client.create_group(name, 'diversity', 'rack')
        self.addCleanup(self.client.delete_group, name)
        racks = self.client.capacity('m1.small', groups=[name],
                                     level='rack')
        self.assertEqual((3, True, 'rack', [name]), (
            racks['count'], racks['exact'], racks['level'],
            racks['groups']))
        error = self.assertRaises(client.BadRequest, self.client.capacity,
                                  'm1.small', level='row')
        self.assertEqual('valet.capacity.level_unknown', error.code)
