"""The openstack inventory against a real Placement (and a real nova-api).

Placement (and nova-api) come from the OpenStack venv
(``$VALET_OPENSTACK_VENV``, default ``.tox/openstack``, made by
``tools/install-openstack.sh``); without it the tests skip, or fail with
CI=true. The driver is configured the way an operator would: a config file
read by a private ConfigOpts.
"""

import os

import fixtures
from oslo_config import cfg
import testtools

from valet import conf as valet_conf
from valet.engine.model import datacenter
from valet.engine.model import topology as topology_mod
from valet import inventory
from valet.inventory import base as inventory_base
from valet.inventory.openstack import driver
from valet.inventory.openstack import nova as nova_mod
from valet.tests.functional import nova_fixture
from valet.tests.functional import placement_fixture
from valet.tests.functional import placement_loader

ZONE_AGG = placement_loader.stable_uuid('zone-east')
SHARED_AGG = placement_loader.stable_uuid('shared-storage')
P1 = placement_loader.stable_uuid('project-1')
P2 = placement_loader.stable_uuid('project-2')
USER = placement_loader.stable_uuid('user-1')


def vm(name):
    return placement_loader.stable_uuid('vm-' + name)


class _Base(testtools.TestCase):

    def setUp(self):
        super().setUp()
        placement_fixture.require_placement()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='valet.inventory'))

    def make_conf(self, text):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'valet.conf')
        with open(path, 'w') as handle:
            handle.write(text)
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf([], default_config_files=[path])
        return conf

    def load(self, extra=''):
        conf = self.make_conf(self.placement.client_config() +
                              '[inventory]\ndriver = openstack\n' + extra)
        source = inventory.get_inventory(conf)
        self.assertIsInstance(source, driver.OpenStackInventory)
        return source.load()


