"""The openstack inventory driver: Placement + Nova views to a snapshot."""

import os

import fixtures
from oslo_config import cfg
from oslotest import base

from valet import conf as valet_conf
from valet.engine import reconcile
from valet import inventory
from valet.inventory import base as inventory_base
from valet.inventory.openstack import driver
from valet.inventory.openstack import nova
from valet.inventory.openstack import placement
from valet import objects


def tree(uuid, name, traits=(), aggregates=(), consumers=None, vcpus=16):
    return placement.ProviderTree(
        uuid=uuid, name=name,
        capacity={'VCPU': vcpus, 'MEMORY_MB': 65536, 'DISK_GB': 1000},
        reserved={'MEMORY_MB': 512}, allocation_ratios={'VCPU': 4.0},
        traits=frozenset(traits), aggregates=frozenset(aggregates),
        consumers=consumers or {})


def nova_view(**kw):
    view = nova.NovaView()
    for key, value in kw.items():
        setattr(view, key, value)
    return view


def agg(name, hosts, metadata=None, zone=None, uuid=None):
    return nova.Aggregate(uuid=uuid, name=name, availability_zone=zone,
                          metadata=dict(metadata or {}),
                          hosts=frozenset(hosts))


class _Reader:

    def __init__(self, view, order=None):
        self.view = view
        self.reads = 0
        self.order = order if order is not None else []
        self.aggregates = []

    def read(self, **kw):
        self.reads += 1
        self.order.append(self)
        if 'aggregates' in kw:
            self.aggregates.append(kw['aggregates'])
        return self.view


class HostNamesTest(base.BaseTestCase):

    def test_without_nova_provider_names(self):
        trees = [tree('u1', 'cmp1.example.org')]
        self.assertEqual({'u1': ('cmp1.example.org', None)},
                         driver.host_names(trees, None))

    def test_every_way_to_find_the_service_host(self):
        trees = [tree('u1', 'node-a'),            # by compute node uuid
                 tree('u2', 'cmp2.example.org'),  # by hypervisor name
                 tree('u3', 'cmp3'),              # same name
                 tree('u4', 'cmp4.example.org'),  # short name
                 tree('u5', 'lonely')]            # no service at all
        view = nova_view(
            hypervisors_by_uuid={'u1': 'cmp1'},
            hypervisors_by_name={'cmp2.example.org': 'cmp2'},
            services={h: nova.Service(h, True)
                      for h in ('cmp1', 'cmp2', 'cmp3', 'cmp4')})
        self.assertEqual({'u1': ('cmp1', 'cmp1'), 'u2': ('cmp2', 'cmp2'),
                          'u3': ('cmp3', 'cmp3'), 'u4': ('cmp4', 'cmp4'),
                          'u5': ('lonely', None)},
                         driver.host_names(trees, view))

    def test_one_service_many_nodes_keeps_node_names(self):
        trees = [tree('n1', 'node-1'), tree('n2', 'node-2')]
        view = nova_view(hypervisors_by_uuid={'n1': 'ironic', 'n2': 'ironic'},
                         services={'ironic': nova.Service('ironic', True)})
        self.assertEqual({'n1': ('node-1', 'ironic'),
                          'n2': ('node-2', 'ironic')},
                         driver.host_names(trees, view))

    def test_names_stay_unique(self):
        # "cmp1.a" maps to service cmp1, and a provider is named "cmp1".
        trees = [tree('u1', 'cmp1.a'), tree('u2', 'cmp1')]
        view = nova_view(hypervisors_by_uuid={'u1': 'cmp1'},
                         services={'cmp1': nova.Service('cmp1', True)})
        names = driver.host_names(trees, view)
        self.assertEqual({'cmp1.a', 'cmp1'},
                         {name for name, _ in names.values()})


