"""``openstack valet group ...`` and ``openstack valet group member ...``."""

from osc_lib.cli import format_columns
from osc_lib.command import command
from osc_lib import utils

from valet.objects import group_kinds
from valet.osc.v1 import common

# Then each kind's parameters (max_per_domain, max_skew, weight, ...),
# empty for groups of kinds without them.
COLUMNS = ('id', 'name', 'type', 'level', 'description', 'members',
           'parents') + tuple(group_kinds.PARAMETERS)
FORMATTERS = {'members': format_columns.ListColumn,
              'parents': format_columns.ListColumn}


def _show(group):
    return COLUMNS, utils.get_dict_properties(group, COLUMNS,
                                              formatters=FORMATTERS)


class ListGroup(command.Lister):
    """List groups."""

    def take_action(self, parsed_args):
        groups = common.call(common.client(self.app).list_groups,
                             parents=True, parameters=True)
        return COLUMNS, (utils.get_dict_properties(
            g, COLUMNS, formatters=FORMATTERS) for g in groups)


class CreateGroup(command.ShowOne):
    """Create a group (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='<name>', help='Group name')
        parser.add_argument(
            '--type', required=True, choices=group_kinds.KINDS,
            help='How the members relate (at-most, spread: API '
                 'microversion 1.5, 1.6; soft-affinity, soft-diversity: '
                 '1.7)')
        parser.add_argument(
            '--level', required=True,
            help='Topology level the rule applies at (host, rack, zone, ...)')
        parser.add_argument('--description', help='Description')
        parser.add_argument(
            '--parent', metavar='<group>', action='append', dest='parents',
            help='A group (name or id) this group is nested in; repeat '
                 'for several (API microversion 1.4)')
        for spec in group_kinds.PARAMETERS.values():
            parser.add_argument(
                '--' + spec.name.replace('_', '-'), dest=spec.name,
                metavar='<%d-%d>' % (spec.low, spec.high), type=int,
                help='%s%s (type %s only)' % (
                    spec.meaning[0].upper(), spec.meaning[1:],
                    ', '.join(group_kinds.kinds_with(spec.name))) + (
                    '; default %d' % spec.default
                    if spec.default is not None else ''))
        return parser

    def take_action(self, parsed_args):
        parameters = {name: getattr(parsed_args, name)
                      for name in group_kinds.PARAMETERS}
        group = common.call(common.client(self.app).create_group,
                            parsed_args.name, parsed_args.type,
                            parsed_args.level, parsed_args.description,
                            parents=parsed_args.parents or [],
                            **parameters)
        return _show(group)


class ShowGroup(command.ShowOne):
    """Show a group."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('group', metavar='<group>', help='Name or id')
        return parser

    def take_action(self, parsed_args):
        return _show(common.call(common.client(self.app).show_group,
                                 parsed_args.group, parents=True,
                                 parameters=True))


class SetGroup(command.Command):
    """Change a group's description or parents (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('group', metavar='<group>', help='Name or id')
        parser.add_argument('--description', help='New description')
        nesting = parser.add_mutually_exclusive_group()
        nesting.add_argument(
            '--parent', metavar='<group>', action='append', dest='parents',
            help='A group (name or id) to nest this group in, replacing '
                 'its parents; repeat for several (API microversion 1.4)')
        nesting.add_argument(
            '--no-parent', action='store_true',
            help='Take the group out of every group it is nested in')
        return parser

    def take_action(self, parsed_args):
        parents = [] if parsed_args.no_parent else parsed_args.parents
        if parsed_args.description is None and parents is None:
            raise common.exceptions.CommandError(
                'give --description, --parent or --no-parent')
        common.call(common.client(self.app).update_group, parsed_args.group,
                    parsed_args.description, parents=parents)


class DeleteGroup(command.Command):
    """Delete groups without members (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('groups', metavar='<group>', nargs='+',
                            help='Name or id')
        return parser

    def take_action(self, parsed_args):
        valet = common.client(self.app)
        for group in parsed_args.groups:
            common.call(valet.delete_group, group)


class AddGroupMember(command.ShowOne):
    """Allow projects to use a group (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('group', metavar='<group>', help='Name or id')
        parser.add_argument('projects', metavar='<project-id>', nargs='+',
                            help='Project ids')
        return parser

    def take_action(self, parsed_args):
        return _show(common.call(common.client(self.app).add_members,
                                 parsed_args.group, parsed_args.projects))


class RemoveGroupMember(command.Command):
    """Remove projects from a group, or all of them with --all (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('group', metavar='<group>', help='Name or id')
        parser.add_argument('projects', metavar='<project-id>', nargs='*',
                            help='Project ids')
        parser.add_argument('--all', action='store_true',
                            help='Remove every member')
        return parser

    def take_action(self, parsed_args):
        valet = common.client(self.app)
        if parsed_args.all == bool(parsed_args.projects):
            raise common.exceptions.CommandError(
                'name the projects to remove, or --all (not both)')
        if parsed_args.all:
            common.call(valet.remove_members, parsed_args.group)
        for project in parsed_args.projects:
            common.call(valet.remove_member, parsed_args.group, project)


class ListGroupMember(command.Lister):
    """List the projects allowed to use a group."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('group', metavar='<group>', help='Name or id')
        return parser

    def take_action(self, parsed_args):
        group = common.call(common.client(self.app).show_group,
                            parsed_args.group)
        return ('project_id',), ((m,) for m in group.get('members') or [])
