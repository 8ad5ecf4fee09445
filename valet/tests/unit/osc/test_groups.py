"""``openstack valet group create/show/list``: the kinds and their
parameters come from the group vocabulary (the client and a real server
are tested in ``valet/tests/unit/client``)."""

import io
from unittest import mock

import fixtures
import testtools

from valet.osc.v1 import groups

SOFT = {'id': 'i1', 'name': 'near', 'type': 'soft-affinity',
        'level': 'rack', 'description': '', 'members': [], 'parents': [],
        'weight': 5}


class GroupCommandsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.app = mock.Mock()
        self.client = self.app.client_manager.workload_placement

    def run_command(self, cls, argv):
        command = cls(self.app, None)
        return command.take_action(command.get_parser('valet').parse_args(
            argv))

    def test_create_soft_group_with_weight(self):
        self.client.create_group.return_value = SOFT
        columns, values = self.run_command(groups.CreateGroup, [
            'near', '--type', 'soft-affinity', '--level', 'rack',
            '--weight', '5'])
        self.client.create_group.assert_called_once_with(
            'near', 'soft-affinity', 'rack', None, parents=[],
            max_per_domain=None, max_skew=None, weight=5)
        shown = dict(zip(columns, values))
        self.assertEqual((5, ''), (shown['weight'], shown['max_skew']))

    def test_every_kind_and_parameter_is_an_option(self):
        for kind, option, value in (('at-most', '--max-per-domain', 2),
                                    ('spread', '--max-skew', 1),
                                    ('soft-diversity', '--weight', 9)):
            self.client.create_group.reset_mock()
            self.client.create_group.return_value = SOFT
            self.run_command(groups.CreateGroup, [
                'g', '--type', kind, '--level', 'host', option, str(value)])
            kwargs = self.client.create_group.call_args.kwargs
            self.assertEqual(value, kwargs[option[2:].replace('-', '_')])
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', io.StringIO()))
        self.assertRaises(SystemExit, self.run_command, groups.CreateGroup,
                          ['g', '--type', 'nearby', '--level', 'host'])

    def test_show_and_list_ask_for_parameters(self):
        self.client.show_group.return_value = SOFT
        columns, values = self.run_command(groups.ShowGroup, ['near'])
        self.client.show_group.assert_called_once_with(
            'near', parents=True, parameters=True)
        self.assertIn('weight', columns)
        self.client.list_groups.return_value = [SOFT]
        columns, rows = self.run_command(groups.ListGroup, [])
        self.client.list_groups.assert_called_once_with(
            parents=True, parameters=True)
        self.assertEqual(5, dict(zip(columns, list(rows)[0]))['weight'])
