"""Topology mapping of the openstack inventory: sources, syntax, unmapped."""

import fixtures
from oslo_config import cfg
from oslotest import base

from valet import conf as valet_conf
from valet.engine.model import host as host_mod
from valet.inventory import base as inventory_base
from valet.inventory.openstack import topology

LEVELS = ('host', 'rack', 'zone', 'region')


def spec(name, traits=(), aggregates=None, zone='nova'):
    return host_mod.HostSpec(name=name, capacity={'VCPU': 8},
                             availability_zone=zone,
                             aggregates=aggregates or {},
                             traits=frozenset(traits))


def mapper(entries, levels=LEVELS, unmapped=topology.EXCLUDE, **convention):
    sources = topology.parse_level_sources(levels, entries)
    return topology.TopologyMapper(
        levels, sources, topology.HostnameConvention(**convention), unmapped)


class ParseEntryTest(base.BaseTestCase):

    def test_every_source(self):
        cases = {
            'rack:aggregate_metadata=valet:rack': (
                'rack', 'aggregate_metadata', 'valet:rack'),
            'rack:trait=CUSTOM_RACK_': ('rack', 'trait', 'CUSTOM_RACK_'),
            'zone:availability_zone': ('zone', 'availability_zone', None),
            'region:constant=RegionOne': ('region', 'constant', 'RegionOne'),
            'rack:hostname=rack': ('rack', 'hostname', 'rack'),
            ' region : hostname = region ': ('region', 'hostname', 'region'),
            # The part defaults to the level when the level names one.
            'region:hostname': ('region', 'hostname', 'region'),
        }
        for entry, (level, kind, argument) in cases.items():
            source = topology.parse_entry(entry, LEVELS)
            self.assertEqual((level, kind, argument),
                             (source.level, source.kind, source.argument),
                             entry)

    def test_str_round_trips(self):
        for entry in ('rack:aggregate_metadata=valet:rack',
                      'zone:availability_zone'):
            self.assertEqual(entry,
                             str(topology.parse_entry(entry, LEVELS)))

    def test_syntax_errors_say_what_and_how(self):
        cases = {
            'rack': 'expected LEVEL:SOURCE',
            'rack:': 'expected LEVEL:SOURCE',
            ':trait=X': 'expected LEVEL:SOURCE',
            'host:constant=x': 'the host level is the host itself',
            'row:constant=x': "unknown level 'row'; [inventory] levels are "
                              "host, rack, zone, region",
            'rack:lldp': "unknown source 'lldp'",
            'rack:trait': 'source trait needs an argument',
            'rack:trait=': 'source trait needs an argument',
            'rack:aggregate_metadata': 'needs an argument',
            'rack:constant': 'needs an argument',
            'zone:availability_zone=x': 'takes no argument',
            'rack:trait=custom_rack_': 'upper case letters',
            'rack:hostname=node': "gives rack or region, not 'node'",
            'zone:hostname': 'source hostname needs an argument',
        }
        for entry, message in cases.items():
            exc = self.assertRaises(inventory_base.InventoryError,
                                    topology.parse_entry, entry, LEVELS)
            self.assertIn(message, str(exc), entry)
            self.assertIn('[inventory] level_sources', str(exc))
            self.assertIn('LEVEL:trait=PREFIX', str(exc))

    def test_every_level_needs_a_source(self):
        exc = self.assertRaises(
            inventory_base.InventoryError, topology.parse_level_sources,
            LEVELS, ['rack:trait=CUSTOM_RACK_'])
        self.assertIn('no source for level(s) zone, region', str(exc))
        self.assertIn('zone:constant=zone1', str(exc))

    def test_sources_keep_their_order_per_level(self):
        sources = topology.parse_level_sources(
            ('host', 'rack'), ['rack:trait=CUSTOM_RACK_', '',
                               'rack:constant=r0'])
        self.assertEqual(['rack:trait=CUSTOM_RACK_', 'rack:constant=r0'],
                         [str(s) for s in sources['rack']])

    def test_levels_are_checked(self):
        for levels, message in ((('rack', 'host'), 'lowest level must be'),
                                (('host', 'rack', 'rack'), 'unique')):
            exc = self.assertRaises(inventory_base.InventoryError,
                                    topology.parse_level_sources, levels, [])
            self.assertIn(message, str(exc))

    def test_host_level_only_needs_nothing(self):
        self.assertEqual({}, topology.parse_level_sources(('host',), []))


