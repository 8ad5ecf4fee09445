"""The Music stand-in's own behaviour: endpoints, answers, lock rules.

The Music driver's tests trust the stand-in to refuse what Music refuses;
these tests hold it to that, over HTTP, against a real server process.
"""

import time
import uuid

import requests
import testtools

from valet.tests.music_stand_in import fixture as stand_in

KS_BODY = {'replicationInfo': {'class': 'SimpleStrategy',
                               'replication_factor': 1},
           'durabilityOfWrites': True,
           'consistencyInfo': {'type': 'eventual'}}


class StandInTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = stand_in.MusicStandIn(hosts=1, default_lease=1.0)
        cls.cluster.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.cluster.clear_fault(0)
        self.url = self.cluster.url(0) + '/MUSIC/rest'
        self.ks = 'ks_%s' % uuid.uuid4().hex[:8]
        self.ok(self.call('POST', '/keyspaces/' + self.ks, KS_BODY), 204)
        self.ok(self.call('POST', self.table(), {
            'fields': {'id': 'text', 'v': 'text', 'n': 'int',
                       'PRIMARY KEY': '(id)'},
            'consistencyInfo': {'type': 'eventual'}}), 204)

    def call(self, method, path, body=None, **params):
        return requests.request(method, self.url + path, json=body,
                                params=params, timeout=30)

    def ok(self, resp, status=200):
        self.assertEqual(status, resp.status_code, resp.text)
        return resp

    def table(self, name='t'):
        return '/keyspaces/%s/tables/%s' % (self.ks, name)

    def insert(self, values, consistency=None):
        return self.call('POST', self.table() + '/rows', {
            'values': values,
            'consistencyInfo': consistency or {'type': 'eventual'}})

    def rows(self, **params):
        return list(self.ok(self.call('GET', self.table() + '/rows',
                                      **params)).json().values())

    def lock(self, key):
        name = '%s.t.%s' % (self.ks, key)
        return self.ok(self.call('POST', '/locks/create/' + name)).text

    def acquire(self, lockid, lease=30):
        resp = self.ok(self.call('POST', '/locks/acquire-with-lease/'
                                 + lockid, {'leasePeriod': lease}))
        return resp.json()['status'] == 'SUCCESS'

    # --------------------------------------------------------------- data
    def test_version_and_tables(self):
        self.assertIn('MUSIC', self.ok(self.call('GET', '/version')).text)
        # Creating again is no error (IF NOT EXISTS), keeping the rows.
        self.ok(self.insert({'id': 'a', 'v': 'x'}), 204)
        self.ok(self.call('POST', '/keyspaces/' + self.ks, KS_BODY), 204)
        self.ok(self.call('POST', self.table(), {
            'fields': {'id': 'text', 'PRIMARY KEY': '(id)'}}), 204)
        (row,) = self.rows(id='a')
        self.assertEqual('x', row['v'])
        self.assertIn('vector_ts', row)
        resp = self.call('GET', self.table('missing') + '/rows', id='a')
        self.assertEqual(400, resp.status_code)
        self.assertIn('does not exist', resp.json()['error'])

    def test_rows_and_key_rules(self):
        self.ok(self.insert({'id': 'a', 'v': 'x', 'n': 1}), 204)
        self.ok(self.insert({'id': 'b', 'v': 'y', 'n': 2}), 204)
        self.assertEqual(['a', 'b'], [r['id'] for r in self.rows()])
        # A non-key column needs an index Music does not have.
        self.assertEqual(400, self.call('GET', self.table() + '/rows',
                                        v='x').status_code)
        # Types are checked.
        self.assertEqual(400, self.insert({'id': 'c', 'n': 'one'})
                         .status_code)
        resp = self.ok(self.call('PUT', self.table() + '/rows', {
            'values': {'v': 'z'}, 'consistencyInfo': {'type': 'eventual'}},
            id='a'))
        self.assertTrue(resp.text.startswith('SUCCESS'))
        self.assertEqual('z', self.rows(id='a')[0]['v'])
        self.ok(self.call('DELETE', self.table() + '/rows', {
            'consistencyInfo': {'type': 'eventual'}}, id='a'))
        self.assertEqual([], self.rows(id='a'))
        stats = self.cluster.stats()
        self.assertGreaterEqual(stats['full_scan.t'], 1)

    def test_atomic_conditions(self):
        self.ok(self.insert({'id': 'a', 'v': 'mine'}), 204)
        atomic = {'type': 'atomic'}
        resp = self.ok(self.call('DELETE', self.table() + '/rows', {
            'consistencyInfo': atomic, 'conditions': {'v': 'theirs'}},
            id='a'))
        self.assertTrue(resp.text.startswith('FAILURE'))
        self.assertEqual(1, len(self.rows(id='a')))
        resp = self.ok(self.call('DELETE', self.table() + '/rows', {
            'consistencyInfo': atomic, 'conditions': {'v': 'mine'}},
            id='a'))
        self.assertTrue(resp.text.startswith('SUCCESS'))
        self.assertEqual([], self.rows(id='a'))
        # Conditions without a lock are refused.
        self.assertEqual(400, self.call('PUT', self.table() + '/rows', {
            'values': {'v': 'x'}, 'conditions': {'v': 'y'},
            'consistencyInfo': {'type': 'eventual'}}, id='a').status_code)

    # -------------------------------------------------------------- locks
    def test_critical_needs_the_head_of_the_queue(self):
        first, second = self.lock('a'), self.lock('a')
        self.assertTrue(self.acquire(first))
        self.assertFalse(self.acquire(second))
        critical = {'type': 'critical', 'lockId': second}
        resp = self.insert({'id': 'a', 'v': 'x'}, critical)
        self.assertEqual(400, resp.status_code)
        self.assertIn('lock', resp.json()['error'])
        # Another key's lock does not do either.
        other = self.lock('b')
        self.assertTrue(self.acquire(other))
        resp = self.insert({'id': 'a', 'v': 'x'},
                           {'type': 'critical', 'lockId': other})
        self.assertEqual(400, resp.status_code)
        self.ok(self.insert({'id': 'a', 'v': 'x'},
                            {'type': 'critical', 'lockId': first}), 204)
        holder = self.ok(self.call('GET', '/locks/enquire/%s.t.a'
                                   % self.ks)).json()
        self.assertEqual(first, holder['lock']['lock-holder'])
        self.ok(self.call('DELETE', '/locks/release/' + first), 204)
        self.assertTrue(self.acquire(second))
        rows = self.ok(self.call('PUT', self.table() + '/rows/criticalget',
                                 {'consistencyInfo': {
                                     'type': 'critical', 'lockId': second}},
                                 id='a')).json()
        self.assertEqual('x', rows['row 0']['v'])
        self.ok(self.call('DELETE', '/locks/delete/%s.t.a' % self.ks), 204)
        self.assertFalse(self.acquire(second))   # deleted with the lock

    def test_expired_lease_is_forced_free(self):
        dead, waiting = self.lock('a'), self.lock('a')
        self.assertTrue(self.acquire(dead, lease=0.3))
        deadline = time.monotonic() + 30
        while not self.acquire(waiting):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        resp = self.insert({'id': 'a', 'v': 'late'},
                           {'type': 'critical', 'lockId': dead})
        self.assertEqual(400, resp.status_code)
        self.assertGreaterEqual(self.cluster.stats()['forced_release'], 1)

    def test_force_release_on_demand(self):
        holder = self.lock('a')
        self.assertTrue(self.acquire(holder))
        self.assertTrue(self.cluster.force_release('%s.t.a' % self.ks))
        self.assertEqual(400, self.insert(
            {'id': 'a', 'v': 'x'},
            {'type': 'critical', 'lockId': holder}).status_code)

    # ------------------------------------------------------------- faults
    def test_injected_status_and_count(self):
        self.cluster.fault(0, status=503, count=2)
        self.assertEqual(503, self.call('GET', '/version').status_code)
        self.assertEqual(503, self.call('GET', '/version').status_code)
        self.ok(self.call('GET', '/version'))

    def test_matched_delay_is_cut_short_by_clearing(self):
        self.cluster.fault(0, delay=60, match='GET /MUSIC/rest/version')
        self.ok(self.insert({'id': 'a'}), 204)     # not matched
        self.assertRaises(requests.Timeout, requests.get,
                          self.url + '/version', timeout=0.5)
        self.assertTrue(self.cluster.wait_for_held_request(0))
        self.cluster.clear_fault(0)
        self.ok(self.call('GET', '/version'))
