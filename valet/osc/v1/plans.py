"""``openstack valet plan ...``."""

from cliff import columns
from osc_lib.command import command
from osc_lib import utils

from valet.osc.v1 import common

COLUMNS = ('id', 'name', 'stack_id', 'placements')


class PlacementsColumn(columns.FormattableColumn):
    """``name=host, ...`` for people; the placements object for machines
    (``-f json|yaml``)."""

    def human_readable(self):
        return ', '.join('%s=%s' % (p.get('name'), p.get('location'))
                         for p in sorted((self._value or {}).values(),
                                         key=lambda p: str(p.get('name'))))

    def machine_readable(self):
        return dict(self._value or {})


_placements = PlacementsColumn


def _show(plan):
    return COLUMNS, utils.get_dict_properties(
        plan, COLUMNS, formatters={'placements': _placements})


class ListPlan(command.Lister):
    """List plans (of the caller's project; all of them for an admin)."""

    def take_action(self, parsed_args):
        plans = common.call(common.client(self.app).list_plans)
        return COLUMNS, (utils.get_dict_properties(
            p, COLUMNS, formatters={'placements': _placements})
            for p in plans)


class CreatePlan(command.ShowOne):
    """Place every server of a stack at once.

    The resources file (JSON or YAML, ``-`` for stdin) maps each server's
    orchestration id to a Heat-style resource: ``name``, ``type``
    ``OS::Nova::Server``, ``properties`` with ``flavor`` and, in
    ``metadata.valet.groups``, its groups. When no placement exists the
    explanation is printed as a table and the command fails.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('name', metavar='<name>', help='Plan name')
        parser.add_argument('--stack-id', required=True,
                            help='Id of the stack the plan places')
        parser.add_argument('--resources', required=True, metavar='<file>',
                            help='The servers (JSON or YAML file, - for '
                                 'stdin)')
        parser.add_argument('--location', action='append', dest='locations',
                            metavar='<host>',
                            help='Consider only these hosts (repeatable)')
        return parser

    def take_action(self, parsed_args):
        plan = common.place(
            self.app, common.client(self.app).create_plan, parsed_args.name,
            parsed_args.stack_id,
            common.load_document(parsed_args.resources),
            locations=parsed_args.locations)
        return _show(plan)


class ShowPlan(command.ShowOne):
    """Show a plan and where each of its servers goes."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('plan', metavar='<plan>',
                            help='Plan id or stack id')
        return parser

    def take_action(self, parsed_args):
        return _show(common.call(common.client(self.app).show_plan,
                                 parsed_args.plan))


class UpdatePlan(command.ShowOne):
    """Place a stack's updated set of servers."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('plan', metavar='<plan>',
                            help='Plan id or stack id')
        parser.add_argument('--resources', required=True, metavar='<file>',
                            help='The servers after the update (JSON or '
                                 'YAML file, - for stdin)')
        return parser

    def take_action(self, parsed_args):
        plan = common.place(
            self.app, common.client(self.app).update_plan, parsed_args.plan,
            common.load_document(parsed_args.resources))
        return _show(plan)


class MigratePlan(command.ShowOne):
    """Ask where one server of a plan could go instead (advice only)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('plan', metavar='<plan>',
                            help='Plan id or stack id')
        parser.add_argument('resource', metavar='<server>',
                            help='Orchestration id or Nova id of the server')
        parser.add_argument('--exclude-host', action='append',
                            dest='excluded', metavar='<host>',
                            help='A host the server must leave (repeatable)')
        return parser

    def take_action(self, parsed_args):
        plan = common.place(
            self.app, common.client(self.app).migrate, parsed_args.plan,
            parsed_args.resource, excluded_hosts=parsed_args.excluded)
        return _show(plan)


class DeletePlan(command.Command):
    """Delete plans and their placements."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('plans', metavar='<plan>', nargs='+',
                            help='Plan id or stack id')
        return parser

    def take_action(self, parsed_args):
        valet = common.client(self.app)
        for plan in parsed_args.plans:
            common.call(valet.delete_plan, plan)
