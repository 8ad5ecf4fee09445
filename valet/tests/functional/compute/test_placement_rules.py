"""Planned servers booted through nova-api land where Valet's rules say.

The servers here are planned first through Valet's API (as Heat's plugin
does: one plan per stack, every server with its groups) and then booted
through nova-api with the scheduler hints Heat gives them
(``heat_resource_uuid``, ``heat_stack_id``); ValetFilter reserves each
planned placement within the hosts Nova offers. The cloud
(``compute_cloud``) is real except for Neutron (a stand-in: servers boot
without networks). Each test reads the hosts back from Nova
(``OS-EXT-SRV-ATTR:host``).
"""

from valet.tests.functional.compute import base


class PlannedServersTest(base.CloudTestCase):

    def test_planned_servers_land_where_their_plan_said(self):
        group = self.make_group('diversity')
        stack, planned = self.plan({'web-1': [group], 'web-2': [group]})
        self.assertEqual(2, len({host for _oid, host in planned.values()}))
        for name, (oid, host) in planned.items():
            server = self.boot_planned(name, stack, oid)
            self.assertEqual('ACTIVE', server['status'],
                             self.explain(server))
            self.assertEqual(host, self.host(server))
            # Reserved, and bound to Nova's instance.
            placement = self.valet_placements(orchestration_id=oid)[0]
            self.assertEqual(server['id'], placement['resource_id'])
            self.assertTrue(placement['reserved'])

    def test_host_diversity_group_of_three_uses_three_hosts(self):
        group = self.make_group('diversity')
        stack, planned = self.plan({'div-%d' % i: [group] for i in range(3)})
        hosts = []
        for name, (oid, _host) in planned.items():
            server = self.boot_planned(name, stack, oid)
            self.assertEqual('ACTIVE', server['status'],
                             self.explain(server))
            hosts.append(self.host(server))
        self.assertEqual(3, len(set(hosts)), hosts)

    def test_rack_affinity_keeps_one_rack(self):
        group = self.make_group('affinity', level='rack')
        # With host diversity too the two need two hosts: rack affinity
        # keeps both hosts in one rack.
        spread = self.make_group('diversity')
        stack, planned = self.plan({'aff-%d' % i: [group, spread]
                                    for i in range(2)})
        hosts = []
        for name, (oid, _host) in planned.items():
            server = self.boot_planned(name, stack, oid)
            self.assertEqual('ACTIVE', server['status'],
                             self.explain(server))
            hosts.append(self.host(server))
        self.assertEqual(2, len(set(hosts)), hosts)
        self.assertEqual(1, len({self.rack_of(host) for host in hosts}),
                         hosts)

    def test_exclusive_host_takes_no_other_project(self):
        group = self.make_group('exclusivity', projects=('alpha',))
        stack, planned = self.plan({'owner': [group]})
        oid, _host = planned['owner']
        owner = self.boot_planned('owner', stack, oid)
        self.assertEqual('ACTIVE', owner['status'], self.explain(owner))
        taken = self.host(owner)
        # Another project plans three servers: none on the exclusive host.
        others, beta = self.plan({'other-%d' % i: [] for i in range(3)},
                                 project='beta')
        self.assertNotIn(taken, [host for _oid, host in beta.values()])
        # An admin asks Nova for that very host (2.74) for one of them:
        # Nova offers Valet only that host and Valet refuses it.
        name = sorted(beta)[0]
        forced = self.boot_planned(name, others, beta[name][0],
                                   project='beta', admin=True, host=taken)
        self.assertEqual('ERROR', forced['status'], self.explain(forced))
        self.assertIn('No valid host', forced['fault']['message'])
        # The others land where Valet planned them, off the host.
        for name in sorted(beta)[1:]:
            server = self.boot_planned(name, others, beta[name][0],
                                       project='beta')
            self.assertEqual('ACTIVE', server['status'],
                             self.explain(server))
            self.assertNotEqual(taken, self.host(server))
