"""The real nova-api fixture serves hosts, zones, aggregates and flavors."""

import requests
from testtools import content
import testtools

from valet.tests.functional import nova_fixture


class NovaFixtureTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        nova_fixture.require_nova()
        self.nova = self.useFixture(nova_fixture.NovaFixture())
        self.addDetail('nova-startup', content.text_content(
            '%.1fs' % self.nova.startup_seconds))

    def get(self, path, microversion='latest'):
        return self.nova.request('GET', path, microversion=microversion).json()

    def test_inventory_reads_back_over_http(self):
        nova = self.nova
        nova.add_compute_host('cmp1', availability_zone='az1', vcpus=8)
        nova.add_compute_host('cmp2', availability_zone='az1')
        nova.add_compute_host('cmp3')
        agg = nova.create_aggregate('ssd', hosts=['cmp1', 'cmp3'],
                                    metadata={'ssd': 'true'})
        flavor = nova.create_flavor('m1.valet', 2, 2048, 20, ephemeral=5,
                                    swap=512, extra_specs={'hw:cpu_policy':
                                                           'dedicated'})

        svcs = self.get('/os-services?binary=nova-compute')['services']
        self.assertEqual({'cmp1': 'az1', 'cmp2': 'az1', 'cmp3': 'nova'},
                         {s['host']: s['zone'] for s in svcs})
        self.assertEqual({'up'}, {s['state'] for s in svcs})
        hyps = self.get('/os-hypervisors/detail', '2.53')['hypervisors']
        by_name = {h['hypervisor_hostname']: h for h in hyps}
        self.assertEqual(['cmp1', 'cmp2', 'cmp3'], sorted(by_name))
        self.assertEqual(8, by_name['cmp1']['vcpus'])
        self.assertEqual('cmp1', by_name['cmp1']['service']['host'])

        aggs = {a['name']: a for a in self.get('/os-aggregates')['aggregates']}
        self.assertEqual(['cmp1', 'cmp3'], sorted(aggs['ssd']['hosts']))
        self.assertEqual('true', aggs['ssd']['metadata']['ssd'])
        self.assertEqual(agg['uuid'], aggs['ssd']['uuid'])
        self.assertEqual('az1', aggs['az1']['availability_zone'])
        zones = self.get('/os-availability-zone/detail')['availabilityZoneInfo']
        az1 = [z for z in zones if z['zoneName'] == 'az1'][0]
        self.assertEqual(['cmp1', 'cmp2'], sorted(az1['hosts']))

        got = self.get('/flavors/%s' % flavor['id'])['flavor']
        self.assertEqual((2, 2048, 20, 5, 512), (
            got['vcpus'], got['ram'], got['disk'],
            got['OS-FLV-EXT-DATA:ephemeral'], got['swap']))
        self.assertEqual({'hw:cpu_policy': 'dedicated'}, got['extra_specs'])

        # nova-api mirrored the aggregate into Placement's provider.
        rp = nova.hosts['cmp1']['node_uuid']
        resp = requests.get(
            '%s/resource_providers/%s/aggregates' % (
                nova.placement_endpoint, rp),
            headers={'X-Auth-Token': 'admin',
                     'OpenStack-API-Version': 'placement 1.19'})
        self.assertIn(agg['uuid'], resp.json()['aggregates'])

    def test_service_state_and_auth(self):
        nova = self.nova
        nova.add_compute_host('cmp1')
        nova.disable_service('cmp1', 'maintenance')
        nova.force_down('cmp1')
        svc = self.get('/os-services?host=cmp1')['services'][0]
        self.assertEqual(('disabled', 'maintenance', True, 'down'), (
            svc['status'], svc['disabled_reason'], svc['forced_down'],
            svc['state']))

        resp = nova.request('GET', '/os-aggregates', headers={}, expect=())
        self.assertEqual(401, resp.status_code)
        member = nova.headers_for('alice:alpha')
        resp = nova.request('GET', '/os-aggregates', headers=member,
                            expect=())
        self.assertEqual(403, resp.status_code)
        resp = nova.request('GET', '/flavors', headers=member)
        self.assertEqual(200, resp.status_code)
