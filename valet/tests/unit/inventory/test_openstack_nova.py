"""Nova JSON (shaped as the compute API reference shows it) to a NovaView."""

from oslotest import base

from valet.inventory import base as inventory_base
from valet.inventory.openstack import client
from valet.inventory.openstack import nova
from valet.tests.unit.inventory import test_openstack_fakes as fakes

AGG_UUID = '6ba28ba7-f29b-45cc-a30b-6e3a40c2fb14'
CN_UUID = '4e8e5957-649f-477b-9e5b-f1f75b21c03c'


def aggregate(name, hosts, metadata=None, zone=None, uuid=None, agg_id=1):
    metadata = dict(metadata or {})
    if zone:
        metadata['availability_zone'] = zone
    return {'availability_zone': zone, 'created_at': '2026-01-01T00:00:00',
            'deleted': False, 'deleted_at': None, 'hosts': hosts,
            'id': agg_id, 'metadata': metadata, 'name': name,
            'updated_at': None, 'uuid': uuid or AGG_UUID}


def service(host, status='enabled', forced_down=False, reason=None,
            state='up'):
    return {'id': 'e81d66a4-ddd3-4aba-8a84-171d1cb4d339',
            'binary': 'nova-compute', 'disabled_reason': reason,
            'host': host, 'state': state, 'status': status,
            'updated_at': '2026-01-01T00:00:00', 'forced_down': forced_down,
            'zone': 'nova'}


def flavor(name, flavor_id, vcpus, ram, disk, ephemeral=0, swap='',
           extra_specs=None, public=True):
    return {'OS-FLV-DISABLED:disabled': False, 'disk': disk,
            'OS-FLV-EXT-DATA:ephemeral': ephemeral,
            'os-flavor-access:is_public': public, 'id': flavor_id,
            'links': [], 'name': name, 'ram': ram, 'swap': swap,
            'vcpus': vcpus, 'rxtx_factor': 1.0, 'description': None,
            'extra_specs': extra_specs or {}}


def routes():
    return {
        '/os-aggregates': {'aggregates': [
            aggregate('rack-r07', ['cmp1', 'cmp2'], {'valet:rack': 'r07'}),
            aggregate('az-east', ['cmp1'], zone='east', agg_id=2,
                      uuid='8c1e4e0e-6d0f-4a3e-9a2e-2b1f3c4d5e6f'),
        ]},
        '/os-services?binary=nova-compute': {'services': [
            service('cmp1'),
            service('cmp2', status='disabled', reason='maintenance'),
            service('cmp3', forced_down=True, state='down'),
        ]},
        '/os-hypervisors/detail': {
            'hypervisors': [{
                'id': CN_UUID, 'hypervisor_hostname': 'cmp1.example.org',
                'hypervisor_type': 'QEMU', 'state': 'up',
                'status': 'enabled', 'host_ip': '192.0.2.1',
                'service': {'host': 'cmp1', 'disabled_reason': None,
                            'id': 'e81d66a4-ddd3-4aba-8a84-171d1cb4d339'}}],
            'hypervisors_links': []},
        '/flavors/detail?is_public=None': {
            'flavors': [flavor('m1.tiny', '1', 1, 512, 1)],
            'flavors_links': [{'rel': 'next', 'href':
                               'http://nova/v2.1/flavors/detail?'
                               'is_public=None&marker=1'}]},
        '/flavors/detail?is_public=None&marker=1': {
            'flavors': [flavor('gpu.large', 'f-7', 8, 32768, 80,
                               ephemeral=20, swap=2048, public=False,
                               extra_specs={'resources:VGPU': '1',
                                            'hw:cpu_policy': 'dedicated'})]},
        '/servers/detail?all_tenants=1': {'servers': [{
            'id': '56785a3f-6f1c-4fb2-aba2-4f8d7f2cbb3c',
            'name': 'db-1', 'tenant_id': '6f70656e737461636b20342065766572',
            'user_id': 'fake', 'metadata': {'valet_groups': 'db-diverse'},
            'OS-EXT-SRV-ATTR:host': 'cmp1', 'status': 'ACTIVE'}]},
    }