class BuildTest(base.BaseTestCase):

    def test_hosts_without_nova(self):
        hosts, names, without = driver.build_hosts(
            [tree('u2', 'b', traits=['CUSTOM_RACK_R1'], aggregates=['a-1']),
             tree('u1', 'a')], None, 'nova')
        self.assertEqual(['a', 'b'], [h.name for h in hosts])
        b = hosts[1]
        self.assertEqual({'VCPU': 16, 'MEMORY_MB': 65536, 'DISK_GB': 1000},
                         b.capacity)
        self.assertEqual({'MEMORY_MB': 512}, b.reserved)
        self.assertEqual({'VCPU': 4.0}, b.allocation_ratios)
        self.assertEqual(frozenset(['CUSTOM_RACK_R1']), b.traits)
        self.assertEqual({'a-1': {}}, b.aggregates)
        self.assertEqual('nova', b.availability_zone)
        self.assertTrue(b.enabled)
        self.assertEqual({'u1': 'a', 'u2': 'b'}, names)
        self.assertEqual([], without)
        self.assertEqual(16 * 4.0, b.usable('VCPU'))
        self.assertEqual(65536 - 512, b.usable('MEMORY_MB'))

    def test_hosts_with_nova(self):
        view = nova_view(
            aggregates=[
                agg('rack-1', ['cmp1'], {'valet:rack': 'r1'}, uuid='ra'),
                agg('east', ['cmp1', 'cmp2'], {'availability_zone': 'east'},
                    zone='east', uuid='za'),
                # Known to Placement by uuid only for cmp2 (not mirrored).
                agg('ssd', [], {'disk': 'ssd'}, uuid='sa')],
            services={'cmp1': nova.Service('cmp1', True),
                      'cmp2': nova.Service('cmp2', False, 'disabled: x')},
            hypervisors_by_uuid={}, hypervisors_by_name={})
        hosts, _, without = driver.build_hosts(
            [tree('u1', 'cmp1', aggregates=['ra', 'za']),
             tree('u2', 'cmp2', aggregates=['sa', 'placement-only']),
             tree('u3', 'cmp3')], view, 'nova')
        by_name = {h.name: h for h in hosts}
        self.assertEqual({'rack-1': {'valet:rack': 'r1'},
                          'east': {'availability_zone': 'east'}},
                         by_name['cmp1'].aggregates)
        self.assertEqual('east', by_name['cmp1'].availability_zone)
        self.assertTrue(by_name['cmp1'].enabled)
        self.assertEqual({'east': {'availability_zone': 'east'},
                          'ssd': {'disk': 'ssd'}, 'placement-only': {}},
                         by_name['cmp2'].aggregates)
        self.assertFalse(by_name['cmp2'].enabled)
        # No nova-compute service: nothing can be booted there.
        self.assertFalse(by_name['cmp3'].enabled)
        self.assertEqual('nova', by_name['cmp3'].availability_zone)
        self.assertEqual(['cmp3'], without)

    def test_servers(self):
        trees = [tree('u1', 'a', consumers={'vm2': {'VCPU': 2},
                                            'vm1': {'VCPU': 1}}),
                 tree('u2', 'b', consumers={'vm1': {'VCPU': 4},
                                            'vm3': {'VCPU': 8}}),
                 tree('u3', 'c', consumers={'vm4': {'VCPU': 1}})]
        names = {'u1': 'a', 'u2': 'b', 'u3': 'c'}
        servers, metadata, left_out = driver.build_servers(
            trees, names, {'a', 'b'},
            consumers={'vm1': {'project_id': 'p-placement'},
                       'vm2': {'project_id': 'p-placement'}},
            nova_servers={'vm2': {'name': 'web', 'project': 'p-nova',
                                  'metadata': {'k': 'v'}}})
        self.assertEqual(
            [('vm1', 'a', {'VCPU': 1}, 'p-placement', None),
             ('vm2', 'a', {'VCPU': 2}, 'p-nova', 'web'),
             ('vm1@b', 'b', {'VCPU': 4}, 'p-placement', None),
             ('vm3', 'b', {'VCPU': 8}, None, None)],
            [(s.id, s.host, s.demand, s.project, s.name) for s in servers])
        self.assertEqual({'vm2': {'k': 'v'}}, metadata)
        self.assertEqual(1, left_out)

    def test_evacuated_server_is_where_nova_says(self):
        # Evacuated from a to b: the source's allocations stay until a's
        # nova-compute comes back; the server itself runs on b.
        trees = [tree('u1', 'a', consumers={'vm1': {'VCPU': 1}}),
                 tree('u2', 'b', consumers={'vm1': {'VCPU': 1}})]
        servers, _, _ = driver.build_servers(
            trees, {'u1': 'a', 'u2': 'b'}, {'a', 'b'},
            nova_servers={'vm1': {'host': 'b'}})
        self.assertEqual([('vm1@a', 'a'), ('vm1', 'b')],
                         [(s.id, s.host) for s in servers])
        self.assertEqual({}, driver.unsure_hosts(
            trees, {'u1': 'a', 'u2': 'b'}, {'a', 'b'},
            nova_servers={'vm1': {'host': 'b'}}))

    def test_evacuated_server_without_nova_is_unsure(self):
        trees = [tree('u1', 'a', consumers={'vm1': {'VCPU': 1}}),
                 tree('u2', 'b', consumers={'vm1': {'VCPU': 1},
                                            'vm2': {'VCPU': 1}}),
                 tree('u3', 'c', consumers={'vm1': {'VCPU': 1}})]
        names = {'u1': 'a', 'u2': 'b', 'u3': 'c'}
        self.assertEqual({'vm1': ['a', 'b', 'c']}, driver.unsure_hosts(
            trees, names, {'a', 'b', 'c'}))
        # Only the hosts the model keeps; one kept host is no doubt.
        self.assertEqual({'vm1': ['a', 'b']}, driver.unsure_hosts(
            trees, names, {'a', 'b'}))
        self.assertEqual({}, driver.unsure_hosts(trees, names, {'a'}))


