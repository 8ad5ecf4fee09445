"""Groups nested in groups through the API (microversion 1.4).

Through the real API and the real engine (all-in-one, SQLite): a group
created or changed with ``parents`` is in the engine's model before the
API answers, and the next plan honours both levels, the child's rule
and its parent's. The nesting rules the solver needs are refused up
front, with their codes, and nothing is stored.
"""

from valet.tests.functional.api_groups import base

V14 = dict(base.ADMIN, **{
    'OpenStack-API-Version': 'workload-placement 1.4'})


def racks(hosts, count):
    """Rack of each host, as ``base.inventory_doc(racks=count)`` has it."""
    return {h: 'r%d' % ((int(h[1:]) - 1) % count + 1) for h in hosts}


class NestingTest(base.APIGroupsTestCase):

    def group(self, name, kind, level='host', parents=None, status=201,
              headers=V14):
        body = {'name': name, 'type': kind, 'level': level}
        if parents is not None:
            body['parents'] = parents
        resp = self.aio.call('POST', '/v1/groups', body, headers=headers,
                             status=status)
        return resp.json if status == 201 else resp.json['errors'][0]

    def test_affinity_nested_in_rack_diversity_is_placed_by_both(self):
        self.start(hosts=6, racks=3)
        self.group('tiers', 'diversity', 'rack')
        web = self.group('web', 'affinity', parents=['tiers'])
        self.assertEqual(['tiers'], web['parents'])
        # By id too; the group answers with names.
        tiers_id = self.aio.call('GET', '/v1/groups/tiers',
                                 status=200).json['group']['id']
        self.assertEqual(['tiers'], self.group(
            'db', 'affinity', parents=[tiers_id])['parents'])
        self.assertEqual(('tiers',), self.aio.model.groups['db'].parents)
        hosts = self.post_plan('s1', {
            'w%d' % i: base.server('web-%d' % i, ['web']) for i in range(3)}
            | {'d%d' % i: base.server('db-%d' % i, ['db']) for i in range(2)})
        web_hosts = {hosts['w%d' % i] for i in range(3)}
        db_hosts = {hosts['d%d' % i] for i in range(2)}
        # Child affinity: one host each; parent diversity: other racks.
        self.assertEqual(1, len(web_hosts))
        self.assertEqual(1, len(db_hosts))
        rack = racks(hosts.values(), 3)
        self.assertNotEqual(rack[web_hosts.pop()], rack[db_hosts.pop()])
        self.assertEqual({}, self.invalid())
        # Three racks hold three such groups and no fourth: the nesting,
        # not capacity (24 free vCPUs are left), refuses it.
        self.group('cache', 'affinity', parents=['tiers'])
        self.post_plan('s2', {'c': base.server('c', ['cache'])})
        self.group('queue', 'affinity', parents=['tiers'])
        error = self.post_plan('s3', {'q': base.server('q', ['queue'])},
                               status=409)
        self.assertEqual('valet.placement.none', error['code'])
        # A restarted engine reads the nesting back from storage.
        self.aio.restart()
        error = self.post_plan('s3', {'q': base.server('q', ['queue'])},
                               status=409)
        self.assertEqual('valet.placement.none', error['code'])

    def test_changing_parents_counts_for_the_next_plan(self):
        self.start(hosts=4, racks=2)
        self.group('apart', 'diversity', 'rack')
        self.group('a', 'affinity')
        self.group('b', 'affinity')
        self.group('c', 'affinity')
        three = {g + '1': base.server(g + '1', [g]) for g in 'abc'}
        # Not nested: three one-server affinity groups fit anywhere.
        self.post_plan('s1', three)
        self.aio.call('DELETE', '/v1/plans/s1', status=204)
        resp = self.aio.call('PUT', '/v1/groups/a', {'parents': ['apart']},
                             headers=V14, status=201).json
        self.assertEqual(['apart'], resp['parents'])
        for name in 'bc':
            self.aio.call('PUT', '/v1/groups/%s' % name,
                          {'parents': ['apart']}, headers=V14, status=201)
        # Nested at once, without a resync: two racks, three groups.
        error = self.post_plan('s2', three, status=409)
        self.assertEqual('valet.placement.none', error['code'])
        hosts = self.post_plan('s3', {'a1': base.server('a1', ['a']),
                                      'b1': base.server('b1', ['b'])})
        rack = racks(hosts.values(), 2)
        self.assertNotEqual(rack[hosts['a1']], rack[hosts['b1']])
        # The description alone changes and the nesting stays.
        resp = self.aio.call('PUT', '/v1/groups/b', {'description': 'x'},
                             headers=V14, status=201).json
        self.assertEqual(('x', ['apart']),
                         (resp['description'], resp['parents']))
        # Un-nested with an empty list.
        self.aio.call('PUT', '/v1/groups/b', {'parents': []}, headers=V14,
                      status=201)
        self.assertEqual((), self.aio.model.groups['b'].parents)

    def test_nesting_rules_are_refused_with_their_codes(self):
        self.start(hosts=4, racks=2)
        self.group('rack-div', 'diversity', 'rack')
        self.group('host-div', 'diversity', 'host')
        self.group('rack-aff', 'affinity', 'rack', parents=['rack-div'])
        self.group('host-aff', 'affinity', 'host', parents=['rack-aff'])
        refused = [
            ({'name': 'x', 'type': 'affinity', 'level': 'host',
              'parents': ['nobody']}, 400, 'valet.group.parent_not_found'),
            ({'name': 'x', 'type': 'affinity', 'level': 'host',
              'parents': ['x']}, 400, 'valet.group.parent_self'),
            ({'name': 'x', 'type': 'diversity', 'level': 'host',
              'parents': ['rack-div']}, 400, 'valet.group.nesting_kind'),
            ({'name': 'x', 'type': 'exclusivity', 'level': 'host',
              'parents': ['host-div']}, 400, 'valet.group.nesting_kind'),
            ({'name': 'x', 'type': 'affinity', 'level': 'rack',
              'parents': ['host-div']}, 400, 'valet.group.nesting_level'),
            ({'name': 'x', 'type': 'affinity', 'level': 'host',
              'parents': ['rack-div', 'rack-div']}, 400,
             'valet.request.invalid'),
            ({'name': 'x', 'type': 'affinity', 'level': 'host',
              'parents': 'rack-div'}, 400, 'valet.request.invalid'),
        ]
        for body, status, code in refused:
            resp = self.aio.call('POST', '/v1/groups', body, headers=V14,
                                 status=status)
            self.assertEqual(code, resp.json['errors'][0]['code'], body)
        # A cycle through two levels of nesting, and a group in itself.
        resp = self.aio.call('PUT', '/v1/groups/rack-aff',
                             {'parents': ['host-aff']}, headers=V14,
                             status=400)
        error = resp.json['errors'][0]
        self.assertEqual('valet.group.nesting_cycle', error['code'])
        self.assertIn('rack-aff -> host-aff -> rack-aff', error['detail'])
        resp = self.aio.call('PUT', '/v1/groups/rack-aff',
                             {'parents': ['rack-aff']}, headers=V14,
                             status=400)
        self.assertEqual('valet.group.parent_self',
                         resp.json['errors'][0]['code'])
        # Nothing changed: no group x, rack-aff still in rack-div.
        self.aio.call('GET', '/v1/groups/x', status=404)
        self.assertEqual(['rack-div'], self.aio.call(
            'GET', '/v1/groups/rack-aff', headers=V14,
            status=200).json['group']['parents'])
        self.assertEqual(('rack-div',),
                         self.aio.model.groups['rack-aff'].parents)
        self.assertNotIn('x', self.aio.model.groups)

    def test_a_group_others_are_nested_in_cannot_be_deleted(self):
        self.start(hosts=4, racks=2)
        self.group('outer', 'diversity', 'rack')
        self.group('inner', 'affinity', parents=['outer'])
        resp = self.aio.call('DELETE', '/v1/groups/outer', status=409)
        error = resp.json['errors'][0]
        self.assertEqual('valet.group.has_children', error['code'])
        self.assertIn('inner', error['detail'])
        self.assertIn('outer', self.aio.model.groups)
        self.aio.call('DELETE', '/v1/groups/inner', status=204)
        self.aio.call('DELETE', '/v1/groups/outer', status=204)

    def test_before_1_4_parents_are_refused_and_hidden(self):
        self.start(hosts=4, racks=2)
        self.group('outer', 'diversity', 'rack')
        self.group('inner', 'affinity', parents=['outer'])
        old = dict(base.ADMIN, **{
            'OpenStack-API-Version': 'workload-placement 1.3'})
        for headers in (base.ADMIN, old):
            error = self.group('x', 'affinity', parents=['outer'],
                               headers=headers, status=400)
            self.assertEqual('valet.request.invalid', error['code'])
            self.assertIn('parents', error['detail'])
            resp = self.aio.call('PUT', '/v1/groups/inner',
                                 {'parents': []}, headers=headers,
                                 status=400)
            self.assertEqual('valet.request.invalid',
                             resp.json['errors'][0]['code'])
            shown = self.aio.call('GET', '/v1/groups/inner', headers=headers,
                                  status=200).json['group']
            self.assertNotIn('parents', shown)
            listed = self.aio.call('GET', '/v1/groups', headers=headers,
                                   status=200).json['groups']
            self.assertFalse(any('parents' in g for g in listed))
        listed = self.aio.call('GET', '/v1/groups', headers=V14,
                               status=200).json['groups']
        self.assertEqual({'inner': ['outer'], 'outer': []},
                         {g['name']: g['parents'] for g in listed})
        self.assertEqual(('outer',), self.aio.model.groups['inner'].parents)