class PlacementInventoryTest(_Base):
    """Providers, inventories, traits, aggregates, allocations -> model."""

    def setUp(self):
        super().setUp()
        self.placement = self.useFixture(placement_fixture.PlacementFixture())
        self.loader = self.placement.loader()
        self._fill()

    def _fill(self):
        add = self.loader.add_host
        add('cmp1', {'VCPU': {'total': 32, 'reserved': 2,
                              'allocation_ratio': 4.0},
                     'MEMORY_MB': {'total': 131072, 'reserved': 4096,
                                   'allocation_ratio': 1.5},
                     'DISK_GB': 2000},
            traits=['CUSTOM_RACK_R01', 'HW_CPU_X86_AVX2'],
            aggregates=[ZONE_AGG])
        add('cmp2', {'VCPU': {'total': 16, 'allocation_ratio': 16.0},
                     'MEMORY_MB': 65536, 'DISK_GB': 500},
            traits=['CUSTOM_RACK_R01'], aggregates=[ZONE_AGG, SHARED_AGG])
        add('cmp3', {'VCPU': 64, 'MEMORY_MB': 262144,
                     'DISK_GB': {'total': 4000, 'reserved': 100}},
            traits=['CUSTOM_RACK_R02', 'CUSTOM_GPU'])
        # A nested provider: its VGPUs belong to cmp3.
        add('cmp3_pgpu0', {'VGPU': 4}, parent='cmp3')
        add('cmp4', {'VCPU': 8, 'MEMORY_MB': 16384, 'DISK_GB': 100})
        # A sharing provider is storage, not a host.
        add('shared-disk', {'DISK_GB': 100000},
            traits=['MISC_SHARES_VIA_AGGREGATE'], aggregates=[SHARED_AGG])
        self.loader.allocate_many([
            {'consumer': vm('a'), 'project_id': P1, 'user_id': USER,
             'allocations': {'cmp1': {'VCPU': 4, 'MEMORY_MB': 8192,
                                      'DISK_GB': 40}}},
            {'consumer': vm('b'), 'project_id': P2, 'user_id': USER,
             'allocations': {'cmp1': {'VCPU': 2, 'MEMORY_MB': 4096}}},
            {'consumer': vm('c'), 'project_id': P1, 'user_id': USER,
             'allocations': {'cmp3': {'VCPU': 8, 'MEMORY_MB': 16384},
                             'cmp3_pgpu0': {'VGPU': 2}}},
            {'consumer': vm('d'), 'project_id': P2, 'user_id': USER,
             'allocations': {'cmp2': {'VCPU': 1, 'MEMORY_MB': 512},
                             'shared-disk': {'DISK_GB': 10}}},
            {'consumer': vm('e'), 'project_id': P2, 'user_id': USER,
             'allocations': {'cmp4': {'VCPU': 1}}},
        ])

    def test_model_matches_placement(self):
        snapshot = self.load('read_consumers = true\n')
        self.assertEqual(('host', 'rack', 'zone', 'region'), snapshot.levels)
        hosts = {h.name: h for h in snapshot.hosts}
        # cmp4 carries no rack trait: reported and left out.
        self.assertEqual(['cmp1', 'cmp2', 'cmp3'], sorted(hosts))
        self.assertEqual({'rack': ['cmp4']}, snapshot.unmapped)
        self.assertIn('1 hosts map to no domain at level(s) rack (1) (e.g. '
                      'cmp4) and are left out of the model', self.log.output)

        cmp1 = hosts['cmp1']
        self.assertEqual({'VCPU': 32, 'MEMORY_MB': 131072, 'DISK_GB': 2000},
                         cmp1.capacity)
        self.assertEqual({'VCPU': 2, 'MEMORY_MB': 4096}, cmp1.reserved)
        self.assertEqual({'VCPU': 4.0, 'MEMORY_MB': 1.5, 'DISK_GB': 1.0},
                         cmp1.allocation_ratios)
        self.assertEqual(120.0, cmp1.usable('VCPU'))
        self.assertEqual((131072 - 4096) * 1.5, cmp1.usable('MEMORY_MB'))
        self.assertEqual(frozenset(['CUSTOM_RACK_R01', 'HW_CPU_X86_AVX2']),
                         cmp1.traits)
        self.assertEqual({ZONE_AGG: {}}, cmp1.aggregates)
        self.assertEqual(256.0, hosts['cmp2'].usable('VCPU'))
        self.assertEqual({ZONE_AGG: {}, SHARED_AGG: {}},
                         hosts['cmp2'].aggregates)
        cmp3 = hosts['cmp3']
        self.assertEqual({'VCPU': 64, 'MEMORY_MB': 262144, 'DISK_GB': 4000,
                          'VGPU': 4}, cmp3.capacity)
        self.assertEqual(3900.0, cmp3.usable('DISK_GB'))

        # Racks from CUSTOM_RACK_ traits; no Nova: one zone, the default.
        self.assertEqual({'cmp1': 'r01', 'cmp2': 'r01', 'cmp3': 'r02'},
                         {n: h.domains['rack'] for n, h in hosts.items()})
        self.assertEqual({('nova', 'RegionOne')},
                         {(h.domains['zone'], h.domains['region'])
                          for h in hosts.values()})
        self.assertTrue(all(h.enabled for h in hosts.values()))
        self.assertEqual({}, snapshot.flavors)

        servers = {s.id: s for s in snapshot.servers}
        self.assertEqual({vm('a'), vm('b'), vm('c'), vm('d')}, set(servers))
        self.assertEqual(('cmp1', {'VCPU': 4, 'MEMORY_MB': 8192,
                                   'DISK_GB': 40}, P1),
                         (servers[vm('a')].host, servers[vm('a')].demand,
                          servers[vm('a')].project))
        self.assertEqual(P2, servers[vm('b')].project)
        # Nested allocations add up on the root; shared disk is not a host's.
        self.assertEqual(('cmp3', {'VCPU': 8, 'MEMORY_MB': 16384,
                                   'VGPU': 2}),
                         (servers[vm('c')].host, servers[vm('c')].demand))
        self.assertEqual({'VCPU': 1, 'MEMORY_MB': 512},
                         servers[vm('d')].demand)
        self.assertIn('OpenStack inventory: 3 hosts (1 excluded, 0 disabled)'
                      ', 4 servers (1 on excluded hosts left out), 0 flavors'
                      '; 6 resource providers read (1 not compute hosts, 0 '
                      'vanished)', self.log.output)

    def test_bulk_reads_match_per_provider_reads(self):
        # The snapshot from bulk trait and aggregate reads is the one the
        # per-provider reads (four GETs per host) give.
        lone = placement_loader.stable_uuid('placement-only')
        # Its allocation moved cmp4's generation on.
        self.loader.adopt(self.loader.provider('cmp4').uuid)
        self.loader.set_aggregates('cmp4', [lone])
        conf = self.make_conf(self.placement.client_config() +
                              '[inventory]\ndriver = openstack\n'
                              'unmapped_hosts = isolate\n'
                              'read_consumers = true\n')
        source = inventory.get_inventory(conf)
        reader = source.placement
        bulk = source.load()
        reader.per_provider = True
        self.assertEqual(bulk, source.load())
        self.assertEqual({'cmp4': {lone: {}}}, {
            h.name: h.aggregates for h in bulk.hosts if h.name == 'cmp4'})
        # 1 list, 1 trait list, 5 traits, 3 GETs per root (inventories,
        # allocations, aggregates), 2 for the nested one, 5 consumers;
        # per provider: 1 list, 4 per root, 2 for the nested one, 5.
        self.assertIn(' %d requests;' % (1 + 1 + 5 + 3 * 5 + 2 + 5),
                      self.log.output)
        self.assertIn(' %d requests;' % (1 + 4 * 5 + 2 + 5), self.log.output)

        # With Nova: its aggregate UUIDs (nova-api mirrors them) replace
        # the per-host reads; the shared storage aggregate comes from the
        # sharing provider. An aggregate in Placement alone (cmp4's) is
        # the one difference.
        names = ('cmp1', 'cmp2', 'cmp3', 'cmp4')
        view = nova_mod.NovaView(
            aggregates=[nova_mod.Aggregate(
                uuid=ZONE_AGG, name='east', availability_zone='east',
                metadata={'availability_zone': 'east'},
                hosts=frozenset(['cmp1']))],
            services={n: nova_mod.Service(n, True) for n in names})

        class Nova:
            def read(self):
                return view

        with_nova = driver.OpenStackInventory(conf, reader, Nova())
        reader.per_provider = True
        before = with_nova.load()
        reader.per_provider = False
        after = with_nova.load()
        self.assertEqual({lone: {}}, before.hosts[3].aggregates)
        before.hosts[3].aggregates = {}
        self.assertEqual(before, after)
        cmp2 = after.hosts[1]
        self.assertEqual(('cmp2', 'east', {
            'east': {'availability_zone': 'east'}, SHARED_AGG: {}}),
            (cmp2.name, cmp2.availability_zone, cmp2.aggregates))
        # 1 list, 1 trait list, 5 traits, 2 aggregates, 1 sharing
        # provider's aggregates, 2 GETs for each of 6 providers, 5 consumers.
        self.assertEqual(1 + 1 + 5 + 2 + 1 + 2 * 6 + 5,
                         reader.read(aggregates=[ZONE_AGG]).requests)

    def test_datacenter_from_the_snapshot(self):
        snapshot = self.load('unmapped_hosts = isolate\n'
                             'request_workers = 2\n')
        self.assertEqual(4, len(snapshot.hosts))
        dc = datacenter.DataCenter.build(
            snapshot.hosts, snapshot.servers,
            topology=topology_mod.Topology(snapshot.levels))
        self.assertEqual(5, len(dc.servers))
        self.assertEqual(120.0 - 6, dc.free('cmp1')['VCPU'])
        self.assertEqual((131072 - 4096) * 1.5 - 8192 - 4096,
                         dc.free('cmp1')['MEMORY_MB'])
        self.assertEqual(2000.0 - 40, dc.free('cmp1')['DISK_GB'])
        self.assertEqual(4.0 - 2, dc.free('cmp3')['VGPU'])
        self.assertEqual(64.0 - 8, dc.free('cmp3')['VCPU'])
        self.assertEqual(7.0, dc.free('cmp4')['VCPU'])
        self.assertEqual('r01', dc.domain_of('cmp2', 'rack'))
        self.assertEqual('unmapped:cmp4', dc.domain_of('cmp4', 'rack'))
        rack = dc.topology.index('rack')
        self.assertEqual(3, dc.domain_count(rack))
        self.assertEqual({'nova'}, {dc.domain_of(h, 'zone')
                                    for h in dc.hosts})

    def test_racks_and_regions_from_host_names(self):
        for name, rack in (('pdk15r05c001', 'R1'), ('pdk15r05c002', 'R1'),
                           ('pdk16r01c001', None)):
            self.loader.add_host(name, {'VCPU': 8, 'MEMORY_MB': 8192},
                                 traits=['CUSTOM_RACK_' + rack] if rack
                                 else ())
        snapshot = self.load(
            'levels = host,rack,region\n'
            'level_sources = rack:hostname,rack:trait=CUSTOM_RACK_,'
            'region:hostname,region:constant=elsewhere\n')
        domains = {h.name: h.domains for h in snapshot.hosts}
        self.assertEqual({'rack': 'pdk15r05', 'region': 'pdk15'},
                         domains['pdk15r05c001'])
        self.assertEqual({'rack': 'pdk16r01', 'region': 'pdk16'},
                         domains['pdk16r01c001'])
        # Names off the convention fall through to the next source.
        self.assertEqual({'rack': 'r01', 'region': 'elsewhere'},
                         domains['cmp1'])
        self.assertEqual({'rack': ['cmp4']}, snapshot.unmapped)

    def test_placement_going_away_is_a_clear_error(self):
        conf = self.make_conf(self.placement.client_config() +
                              'connect_retries = 1\n'
                              'connect_retry_delay = 0.01\n'
                              '[inventory]\ndriver = openstack\n')
        source = inventory.get_inventory(conf)
        self.assertEqual(3, len(source.load().hosts))
        self.placement.process.terminate()
        self.placement.process.wait()
        exc = self.assertRaises(inventory_base.InventoryError, source.load)
        self.assertEqual('Placement at %s/resource_providers: unreachable '
                         'after retries (ConnectFailure)' % self.placement.url,
                         str(exc))


