"""How the static inventory reads its file: the fast YAML reader or the
pure loader, JSON, the parse cache and unchanged content."""

import dataclasses
import json
import os
from unittest import mock

import fixtures
from oslo_config import cfg
from oslotest import base
import yaml

from valet import conf as valet_conf
from valet.conf import inventory as inventory_conf
from valet.inventory import base as inventory_base
from valet.inventory import fast_yaml
from valet.inventory import static


def document(servers=30):
    hosts = [{'name': 'h%02d' % i, 'rack': 'r%d' % (i // 4), 'zone': 'z1',
              'vcpus': 32, 'memory_mb': 131072, 'disk_gb': 900,
              'reserved': {'memory_mb': 2048},
              'allocation_ratios': {'vcpus': 4.0, 'memory_mb': 1.0},
              'enabled': i != 3, 'traits': ['CUSTOM_X'] if i % 2 else [],
              'aggregates': {'ssd': {'disk': 'ssd'}} if i < 4 else {}}
             for i in range(12)]
    return {'levels': ['host', 'rack', 'zone'],
            'flavors': {'m1.small': {'id': '2', 'vcpus': 1, 'ram': 2048,
                                     'disk': 20},
                        'pinned': {'id': '7', 'vcpus': 2, 'ram': 4096,
                                   'disk': 20, 'extra_specs': {
                                       'hw:cpu_policy': 'dedicated'}}},
            'hosts': hosts,
            'groups': {'spread': {'type': 'diversity', 'level': 'rack'}},
            'servers': [{'name': 's%03d' % i, 'host': 'h%02d' % (i % 12),
                         'flavor': ('m1.small', 'pinned', '2')[i % 3],
                         'project': 'p1',
                         'groups': ['spread'] if i % 5 == 0 else []}
                        for i in range(servers)]}


def comparable(snapshot):
    """``snapshot`` without what every parse makes anew (group ids)."""
    return dataclasses.replace(snapshot, groups=[
        dataclasses.replace(g, id=None) for g in snapshot.groups])


class StaticLoadingTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        valet_conf.register_all(self.conf)
        self.conf([])
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.cache_dir = os.path.join(self.tmp, 'cache')
        self.conf.set_override('static_cache_dir', self.cache_dir,
                               group='inventory')
        # Every file here is small: cache them all.
        self.useFixture(fixtures.MockPatchObject(static, 'CACHE_MIN_BYTES',
                                                 0))

    def write(self, text, name='inventory.yaml'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as handle:
            handle.write(text)
        return path

    def load(self, path):
        return comparable(
            static.StaticInventory(self.conf, path=path).load())

    def test_reader_reads_what_the_pure_loader_reads(self):
        self.assertIs(yaml.CSafeLoader, fast_yaml._LOADER)
        sample = inventory_conf.default_static_file()
        # Anchors and aliases, flow and block style, quoted numbers.
        generated = self.write(yaml.dump(document(), Dumper=yaml.SafeDumper,
                                         default_flow_style=None)
                               + '# same hosts again, by reference\n')
        for path in (sample, generated):
            with open(path, 'rb') as handle:
                raw = handle.read()
            fast = static.load_document(raw, path)
            pure = yaml.load(raw.decode('utf-8'), Loader=yaml.SafeLoader)
            self.assertEqual(pure, fast)
            self.assertEqual(comparable(static.parse(pure, path)),
                             comparable(static.parse(fast, path)))

    def test_json_document_reads_as_its_yaml(self):
        doc = document()
        from_yaml = self.load(self.write(yaml.safe_dump(doc)))
        with mock.patch.object(yaml, 'load', side_effect=AssertionError(
                'YAML parser used for JSON')):
            from_json = self.load(self.write(json.dumps(doc),
                                             'inventory.json'))
        self.assertEqual(from_yaml, from_json)

    def test_yaml_flow_mapping_is_not_taken_for_json(self):
        snapshot = self.load(self.write(
            "{levels: [host, rack], hosts: [{name: h1, rack: r1, vcpus: 4, "
            "memory_mb: 1024, disk_gb: 10}]}"))
        self.assertEqual(['h1'], [h.name for h in snapshot.hosts])

    def test_a_restart_reads_the_cache_not_the_yaml(self):
        path = self.write(yaml.safe_dump(document()))
        first = self.load(path)
        self.assertEqual(1, len(os.listdir(self.cache_dir)))
        with mock.patch.object(yaml, 'load', side_effect=AssertionError(
                'YAML parsed again')):
            self.assertEqual(first, self.load(path))

    def test_a_changed_file_is_parsed_again(self):
        path = self.write(yaml.safe_dump(document(servers=30)))
        self.load(path)
        self.write(yaml.safe_dump(document(servers=31)))
        self.assertEqual(31, len(self.load(path).servers))
        # One cache file per inventory path, holding the new content.
        self.assertEqual(1, len(os.listdir(self.cache_dir)))
        with mock.patch.object(yaml, 'load', side_effect=AssertionError):
            self.assertEqual(31, len(self.load(path).servers))

    def test_a_cache_of_other_content_is_ignored(self):
        path = self.write(yaml.safe_dump(document(servers=30)))
        self.load(path)
        cache = os.path.join(self.cache_dir, os.listdir(self.cache_dir)[0])
        with open(cache) as handle:
            stored = json.load(handle)
        stored['data']['servers'] = []
        stored['sha256'] = '0' * 64
        with open(cache, 'w') as handle:
            json.dump(stored, handle)
        self.assertEqual(30, len(self.load(path).servers))
        with open(cache, 'w') as handle:
            handle.write('{not json')
        self.assertEqual(30, len(self.load(path).servers))

    def test_what_json_cannot_hold_is_not_cached(self):
        # A YAML date has no JSON form: the file loads, uncached.
        path = self.write('description: 2026-12-03\n'
                          + yaml.safe_dump(document()))
        self.assertEqual(30, len(self.load(path).servers))
        self.assertFalse(os.path.exists(self.cache_dir))

    def test_no_cache_dir_no_cache(self):
        self.conf.set_override('static_cache_dir', '', group='inventory')
        self.load(self.write(yaml.safe_dump(document())))
        self.assertFalse(os.path.exists(self.cache_dir))

    def test_small_files_are_not_cached(self):
        self.useFixture(fixtures.MockPatchObject(static, 'CACHE_MIN_BYTES',
                                                 1 << 20))
        self.load(self.write(yaml.safe_dump(document())))
        self.assertFalse(os.path.exists(self.cache_dir))

    def test_unchanged_content_is_parsed_once_per_process(self):
        path = self.write(yaml.safe_dump(document()))
        inventory = static.StaticInventory(self.conf, path=path)
        first = inventory.load()
        self.conf.set_override('static_cache_dir', '', group='inventory')
        with mock.patch.object(yaml, 'load', side_effect=AssertionError):
            again = inventory.load()
        self.assertEqual(comparable(first), comparable(again))
        # A fresh snapshot each time: the engine may change what it gets.
        self.assertIsNot(first.servers[0], again.servers[0])
        self.assertIsNot(first.servers[0].demand, again.servers[0].demand)

    def test_errors_still_name_the_file(self):
        path = self.write('hosts: [\n')
        err = self.assertRaises(inventory_base.InventoryError,
                                self.load, path)
        self.assertIn('is not valid YAML', str(err))
        self.assertIn(path, str(err))
        with open(path, 'wb') as handle:
            handle.write(b'hosts: \xff\xfe\n')
        err = self.assertRaises(inventory_base.InventoryError,
                                self.load, path)
        self.assertIn('is not UTF-8 text', str(err))

    def test_collection_is_off_while_reading_only(self):
        import gc
        seen = []
        parse = static.parse

        def spy(*args, **kwargs):
            seen.append(gc.isenabled())
            return parse(*args, **kwargs)
        self.assertTrue(gc.isenabled())
        with mock.patch.object(static, 'parse', side_effect=spy):
            self.load(self.write(yaml.safe_dump(document())))
        self.assertEqual([False], seen)
        self.assertTrue(gc.isenabled())
        self.assertRaises(inventory_base.InventoryError, self.load,
                          self.write('hosts: [\n'))
        self.assertTrue(gc.isenabled())

    def test_a_string_keyed_document_is_cached_without_reading_it_back(self):
        path = self.write(yaml.safe_dump(document(), default_flow_style=None))
        with mock.patch.object(static.json, 'loads',
                               side_effect=AssertionError('read back')):
            first = self.load(path)
        self.assertEqual(1, len(os.listdir(self.cache_dir)))
        with mock.patch.object(yaml, 'load', side_effect=AssertionError(
                'YAML parsed again')):
            self.assertEqual(first, self.load(path))

    def test_what_json_changes_is_still_not_cached(self):
        # A number key turns into a string in JSON, NaN into a NaN that
        # is not equal to itself: both read YAML on the next start.
        for description in ('{1: one}', '.nan', '[{true: x}]'):
            path = self.write('description: %s\n' % description +
                              yaml.safe_dump(document(),
                                             default_flow_style=None))
            self.assertEqual(30, len(self.load(path).servers))
            self.assertFalse(os.path.exists(self.cache_dir), description)

    def test_infinity_is_cached(self):
        path = self.write('description: [.inf, -.inf, 1]\n' +
                          yaml.safe_dump(document()))
        first = self.load(path)
        self.assertEqual(1, len(os.listdir(self.cache_dir)))
        with mock.patch.object(yaml, 'load', side_effect=AssertionError):
            self.assertEqual(first, self.load(path))