class EvacuatedServerTest(base.BaseTestCase):
    """Inventory and stored placement together (``reconcile.build``)."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger(name='valet'))
        self.conf = cfg.ConfigOpts()
        valet_conf.register_all(self.conf)
        self.conf([])
        # vm1 was evacuated from cmp1 (down, its allocations stay) to
        # cmp3, where Valet's replan put its placement.
        self.placement_view = placement.PlacementView(
            hosts=[tree('u1', 'cmp1', traits=['CUSTOM_RACK_R1'],
                        consumers={'vm1': {'VCPU': 2}}),
                   tree('u3', 'cmp3', traits=['CUSTOM_RACK_R2'],
                        consumers={'vm1': {'VCPU': 2}})],
            providers=2, skipped=0)
        self.stored = objects.Placement(
            name='db', orchestration_id='vm1', plan_id='vm1',
            location='cmp3', resource_id='vm1', reserved=True,
            project_id='p1', id='pl-1', spec={'demand': {'VCPU': 2}})

    def rebuild(self, nova_servers):
        view = nova_view(services={h: nova.Service(h, True)
                                   for h in ('cmp1', 'cmp3')},
                         servers=nova_servers)
        snapshot = driver.OpenStackInventory(
            self.conf, _Reader(self.placement_view), _Reader(view)).load()
        return reconcile.build(snapshot, [self.stored], [], {}, 0.0)

    def test_modelled_on_its_placements_host_without_nova_servers(self):
        # [inventory] read_servers = false: Nova does not say where it
        # runs; the placement's host is one of its allocations' hosts.
        result = self.rebuild({})
        self.assertEqual('cmp3', result.dc.servers['vm1'].host)
        self.assertEqual([], result.repairs)
        # Its source host's allocations still count there.
        self.assertEqual('cmp1', result.dc.servers['vm1@cmp1'].host)

    def test_nova_says_where_it_runs(self):
        # Nova's word wins over the placement's (e.g. evacuated while
        # Valet could not answer and the filter yielded).
        self.stored.location = 'cmp1'
        result = self.rebuild({'vm1': {'host': 'cmp3', 'name': 'db'}})
        self.assertEqual('cmp3', result.dc.servers['vm1'].host)
        self.assertEqual([('moved', 'cmp3')],
                         [(r.action, r.location) for r in result.repairs])


class DriverTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='valet.inventory.openstack'))
        self.conf = cfg.ConfigOpts()
        valet_conf.register_all(self.conf)
        self.conf([])
        self.placement_view = placement.PlacementView(
            hosts=[tree('u1', 'cmp1', traits=['CUSTOM_RACK_R1'],
                        consumers={'vm1': {'VCPU': 2, 'MEMORY_MB': 1024}}),
                   tree('u2', 'cmp2', consumers={'vm2': {'VCPU': 1}}),
                   tree('u3', 'cmp3', aggregates=['ra'])],
            providers=4, skipped=1)
        self.nova_view = nova_view(
            aggregates=[agg('rack-2', ['cmp3'], {'valet:rack': 'r2'},
                            uuid='ra'),
                        agg('east', ['cmp1', 'cmp3'], zone='east')],
            services={h: nova.Service(h, h != 'cmp3')
                      for h in ('cmp1', 'cmp2', 'cmp3')},
            flavors={'m1.small': {'name': 'm1.small', 'id': '2', 'vcpus': 1,
                                  'ram': 2048, 'disk': 20, 'ephemeral': 0,
                                  'swap': 0, 'extra_specs': {}}},
            servers={'vm1': {'name': 'db', 'project': 'p1',
                             'metadata': {'valet_groups': 'g'}}})

    def inventory(self, with_nova=True):
        self.order = []
        self.placement_reader = _Reader(self.placement_view, self.order)
        self.nova_reader = (_Reader(self.nova_view, self.order)
                            if with_nova else None)
        return driver.OpenStackInventory(self.conf, self.placement_reader,
                                         self.nova_reader)

    def test_snapshot(self):
        snapshot = self.inventory().load()
        self.assertEqual(('host', 'rack', 'zone', 'region'), snapshot.levels)
        self.assertEqual({'cmp1': {'rack': 'r1', 'zone': 'east',
                                   'region': 'RegionOne'},
                          'cmp3': {'rack': 'r2', 'zone': 'east',
                                   'region': 'RegionOne'}},
                         {h.name: h.domains for h in snapshot.hosts})
        self.assertEqual({'cmp1': True, 'cmp3': False},
                         {h.name: h.enabled for h in snapshot.hosts})
        self.assertEqual({'rack': ['cmp2']}, snapshot.unmapped)
        self.assertEqual([('vm1', 'cmp1', 'db', 'p1')],
                         [(s.id, s.host, s.name, s.project)
                          for s in snapshot.servers])
        self.assertEqual({'vm1': {'valet_groups': 'g'}},
                         snapshot.server_metadata)
        self.assertEqual(['m1.small'], list(snapshot.flavors))
        self.assertEqual('2', snapshot.find_flavor('2')['id'])
        self.assertIn('1 hosts map to no domain at level(s) rack (1) (e.g. '
                      'cmp2)', self.log.output)
        self.assertIn('OpenStack inventory: 2 hosts (1 excluded, 1 '
                      'disabled), 1 servers (1 on excluded hosts left out), '
                      '1 flavors; 4 resource providers read (1 not compute '
                      'hosts, 0 vanished) in ', self.log.output)

    def test_nova_aggregates_go_to_placement(self):
        self.nova_view.aggregates.append(agg('ssd', [], uuid='sa'))
        self.nova_view.aggregates.append(agg('ra-again', [], uuid='ra'))
        self.placement_view.requests = 7
        self.inventory().load()
        # Nova first: Placement reads memberships of its aggregates.
        self.assertEqual([self.nova_reader, self.placement_reader],
                         self.order)
        self.assertEqual([['ra', 'sa']], self.placement_reader.aggregates)
        self.assertRegex(self.log.output, r'\(Placement [0-9.]+ s, 7 '
                         r'requests; Nova [0-9.]+ s\)')

    def test_without_nova_placement_reads_aggregates_per_host(self):
        self.conf.set_override('unmapped_hosts', 'isolate', 'inventory')
        self.inventory(with_nova=False).load()
        self.assertEqual([None], self.placement_reader.aggregates)

    def test_isolate_keeps_every_host(self):
        self.conf.set_override('unmapped_hosts', 'isolate', 'inventory')
        snapshot = self.inventory().load()
        self.assertEqual(['cmp1', 'cmp2', 'cmp3'],
                         [h.name for h in snapshot.hosts])
        self.assertEqual('unmapped:cmp2', snapshot.hosts[1].domains['rack'])
        self.assertEqual(['vm1', 'vm2'], [s.id for s in snapshot.servers])

    def test_without_nova_one_warning(self):
        self.conf.set_override('unmapped_hosts', 'isolate', 'inventory')
        inv = self.inventory(with_nova=False)
        inv.load()
        inv.load()
        warnings = [line for line in self.log.output.splitlines()
                    if '[nova] auth_type is not set' in line]
        self.assertEqual(1, len(warnings))
        snapshot = inv.load()
        self.assertEqual({}, snapshot.flavors)
        self.assertEqual({'nova'},
                         {h.availability_zone for h in snapshot.hosts})
        self.assertTrue(all(h.enabled for h in snapshot.hosts))
        self.assertEqual({'ra': {}}, snapshot.hosts[-1].aggregates)

    def test_configuration_is_checked_at_start(self):
        self.conf.set_override('level_sources', ['rack:lldp'], 'inventory')
        exc = self.assertRaises(inventory_base.InventoryError,
                                self.inventory)
        self.assertIn("unknown source 'lldp'", str(exc))

    def test_placement_credentials_are_required(self):
        exc = self.assertRaises(inventory_base.InventoryError,
                                driver.OpenStackInventory, self.conf)
        self.assertIn('set [placement] auth_type', str(exc))

    def test_errors_pass_through(self):
        class Broken:
            def read(self, aggregates=None):
                raise inventory_base.InventoryError('Placement at x: down')

        inv = driver.OpenStackInventory(self.conf, Broken(), None)
        self.assertRaises(inventory_base.InventoryError, inv.load)

        class BrokenNova:
            def read(self):
                raise inventory_base.InventoryError('Nova at y: down')

        inv = driver.OpenStackInventory(
            self.conf, _Reader(self.placement_view), BrokenNova())
        self.assertRaises(inventory_base.InventoryError, inv.load)


class EntryPointTest(base.BaseTestCase):

    def test_stevedore_loads_the_driver_from_configuration(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'valet.conf')
        with open(path, 'w') as handle:
            handle.write('[inventory]\ndriver = openstack\n'
                         'request_workers = 3\nread_servers = true\n'
                         '[placement]\nauth_type = admin_token\n'
                         'endpoint = http://127.0.0.1:1\ntoken = admin\n'
                         '[nova]\nauth_type = admin_token\n'
                         'endpoint = http://127.0.0.1:2/v2.1\n'
                         'token = admin\n')
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf([], default_config_files=[path])
        inv = inventory.get_inventory(conf)
        self.assertIsInstance(inv, driver.OpenStackInventory)
        self.assertEqual(3, inv.placement.workers)
        self.assertEqual(placement.MICROVERSION,
                         inv.placement.client.adapter.default_microversion)
        self.assertTrue(inv.nova.read_servers)
        self.assertEqual(nova.MICROVERSION,
                         inv.nova.client.adapter.default_microversion)
