"""``openstack valet plan ...``."""

from cliff import columns
from osc_lib.command import command
from osc_lib import utils

from valet.osc.v1 import common

COLUMNS = ('id', 'name', 'stack_id', 'placements')
# A dry run's answer (microversion 1.8) adds the decision.
DECISION_COLUMNS = ('dry_run', 'feasible', 'optimal', 'objective', 'moved',
                    'removed')
# Shown when the engine refused.
REFUSAL_COLUMNS = ('proven_infeasible', 'explanation')


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


def _flat(values, prefix=''):
    """Nested objective values as (dotted name, value), in the answer's
    order; an empty nested object shows nothing."""
    out = []
    for key, value in values.items():
        name = prefix + str(key)
        if isinstance(value, dict):
            out.extend(_flat(value, name + '.'))
        else:
            out.append((name, value))
    return out


class ObjectiveColumn(columns.FormattableColumn):
    """``new_hosts=2, moves=0, bound.new_hosts=2`` for people; the
    objective object for machines. Every value the engine reports is
    shown, whatever its name."""

    def human_readable(self):
        return ', '.join('%s=%s' % pair for pair in _flat(self._value or {}))

    def machine_readable(self):
        return dict(self._value or {})


class ListColumn(columns.FormattableColumn):

    def human_readable(self):
        return ', '.join(str(v) for v in self._value or [])

    def machine_readable(self):
        return list(self._value or [])


class ExplanationColumn(columns.FormattableColumn):
    """The summary and the tables of a refusal for people; the whole
    explanation object for machines."""

    def human_readable(self):
        explanation = self._value or {}
        parts = (explanation.get('summary'),
                 common.explanation_text(explanation))
        return '\n\n'.join(p for p in parts if p)

    def machine_readable(self):
        return dict(self._value or {})


def _show(plan):
    return COLUMNS, utils.get_dict_properties(
        plan, COLUMNS, formatters={'placements': _placements})


def _show_decided(answer):
    """A dry run's plan and decision as one record."""
    names, values = _show(answer.get('plan') or {})
    decision = answer.get('decision') or {}
    names += DECISION_COLUMNS
    values += (bool(answer.get('dry_run')), decision.get('feasible'),
               decision.get('optimal'),
               ObjectiveColumn(decision.get('objective')),
               ListColumn(decision.get('moved')),
               ListColumn(decision.get('removed')))
    if not decision.get('feasible'):
        names += REFUSAL_COLUMNS
        values += (decision.get('proven_infeasible'),
                   ExplanationColumn(decision.get('explanation')))
    return names, values


class DryRunMixin:
    """``--dry-run``: the decision is printed, nothing stored; a refusal
    is printed too and then exits 1, as the real command would fail (see
    doc/source/user/cli.rst), so a script can test a dry run's status."""

    refused = False

    def add_dry_run(self, parser):
        parser.add_argument(
            '--dry-run', action='store_true',
            help='Decide as for real but store nothing; print whether a '
                 'placement exists, whether it is proven optimal and the '
                 'objective values (exit status 1 when none exists). '
                 'Needs microversion 1.8')
        return parser

    def decided(self, answer):
        self.refused = not (answer.get('decision') or {}).get('feasible')
        return _show_decided(answer)

    def run(self, parsed_args):
        status = super().run(parsed_args)
        if self.refused:
            self.app.stderr.write('No placement exists (dry run: nothing '
                                  'was stored).\n')
            return status or 1
        return status


class ListPlan(command.Lister):
    """List plans (of the caller's project; all of them for an admin)."""

    def take_action(self, parsed_args):
        plans = common.call(common.client(self.app).list_plans)
        return COLUMNS, (utils.get_dict_properties(
            p, COLUMNS, formatters={'placements': _placements})
            for p in plans)


class CreatePlan(DryRunMixin, command.ShowOne):
    """Place every server of a stack at once.

    The resources file (JSON or YAML, ``-`` for stdin) maps each server's
    orchestration id to a Heat-style resource: ``name``, ``type``
    ``OS::Nova::Server``, ``properties`` with ``flavor`` and, in
    ``metadata.valet.groups``, its groups. When no placement exists the
    explanation is printed as a table and the command fails. With
    ``--dry-run`` nothing is stored and the decision is printed.
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
        return self.add_dry_run(parser)

    def take_action(self, parsed_args):
        kwargs = {'dry_run': True} if parsed_args.dry_run else {}
        plan = common.place(
            self.app, common.client(self.app).create_plan, parsed_args.name,
            parsed_args.stack_id,
            common.load_document(parsed_args.resources),
            locations=parsed_args.locations, **kwargs)
        return self.decided(plan) if parsed_args.dry_run else _show(plan)


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


class UpdatePlan(DryRunMixin, command.ShowOne):
    """Place a stack's updated set of servers (``--dry-run``: decide,
    store nothing, print the decision)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('plan', metavar='<plan>',
                            help='Plan id or stack id')
        parser.add_argument('--resources', required=True, metavar='<file>',
                            help='The servers after the update (JSON or '
                                 'YAML file, - for stdin)')
        return self.add_dry_run(parser)

    def take_action(self, parsed_args):
        kwargs = {'dry_run': True} if parsed_args.dry_run else {}
        plan = common.place(
            self.app, common.client(self.app).update_plan, parsed_args.plan,
            common.load_document(parsed_args.resources), **kwargs)
        return self.decided(plan) if parsed_args.dry_run else _show(plan)


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
