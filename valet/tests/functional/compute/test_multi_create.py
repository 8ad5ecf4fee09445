"""A multi-create request is placed whole by Valet.

``min_count`` servers in one request: the filter plans them all at once
(one plan of every server of the request, named after the request's
first instance), so a diversity group of four takes the cloud's four
hosts. The cloud is real except Neutron (a stand-in; servers have no
networks).
"""

from valet.tests.functional.compute import base


class MultiCreateTest(base.CloudTestCase):

    def _plan_of(self, servers):
        """The plan Valet made for the request (stack id: an instance)."""
        for server in servers:
            resp = self.valet('GET', '/v1/plans/%s' % server['id'],
                              expect=(200, 404))
            if resp.status_code == 200:
                return resp.json()['plan']
        self.fail('Valet has no plan named after any of %s'
                  % [s['id'] for s in servers])

    def _delete_plans(self, servers):
        for server in servers:
            self.valet('DELETE', '/v1/plans/%s' % server['id'],
                       expect=(204, 404))

    def test_multi_create_of_four_in_a_diversity_group(self):
        group = self.make_group('diversity')
        servers = self.boot('multi', min_count=4,
                            hints={'valet_groups': group})
        # The request's plan goes with the test.
        self.addCleanup(self._delete_plans, servers)
        self.assertEqual(4, len(servers))
        for server in servers:
            self.assertEqual('ACTIVE', server['status'],
                             self.explain(server))
        hosts = sorted(self.host(server) for server in servers)
        self.assertEqual(sorted(self.cloud.hosts), hosts)
        # One plan of the four: Nova built them where it said.
        plan = self._plan_of(servers)
        self.assertEqual(hosts, sorted(p['location'] for p in
                                       plan['placements'].values()))
        # Each instance is bound to a placement on the host it runs on.
        for server in servers:
            self.assertEqual([self.host(server)], [
                p['location']
                for p in self.valet_placements(resource_id=server['id'])])