class NovaInventoryTest(_Base):
    """Racks from aggregate metadata, zones, flavors, service states."""

    def setUp(self):
        super().setUp()
        nova_fixture.require_nova()
        self.placement = self.useFixture(placement_fixture.PlacementFixture())
        self.nova = self.useFixture(nova_fixture.NovaFixture(
            placement_endpoint=self.placement.url))

    def _fill(self):
        nova = self.nova
        nova.add_compute_host('cmp1', availability_zone='east')
        nova.add_compute_host('cmp2', availability_zone='east', vcpus=8)
        for name in ('cmp3', 'cmp4', 'cmp5'):
            nova.add_compute_host(name)
        nova.create_aggregate('rack-a', hosts=['cmp1', 'cmp2'],
                              metadata={'valet:rack': 'ra'})
        nova.create_aggregate('rack-b', hosts=['cmp3'],
                              metadata={'valet:rack': 'rb'})
        nova.create_aggregate('ssd', hosts=['cmp1'], metadata={'ssd': 'true'})
        nova.create_flavor('m1.valet', 2, 2048, 20,
                           extra_specs={'hw:cpu_policy': 'dedicated'})
        nova.create_flavor('private.big', 16, 65536, 100, ephemeral=50,
                           swap=4096, is_public=False)
        nova.disable_service('cmp2', reason='maintenance')
        nova.force_down('cmp3')
        # What nova-compute would report itself: traits and usage.
        loader = self.placement.loader()
        for name in nova.hosts:
            loader.adopt(nova.hosts[name]['node_uuid'])
        loader.set_traits('cmp3', ['CUSTOM_RACK_IGNORED'])
        loader.set_traits('cmp4', ['CUSTOM_RACK_RT'])
        loader.allocate(vm('a'), {'cmp1': {'VCPU': 2, 'MEMORY_MB': 2048,
                                           'DISK_GB': 20}}, P1, USER)

    def test_model_matches_nova_and_placement(self):
        self._fill()
        snapshot = self.load(
            '[nova]\nauth_type = admin_token\nendpoint = %s\n'
            'token = admin\n[inventory]\nread_servers = true\n'
            'default_availability_zone = home\n' % self.nova.endpoint)
        hosts = {h.name: h for h in snapshot.hosts}
        self.assertEqual(['cmp1', 'cmp2', 'cmp3', 'cmp4'], sorted(hosts))
        self.assertEqual({'rack': ['cmp5']}, snapshot.unmapped)
        # Metadata first, then traits (cmp3's trait loses to its metadata).
        self.assertEqual({'cmp1': ('ra', 'east'), 'cmp2': ('ra', 'east'),
                          'cmp3': ('rb', 'home'), 'cmp4': ('rt', 'home')},
                         {n: (h.domains['rack'], h.domains['zone'])
                          for n, h in hosts.items()})
        self.assertEqual({'cmp1': True, 'cmp2': False, 'cmp3': False,
                          'cmp4': True},
                         {n: h.enabled for n, h in hosts.items()})
        # Nova's aggregates by name with metadata; the UUIDs nova-api
        # mirrored into Placement resolve to the same aggregates.
        self.assertEqual({'east': {'availability_zone': 'east'},
                          'rack-a': {'valet:rack': 'ra'},
                          'ssd': {'ssd': 'true'}}, hosts['cmp1'].aggregates)
        self.assertEqual(8 * 4.0, hosts['cmp2'].usable('VCPU'))
        flavors = {name: {k: v for k, v in f.items() if k != 'id'}
                   for name, f in snapshot.flavors.items()}
        self.assertEqual({
            'm1.valet': {'name': 'm1.valet', 'vcpus': 2, 'ram': 2048,
                         'disk': 20, 'ephemeral': 0, 'swap': 0,
                         'extra_specs': {'hw:cpu_policy': 'dedicated'}},
            'private.big': {'name': 'private.big', 'vcpus': 16,
                            'ram': 65536, 'disk': 100, 'ephemeral': 50,
                            'swap': 4096, 'extra_specs': {}}}, flavors)
        self.assertEqual([(vm('a'), 'cmp1', {'VCPU': 2, 'MEMORY_MB': 2048,
                                             'DISK_GB': 20})],
                         [(s.id, s.host, s.demand) for s in snapshot.servers])
        self.assertNotIn('[nova] auth_type is not set', self.log.output)
        self.assertIn('OpenStack inventory: 4 hosts (1 excluded, 2 disabled)'
                      ', 1 servers (0 on excluded hosts left out), 2 flavors',
                      self.log.output)
