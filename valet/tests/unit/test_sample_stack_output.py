"""The quickstart's tables (tools/sample_stack.py): the "why" per group."""

import importlib.util
import os

import testtools

_PATH = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'tools',
                     'sample_stack.py')


def _load():
    spec = importlib.util.spec_from_file_location('sample_stack', _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class WhyTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tool = _load()
        self.inventory = self.tool.load_inventory(self.tool.DEFAULT_INVENTORY)
        self.domains = self.inventory['domains']

    def test_inventory_gives_rack_and_zone_of_every_host(self):
        self.assertEqual('z1-r01', self.domains['z1-r01-h02']['rack'])
        self.assertEqual('z1', self.domains['z1-r01-h02']['zone'])
        self.assertIn('legacy-db1', self.inventory['running']['z1-r01-h01'])

    def test_diversity_lists_one_domain_per_unit(self):
        where = {'a': self.domains['z1-r01-h02'],
                 'b': self.domains['z2-r01-h02']}
        group = {'name': 'g', 'type': 'diversity', 'level': 'rack'}
        self.assertEqual('one rack each: a in z1-r01, b in z2-r01',
                         self.tool.why(group, ['a', 'b'], where,
                                       self.inventory, []))

    def test_affinity_split_is_reported_not_hidden(self):
        where = {'a': self.domains['z1-r01-h02'],
                 'b': self.domains['z2-r01-h02']}
        group = {'name': 'g', 'type': 'affinity', 'level': 'zone'}
        self.assertEqual('NOT KEPT: members in 2 zones',
                         self.tool.why(group, ['a', 'b'], where,
                                       self.inventory, []))
        where['b'] = self.domains['z1-r02-h01']
        self.assertEqual('all 2 in zone z1',
                         self.tool.why(group, ['a', 'b'], where,
                                       self.inventory, []))

    def test_exclusivity_names_servers_already_on_the_host(self):
        group = {'name': 'g', 'type': 'exclusivity', 'level': 'host'}
        # The sample inventory runs legacy-db1 on z1-r01-h01.
        where = {'a': self.domains['z1-r01-h01']}
        self.assertEqual('NOT KEPT: legacy-db1 also there',
                         self.tool.why(group, ['a'], where,
                                       self.inventory, []))
        where = {'a': self.domains['z1-r01-h02']}
        self.assertEqual('host z1-r01-h02: no other server there',
                         self.tool.why(group, ['a'], where,
                                       self.inventory, []))
        other = [{'name': 'x', 'location': 'z1-r01-h02'}]
        self.assertEqual('NOT KEPT: x also there',
                         self.tool.why(group, ['a'], where,
                                       self.inventory, other))

    def test_table_aligns_columns(self):
        text = self.tool.table(['a', 'bb'], [['ccc', 'd']])
        self.assertEqual('a    bb\n---  --\nccc  d', text)
