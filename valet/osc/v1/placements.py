"""``openstack valet placement ...``."""

from osc_lib.command import command
from osc_lib import utils

from valet.osc.v1 import common

COLUMNS = ('id', 'name', 'orchestration_id', 'resource_id', 'location',
           'reserved', 'plan_id')


class ListPlacement(command.Lister):
    """List placements, optionally filtered (--filter key=value)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--filter', action='append', default=[],
                            metavar='<key=value>',
                            help='A field or metadata key to match '
                                 '(repeatable)')
        return parser

    def take_action(self, parsed_args):
        filters = {}
        for item in parsed_args.filter:
            key, sep, value = item.partition('=')
            if not sep:
                raise common.exceptions.CommandError(
                    '--filter takes key=value, not %r' % item)
            filters[key] = value
        placements = common.call(common.client(self.app).list_placements,
                                 **filters)
        return COLUMNS, (utils.get_dict_properties(p, COLUMNS)
                         for p in placements)


class ShowPlacement(command.ShowOne):
    """Show a placement."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('placement', metavar='<placement>',
                            help='Placement id or orchestration id')
        return parser

    def take_action(self, parsed_args):
        placement = common.call(common.client(self.app).show_placement,
                                parsed_args.placement)
        return COLUMNS, utils.get_dict_properties(placement, COLUMNS)


class _Act(command.ShowOne):

    action = None

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('placement', metavar='<placement>',
                            help='Placement id or orchestration id')
        parser.add_argument('--location', action='append', required=True,
                            dest='locations', metavar='<host>',
                            help='A host the server may go to (repeatable)')
        parser.add_argument('--resource-id', metavar='<server-id>',
                            help="Nova's id of the server")
        return parser

    def take_action(self, parsed_args):
        valet = common.client(self.app)
        placement = common.place(
            self.app, getattr(valet, self.action), parsed_args.placement,
            parsed_args.locations, resource_id=parsed_args.resource_id)
        return COLUMNS, utils.get_dict_properties(placement, COLUMNS)


class ReservePlacement(_Act):
    """Hold the planned host if it is among the locations, else replan."""

    action = 'reserve'


class ReplanPlacement(_Act):
    """Place the server again among the locations."""

    action = 'replan'
