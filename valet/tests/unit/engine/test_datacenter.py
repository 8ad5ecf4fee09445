"""Tests of the data-centre model: hosts, capacities, servers, groups."""

import collections

from hypothesis import stateful
from hypothesis import strategies as st
import numpy as np
from oslotest import base
import testtools

from valet.engine.model import datacenter
from valet.engine.model import errors
from valet.engine.model import groups
from valet.engine.model import host
from valet.engine.model import topology

CAP = {'VCPU': 16, 'MEMORY_MB': 32768, 'DISK_GB': 500}


def _host(name, rack, zone, region='r1', capacity=None, **kw):
    return host.HostSpec(name, dict(capacity or CAP),
                         {'rack': rack, 'zone': zone, 'region': region}, **kw)


def _hosts(n=8, per_rack=2, racks_per_zone=2):
    """Hosts h0..h{n-1}: two per rack, two racks per zone by default."""
    out = []
    for i in range(n):
        rack = i // per_rack
        out.append(_host('h%d' % i, 'rack%d' % rack,
                         'zone%d' % (rack // racks_per_zone)))
    return out


def _server(sid, hostname, vcpu=1, mem=1024, disk=10, **kw):
    return datacenter.PlacedServer(
        sid, hostname, {'VCPU': vcpu, 'MEMORY_MB': mem, 'DISK_GB': disk},
        **kw)


class DataCenterTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.dc = datacenter.DataCenter.build(_hosts())

    def assertModelError(self, code, func, *args, **kwargs):
        exc = self.assertRaises(errors.ModelError, func, *args, **kwargs)
        self.assertEqual(code, exc.code)
        self.assertEqual(code, exc.to_dict()['code'])
        return exc

    def assertConsistent(self, dc):
        """Arrays agree with the servers recorded, host by host."""
        arrays = dc.arrays()
        used = np.zeros_like(arrays.used)
        count = np.zeros_like(arrays.count)
        for server in dc.servers.values():
            slot = dc.slot_of(server.host)
            count[slot] += 1
            for rc, amount in server.demand.items():
                used[slot, dc.resource_classes.index(rc)] += amount
        np.testing.assert_allclose(used, arrays.used)
        np.testing.assert_array_equal(count, arrays.count)
        for name in dc.hosts:
            self.assertEqual(
                sorted(s.id for s in dc.servers.values() if s.host == name),
                dc.servers_on(name))


class BuildTest(DataCenterTestCase):

    def test_build(self):
        dc = self.dc
        self.assertEqual(8, len(dc.hosts))
        self.assertEqual(8, dc.slots)
        self.assertEqual(['VCPU', 'MEMORY_MB', 'DISK_GB'],
                         dc.resource_classes)
        arrays = dc.arrays()
        self.assertEqual((8, 3), arrays.capacity.shape)
        self.assertTrue(arrays.present.all())
        self.assertTrue(arrays.enabled.all())
        self.assertFalse(arrays.used.any())
        self.assertFalse(arrays.count.any())
        self.assertEqual((4, 8), arrays.domain.shape)
        self.assertEqual(0, len(dc.servers))

    def test_build_with_servers_and_groups(self):
        dc = datacenter.DataCenter.build(
            _hosts(), groups=[groups.Group('web', 'diversity', 'rack')],
            servers=[_server('s1', 'h0', groups=('web',)),
                     _server('s2', 'h2', groups=('web',))])
        self.assertEqual({'s1', 's2'}, dc.group_servers('web'))
        self.assertEqual(['s1'], dc.servers_on('h0'))
        self.assertConsistent(dc)

    def test_build_collects_resource_classes(self):
        hosts = _hosts(2)
        hosts.append(_host('gpu', 'rack9', 'zone9',
                           capacity=dict(CAP, VGPU=4, CUSTOM_FPGA=1)))
        dc = datacenter.DataCenter.build(hosts)
        self.assertEqual(['VCPU', 'MEMORY_MB', 'DISK_GB', 'VGPU',
                          'CUSTOM_FPGA'], dc.resource_classes)
        self.assertEqual(4.0, dc.capacity('gpu')['VGPU'])
        self.assertEqual(0.0, dc.capacity('h0')['VGPU'])

    def test_build_explicit_resource_classes(self):
        dc = datacenter.DataCenter.build(_hosts(2),
                                         resource_classes=['VCPU'])
        self.assertEqual('VCPU', dc.resource_classes[0])
        # Classes that hosts offer still appear, after the given ones.
        self.assertEqual({'VCPU', 'MEMORY_MB', 'DISK_GB'},
                         set(dc.resource_classes))

    def test_build_many_hosts_grows_arrays(self):
        hosts = _hosts(200, per_rack=10, racks_per_zone=5)
        dc = datacenter.DataCenter.build(hosts)
        self.assertEqual(200, dc.slots)
        self.assertEqual(200, int(dc.arrays().present.sum()))
        self.assertEqual(20, dc.domain_count(1))
        self.assertEqual(4, dc.domain_count(2))
        self.assertEqual('rack19', dc.domain_of('h199', 'rack'))

    def test_grow_by_adding_hosts(self):
        dc = datacenter.DataCenter()
        for i in range(150):
            dc.add_host(_host('n%d' % i, 'rack%d' % (i // 10), 'z'))
            dc.place(_server('s%d' % i, 'n%d' % i, vcpu=i % 5))
        self.assertEqual(150, dc.slots)
        self.assertEqual(16.0, dc.capacity('n149')['VCPU'])
        self.assertEqual(16.0 - 149 % 5, dc.free('n149')['VCPU'])
        self.assertEqual('rack14', dc.domain_of('n149', 'rack'))
        self.assertConsistent(dc)

    def test_empty(self):
        dc = datacenter.DataCenter()
        self.assertEqual(0, dc.slots)
        self.assertEqual((0, 3), dc.arrays().capacity.shape)
        self.assertEqual(topology.Topology(), dc.topology)


class CapacityTest(DataCenterTestCase):

    def test_capacity_formula(self):
        self.dc.add_host(_host(
            'x', 'rack9', 'zone9',
            capacity={'VCPU': 32, 'MEMORY_MB': 131072, 'DISK_GB': 2000},
            allocation_ratios={'VCPU': 4.0, 'MEMORY_MB': 1.5},
            reserved={'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 100},
            standby_percent={'VCPU': 10, 'DISK_GB': 50}))
        cap = self.dc.capacity('x')
        self.assertAlmostEqual((32 - 2) * 4.0 * 0.9, cap['VCPU'])
        self.assertAlmostEqual((131072 - 4096) * 1.5, cap['MEMORY_MB'])
        self.assertAlmostEqual((2000 - 100) * 0.5, cap['DISK_GB'])
        slot = self.dc.slot_of('x')
        np.testing.assert_allclose(
            [cap['VCPU'], cap['MEMORY_MB'], cap['DISK_GB']],
            self.dc.arrays().capacity[slot])

    def test_free_is_capacity_less_used(self):
        self.dc.place(_server('s1', 'h1', vcpu=3, mem=2048, disk=40))
        self.dc.place(_server('s2', 'h1', vcpu=5, mem=1024, disk=60))
        self.assertEqual({'VCPU': 8.0, 'MEMORY_MB': 29696.0,
                          'DISK_GB': 400.0}, self.dc.free('h1'))
        self.assertEqual({'VCPU': 16.0, 'MEMORY_MB': 32768.0,
                          'DISK_GB': 500.0}, self.dc.capacity('h1'))
        self.assertEqual(self.dc.capacity('h0'), self.dc.free('h0'))

    def test_overcommit_is_recorded(self):
        # The model records what runs; it is the solver that refuses.
        self.dc.place(_server('big', 'h0', vcpu=20))
        self.assertEqual(-4.0, self.dc.free('h0')['VCPU'])

    def test_demand_vector(self):
        vec, unknown = self.dc.demand_vector(
            {'MEMORY_MB': 512, 'VCPU': 2, 'VGPU': 1, 'CUSTOM_X': 0})
        np.testing.assert_array_equal([2, 512, 0], vec)
        self.assertEqual({'VGPU': 1}, unknown)


class HostChangesTest(DataCenterTestCase):

    def test_add_host(self):
        gen = self.dc.generation
        slot = self.dc.add_host(_host('h8', 'rack4', 'zone2'))
        self.assertEqual(8, slot)
        self.assertEqual('h8', self.dc.host_name(slot))
        self.assertEqual(slot, self.dc.slot_of('h8'))
        self.assertGreater(self.dc.generation, gen)
        self.assertEqual('rack4', self.dc.domain_of('h8', 'rack'))
        self.assertEqual(5, self.dc.domain_count(1))
        self.assertEqual(3, self.dc.domain_count(2))
        self.assertEqual([], self.dc.servers_on('h8'))

    def test_add_existing_host_refused(self):
        exc = self.assertModelError('valet.model.host_exists',
                                    self.dc.add_host,
                                    _host('h3', 'rack9', 'zone9'))
        self.assertEqual('h3', exc.details['host'])
        self.assertEqual('rack1', self.dc.domain_of('h3', 'rack'))

    def test_add_host_missing_domain_refused(self):
        spec = host.HostSpec('lost', dict(CAP), {'rack': 'rack0', 'zone': ''})
        exc = self.assertModelError('valet.model.host_domains',
                                    self.dc.add_host, spec)
        self.assertEqual(['zone', 'region'], exc.details['levels'])
        self.assertNotIn('lost', self.dc.hosts)
        self.assertEqual(8, self.dc.slots)

    def test_custom_topology_domains(self):
        topo = topology.Topology(('host', 'pod'))
        dc = datacenter.DataCenter(topo)
        dc.add_host(host.HostSpec('a', dict(CAP), {'pod': 'p1'}))
        dc.add_host(host.HostSpec('b', dict(CAP),
                                  {'pod': 'p1', 'rack': 'ignored'}))
        self.assertEqual('p1', dc.domain_of('b', 'pod'))
        self.assertEqual((2, 2), dc.arrays().domain.shape)
        self.assertModelError('valet.model.host_domains', dc.add_host,
                              host.HostSpec('c', dict(CAP), {'rack': 'r'}))

    def test_disable_and_enable(self):
        self.dc.place(_server('s1', 'h2'))
        slot = self.dc.slot_of('h2')
        spec = self.dc.hosts['h2']
        disabled = _host('h2', 'rack1', 'zone0', enabled=False)
        gen = self.dc.generation
        self.dc.update_host(disabled)
        self.assertGreater(self.dc.generation, gen)
        self.assertFalse(self.dc.arrays().enabled[slot])
        self.assertTrue(self.dc.arrays().present[slot])
        self.assertEqual(['s1'], self.dc.servers_on('h2'))
        self.assertEqual(1, self.dc.arrays().count[slot])
        self.dc.update_host(spec)
        self.assertTrue(self.dc.arrays().enabled[slot])
        self.assertConsistent(self.dc)

    def test_resize_keeps_usage(self):
        self.dc.place(_server('s1', 'h4', vcpu=4, mem=4096, disk=50))
        self.dc.update_host(_host(
            'h4', 'rack2', 'zone1',
            capacity={'VCPU': 64, 'MEMORY_MB': 262144, 'DISK_GB': 500},
            allocation_ratios={'VCPU': 2.0}))
        self.assertEqual(128.0, self.dc.capacity('h4')['VCPU'])
        self.assertEqual(124.0, self.dc.free('h4')['VCPU'])
        self.assertEqual(262144.0 - 4096, self.dc.free('h4')['MEMORY_MB'])
        self.assertEqual(self.dc.slot_of('h4'), 4)
        self.assertConsistent(self.dc)

    def test_resize_drops_resource_class(self):
        self.dc.update_host(_host('h0', 'rack0', 'zone0',
                                  capacity={'VCPU': 8, 'MEMORY_MB': 1024}))
        self.assertEqual(0.0, self.dc.capacity('h0')['DISK_GB'])
        self.assertEqual(8.0, self.dc.capacity('h0')['VCPU'])

    def test_rehome_to_another_rack(self):
        self.dc.place(_server('s1', 'h0', groups=('g',)))
        self.dc.update_host(_host('h0', 'rack3', 'zone1'))
        self.assertEqual('rack3', self.dc.domain_of('h0', 'rack'))
        self.assertEqual('zone1', self.dc.domain_of('h0', 'zone'))
        arrays = self.dc.arrays()
        slot = self.dc.slot_of('h0')
        self.assertEqual(arrays.domain[1, self.dc.slot_of('h6')],
                         arrays.domain[1, slot])
        self.assertNotEqual(arrays.domain[1, self.dc.slot_of('h1')],
                            arrays.domain[1, slot])
        self.assertEqual(['s1'], self.dc.servers_on('h0'))
        self.assertEqual({'s1'}, self.dc.group_servers('g'))

    def test_rehome_to_new_rack(self):
        self.dc.update_host(_host('h7', 'rack-new', 'zone-new'))
        self.assertEqual('rack-new', self.dc.domain_of('h7', 'rack'))
        self.assertEqual(5, self.dc.domain_count(1))
        self.assertEqual(3, self.dc.domain_count(2))

    def test_update_unknown_host_refused(self):
        exc = self.assertModelError('valet.model.unknown_host',
                                    self.dc.update_host,
                                    _host('nope', 'rack0', 'zone0'))
        self.assertEqual('nope', exc.details['host'])

    def test_update_host_missing_domain_refused(self):
        spec = host.HostSpec('h1', dict(CAP), {'rack': 'rack7'})
        self.assertModelError('valet.model.host_domains',
                              self.dc.update_host, spec)
        self.assertEqual('rack0', self.dc.domain_of('h1', 'rack'))

    def test_update_host_new_resource_class(self):
        self.dc.update_host(_host('h5', 'rack2', 'zone1',
                                  capacity=dict(CAP, VGPU=2)))
        self.assertIn('VGPU', self.dc.resource_classes)
        self.assertEqual(2.0, self.dc.capacity('h5')['VGPU'])
        self.assertEqual(0.0, self.dc.capacity('h4')['VGPU'])
        self.assertEqual((8, 4), self.dc.arrays().capacity.shape)

    def test_remove_empty_host(self):
        slot = self.dc.slot_of('h3')
        removed = self.dc.remove_host('h3')
        self.assertEqual([], removed)
        self.assertNotIn('h3', self.dc.hosts)
        self.assertIsNone(self.dc.host_name(slot))
        arrays = self.dc.arrays()
        self.assertFalse(arrays.present[slot])
        self.assertFalse(arrays.enabled[slot])
        self.assertFalse(arrays.capacity[slot].any())
        self.assertTrue((arrays.domain[:, slot] == -1).all())
        self.assertEqual(8, self.dc.slots)
        self.assertModelError('valet.model.unknown_host', self.dc.slot_of,
                              'h3')
        self.assertModelError('valet.model.unknown_host', self.dc.free, 'h3')

    def test_remove_busy_host_refused(self):
        self.dc.place(_server('s2', 'h1'))
        self.dc.place(_server('s1', 'h1'))
        exc = self.assertModelError('valet.model.host_busy',
                                    self.dc.remove_host, 'h1')
        self.assertEqual(['s1', 's2'], exc.details['servers'])
        self.assertIn('h1', self.dc.hosts)
        self.assertEqual(2, self.dc.arrays().count[self.dc.slot_of('h1')])

    def test_remove_busy_host_forced(self):
        self.dc.place(_server('s1', 'h1', groups=('g',)))
        self.dc.place(_server('s2', 'h1'))
        self.dc.place(_server('s3', 'h2', groups=('g',)))
        removed = self.dc.remove_host('h1', force=True)
        self.assertEqual(['s1', 's2'], sorted(s.id for s in removed))
        self.assertEqual({'s3'}, set(self.dc.servers))
        self.assertEqual({'s3'}, self.dc.group_servers('g'))
        self.assertConsistent(self.dc)

    def test_remove_unknown_host_refused(self):
        self.assertModelError('valet.model.unknown_host',
                              self.dc.remove_host, 'nope')

    def test_free_slot_reused(self):
        self.dc.place(_server('s1', 'h2', vcpu=7))
        slot = self.dc.slot_of('h2')
        self.dc.remove_host('h2', force=True)
        new = self.dc.add_host(_host('fresh', 'rack7', 'zone7',
                                     capacity={'VCPU': 4}))
        self.assertEqual(slot, new)
        self.assertEqual(8, self.dc.slots)
        self.assertEqual('fresh', self.dc.host_name(slot))
        arrays = self.dc.arrays()
        self.assertTrue(arrays.present[slot])
        self.assertEqual(0, arrays.count[slot])
        self.assertFalse(arrays.used[slot].any())
        self.assertEqual({'VCPU': 4.0, 'MEMORY_MB': 0.0, 'DISK_GB': 0.0},
                         self.dc.free('fresh'))
        self.assertEqual('rack7', self.dc.domain_of('fresh', 'rack'))
        self.assertEqual(slot, arrays.domain[0, slot])
        self.assertEqual([], self.dc.servers_on('fresh'))
        # Slots are taken from the free list before the arrays grow.
        self.assertEqual(8, self.dc.add_host(_host('more', 'rack7', 'zone7')))

    def test_readd_removed_host(self):
        self.dc.remove_host('h0')
        self.dc.add_host(_host('h0', 'rack0', 'zone0'))
        self.dc.place(_server('s1', 'h0'))
        self.assertEqual(['s1'], self.dc.servers_on('h0'))
        self.assertConsistent(self.dc)


class ServerChangesTest(DataCenterTestCase):

    def test_place(self):
        gen = self.dc.generation
        self.dc.place(_server('s1', 'h3', vcpu=2, mem=2048, disk=20,
                              project='p', stack='st', name='web-1'))
        slot = self.dc.slot_of('h3')
        arrays = self.dc.arrays()
        np.testing.assert_array_equal([2, 2048, 20], arrays.used[slot])
        self.assertEqual(1, arrays.count[slot])
        self.assertEqual(['s1'], self.dc.servers_on('h3'))
        self.assertEqual('web-1', self.dc.servers['s1'].name)
        self.assertGreater(self.dc.generation, gen)

    def test_place_partial_demand(self):
        self.dc.place(datacenter.PlacedServer('s1', 'h0', {'VCPU': 2}))
        np.testing.assert_array_equal(
            [2, 0, 0], self.dc.arrays().used[self.dc.slot_of('h0')])

    def test_place_duplicate_refused(self):
        self.dc.place(_server('s1', 'h0'))
        exc = self.assertModelError('valet.model.server_exists',
                                    self.dc.place, _server('s1', 'h1'))
        self.assertEqual('s1', exc.details['server'])
        self.assertEqual([], self.dc.servers_on('h1'))
        self.assertEqual('h0', self.dc.servers['s1'].host)

    def test_place_unknown_host_refused(self):
        self.assertModelError('valet.model.unknown_host', self.dc.place,
                              _server('s1', 'nope'))
        self.assertEqual({}, self.dc.servers)

    def test_place_on_disabled_host_is_recorded(self):
        self.dc.update_host(_host('h0', 'rack0', 'zone0', enabled=False))
        self.dc.place(_server('s1', 'h0'))
        self.assertEqual(['s1'], self.dc.servers_on('h0'))

    def test_new_resource_class_from_demand(self):
        self.dc.place(_server('s0', 'h0', vcpu=3))
        self.dc.place(datacenter.PlacedServer('s1', 'h1',
                                              {'VCPU': 1, 'VGPU': 2}))
        self.assertEqual(['VCPU', 'MEMORY_MB', 'DISK_GB', 'VGPU'],
                         self.dc.resource_classes)
        arrays = self.dc.arrays()
        self.assertEqual((8, 4), arrays.used.shape)
        self.assertEqual((8, 4), arrays.capacity.shape)
        self.assertEqual(2, arrays.used[self.dc.slot_of('h1'), 3])
        self.assertEqual(3, arrays.used[self.dc.slot_of('h0'), 0])
        self.assertEqual(-2.0, self.dc.free('h1')['VGPU'])
        vec, unknown = self.dc.demand_vector({'VGPU': 1})
        np.testing.assert_array_equal([0, 0, 0, 1], vec)
        self.assertEqual({}, unknown)
        self.dc.remove_server('s1')
        self.assertEqual(0, self.dc.arrays().used[:, 3].sum())
        self.assertConsistent(self.dc)

    def test_new_resource_class_from_host_keeps_usage(self):
        self.dc.place(_server('s0', 'h0', vcpu=3))
        self.dc.add_host(_host('gpu', 'rack9', 'zone9',
                               capacity=dict(CAP, VGPU=8)))
        self.dc.place(datacenter.PlacedServer('g1', 'gpu', {'VGPU': 1}))
        self.assertEqual(13.0, self.dc.free('h0')['VCPU'])
        self.assertEqual(7.0, self.dc.free('gpu')['VGPU'])
        self.assertEqual(0.0, self.dc.capacity('h0')['VGPU'])
        self.assertConsistent(self.dc)

    def test_remove_server(self):
        self.dc.place(_server('s1', 'h5', vcpu=4))
        self.dc.place(_server('s2', 'h5', vcpu=2))
        server = self.dc.remove_server('s1')
        self.assertEqual('s1', server.id)
        self.assertEqual('h5', server.host)
        self.assertEqual(14.0, self.dc.free('h5')['VCPU'])
        self.assertEqual(['s2'], self.dc.servers_on('h5'))
        self.assertEqual(1, self.dc.arrays().count[self.dc.slot_of('h5')])
        self.assertNotIn('s1', self.dc.servers)

    def test_remove_unknown_server_refused(self):
        exc = self.assertModelError('valet.model.unknown_server',
                                    self.dc.remove_server, 'ghost')
        self.assertEqual('ghost', exc.details['server'])

    def test_move_server(self):
        self.dc.place(_server('s1', 'h0', vcpu=4, groups=('g',),
                              stack='st', project='p'))
        self.dc.move_server('s1', 'h7')
        self.assertEqual('h7', self.dc.servers['s1'].host)
        self.assertEqual([], self.dc.servers_on('h0'))
        self.assertEqual(['s1'], self.dc.servers_on('h7'))
        self.assertEqual(16.0, self.dc.free('h0')['VCPU'])
        self.assertEqual(12.0, self.dc.free('h7')['VCPU'])
        self.assertEqual(('g',), self.dc.servers['s1'].groups)
        self.assertEqual('st', self.dc.servers['s1'].stack)
        self.assertEqual({'s1'}, self.dc.group_servers('g'))
        self.assertConsistent(self.dc)

    def test_move_to_same_host(self):
        self.dc.place(_server('s1', 'h0', vcpu=4))
        self.dc.move_server('s1', 'h0')
        self.assertEqual(12.0, self.dc.free('h0')['VCPU'])
        self.assertConsistent(self.dc)

    def test_move_to_unknown_host_refused(self):
        self.dc.place(_server('s1', 'h0', vcpu=4))
        self.assertModelError('valet.model.unknown_host',
                              self.dc.move_server, 's1', 'nope')
        # Nothing changed.
        self.assertEqual('h0', self.dc.servers['s1'].host)
        self.assertEqual(12.0, self.dc.free('h0')['VCPU'])

    def test_move_unknown_server_refused(self):
        self.assertModelError('valet.model.unknown_server',
                              self.dc.move_server, 'ghost', 'h0')

    def test_placed_server_groups_tuple(self):
        server = _server('s1', 'h0', groups=['a', 'b'])
        self.assertEqual(('a', 'b'), server.groups)


class GroupTest(DataCenterTestCase):

    def setUp(self):
        super().setUp()
        # app (affinity, zone) > web (diversity, rack) > web-pair (affinity,
        # host); db (exclusivity, host) is on its own.
        for group in (groups.Group('app', 'affinity', 'zone'),
                      groups.Group('web', 'diversity', 'rack',
                                   parents=('app',)),
                      groups.Group('pair', 'affinity', 'host',
                                   parents=('web',)),
                      groups.Group('db', 'exclusivity', 'host')):
            self.dc.define_group(group)

    def test_group_defaults(self):
        group = groups.Group('g', 'affinity', parents=['p'])
        self.assertEqual('host', group.level)
        self.assertEqual(('p',), group.parents)
        self.assertEqual('g', group.key)
        # The model speaks the one vocabulary of valet.objects.
        self.assertEqual(('affinity', 'diversity', 'exclusivity',
                          'at-most', 'spread', 'soft-affinity',
                          'soft-diversity'), groups.KINDS)

    def test_closure_through_parents(self):
        self.assertEqual(['pair', 'web', 'app'],
                         self.dc.group_closure(['pair']))
        self.assertEqual({'pair', 'web', 'app', 'db'},
                         set(self.dc.group_closure(['db', 'pair'])))
        self.assertEqual(['web', 'app'], self.dc.group_closure(('web',)))
        self.assertEqual([], self.dc.group_closure(()))

    def test_closure_of_unknown_group(self):
        self.assertEqual(['ghost'], self.dc.group_closure(['ghost']))

    def test_closure_diamond_and_cycle(self):
        self.dc.define_group(groups.Group('left', 'affinity', 'host',
                                          parents=('app',)))
        self.dc.define_group(groups.Group('both', 'affinity', 'host',
                                          parents=('left', 'pair')))
        closure = self.dc.group_closure(['both'])
        self.assertEqual(len(closure), len(set(closure)))
        self.assertEqual({'both', 'left', 'pair', 'web', 'app'},
                         set(closure))
        # The model itself tolerates a cycle (requests are checked for
        # them before they reach it).
        self.dc.define_group(groups.Group('c1', 'affinity', 'host',
                                          parents=('c2',)))
        self.dc.define_group(groups.Group('c2', 'affinity', 'host',
                                          parents=('c1',)))
        self.assertEqual({'c1', 'c2'}, set(self.dc.group_closure(['c1'])))

    def test_group_servers_transitive(self):
        self.dc.place(_server('s1', 'h0', groups=('pair',)))
        self.dc.place(_server('s2', 'h0', groups=('pair',)))
        self.dc.place(_server('s3', 'h2', groups=('web',)))
        self.dc.place(_server('s4', 'h4', groups=('db',)))
        self.dc.place(_server('s5', 'h5'))
        self.assertEqual({'s1', 's2'}, self.dc.group_servers('pair'))
        self.assertEqual({'s1', 's2', 's3'}, self.dc.group_servers('web'))
        self.assertEqual({'s1', 's2', 's3'}, self.dc.group_servers('app'))
        self.assertEqual({'s4'}, self.dc.group_servers('db'))
        self.assertEqual(set(), self.dc.group_servers('ghost'))

    def test_group_servers_follow_remove_and_move(self):
        self.dc.place(_server('s1', 'h0', groups=('pair',)))
        self.dc.place(_server('s2', 'h2', groups=('web', 'db')))
        self.dc.move_server('s1', 'h1')
        self.assertEqual({'s1', 's2'}, self.dc.group_servers('app'))
        self.dc.remove_server('s1')
        self.assertEqual(set(), self.dc.group_servers('pair'))
        self.assertEqual({'s2'}, self.dc.group_servers('web'))
        self.assertEqual({'s2'}, self.dc.group_servers('app'))
        self.assertEqual({'s2'}, self.dc.group_servers('db'))
        self.dc.remove_server('s2')
        for name in ('pair', 'web', 'app', 'db'):
            self.assertEqual(set(), self.dc.group_servers(name))

    def test_undefined_group_tracked(self):
        self.dc.place(_server('s1', 'h0', groups=('adhoc',)))
        self.assertEqual({'s1'}, self.dc.group_servers('adhoc'))
        self.assertNotIn('adhoc', self.dc.groups)

    def test_redefine_same_group(self):
        gen = self.dc.generation
        self.dc.place(_server('s1', 'h0', groups=('db',)))
        self.dc.define_group(groups.Group('db', 'exclusivity', 'host'))
        self.assertEqual({'s1'}, self.dc.group_servers('db'))
        self.assertGreater(self.dc.generation, gen)

    def test_group_conflict_refused(self):
        exc = self.assertModelError(
            'valet.model.group_conflict', self.dc.define_group,
            groups.Group('db', 'exclusivity', 'rack'))
        self.assertEqual('db', exc.details['group'])
        self.assertModelError('valet.model.group_conflict',
                              self.dc.define_group,
                              groups.Group('web', 'affinity', 'rack'))
        self.assertEqual('host', self.dc.groups['db'].level)

    def test_unknown_kind_refused(self):
        self.assertModelError('valet.model.group_kind', self.dc.define_group,
                              groups.Group('x', 'anti-affinity', 'host'))
        self.assertNotIn('x', self.dc.groups)

    def test_unknown_level_refused(self):
        exc = self.assertRaises(errors.InvalidRequest, self.dc.define_group,
                                groups.Group('x', 'affinity', 'pod'))
        self.assertEqual('valet.request.unknown_level', exc.code)
        self.assertNotIn('x', self.dc.groups)

    def test_forget_group(self):
        self.dc.place(_server('s1', 'h0', groups=('db',)))
        exc = self.assertModelError('valet.model.group_busy',
                                    self.dc.forget_group, 'db')
        self.assertEqual('db', exc.details['group'])
        self.dc.remove_server('s1')
        self.dc.forget_group('db')
        self.assertNotIn('db', self.dc.groups)
        self.assertEqual(set(), self.dc.group_servers('db'))
        # Forgetting twice, or an unknown group, is harmless.
        self.dc.forget_group('db')
        self.dc.forget_group('ghost')

    def test_parent_busy_through_nested_member(self):
        self.dc.place(_server('s1', 'h0', groups=('pair',)))
        self.assertModelError('valet.model.group_busy',
                              self.dc.forget_group, 'app')

    def test_no_stale_members_after_parents_change(self):
        # Re-stating a group with other parents (same kind and level, so
        # define_group accepts it) must not leave removed servers behind in
        # the former parents' member sets.
        self.dc.place(_server('s1', 'h0', groups=('pair',)))
        self.dc.define_group(groups.Group('pair', 'affinity', 'host'))
        self.dc.remove_server('s1')
        self.assertEqual({}, self.dc.servers)
        for name in ('pair', 'web', 'app'):
            self.assertEqual(set(), self.dc.group_servers(name), name)
        self.dc.forget_group('app')

    def test_parents_defined_after_placement(self):
        # A group that gains parents after its members were placed: the
        # members belong to the parents too (membership is transitive).
        self.dc.place(_server('s1', 'h0', groups=('late',)))
        self.dc.define_group(groups.Group('late', 'affinity', 'host',
                                          parents=('app',)))
        self.assertIn('s1', self.dc.group_servers('app'))


class DomainLookupTest(DataCenterTestCase):

    def test_domain_of(self):
        self.assertEqual('h5', self.dc.domain_of('h5', 'host'))
        self.assertEqual('rack2', self.dc.domain_of('h5', 'rack'))
        self.assertEqual('zone1', self.dc.domain_of('h5', 'zone'))
        self.assertEqual('r1', self.dc.domain_of('h5', 'region'))

    def test_domain_of_unknown(self):
        exc = self.assertRaises(errors.InvalidRequest, self.dc.domain_of,
                                'h5', 'row')
        self.assertEqual('valet.request.unknown_level', exc.code)
        self.assertModelError('valet.model.unknown_host', self.dc.domain_of,
                              'nope', 'rack')

    def test_domain_arrays_and_names(self):
        arrays = self.dc.arrays()
        for name in self.dc.hosts:
            slot = self.dc.slot_of(name)
            self.assertEqual(slot, arrays.domain[0, slot])
            self.assertEqual(name, self.dc.domain_name(0, slot))
            for li, level in enumerate(self.dc.topology.levels):
                self.assertEqual(
                    self.dc.domain_of(name, level),
                    self.dc.domain_name(li, arrays.domain[li, slot]))

    def test_domain_counts(self):
        self.assertEqual(8, self.dc.domain_count(0))
        self.assertEqual(4, self.dc.domain_count(1))
        self.assertEqual(2, self.dc.domain_count(2))
        self.assertEqual(1, self.dc.domain_count(3))

    def test_same_rack_same_id(self):
        arrays = self.dc.arrays()
        racks = collections.defaultdict(set)
        for name in self.dc.hosts:
            racks[self.dc.domain_of(name, 'rack')].add(
                int(arrays.domain[1, self.dc.slot_of(name)]))
        self.assertEqual(4, len(racks))
        self.assertTrue(all(len(ids) == 1 for ids in racks.values()))
        self.assertEqual(4, len(set().union(*racks.values())))

    def test_rack_names_are_per_level(self):
        # The same name at two levels is two domains.
        dc = datacenter.DataCenter()
        dc.add_host(_host('a', 'x', 'x', region='x'))
        self.assertEqual('x', dc.domain_of('a', 'rack'))
        self.assertEqual('x', dc.domain_of('a', 'zone'))
        self.assertEqual(1, dc.domain_count(1))
        self.assertEqual(1, dc.domain_count(2))

    def test_attribute_classes(self):
        dc = datacenter.DataCenter()
        dc.add_host(_host('a', 'r', 'z', availability_zone='az1'))
        dc.add_host(_host('b', 'r', 'z', availability_zone='az1'))
        dc.add_host(_host('c', 'r', 'z', availability_zone='az2',
                          traits=frozenset({'SSD'})))
        arrays = dc.arrays()
        self.assertEqual(arrays.attr[0], arrays.attr[1])
        self.assertNotEqual(arrays.attr[0], arrays.attr[2])
        specs = dc.attribute_hosts()
        self.assertEqual(2, len(specs))
        self.assertEqual('az2', specs[arrays.attr[2]].availability_zone)
        dc.update_host(_host('a', 'r', 'z', availability_zone='az2',
                             traits=frozenset({'SSD'})))
        self.assertEqual(dc.arrays().attr[2], dc.arrays().attr[0])


_HOSTS = ['h%d' % i for i in range(6)]


class RandomOperations(stateful.RuleBasedStateMachine):
    """Random place/remove/move/host changes keep the arrays exact."""

    def __init__(self):
        super().__init__()
        self.dc = datacenter.DataCenter.build(
            [_host(name, 'rack%d' % (i // 2), 'zone%d' % (i // 4))
             for i, name in enumerate(_HOSTS)],
            groups=[groups.Group('top', 'affinity', 'zone'),
                    groups.Group('g1', 'diversity', 'rack',
                                 parents=('top',)),
                    groups.Group('g2', 'exclusivity', 'host')])
        self.next_id = 0
        self.expected = {}     # server id -> (host, demand, groups)

    @stateful.rule(hostname=st.sampled_from(_HOSTS),
                   vcpu=st.integers(0, 8), mem=st.integers(0, 4096),
                   gpu=st.integers(0, 2),
                   member_of=st.sampled_from([(), ('g1',), ('g2',),
                                              ('g1', 'g2'), ('top',)]))
    def place(self, hostname, vcpu, mem, gpu, member_of):
        sid = 's%d' % self.next_id
        self.next_id += 1
        demand = {'VCPU': vcpu, 'MEMORY_MB': mem}
        if gpu:
            demand['VGPU'] = gpu
        if hostname not in self.dc.hosts:
            exc = _raises(errors.ModelError, self.dc.place,
                          datacenter.PlacedServer(sid, hostname, demand))
            assert exc.code == 'valet.model.unknown_host'
            return
        self.dc.place(datacenter.PlacedServer(sid, hostname, demand,
                                              groups=member_of))
        self.expected[sid] = (hostname, demand, member_of)

    @stateful.precondition(lambda self: self.expected)
    @stateful.rule(data=st.data())
    def remove(self, data):
        sid = data.draw(st.sampled_from(sorted(self.expected)))
        server = self.dc.remove_server(sid)
        assert server.host == self.expected.pop(sid)[0]

    @stateful.precondition(lambda self: self.expected)
    @stateful.rule(data=st.data(), hostname=st.sampled_from(_HOSTS))
    def move(self, data, hostname):
        sid = data.draw(st.sampled_from(sorted(self.expected)))
        if hostname not in self.dc.hosts:
            exc = _raises(errors.ModelError, self.dc.move_server, sid,
                          hostname)
            assert exc.code == 'valet.model.unknown_host'
            return
        self.dc.move_server(sid, hostname)
        _, demand, member_of = self.expected[sid]
        self.expected[sid] = (hostname, demand, member_of)

    @stateful.rule(hostname=st.sampled_from(_HOSTS), force=st.booleans())
    def remove_host(self, hostname, force):
        if hostname not in self.dc.hosts:
            return
        on_it = sorted(sid for sid, (h, _, _) in self.expected.items()
                       if h == hostname)
        if on_it and not force:
            exc = _raises(errors.ModelError, self.dc.remove_host,
                          hostname)
            assert exc.code == 'valet.model.host_busy'
            return
        removed = self.dc.remove_host(hostname, force=force)
        assert sorted(s.id for s in removed) == on_it
        for sid in on_it:
            del self.expected[sid]

    @stateful.rule(hostname=st.sampled_from(_HOSTS),
                   rack=st.sampled_from(['rack0', 'rack1', 'rack2', 'rackX']),
                   vcpu=st.integers(1, 64), enabled=st.booleans())
    def add_or_update_host(self, hostname, rack, vcpu, enabled):
        spec = _host(hostname, rack, 'zone0', enabled=enabled,
                     capacity=dict(CAP, VCPU=vcpu))
        if hostname in self.dc.hosts:
            self.dc.update_host(spec)
        else:
            self.dc.add_host(spec)

    @stateful.invariant()
    def arrays_match_servers(self):
        dc = self.dc
        arrays = dc.arrays()
        used = np.zeros_like(arrays.used)
        count = np.zeros_like(arrays.count)
        for sid, (hostname, demand, _) in self.expected.items():
            slot = dc.slot_of(hostname)
            count[slot] += 1
            for rc, amount in demand.items():
                used[slot, dc.resource_classes.index(rc)] += amount
        np.testing.assert_array_equal(used, arrays.used)
        np.testing.assert_array_equal(count, arrays.count)
        assert set(dc.servers) == set(self.expected)
        for sid, (hostname, _, _) in self.expected.items():
            assert dc.servers[sid].host == hostname
            assert sid in dc.servers_on(hostname)
        assert sorted(dc.hosts) == sorted(
            n for n in (dc.host_name(s) for s in range(dc.slots)) if n)
        assert int(arrays.present.sum()) == len(dc.hosts)

    @stateful.invariant()
    def group_members_match(self):
        members = collections.defaultdict(set)
        for sid, (_, _, member_of) in self.expected.items():
            for name in member_of:
                members[name].add(sid)
        members['top'] |= members['g1']
        for name in ('top', 'g1', 'g2'):
            assert self.dc.group_servers(name) == members[name], name


def _raises(exc_type, func, *args):
    try:
        func(*args)
    except exc_type as exc:
        return exc
    raise AssertionError('%s not raised' % exc_type.__name__)


class RandomOperationsTest(RandomOperations.TestCase, testtools.TestCase):
    pass
