"""The static inventory: the sample file and every validation error."""

import os

import fixtures
from oslo_config import cfg
from oslotest import base
import yaml

from valet import conf as valet_conf
from valet.conf import inventory as inventory_conf
from valet.engine.model import resources
from valet import inventory
from valet.inventory import base as inventory_base
from valet.inventory import static


def host(name, rack='r1', zone='z1', **kw):
    entry = {'name': name, 'rack': rack, 'zone': zone, 'vcpus': 16,
             'memory_mb': 65536, 'disk_gb': 500}
    entry.update(kw)
    return entry


def document(**kw):
    doc = {'levels': ['host', 'rack', 'zone'],
           'flavors': {'m1.small': {'id': '2', 'vcpus': 1, 'ram': 2048,
                                    'disk': 20}},
           'hosts': [host('h1'), host('h2', rack='r2')]}
    doc.update(kw)
    return doc


class StaticInventoryTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        valet_conf.register_all(self.conf)
        self.conf([])
        self.tmp = self.useFixture(fixtures.TempDir()).path

    def write(self, doc, name='inventory.yaml'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as handle:
            if isinstance(doc, str):
                handle.write(doc)
            else:
                yaml.safe_dump(doc, handle)
        return path

    def load(self, doc):
        return static.StaticInventory(self.conf, path=self.write(doc)).load()

    def assertFails(self, doc, *fragments):
        path = self.write(doc)
        err = self.assertRaises(inventory_base.InventoryError,
                                static.StaticInventory(self.conf, path).load)
        self.assertIn(path, str(err))
        for fragment in fragments:
            self.assertIn(fragment, str(err))
        return err

    # ---------------------------------------------------------- the sample
    def test_default_file_is_the_packaged_sample(self):
        path = self.conf.inventory.static_file
        self.assertTrue(os.path.isfile(path), path)
        self.assertEqual(inventory_conf.SAMPLE_NAME, os.path.basename(path))

    def test_sample_through_stevedore(self):
        driver = inventory.get_inventory(self.conf)
        self.assertIsInstance(driver, static.StaticInventory)
        snap = driver.load()
        self.assertEqual(('host', 'rack', 'zone', 'region'), snap.levels)
        self.assertEqual(16, len(snap.hosts))
        zones = {h.domains['zone'] for h in snap.hosts}
        racks = {h.domains['rack'] for h in snap.hosts}
        self.assertEqual(2, len(zones))
        self.assertEqual(4, len(racks))
        self.assertEqual({'az1', 'az2'},
                         {h.availability_zone for h in snap.hosts})
        self.assertEqual(
            {'m1.tiny': (1, 512, 1), 'm1.small': (1, 2048, 20),
             'm1.medium': (2, 4096, 40), 'm1.large': (4, 8192, 80),
             'm1.xlarge': (8, 16384, 160)},
            {n: (f['vcpus'], f['ram'], f['disk'])
             for n, f in snap.flavors.items()})
        self.assertGreaterEqual(len(snap.servers), 2)
        first = snap.hosts[0]
        self.assertEqual(128.0, first.usable(resources.VCPU))
        self.assertEqual(131072 - 4096, first.usable(resources.MEMORY_MB))

    def test_unknown_driver(self):
        self.conf.set_override('driver', 'nope', group='inventory')
        err = self.assertRaises(inventory_base.InventoryError,
                                inventory.get_inventory, self.conf)
        self.assertIn('nope', str(err))

    # ------------------------------------------------------------ parsing
    def test_minimal_document(self):
        snap = self.load(document(servers=[
            {'name': 'db1', 'host': 'h1', 'flavor': '2', 'groups': ['g'],
             'project': 'p1'}]))
        self.assertEqual(['h1', 'h2'], [h.name for h in snap.hosts])
        self.assertEqual({'rack': 'r2', 'zone': 'z1'}, snap.hosts[1].domains)
        self.assertEqual('nova', snap.hosts[0].availability_zone)
        server = snap.servers[0]
        self.assertEqual(('db1', 'h1', ('g',), 'p1'),
                         (server.id, server.host, server.groups,
                          server.project))
        self.assertEqual({'VCPU': 1, 'MEMORY_MB': 2048, 'DISK_GB': 20},
                         server.demand)

    def test_levels_default_from_config(self):
        doc = document(hosts=[host('h1', region='g1')])
        del doc['levels']
        snap = self.load(doc)
        self.assertEqual(('host', 'rack', 'zone', 'region'), snap.levels)

    def test_host_attributes(self):
        snap = self.load(document(hosts=[host(
            'h1', allocation_ratios={'vcpus': 4.0, 'memory_mb': 1.5},
            reserved={'memory_mb': 1024}, availability_zone='az9',
            aggregates={'ssd': {'disk': 'ssd'}}, traits=['CUSTOM_GPU'],
            resources={'CUSTOM_FPGA': 2}, enabled=False)]))
        spec = snap.hosts[0]
        self.assertEqual(64.0, spec.usable('VCPU'))
        self.assertEqual((65536 - 1024) * 1.5, spec.usable('MEMORY_MB'))
        self.assertEqual(2, spec.usable('CUSTOM_FPGA'))
        self.assertEqual('az9', spec.availability_zone)
        self.assertEqual({'ssd': {'disk': 'ssd'}}, spec.aggregates)
        self.assertEqual(frozenset(['CUSTOM_GPU']), spec.traits)
        self.assertFalse(spec.enabled)

    def test_groups_section(self):
        snap = self.load(document(groups={
            'outer': {'type': 'affinity', 'level': 'zone'},
            'inner': {'type': 'diversity', 'level': 'rack',
                      'parents': ['outer']}}))
        groups = {g.name: g for g in snap.groups}
        self.assertEqual('diversity', groups['inner'].type)
        self.assertEqual(['outer'], groups['inner'].parents)

    def test_at_most_group(self):
        snap = self.load(document(groups={
            'db': {'type': 'at-most', 'level': 'rack', 'max_per_domain': 2}}))
        self.assertEqual(2, snap.groups[0].max_per_domain)
        snap = self.load(document(groups={
            'web': {'type': 'spread', 'level': 'rack', 'max_skew': 1}}))
        self.assertEqual(1, snap.groups[0].max_skew)
        self.assertFails(document(groups={'g': {'type': 'spread'}}),
                         'group g', 'key max_skew')
        for bad in ({'type': 'at-most'},
                    {'type': 'at-most', 'max_per_domain': 0},
                    {'type': 'diversity', 'max_per_domain': 2}):
            self.assertFails(document(groups={'g': bad}), 'group g',
                             'key max_per_domain')

    def test_soft_groups(self):
        snap = self.load(document(groups={
            'near': {'type': 'soft-affinity', 'level': 'rack', 'weight': 7},
            'apart': {'type': 'soft-diversity'}}))
        groups = {g.name: g for g in snap.groups}
        self.assertEqual({'weight': 7}, groups['near'].parameters)
        # A soft group without a weight gets the default.
        self.assertEqual({'weight': 1}, groups['apart'].parameters)
        for bad in ({'type': 'soft-affinity', 'weight': 0},
                    {'type': 'soft-diversity', 'weight': 101},
                    {'type': 'affinity', 'weight': 2}):
            self.assertFails(document(groups={'g': bad}), 'group g',
                             'key weight')

    def test_empty_file_has_no_hosts_key(self):
        self.assertFails('', 'hosts')

    # ------------------------------------------------------------- errors
    def test_unknown_host_key(self):
        self.assertFails(document(hosts=[host('h1', rak='r9')]),
                         'host h1', 'key rak', 'unknown key')

    def test_missing_ancestor(self):
        entry = host('h1')
        del entry['rack']
        self.assertFails(document(hosts=[entry]), 'host h1', 'key rack',
                         'missing ancestor')

    def test_negative_capacity(self):
        self.assertFails(document(hosts=[host('h1', vcpus=-1)]),
                         'host h1', 'key vcpus', 'negative')

    def test_missing_capacity(self):
        entry = host('h1')
        del entry['memory_mb']
        self.assertFails(document(hosts=[entry]), 'host h1', 'memory_mb')

    def test_non_numeric_capacity(self):
        self.assertFails(document(hosts=[host('h1', disk_gb='lots')]),
                         'host h1', 'key disk_gb', 'number')

    def test_zero_allocation_ratio(self):
        self.assertFails(
            document(hosts=[host('h1', allocation_ratios={'vcpus': 0})]),
            'host h1', 'allocation_ratios.vcpus', 'positive')

    def test_duplicate_host(self):
        self.assertFails(document(hosts=[host('h1'), host('h1')]),
                         'host h1', 'duplicate')

    def test_rack_in_two_zones(self):
        self.assertFails(
            document(hosts=[host('h1'), host('h2', zone='z2')]),
            'host h2', 'key zone', 'rack r1')

    def test_server_on_unknown_host(self):
        self.assertFails(document(servers=[
            {'name': 's1', 'host': 'h9', 'flavor': 'm1.small'}]),
            'server s1', 'key host', 'h9')

    def test_server_with_unknown_flavor(self):
        self.assertFails(document(servers=[
            {'name': 's1', 'host': 'h1', 'flavor': 'm9.huge'}]),
            'server s1', 'key flavor', 'm9.huge', 'm1.small')

    def test_duplicate_server(self):
        entry = {'name': 's1', 'host': 'h1', 'flavor': 'm1.small'}
        self.assertFails(document(servers=[entry, dict(entry)]),
                         'server s1', 'duplicate')

    def test_unknown_server_key(self):
        self.assertFails(document(servers=[
            {'name': 's1', 'host': 'h1', 'flavor': 'm1.small', 'zone': 'z'}]),
            'server s1', 'unknown key', 'zone')

    def test_flavors_are_looked_up_once_per_reference(self):
        # Tens of thousands of servers share a few flavors.
        servers = [{'name': 's%d' % i, 'host': 'h1',
                    'flavor': ('m1.small', '2')[i % 2]} for i in range(20)]
        with fixtures.MockPatchObject(
                inventory_base.InventorySnapshot, 'find_flavor',
                autospec=True,
                side_effect=inventory_base.InventorySnapshot.find_flavor) \
                as find:
            snapshot = static.parse(document(servers=servers))
        self.assertEqual(2, find.mock.call_count)
        self.assertEqual(20, len(snapshot.servers))
        self.assertEqual({1}, {s.demand[resources.VCPU]
                               for s in snapshot.servers})
        # Each server has a demand of its own.
        self.assertIsNot(snapshot.servers[0].demand,
                         snapshot.servers[2].demand)

    def test_negative_flavor(self):
        self.assertFails(document(flavors={'bad': {'vcpus': -2}}),
                         'flavor bad', 'key vcpus')

    def test_unknown_flavor_key(self):
        self.assertFails(document(flavors={'bad': {'memory': 2}}),
                         'flavor bad', 'memory')

    def test_unknown_top_level_key(self):
        self.assertFails(document(host=[]), 'unknown top-level key', 'host')

    def test_bad_levels(self):
        self.assertFails(document(levels=['rack', 'host']), 'levels',
                         '"host"')
        self.assertFails(document(levels=['host', 'rack', 'rack']),
                         'unique')

    def test_group_errors(self):
        self.assertFails(document(groups={'g': {'type': 'friends'}}),
                         'group g', 'key type')
        self.assertFails(
            document(groups={'g': {'type': 'affinity', 'level': 'pod'}}),
            'group g', 'key level', 'pod')
        self.assertFails(
            document(groups={'g': {'type': 'affinity', 'parents': ['x']}}),
            'group g', 'parents', 'x')

    def test_unreadable_file(self):
        path = os.path.join(self.tmp, 'missing.yaml')
        err = self.assertRaises(inventory_base.InventoryError,
                                static.StaticInventory(self.conf, path).load)
        self.assertIn(path, str(err))
        self.assertIn('static_file', str(err))

    def test_invalid_yaml(self):
        self.assertFails('hosts: [\n  - {name: h1', 'not valid YAML')


class ServerEntriesTest(base.BaseTestCase):
    """The server loop's shortcuts (no str() of a str, positional
    PlacedServer, demand kept per flavor reference) change nothing."""

    def test_placed_server_fields_in_the_order_the_parser_passes(self):
        import dataclasses

        from valet.engine.model import datacenter
        self.assertEqual(
            ['id', 'host', 'demand', 'groups', 'project', 'stack', 'name'],
            [f.name for f in dataclasses.fields(datacenter.PlacedServer)])

    def test_values_that_are_not_strings_are_converted(self):
        doc = document(hosts=[host('h1'), host('7')], servers=[
            {'name': 5, 'host': 'h1', 'flavor': 'm1.small'},
            {'name': 's6', 'id': 66, 'host': 'h1', 'flavor': '2',
             'project': 'p', 'stack': 'st', 'groups': ['g1', 'g2']},
            {'name': 's7', 'host': 'h1', 'flavor': 'm1.small'}])
        servers = static.parse(doc).servers
        self.assertEqual(['5', '66', 's7'], [s.id for s in servers])
        self.assertEqual(['5', 's6', 's7'], [s.name for s in servers])
        self.assertIs(str, type(servers[0].name))
        self.assertEqual(('g1', 'g2'), servers[1].groups)
        self.assertEqual(('p', 'st'), (servers[1].project,
                                       servers[1].stack))
        self.assertEqual((), servers[2].groups)
        self.assertEqual([{resources.VCPU: 1, resources.MEMORY_MB: 2048,
                           resources.DISK_GB: 20}] * 3,
                         [s.demand for s in servers])
        # Each server owns its demand.
        self.assertIsNot(servers[0].demand, servers[2].demand)

    def test_bad_groups_fail_before_a_cached_flavor_is_used(self):
        entry = {'name': 's1', 'host': 'h1', 'flavor': 'm1.small'}
        bad = dict(entry, name='s2', groups=[{'x': 1}])
        err = self.assertRaises(inventory_base.InventoryError, static.parse,
                                document(servers=[entry, bad]))
        self.assertIn('server s2', str(err))
