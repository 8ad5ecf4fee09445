"""``valet-manage inventory show``: tables, JSON numbers, filters, errors.

The command runs in-process through ``manage.main`` against a static
inventory written by each test and SQLite (or memory) storage. oslo.log's
``setup`` is stubbed: it rewires the root logger of the test process.
"""

import io
import json
import os
import subprocess
import sys

import fixtures
from oslo_config import cfg
from oslotest import base
import yaml

from valet.cmd import inventory_show
from valet.cmd import manage
from valet import conf as valet_conf
from valet.engine.model import datacenter
from valet.engine.model import host as host_mod
from valet.engine.model import topology
from valet.inventory import static
from valet import objects
from valet.storage.sql import driver

CLASSES = ('VCPU', 'MEMORY_MB', 'DISK_GB')


def host(name, rack, **kw):
    entry = {'name': name, 'rack': rack, 'zone': 'z1', 'vcpus': 8,
             'memory_mb': 16384, 'disk_gb': 200}
    entry.update(kw)
    return entry


def inventory_doc():
    """2 racks x 2 hosts; h4 disabled; h1 over-committed 2:1 on VCPU."""
    return {
        'levels': ['host', 'rack', 'zone'],
        'flavors': {'m1.small': {'id': '2', 'vcpus': 1, 'ram': 2048,
                                 'disk': 20},
                    'm1.medium': {'id': '3', 'vcpus': 2, 'ram': 4096,
                                  'disk': 40}},
        'hosts': [
            host('h1', 'r1', allocation_ratios={'vcpus': 2.0},
                 reserved={'memory_mb': 1024}, traits=['CUSTOM_GPU'],
                 aggregates={'ssd': {'disk': 'ssd'}}),
            host('h2', 'r1', vcpus=5, allocation_ratios={'vcpus': 1.5}),
            host('h3', 'r2'),
            host('h4', 'r2', enabled=False),
        ],
        'groups': {'web': {'type': 'diversity', 'level': 'rack'}},
        'servers': [
            {'name': 'web1', 'host': 'h1', 'flavor': 'm1.small',
             'project': 'p1', 'groups': ['web']},
            {'name': 'db1', 'host': 'h3', 'flavor': 'm1.medium'},
        ]}


class InventoryShowTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MockPatch(
            'valet.cmd.manage.logging.setup'))
        self.inventory = self.write_inventory(inventory_doc())
        self.db = 'sqlite:///%s/valet.sqlite' % self.tmp
        self.config = self.write_config()
        self.assertEqual(0, self.manage('db_sync')[0])

    def write_inventory(self, doc, name='inventory.yaml'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as handle:
            yaml.safe_dump(doc, handle)
        return path

    def write_config(self, driver_name='sql', inventory=None):
        path = os.path.join(self.tmp, 'valet-%s.conf' % driver_name)
        with open(path, 'w') as handle:
            handle.write('[storage]\ndriver = %s\n'
                         '[database]\nconnection = %s\n'
                         '[inventory]\nstatic_file = %s\n'
                         'levels = host,rack,zone\n' % (
                             driver_name, self.db,
                             inventory or self.inventory))
        return path

    def manage(self, *args, config=None):
        """(exit code, stdout, stderr) of valet-manage in-process."""
        out, err = io.StringIO(), io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        rc = manage.main(['--config-file', config or self.config] +
                         list(args))
        return rc, out.getvalue(), err.getvalue()

    def show(self, *args, **kw):
        rc, out, err = self.manage('inventory', 'show', *args, **kw)
        self.assertEqual(0, rc, err)
        return out

    def show_json(self, *args, **kw):
        return json.loads(self.show('--format', 'json', *args, **kw))

    def store(self):
        conf = valet_conf.register_all(cfg.ConfigOpts())
        conf([])
        conf.set_override('connection', self.db, group='database')
        store = driver.SqlStorage(conf)
        self.addCleanup(store.dispose)
        return store

    def add_plan(self, location='h2', demand=None):
        """A stored plan with one placement on ``location``."""
        plan = objects.Plan(name='stack-a', stack_id='stack-a',
                            project_id='p2')
        placement = objects.Placement(
            name='app1', orchestration_id='orch-app1', plan_id=plan.id,
            location=location, project_id='p2',
            spec={'demand': demand or {'VCPU': 2, 'MEMORY_MB': 4096,
                                       'DISK_GB': 40},
                  'groups': []})
        self.store().create_plan(plan, [placement])
        return placement

    def assertOneLineError(self, rc, out, err, *fragments):
        self.assertEqual(1, rc)
        self.assertEqual('', out)
        self.assertEqual(1, len(err.strip().splitlines()), err)
        self.assertTrue(err.startswith('valet-manage: inventory show '
                                       'failed: '), err)
        self.assertNotIn('Traceback', err)
        for fragment in fragments:
            self.assertIn(fragment, err)

    # ------------------------------------------------------------- JSON
    def test_json_numbers(self):
        self.add_plan('h2')
        doc = self.show_json()
        self.assertEqual(['host', 'rack', 'zone'], doc['levels'])
        self.assertEqual(list(CLASSES), doc['resource_classes'])
        self.assertEqual(
            {'levels', 'resource_classes', 'summary', 'domains', 'hosts',
             'unmapped'}, set(doc))
        hosts = {h['name']: h for h in doc['hosts']}
        self.assertEqual(['h1', 'h2', 'h3', 'h4'],
                         [h['name'] for h in doc['hosts']])
        # Usable = (total - reserved) * ratio; used = the servers on it.
        h1 = hosts['h1']
        self.assertEqual({'VCPU': 16, 'MEMORY_MB': 15360, 'DISK_GB': 200},
                         h1['usable'])
        self.assertEqual({'VCPU': 1, 'MEMORY_MB': 2048, 'DISK_GB': 20},
                         h1['used'])
        self.assertEqual({'rack': 'r1', 'zone': 'z1'}, h1['domains'])
        self.assertEqual(7.5, hosts['h2']['usable']['VCPU'])
        self.assertEqual(5.5, hosts['h2']['free']['VCPU'])
        self.assertEqual([1, 1, 1, 0],
                         [hosts[n]['servers'] for n in sorted(hosts)])
        self.assertEqual([True, True, True, False],
                         [hosts[n]['enabled'] for n in sorted(hosts)])
        for h in doc['hosts']:
            for rc in CLASSES:
                self.assertEqual(h['usable'][rc] - h['used'][rc],
                                 h['free'][rc], (h['name'], rc))
        # Domains sum their hosts, disabled ones included.
        for level in ('rack', 'zone'):
            for d in doc['domains'][level]:
                members = [h for h in doc['hosts']
                           if h['domains'][level] == d['name']]
                self.assertEqual(len(members), d['hosts'])
                self.assertEqual(sum(h['enabled'] for h in members),
                                 d['enabled_hosts'])
                self.assertEqual(sum(h['servers'] for h in members),
                                 d['servers'])
                for kind in ('usable', 'used', 'free'):
                    for rc in CLASSES:
                        self.assertEqual(
                            sum(h[kind][rc] for h in members), d[kind][rc])
        r2 = doc['domains']['rack'][1]
        self.assertEqual(('r2', 2, 1), (r2['name'], r2['hosts'],
                                        r2['enabled_hosts']))
        self.assertEqual({'VCPU': 14, 'MEMORY_MB': 28672, 'DISK_GB': 360},
                         r2['free'])
        summary = doc['summary']
        self.assertEqual((4, 3, 3), (summary['hosts'],
                                     summary['enabled_hosts'],
                                     summary['servers']))
        self.assertEqual(doc['domains']['zone'][0]['free'], summary['free'])
        self.assertEqual({'rack': [], 'zone': []}, doc['unmapped'])

    def test_memory_storage(self):
        config = self.write_config('memory')
        doc = self.show_json(config=config)
        self.assertEqual(2, doc['summary']['servers'])

    # ------------------------------------------------------------ tables
    def test_table(self):
        self.add_plan('h2')
        out = self.show()
        lines = out.splitlines()
        self.assertEqual('Levels: host < rack < zone', lines[0])
        self.assertEqual('Hosts: 4 (3 enabled), servers: 3', lines[1])
        self.assertIn('Domains at level rack (2)', lines)
        self.assertIn('Domains at level zone (1)', lines)
        self.assertIn('Hosts (4)', lines)
        self.assertIn('Hosts the inventory could not map: none', lines)
        hosts = self.section(lines, 'Hosts (4)')
        for rc in CLASSES:
            self.assertIn(rc, hosts[0])
        self.assertEqual(['NAME', 'RACK', 'ZONE', 'ENABLED', 'SERVERS'] +
                         ['usable', 'used', 'free'] * 3, hosts[1].split())
        self.assertEqual(['h1', 'r1', 'z1', 'yes', '1', '16', '1', '15',
                          '15360', '2048', '13312', '200', '20', '180'],
                         hosts[3].split())
        self.assertEqual('7.5', hosts[4].split()[5])
        self.assertEqual(['h4', 'r2', 'z1', 'no', '0'], hosts[6].split()[:5])
        # Numbers are right-aligned: every row ends where the rule does.
        self.assertEqual({len(hosts[2])}, {len(line) for line in hosts[2:]})
        racks = self.section(lines, 'Domains at level rack (2)')
        self.assertEqual(['NAME', 'HOSTS', 'ENABLED', 'SERVERS'] +
                         ['usable', 'free'] * 3, racks[1].split())
        self.assertEqual(['r2', '2', '1', '1', '16', '14', '32768', '28672',
                          '400', '360'], racks[4].split())

    @staticmethod
    def section(lines, title):
        start = lines.index(title) + 1
        end = lines.index('', start) if '' in lines[start:] else len(lines)
        return lines[start:end]

    def test_columns_stay_aligned_with_long_names(self):
        doc = inventory_doc()
        doc['hosts'].append(host('a-very-long-host-name-0001', 'rack-7',
                                 memory_mb=4194304, disk_gb=123456))
        self.inventory = self.write_inventory(doc)
        self.config = self.write_config()
        lines = self.show('--level', 'host').splitlines()
        table = self.section(lines, 'Hosts (5)')
        self.assertEqual({len(table[2])}, {len(line) for line in table[2:]})
        rule = table[2]
        # Each column's cells end at the same offset as its rule.
        ends = [i + 1 for i in range(len(rule))
                if rule[i] == '-' and (i + 1 == len(rule) or
                                       rule[i + 1] == ' ')]
        for line in table[3:]:
            for end in ends[4:]:
                self.assertNotEqual(' ', line[end - 1], line)

    # ----------------------------------------------------------- filters
    def test_level(self):
        doc = self.show_json('--level', 'rack')
        self.assertEqual(['rack'], list(doc['domains']))
        self.assertEqual({'rack': []}, doc['unmapped'])
        self.assertNotIn('hosts', doc)
        out = self.show('--level', 'zone')
        self.assertIn('Domains at level zone (1)', out)
        self.assertNotIn('Domains at level rack', out)
        self.assertNotIn('Hosts (4)', out)

    def test_level_host(self):
        doc = self.show_json('--level', 'host')
        self.assertEqual(4, len(doc['hosts']))
        self.assertNotIn('domains', doc)

    def test_unknown_level(self):
        rc, out, err = self.manage('inventory', 'show', '--level', 'pod')
        self.assertOneLineError(rc, out, err, "unknown level 'pod'",
                                'host, rack, zone')

    def test_host(self):
        self.add_plan('h1', {'VCPU': 4, 'MEMORY_MB': 1024, 'DISK_GB': 10})
        doc = self.show_json('--host', 'h1')
        self.assertEqual({'levels', 'resource_classes', 'host'}, set(doc))
        h1 = doc['host']
        self.assertEqual(2, h1['servers'])
        self.assertEqual(['orch-app1', 'web1'],
                         [s['id'] for s in h1['server_list']])
        web1 = h1['server_list'][1]
        self.assertEqual(('web1', 'p1', ['web']),
                         (web1['name'], web1['project'], web1['groups']))
        self.assertEqual({'VCPU': 1, 'MEMORY_MB': 2048, 'DISK_GB': 20},
                         web1['demand'])
        self.assertEqual({'VCPU': 5, 'MEMORY_MB': 3072, 'DISK_GB': 30},
                         h1['used'])
        self.assertEqual({'VCPU': 11, 'MEMORY_MB': 12288, 'DISK_GB': 170},
                         h1['free'])
        self.assertEqual(2, h1['allocation_ratios']['VCPU'])
        self.assertEqual(1024, h1['reserved']['MEMORY_MB'])
        self.assertEqual(['CUSTOM_GPU'], h1['traits'])
        self.assertEqual({'ssd': {'disk': 'ssd'}}, h1['aggregates'])
        out = self.show('--host', 'h1')
        self.assertIn('Servers on h1 (2)', out)
        self.assertIn('aggregates:         ssd (disk=ssd)', out)
        web1_row = [line for line in out.splitlines()
                    if line.startswith('web1 ')]
        self.assertEqual(['web1', 'web1', 'p1', '-', 'web', '1', '2048',
                          '20'], web1_row[0].split())

    def test_unknown_host(self):
        rc, out, err = self.manage('inventory', 'show', '--host', 'h9')
        self.assertOneLineError(rc, out, err, 'unknown host h9')

    def test_level_and_host_exclusive(self):
        self.assertRaises(SystemExit, self.manage, 'inventory', 'show',
                          '--host', 'h1', '--level', 'rack')

    # ---------------------------------------------------------- unmapped
    def patch_snapshot(self, **attrs):
        """Snapshots of the static inventory with ``attrs`` set."""
        load = static.StaticInventory.load

        def patched(inventory):
            snapshot = load(inventory)
            for name, value in attrs.items():
                setattr(snapshot, name, value)
            return snapshot

        self.useFixture(fixtures.MonkeyPatch(
            'valet.inventory.static.StaticInventory.load', patched))

    def test_unmapped_hosts(self):
        self.patch_snapshot(unmapped={'rack': ['h10', 'h9']})
        doc = self.show_json()
        self.assertEqual({'rack': ['h9', 'h10'], 'zone': []},
                         doc['unmapped'])
        out = self.show()
        table = self.section(out.splitlines(),
                             'Hosts the inventory could not map (2)')
        self.assertEqual(['rack', 'h9'], table[2].split())
        rc, out, err = self.manage('inventory', 'show', '--host', 'h9')
        self.assertOneLineError(rc, out, err, 'could not map',
                                'level(s) rack')

    # ------------------------------------------------------------ errors
    def test_inventory_unreadable(self):
        config = self.write_config(inventory=os.path.join(self.tmp, 'nope'))
        rc, out, err = self.manage('inventory', 'show', config=config)
        self.assertOneLineError(rc, out, err, 'cannot be read')

    def test_inventory_invalid(self):
        doc = inventory_doc()
        del doc['hosts'][0]['rack']
        config = self.write_config(
            inventory=self.write_inventory(doc, 'bad.yaml'))
        rc, out, err = self.manage('inventory', 'show', config=config)
        self.assertOneLineError(rc, out, err, 'host h1: key rack')

    def test_storage_without_schema(self):
        self.db = 'sqlite:///%s/blank.sqlite' % self.tmp
        rc, out, err = self.manage('inventory', 'show',
                                   config=self.write_config())
        self.assertOneLineError(rc, out, err, 'run valet-manage db_sync')

    def test_unknown_storage_driver(self):
        rc, out, err = self.manage('inventory', 'show',
                                   config=self.write_config('nosuch'))
        self.assertOneLineError(rc, out, err, "Unknown storage driver "
                                              "'nosuch'")

    def test_show_never_writes_storage(self):
        # A placement on a host the inventory lost is drift a rebuild
        # repairs when the inventory observes servers (as the OpenStack one
        # does); show must leave storage as it found it.
        self.patch_snapshot(observed=True)
        stored = self.add_plan('gone')
        before = self.store().get_placement(stored.id)
        self.assertEqual(2, self.show_json()['summary']['servers'])
        after = self.store().get_placement(stored.id)
        self.assertEqual((before.location, before.generation,
                          before.reserved),
                         (after.location, after.generation, after.reserved))

    def test_db_commands_unchanged(self):
        rc, out, err = self.manage('db_version')
        self.assertEqual(0, rc, err)
        self.assertTrue(out.strip())
        rc, out, err = self.manage('db_sync')
        self.assertEqual(0, rc, err)
        self.assertIn('already at revision', out)

    def run_process(self, *args, config=None):
        """The real process, with oslo.log set up as operators get it."""
        proc = subprocess.run(
            [sys.executable, '-m', 'valet.cmd.manage', '--config-file',
             config or self.config, 'inventory', 'show'] + list(args),
            capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr

    def test_process_logs_to_stderr(self):
        # Warnings go to stderr; stdout stays one JSON document.
        self.add_plan('gone')
        rc, out, err = self.run_process('--format', 'json')
        self.assertEqual(0, rc, err)
        self.assertEqual(4, len(json.loads(out)['hosts']))
        self.assertIn('gone', err)
        self.assertNotIn('INFO', err)

    def test_process_error_has_no_traceback(self):
        config = self.write_config(inventory=os.path.join(self.tmp, 'nope'))
        rc, out, err = self.run_process('--format', 'json', config=config)
        self.assertOneLineError(rc, out, err, 'cannot be read')


class GatherTest(base.BaseTestCase):
    """The pure report function over a model built in the test."""

    def build(self):
        levels = topology.Topology(('host', 'rack'))
        hosts = [host_mod.HostSpec(name='n%d' % i,
                                   capacity={'VCPU': 4, 'MEMORY_MB': 100,
                                             'DISK_GB': 10, 'CUSTOM_FPGA': 1},
                                   domains={'rack': 'k%d' % (i % 2)})
                 for i in (10, 2, 1)]
        dc = datacenter.DataCenter.build(hosts, topology=levels)
        # Over-commitment (say, a restored placement) shows as negative.
        dc.place(datacenter.PlacedServer(
            id='big', host='n2', demand={'VCPU': 6, 'CUSTOM_FPGA': 1}))
        return dc

    def test_report(self):
        report = inventory_show.gather(self.build(), {'rack': ['x']})
        self.assertEqual(['n1', 'n2', 'n10'],
                         [h['name'] for h in report['hosts']])
        self.assertIn('CUSTOM_FPGA', report['resource_classes'])
        n2 = report['hosts'][1]
        self.assertEqual(-2, n2['free']['VCPU'])
        self.assertEqual(0, n2['free']['CUSTOM_FPGA'])
        k0 = report['domains']['rack'][0]
        self.assertEqual(('k0', 2, 1), (k0['name'], k0['hosts'],
                                        k0['servers']))
        self.assertEqual(2, k0['free']['VCPU'])
        self.assertEqual({'rack': ['x']}, report['unmapped'])
        text = inventory_show.format_table(report)
        self.assertIn('CUSTOM_FPGA', text)
        self.assertIn('Hosts the inventory could not map (1)', text)

    def test_removed_host_leaves_no_empty_domain(self):
        dc = self.build()
        dc.remove_host('n1')
        report = inventory_show.gather(dc)
        self.assertEqual(['k0'], [d['name'] for d in
                                  report['domains']['rack']])

    def test_render_widens_for_group_labels(self):
        text = inventory_show.render([('A', 'l'), ('B', 'r')], [['1', '2']],
                                     groups=[('', 1), ('LONG_CLASS', 1)])
        lines = text.splitlines()
        self.assertEqual('   LONG_CLASS', lines[0])
        self.assertEqual('-  ----------', lines[2])
        self.assertEqual('1           2', lines[3])

    def test_number(self):
        self.assertEqual((3, 2.5, 0.333), tuple(
            inventory_show.number(v) for v in (3.0, 2.5, 1 / 3)))
        self.assertIsInstance(inventory_show.number(3.0), int)
