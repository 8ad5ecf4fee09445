"""limit/marker paging of the list endpoints (microversion 1.1)."""

from urllib import parse

from valet.tests.unit.api import base

V11 = {'OpenStack-API-Version': 'workload-placement 1.1'}


def at_11(headers):
    return dict(headers, **V11)


class PagingTest(base.APITestCase):

    def walk(self, path, key, limit, headers=base.ADMIN):
        """Follow ``next`` links from ``path?limit=``; the names seen,
        page by page."""
        pages = []
        url = '%s%slimit=%d' % (path, '&' if '?' in path else '?', limit)
        while url:
            body = self.get(url, headers=at_11(headers), status=200).json
            self.assertEqual({key, 'links'}, set(body))
            pages.append([item['name'] for item in body[key]])
            nexts = [link['href'] for link in body['links']
                     if link['rel'] == 'next']
            self.assertLessEqual(len(nexts), 1)
            url = None
            if nexts:
                parts = parse.urlsplit(nexts[0])
                url = parts.path + '?' + parts.query
                self.assertEqual(str(limit), dict(parse.parse_qsl(
                    parts.query))['limit'])
        return pages

    def test_groups(self):
        for name in ('e', 'b', 'd', 'a', 'c'):
            self.make_group(name)
        self.assertEqual([['a', 'b'], ['c', 'd'], ['e']],
                         self.walk('/v1/groups', 'groups', 2))
        # A full last page has no next link once nothing follows.
        self.assertEqual([['a', 'b', 'c', 'd', 'e']],
                         self.walk('/v1/groups', 'groups', 5))

    def test_plans_with_their_placements(self):
        for i in range(5):
            self.make_plan('stack-%d' % i, resources={
                'o-%d-a' % i: base.server('a'),
                'o-%d-b' % i: base.server('b')})
        pages = self.walk('/v1/plans', 'plans', 2, headers=base.MEMBER)
        self.assertEqual([['plan-stack-0', 'plan-stack-1'],
                          ['plan-stack-2', 'plan-stack-3'],
                          ['plan-stack-4']], pages)
        body = self.get('/v1/plans?limit=1&marker=stack-9',
                        headers=at_11(base.MEMBER))
        self.assertError(body, 400, 'valet.request.marker_not_found')
        first = self.get('/v1/plans?limit=1', headers=at_11(
            base.MEMBER)).json['plans'][0]
        self.assertEqual(2, len(first['placements']))
        # Another project's plan is no marker, and lists nothing.
        self.assertError(self.get('/v1/plans?marker=%s' % first['id'],
                                  headers=at_11(base.OTHER)), 400,
                         'valet.request.marker_not_found')

    def test_placements_with_filters(self):
        for i in range(3):
            self.make_plan('stack-%d' % i, resources={
                'o-%d-%d' % (i, j): base.server('s%d-%d' % (i, j), metadata={
                    'heat_stack_id': 'hs-%d' % (i % 2)})
                for j in range(3)})
        pages = self.walk('/v1/placements?heat_stack_id=hs-0',
                          'placements', 4)
        self.assertEqual([['s0-0', 's0-1', 's0-2', 's2-0'], ['s2-1', 's2-2']],
                         pages)

    def test_limit_is_capped_at_max_limit(self):
        self.flags(max_limit=2, group='api')
        for name in 'abc':
            self.make_group(name)
        body = self.get('/v1/groups?limit=50', headers=at_11(base.ADMIN),
                        status=200).json
        self.assertEqual(['a', 'b'], [g['name'] for g in body['groups']])
        self.assertIn('limit=2', body['links'][0]['href'])
        # Without a limit, a 1.1 list is paged at max_limit too.
        body = self.get('/v1/groups', headers=at_11(base.ADMIN)).json
        self.assertEqual(2, len(body['groups']))
        self.assertEqual('next', body['links'][0]['rel'])

    def test_bad_paging_parameters(self):
        self.make_group('a')
        for query in ('limit=0', 'limit=-1', 'limit=x', 'limit=1.5',
                      'limit=' + '9' * 5000, 'marker=', 'marker=a%20b',
                      'limit=1&limit=2', 'colour=red'):
            for path in ('/v1/groups', '/v1/plans'):
                self.assertError(self.get('%s?%s' % (path, query),
                                          headers=at_11(base.ADMIN)), 400)
        self.assertError(self.get('/v1/groups?marker=nope',
                                  headers=at_11(base.ADMIN)), 400,
                         'valet.request.marker_not_found')
        self.assertError(self.get('/v1/placements?limit=0',
                                  headers=at_11(base.ADMIN)), 400,
                         'valet.request.invalid')

    def test_version_1_0_is_unchanged(self):
        self.make_group('a')
        self.make_plan('stack-0', resources={'o': base.server(
            'x', metadata={'limit': 5})})
        body = self.get('/v1/groups', status=200).json
        self.assertEqual(['groups'], list(body))
        self.assertError(self.get('/v1/groups?limit=1'), 400,
                         'valet.request.invalid')
        self.assertError(self.get('/v1/plans?limit=1'), 400,
                         'valet.request.invalid')
        # At 1.0 "limit" is a metadata key like any other.
        found = self.get('/v1/placements?limit=5', status=200).json
        self.assertEqual(['placements'], list(found))
        self.assertEqual(['x'], [p['name'] for p in found['placements']])
