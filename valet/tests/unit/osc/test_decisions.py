"""``openstack valet plan create/update --dry-run`` and ``openstack valet
capacity show`` (the client calls are mocked; the client against a real
server is tested in ``valet/tests/unit/client/test_decisions.py``)."""

import io
import json
from unittest import mock

import fixtures
import testtools

from valet.osc.v1 import capacity
from valet.osc.v1 import plans

PLAN = {'id': None, 'name': 'shop', 'stack_id': 's1', 'placements': {
    'o1': {'name': 'web-1', 'location': 'r0h0'}}}
FEASIBLE = {'plan': PLAN, 'dry_run': True, 'decision': {
    'feasible': True, 'optimal': True, 'moved': ['o2'], 'removed': [],
    'objective': {'new_hosts': 1, 'moves': 0, 'soft': {},
                  'bound': {'new_hosts': 1}}}}
REFUSED = {'plan': dict(PLAN, placements={
    'x': {'name': 'huge', 'location': None}}), 'dry_run': True,
    'decision': {
        'feasible': False, 'optimal': False, 'objective': {}, 'moved': [],
        'removed': [], 'proven_infeasible': True, 'explanation': {
            'summary': 'the request is impossible',
            'servers': [{'server': 'x', 'hosts': 4, 'remaining': 0,
                         'ruled_out': [{'filter': 'capacity:VCPU',
                                        'hosts': 4}]}],
            'groups': [], 'conflict': {'groups': []}}}}
CAPACITY = {'flavor': 'm1.small', 'groups': ['web'], 'level': 'rack',
            'availability_zone': None, 'count': 3, 'exact': True,
            'domains': [{'name': 'r0', 'count': 2},
                        {'name': 'r1', 'count': 1}]}


class CommandTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.app = mock.Mock()
        self.app.stdout, self.app.stderr = io.StringIO(), io.StringIO()
        self.client = self.app.client_manager.workload_placement
        tmp = self.useFixture(fixtures.TempDir()).path
        self.resources = tmp + '/servers.json'
        with open(self.resources, 'w') as handle:
            json.dump({'o1': {'name': 'web-1', 'type': 'OS::Nova::Server',
                              'properties': {'flavor': 'm1.small'}}},
                      handle)

    def command(self, cls, argv):
        command = cls(self.app, None)
        return command, command.get_parser('valet').parse_args(argv)

    def take(self, cls, argv):
        command, args = self.command(cls, argv)
        columns, values = command.take_action(args)
        return dict(zip(columns, values))

    def run_command(self, cls, argv):
        """The exit status and what was printed, as ``openstack`` runs
        the command (formatters included)."""
        command, args = self.command(cls, argv)
        return command.run(args), self.app.stdout.getvalue()


class DryRunTest(CommandTestCase):

    def test_create_dry_run_asks_for_it_and_shows_the_decision(self):
        self.client.create_plan.return_value = FEASIBLE
        shown = self.take(plans.CreatePlan, [
            'shop', '--stack-id', 's1', '--resources', self.resources,
            '--dry-run'])
        args, kwargs = self.client.create_plan.call_args
        self.assertEqual(('shop', 's1'), args[:2])
        self.assertTrue(kwargs['dry_run'])
        self.assertEqual((True, True, True),
                         (shown['dry_run'], shown['feasible'],
                          shown['optimal']))
        self.assertEqual('new_hosts=1, moves=0, bound.new_hosts=1',
                         shown['objective'].human_readable())
        self.assertEqual(FEASIBLE['decision']['objective'],
                         shown['objective'].machine_readable())
        self.assertEqual('o2', shown['moved'].human_readable())
        self.assertNotIn('explanation', shown)

    def test_without_dry_run_nothing_changes(self):
        self.client.create_plan.return_value = PLAN
        shown = self.take(plans.CreatePlan, [
            'shop', '--stack-id', 's1', '--resources', self.resources])
        self.assertNotIn('dry_run', self.client.create_plan.call_args[1])
        self.assertEqual(set(plans.COLUMNS), set(shown))

    def test_feasible_dry_run_exits_0(self):
        self.client.update_plan.return_value = FEASIBLE
        status, out = self.run_command(plans.UpdatePlan, [
            's1', '--resources', self.resources, '--dry-run', '-f', 'json'])
        self.assertEqual(0, status)
        self.assertTrue(self.client.update_plan.call_args[1]['dry_run'])
        self.assertTrue(json.loads(out)['feasible'])

    def test_refused_dry_run_prints_the_explanation_and_exits_1(self):
        self.client.create_plan.return_value = REFUSED
        status, out = self.run_command(plans.CreatePlan, [
            'big', '--stack-id', 's1', '--resources', self.resources,
            '--dry-run'])
        self.assertEqual(1, status)
        self.assertIn('the request is impossible', out)
        self.assertIn('capacity:VCPU (4)', out)
        self.assertIn('No placement exists (dry run',
                      self.app.stderr.getvalue())

    def test_refused_dry_run_as_json_keeps_the_explanation(self):
        self.client.create_plan.return_value = REFUSED
        status, out = self.run_command(plans.CreatePlan, [
            'big', '--stack-id', 's1', '--resources', self.resources,
            '--dry-run', '-f', 'json'])
        self.assertEqual(1, status)
        shown = json.loads(out)
        self.assertFalse(shown['feasible'])
        self.assertTrue(shown['proven_infeasible'])
        self.assertEqual('x', shown['explanation']['servers'][0]['server'])


class CapacityTest(CommandTestCase):

    def test_show_passes_every_option(self):
        self.client.capacity.return_value = CAPACITY
        shown = self.take(capacity.ShowCapacity, [
            '--flavor', 'm1.small', '--group', 'web', '--group', 'db',
            '--level', 'rack', '--availability-zone', 'az1'])
        self.client.capacity.assert_called_once_with(
            'm1.small', groups=['web', 'db'], level='rack',
            availability_zone='az1')
        self.assertEqual((3, True), (shown['count'], shown['exact']))
        self.assertEqual('r0=2, r1=1', shown['domains'].human_readable())
        self.assertEqual(CAPACITY['domains'],
                         shown['domains'].machine_readable())

    def test_defaults_and_json(self):
        self.client.capacity.return_value = dict(CAPACITY, domains=[])
        status, out = self.run_command(capacity.ShowCapacity, [
            '--flavor', 'm1.small', '-f', 'json'])
        self.assertEqual(0, status)
        self.client.capacity.assert_called_once_with(
            'm1.small', groups=None, level=None, availability_zone=None)
        self.assertEqual([], json.loads(out)['domains'])

    def test_flavor_is_required(self):
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))
        self.assertRaises(SystemExit, self.command, capacity.ShowCapacity,
                          [])