class HostnameConventionTest(base.BaseTestCase):

    def test_original_example(self):
        convention = topology.HostnameConvention()
        self.assertEqual({'region': 'pdk15', 'rack': 'pdk15r05'},
                         convention.parse('pdk15r05c001'))
        self.assertEqual({'region': 'pdk15', 'rack': 'pdk15r05'},
                         convention.parse('pdk15r05c001.example.org'))

    def test_every_node_type(self):
        convention = topology.HostnameConvention()
        for code in 'acufops':
            self.assertEqual('abc1r2',
                             convention.parse('abc1r2%s3' % code)['rack'])

    def test_names_that_do_not_fit(self):
        convention = topology.HostnameConvention()
        for name in ('compute-1', 'pd15r05c001', 'pdk15r05x001',
                     'pdk15r05c', 'pdk15c001', 'pdkr05c001', 'pdk15r05c001x',
                     ''):
            self.assertIsNone(convention.parse(name), name)

    def test_devstack_style_region(self):
        convention = topology.HostnameConvention(region_chars=6)
        self.assertEqual({'region': 'Region1', 'rack': 'Region1r001'},
                         convention.parse('Region1r001c001'))
        self.assertIsNone(topology.HostnameConvention().parse(
            'Region1r001c001'))

    def test_other_codes(self):
        convention = topology.HostnameConvention(rack_codes=['k', 'r'],
                                                 node_codes=['n'])
        self.assertEqual('abc1k07', convention.parse('abc1k07n1')['rack'])
        self.assertIsNone(convention.parse('abc1k07c1'))

    def test_bad_codes(self):
        for rack, node in ((['rr'], ['c']), (['r'], ['1']), ([], ['c'])):
            exc = self.assertRaises(inventory_base.InventoryError,
                                    topology.HostnameConvention, 3, rack,
                                    node)
            self.assertIn('one non-digit character', str(exc))


class MapperTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='valet.inventory.openstack.topology'))

    def test_aggregate_metadata(self):
        m = mapper(['rack:aggregate_metadata=valet:rack',
                    'zone:constant=z', 'region:constant=r'])
        host = spec('h1', aggregates={'agg-r07': {'valet:rack': ' r07 '},
                                      'ssd': {'disk': 'ssd'}})
        self.assertEqual({'rack': 'r07', 'zone': 'z', 'region': 'r'},
                         m.domains(host)[0])

    def test_trait_prefix_is_lower_cased(self):
        m = mapper(['rack:trait=CUSTOM_RACK_', 'zone:constant=z',
                    'region:constant=r'])
        host = spec('h1', traits=['HW_CPU_X86_AVX2', 'CUSTOM_RACK_R07',
                                  'CUSTOM_RACKS'])
        self.assertEqual('r07', m.domains(host)[0]['rack'])
        # The bare prefix names no rack.
        self.assertEqual(['rack'], m.domains(spec(
            'h2', traits=['CUSTOM_RACK_']))[1])

    def test_availability_zone_and_constant(self):
        m = mapper(['rack:constant=r1', 'zone:availability_zone',
                    'region:constant=RegionOne'])
        self.assertEqual({'rack': 'r1', 'zone': 'az1', 'region': 'RegionOne'},
                         m.domains(spec('h1', zone='az1'))[0])
        self.assertEqual(['zone'], m.domains(spec('h1', zone=None))[1])

    def test_hostname(self):
        m = mapper(['rack:hostname', 'zone:constant=z', 'region:hostname'])
        self.assertEqual({'rack': 'pdk15r05', 'zone': 'z',
                          'region': 'pdk15'},
                         m.domains(spec('pdk15r05c001'))[0])
        self.assertEqual(['rack', 'region'],
                         m.domains(spec('compute-1'))[1])

    def test_first_source_that_answers_wins(self):
        m = mapper(['rack:aggregate_metadata=valet:rack',
                    'rack:trait=CUSTOM_RACK_', 'rack:hostname',
                    'zone:constant=z', 'region:constant=r'])
        both = spec('pdk15r05c001', traits=['CUSTOM_RACK_T1'],
                    aggregates={'a': {'valet:rack': 'm1'}})
        trait_only = spec('pdk15r05c002', traits=['CUSTOM_RACK_T1'])
        name_only = spec('pdk15r05c003')
        self.assertEqual(['m1', 't1', 'pdk15r05'],
                         [m.domains(h)[0]['rack']
                          for h in (both, trait_only, name_only)])

    def test_several_candidates_pick_the_first_and_warn(self):
        m = mapper(['rack:aggregate_metadata=valet:rack',
                    'zone:trait=CUSTOM_ZONE_', 'region:constant=r'])
        host = spec('h1', traits=['CUSTOM_ZONE_B', 'CUSTOM_ZONE_A'],
                    aggregates={'x': {'valet:rack': 'r2'},
                                'y': {'valet:rack': 'r1'}})
        result = m.map_hosts([host])
        self.assertEqual({'rack': 'r1', 'zone': 'a', 'region': 'r'},
                         result.hosts[0].domains)
        self.assertEqual({'rack': ['h1'], 'zone': ['h1']}, result.ambiguous)
        self.assertIn('1 hosts have several candidate domains at level(s) '
                      'rack, zone (e.g. h1)', self.log.output)

    def _hosts(self):
        return [spec('h1', traits=['CUSTOM_RACK_R1']),
                spec('h2'), spec('h3', zone=None),
                spec('h4', traits=['CUSTOM_RACK_R2'])]

    def test_unmapped_hosts_are_excluded_by_default_and_reported(self):
        m = mapper(['rack:trait=CUSTOM_RACK_', 'zone:availability_zone',
                    'region:constant=r'])
        result = m.map_hosts(self._hosts())
        self.assertEqual(['h1', 'h4'], [h.name for h in result.hosts])
        self.assertEqual({'rack': ['h2', 'h3'], 'zone': ['h3']},
                         result.unmapped)
        self.assertEqual(['h2', 'h3'], result.excluded)
        warnings = [line for line in self.log.output.splitlines() if line]
        self.assertEqual(1, len(warnings), warnings)
        self.assertIn('2 hosts map to no domain at level(s) rack (2), zone '
                      '(1) (e.g. h2, h3) and are left out of the model '
                      '([inventory] unmapped_hosts = exclude); check '
                      '[inventory] level_sources rack:trait=CUSTOM_RACK_, '
                      'zone:availability_zone', warnings[0])

    def test_isolate_gives_each_host_a_domain_of_its_own(self):
        m = mapper(['rack:trait=CUSTOM_RACK_', 'zone:availability_zone',
                    'region:constant=r'], unmapped=topology.ISOLATE)
        result = m.map_hosts(self._hosts())
        domains = {h.name: h.domains for h in result.hosts}
        self.assertEqual(4, len(domains))
        self.assertEqual('unmapped:h2', domains['h2']['rack'])
        self.assertEqual({'rack': 'unmapped:h3', 'zone': 'unmapped:h3',
                          'region': 'r'}, domains['h3'])
        self.assertEqual([], result.excluded)
        self.assertEqual({'rack': ['h2', 'h3'], 'zone': ['h3']},
                         result.unmapped)
        self.assertIn('each given a domain of their own', self.log.output)

    def test_a_warning_quotes_at_most_five_names(self):
        m = mapper(['rack:trait=CUSTOM_RACK_', 'zone:constant=z',
                    'region:constant=r'])
        m.map_hosts([spec('h%02d' % i) for i in range(12)])
        self.assertIn('12 hosts map to no domain', self.log.output)
        self.assertIn('e.g. h00, h01, h02, h03, h04)', self.log.output)
        self.assertNotIn('h05', self.log.output)

    def test_nothing_to_report_logs_nothing(self):
        m = mapper(['rack:constant=r', 'zone:constant=z',
                    'region:constant=r'])
        result = m.map_hosts([spec('h1'), spec('h2')])
        self.assertEqual({}, result.unmapped)
        self.assertEqual('', self.log.output)

    def test_a_rack_in_two_zones_is_reported(self):
        m = mapper(['rack:trait=CUSTOM_RACK_', 'zone:availability_zone',
                    'region:constant=r'])
        result = m.map_hosts([
            spec('h1', traits=['CUSTOM_RACK_R1'], zone='az1'),
            spec('h2', traits=['CUSTOM_RACK_R1'], zone='az2'),
            spec('h3', traits=['CUSTOM_RACK_R2'], zone='az2')])
        self.assertEqual({'rack': ['r1']}, result.split)
        self.assertIn('1 rack domains hold hosts of several zone domains '
                      '(e.g. r1)', self.log.output)

    def test_unknown_policy(self):
        self.assertRaises(inventory_base.InventoryError,
                          topology.TopologyMapper, LEVELS,
                          topology.parse_level_sources(
                              LEVELS, ['rack:constant=a', 'zone:constant=b',
                                       'region:constant=c']),
                          None, 'lump')