class ParseTest(base.BaseTestCase):

    def test_aggregate(self):
        parsed = nova.parse_aggregate(aggregate(
            'az-east', ['a', 'b'], {'valet:rack': 'r1'}, zone='east'))
        self.assertEqual(nova.Aggregate(
            uuid=AGG_UUID, name='az-east', availability_zone='east',
            metadata={'valet:rack': 'r1', 'availability_zone': 'east'},
            hosts=frozenset(['a', 'b'])), parsed)
        plain = nova.parse_aggregate(aggregate('ssd', [], {'disk': 'ssd'}))
        self.assertIsNone(plain.availability_zone)

    def test_service_states(self):
        self.assertEqual(nova.Service('h', True),
                         nova.parse_service(service('h')))
        self.assertEqual(nova.Service('h', False, 'disabled: maintenance'),
                         nova.parse_service(service(
                             'h', 'disabled', reason='maintenance')))
        self.assertEqual(nova.Service('h', False, 'forced down'),
                         nova.parse_service(service('h', forced_down=True)))
        # A service that merely missed heartbeats stays usable.
        self.assertTrue(nova.parse_service(service('h', state='down'))
                        .enabled)

    def test_flavor(self):
        self.assertEqual(
            {'name': 'm1.small', 'id': '2', 'vcpus': 1, 'ram': 2048,
             'disk': 20, 'ephemeral': 0, 'swap': 0,
             'extra_specs': {'hw:mem_page_size': 'large'}},
            nova.parse_flavor(flavor('m1.small', '2', 1, 2048, 20,
                                     extra_specs={
                                         'hw:mem_page_size': 'large'})))
        # 2.75+ says 0 instead of "" for no swap.
        self.assertEqual(0, nova.parse_flavor(
            flavor('f', '3', 1, 1, 1, swap=0))['swap'])

    def test_malformed(self):
        cases = [
            (nova.parse_aggregate, {'hosts': []}, 'an aggregate without'),
            (nova.parse_service, {'binary': 'nova-compute'},
             'a service without a host'),
            (nova.parse_flavor, {'id': '1'}, 'a flavor without a name'),
            (nova.parse_flavor, flavor('f', '1', 'two', 1, 1),
             "flavor f vcpus: expected a number, got 'two'"),
            (nova.parse_server, {'name': 'x'}, 'a server without an id'),
        ]
        for function, body, message in cases:
            exc = self.assertRaises(inventory_base.InventoryError, function,
                                    body)
            self.assertIn(message, str(exc))
            self.assertTrue(str(exc).startswith('Nova: '))

    def test_hypervisors_without_service_are_ignored(self):
        self.assertEqual(({'u1': 'h1'}, {'h1.example': 'h1'}),
                         nova.parse_hypervisors([
                             {'id': 'u1', 'hypervisor_hostname': 'h1.example',
                              'service': {'host': 'h1'}},
                             {'id': 'u2', 'hypervisor_hostname': 'h2'}]))


class ReaderTest(base.BaseTestCase):

    def read(self, answers=None, read_servers=False):
        table = routes()
        table.update(answers or {})
        self.adapter = fakes.FakeAdapter(table)
        reader = nova.NovaReader(client.ServiceClient('Nova', self.adapter),
                                 read_servers=read_servers)
        return reader.read()

    def test_everything_nova_knows(self):
        view = self.read(read_servers=True)
        self.assertEqual(['rack-r07', 'az-east'],
                         [a.name for a in view.aggregates])
        self.assertEqual(['rack-r07', 'az-east'],
                         [a.name for a in view.aggregates_of('cmp1')])
        self.assertEqual({'cmp1': True, 'cmp2': False, 'cmp3': False},
                         {h: s.enabled for h, s in view.services.items()})
        self.assertEqual({CN_UUID: 'cmp1'}, view.hypervisors_by_uuid)
        self.assertEqual({'cmp1.example.org': 'cmp1'},
                         view.hypervisors_by_name)
        self.assertEqual({
            'm1.tiny': {'name': 'm1.tiny', 'id': '1', 'vcpus': 1, 'ram': 512,
                        'disk': 1, 'ephemeral': 0, 'swap': 0,
                        'extra_specs': {}},
            'gpu.large': {'name': 'gpu.large', 'id': 'f-7', 'vcpus': 8,
                          'ram': 32768, 'disk': 80, 'ephemeral': 20,
                          'swap': 2048, 'extra_specs': {
                              'resources:VGPU': '1',
                              'hw:cpu_policy': 'dedicated'}}},
            view.flavors)
        self.assertEqual({'56785a3f-6f1c-4fb2-aba2-4f8d7f2cbb3c': {
            'name': 'db-1', 'project': '6f70656e737461636b20342065766572',
            'metadata': {'valet_groups': 'db-diverse'}, 'host': 'cmp1'}},
            view.servers)

    def test_servers_only_on_request(self):
        view = self.read()
        self.assertIsNone(view.servers)
        self.assertNotIn('/servers/detail?all_tenants=1', self.adapter.calls)
        self.assertEqual(['/os-aggregates', '/os-services?binary=nova-compute',
                          '/os-hypervisors/detail',
                          '/flavors/detail?is_public=None',
                          '/flavors/detail?is_public=None&marker=1'],
                         self.adapter.calls)

    def test_hypervisors_hidden_by_policy(self):
        view = self.read({'/os-hypervisors/detail': (403, {'forbidden': {
            'message': 'Policy does not allow it', 'code': 403}})})
        self.assertIsNone(view.hypervisors_by_uuid)
        self.assertEqual(2, len(view.flavors))

    def test_other_errors_fail(self):
        exc = self.assertRaises(
            inventory_base.InventoryError, self.read,
            {'/os-aggregates': (500, {'computeFault': {
                'message': 'Unexpected API Error.', 'code': 500}})})
        self.assertIn('Nova GET %s/os-aggregates answered 500: Unexpected '
                      'API Error.' % fakes.ENDPOINT, str(exc))
        exc = self.assertRaises(
            inventory_base.InventoryError, self.read,
            {'/os-services?binary=nova-compute': {'service': []}})
        self.assertIn("no list 'services'", str(exc))
