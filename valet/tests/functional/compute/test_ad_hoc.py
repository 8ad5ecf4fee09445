"""Servers booted through nova-api alone: Valet plans them as they come.

A server nobody planned (plan C of ValetFilter) names its groups in a
``valet_groups`` scheduler hint or metadata key; the filter makes a
one-server plan (or, for a multi-create request, one plan of all its
servers) in the server's project. The cloud is real except for Neutron
(a stand-in: servers boot without networks).
"""

from valet.tests.functional.compute import base


class AdHocServersTest(base.CloudTestCase):

    def test_ad_hoc_server_is_placed_by_valet(self):
        server = self.boot_active('solo')
        # Valet planned it and holds it where Nova built it.
        self.assertEqual(self.host(server), self.valet_location(server['id']))

    def test_host_diversity_group_of_three_uses_three_hosts(self):
        group = self.make_group('diversity')
        hosts = [self.host(self.boot_active(
            'div-%d' % i, hints={'valet_groups': group}))
            for i in range(3)]
        self.assertEqual(3, len(set(hosts)), hosts)

    def test_rack_affinity_from_metadata_keeps_one_rack(self):
        group = self.make_group('affinity', level='rack')
        hosts = [self.host(self.boot_active(
            'aff-%d' % i, metadata={'valet_groups': group}))
            for i in range(3)]
        self.assertEqual(1, len({self.rack_of(host) for host in hosts}),
                         hosts)

    def test_exclusive_host_takes_no_other_project(self):
        group = self.make_group('exclusivity', projects=('alpha',))
        taken = self.host(self.boot_active('excl',
                                           hints={'valet_groups': group}))
        forced = self.boot('intruder', project='beta', admin=True,
                           host=taken)
        self.assertEqual('ERROR', forced['status'], self.explain(forced))
        self.assertIn('No valid host', forced['fault']['message'])
        others = [self.host(self.boot_active('other-%d' % i,
                                             project='beta'))
                  for i in range(3)]
        self.assertNotIn(taken, others)