class FromConfTest(base.BaseTestCase):

    def conf(self, **inventory):
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf([])
        for name, value in inventory.items():
            conf.set_override(name, value, group='inventory')
        return conf

    def test_defaults_need_no_configuration(self):
        m = topology.TopologyMapper.from_conf(self.conf())
        self.assertEqual(LEVELS, m.levels)
        self.assertEqual(topology.EXCLUDE, m.unmapped_policy)
        host = spec('h1', traits=['CUSTOM_RACK_R9'], zone='az1')
        self.assertEqual({'rack': 'r9', 'zone': 'az1', 'region': 'RegionOne'},
                         m.domains(host)[0])
        host = spec('h2', traits=['CUSTOM_RACK_R9'],
                    aggregates={'a': {'valet:rack': 'm7'}})
        self.assertEqual('m7', m.domains(host)[0]['rack'])

    def test_custom_levels_and_hostname_options(self):
        m = topology.TopologyMapper.from_conf(self.conf(
            levels=['host', 'rack', 'site'],
            level_sources=['rack:hostname=rack', 'site:hostname=region'],
            num_of_region_chars=6, rack_code_list=['r'],
            node_code_list=['c'], unmapped_hosts='isolate'))
        self.assertEqual({'rack': 'Region1r001', 'site': 'Region1'},
                         m.domains(spec('Region1r001c001'))[0])
        self.assertEqual(topology.ISOLATE, m.unmapped_policy)

    def test_errors_name_the_option(self):
        exc = self.assertRaises(
            inventory_base.InventoryError, topology.TopologyMapper.from_conf,
            self.conf(level_sources=['rack:trait=CUSTOM_RACK_']))
        self.assertIn('[inventory] level_sources: no source for level(s) '
                      'zone, region', str(exc))
        exc = self.assertRaises(
            inventory_base.InventoryError, topology.TopologyMapper.from_conf,
            self.conf(rack_code_list=['rack']))
        self.assertIn('[inventory] rack_code_list', str(exc))

    def test_unmapped_hosts_choices_are_enforced(self):
        self.assertRaises(ValueError, self.conf, unmapped_hosts='lump')
