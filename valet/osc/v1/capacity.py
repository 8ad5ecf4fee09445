"""``openstack valet capacity show``."""

from cliff import columns
from osc_lib.command import command

from valet.osc.v1 import common

COLUMNS = ('flavor', 'groups', 'availability_zone', 'level', 'count',
           'exact', 'domains')


class DomainsColumn(columns.FormattableColumn):
    """``host=count, ...`` (most room first, as answered) for people; the
    list of ``{"name", "count"}`` for machines."""

    def human_readable(self):
        return ', '.join('%s=%s' % (d.get('name'), d.get('count'))
                         for d in self._value or [])

    def machine_readable(self):
        return list(self._value or [])


class GroupsColumn(columns.FormattableColumn):

    def human_readable(self):
        return ', '.join(str(g) for g in self._value or [])

    def machine_readable(self):
        return list(self._value or [])


class ShowCapacity(command.ShowOne):
    """Show how many more servers of a flavor fit, and where.

    The servers would join the groups given, in the availability zone
    given; ``count`` is how many fit at once, ``exact`` whether that count
    is exact or an upper bound, and ``domains`` how many fit on each host
    (or each domain of ``--level``) alone. Nothing is reserved.
    Needs microversion 1.8.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--flavor', required=True, metavar='<flavor>',
                            help='Flavor name or id of the server')
        parser.add_argument('--group', action='append', dest='groups',
                            metavar='<group>',
                            help='A group the servers would join, by name '
                                 'or id (repeatable)')
        parser.add_argument('--level', metavar='<level>',
                            help='Count per domain of this topology level '
                                 '(default: per host)')
        parser.add_argument('--availability-zone', metavar='<zone>',
                            help='Count within this availability zone only')
        return parser

    def take_action(self, parsed_args):
        capacity = common.call(
            common.client(self.app).capacity, parsed_args.flavor,
            groups=parsed_args.groups, level=parsed_args.level,
            availability_zone=parsed_args.availability_zone)
        formatters = {'domains': DomainsColumn, 'groups': GroupsColumn}
        return COLUMNS, tuple(
            formatters[name](capacity.get(name)) if name in formatters
            else capacity.get(name) for name in COLUMNS)
