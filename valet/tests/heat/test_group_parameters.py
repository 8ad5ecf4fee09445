"""OS::Valet::Group takes every kind of the group vocabulary
(valet.objects.group_kinds) and its parameters."""

import os

from heat.common import exception
from heat.common import template_format
from heat.engine import constraints
from heat.engine import scheduler
from heat.tests import utils

from valet.objects import group_kinds
from valet.plugins.heat import resources
from valet.tests.heat import base

TEMPLATE = '''
heat_template_version: 2021-04-16
parameters:
  per_rack: {type: number, default: 2}
resources:
  db_per_rack:
    type: OS::Valet::Group
    properties:
      name: db-per-rack
      type: at-most
      level: rack
      max_per_domain: {get_param: per_rack}
  near:
    type: OS::Valet::Group
    properties: {name: near, type: soft-affinity, level: host}
  apart:
    type: OS::Valet::Group
    properties: {name: apart, type: diversity, level: host}
'''


def _group(**properties):
    """A template of one group, ``properties`` over an at-most group's."""
    props = dict(name='g', type='at-most', level='rack', max_per_domain=2)
    props.update(properties)
    props = {k: v for k, v in props.items() if v is not None}
    return {'heat_template_version': '2021-04-16',
            'resources': {'g': {'type': 'OS::Valet::Group',
                                'properties': props}}}


class SchemaTest(base.ValetHeatTestCase):
    """The properties follow the table (no kind spelled in the plugin)."""

    schema = resources.ValetGroup.properties_schema

    def test_type_allows_every_kind(self):
        allowed = [c for c in self.schema['type'].constraints
                   if isinstance(c, constraints.AllowedValues)]
        self.assertEqual([list(group_kinds.KINDS)],
                         [list(c.allowed) for c in allowed])

    def test_every_parameter_is_a_ranged_property_and_an_attribute(self):
        for name, spec in group_kinds.PARAMETERS.items():
            prop = self.schema[name]
            self.assertEqual('Integer', prop.type)
            self.assertFalse(prop.required)
            self.assertFalse(prop.update_allowed)
            ranges = [(c.min, c.max) for c in prop.constraints
                      if isinstance(c, constraints.Range)]
            self.assertEqual([(spec.low, spec.high)], ranges)
            for kind in group_kinds.kinds_with(name):
                self.assertIn(kind, prop.description)
            self.assertIn(name, resources.ValetGroup.attributes_schema)

    def test_parameters_take_no_other_property_name(self):
        base_names = set(resources.ValetGroup.PROPERTIES)
        self.assertEqual(set(), base_names & set(group_kinds.PARAMETERS))
        self.assertEqual(len(base_names) + len(group_kinds.PARAMETERS),
                         len(self.schema))


class ParameterGroupTest(base.ValetHeatTestCase):

    def stack(self, template=TEMPLATE, **params):
        body = (template_format.parse(template)
                if isinstance(template, str) else template)
        # Resources hold their stack weakly: keep it for the test.
        self.stk = utils.parse_stack(body, params=params)
        return self.stk

    def create(self, resource):
        scheduler.TaskRunner(resource.create)()
        self.assertEqual((resource.CREATE, resource.COMPLETE),
                         resource.state)
        return resource

    def invalid(self, body):
        return str(self.assertRaises(exception.StackValidationFailed,
                                     self.stack(body).validate))

    def test_template_validates(self):
        self.stack().validate()

    def test_at_most_sends_its_limit_and_shows_it(self):
        group = self.create(self.stack(per_rack=3)['db_per_rack'])
        self.assertEqual([('db-per-rack', {'max_per_domain': 3})],
                         self.valet.calls_to('create_group_parameters'))
        stored = self.valet.get_group(group.resource_id, parameters=True)
        self.assertEqual(('at-most', 'rack', 3), (
            stored['type'], stored['level'], stored['max_per_domain']))
        self.assertEqual(3, group.FnGetAtt('max_per_domain'))
        self.assertIsNone(group.FnGetAtt('max_skew'))
        self.assertIsNone(group.FnGetAtt('weight'))

    def test_soft_group_without_weight_gets_the_default(self):
        group = self.stack()['near']
        # Before the group exists the attribute is what Valet will give.
        self.assertEqual(group_kinds.WEIGHT.default,
                         group.FnGetAtt('weight'))
        self.create(group)
        self.assertEqual([('near', {})],
                         self.valet.calls_to('create_group_parameters'))
        self.assertEqual(group_kinds.WEIGHT.default,
                         group.FnGetAtt('weight'))

    def test_only_a_kind_with_parameters_asks_to_see_them(self):
        # The microversion that shows parameters is newer than nesting's:
        # a diversity group keeps working with a Valet that lacks it.
        stack = self.stack()
        apart = self.create(stack['apart'])
        limited = self.create(stack['db_per_rack'])
        self.valet.calls.clear()
        apart.FnGetAtt('type')
        limited.FnGetAtt('type')
        self.assertEqual([(apart.resource_id, True, False),
                          (limited.resource_id, True, True)],
                         self.valet.calls_to('get_group'))

    def test_every_kind_with_its_parameters_creates(self):
        for kind in group_kinds.TABLE:
            given = {p.name: p.high for p in kind.parameters}
            with self.subTest(kind=kind.name):
                body = _group(**dict({'max_per_domain': None}, **given,
                                     name='g-' + kind.name,
                                     type=kind.name))
                group = self.create(self.stack(body)['g'])
                self.assertEqual(kind.name, group.FnGetAtt('type'))
                for name, value in given.items():
                    self.assertEqual(value, group.FnGetAtt(name))

    def test_a_required_parameter_left_out_fails_validation(self):
        text = self.invalid(_group(max_per_domain=None))
        self.assertIn('resources.g.properties.max_per_domain', text)
        self.assertIn('a group of type at-most needs max_per_domain', text)
        self.assertEqual([], self.valet.calls_to('create_group'))

    def test_a_parameter_of_another_type_fails_validation(self):
        text = self.invalid(_group(type='diversity', max_per_domain=None,
                                   weight=5))
        self.assertIn('resources.g.properties.weight', text)
        self.assertIn('weight applies only to groups of type '
                      'soft-affinity, soft-diversity', text)
        # A kind's own parameter beside another's.
        text = self.invalid(_group(max_skew=1))
        self.assertIn('max_skew applies only to groups of type spread',
                      text)

    def test_out_of_range_parameter_fails_validation(self):
        text = self.invalid(_group(max_per_domain=0))
        self.assertIn('resources.g.properties.max_per_domain', text)
        self.assertIn('0 is out of range (min: 1, max: 100000)', text)
        text = self.invalid(_group(type='soft-diversity',
                                   max_per_domain=None, weight=101))
        self.assertIn('101 is out of range (min: 1, max: 100)', text)

    def test_unknown_type_fails_validation_naming_the_kinds(self):
        text = self.invalid(_group(type='anti-affinity',
                                   max_per_domain=None))
        self.assertIn('resources.g.properties.type', text)
        self.assertIn('"anti-affinity" is not an allowed value', text)
        for kind in group_kinds.KINDS:
            self.assertIn(kind, text)

    def test_a_parameter_not_yet_resolved_counts_as_given(self):
        body = template_format.parse(TEMPLATE)
        body['resources']['g'] = _group(
            max_per_domain={'get_attr': ['db_per_rack',
                                         'max_per_domain']})['resources']['g']
        self.stack(body).validate()
        body['resources']['g']['properties']['type'] = 'affinity'
        text = self.invalid(body)
        self.assertIn('max_per_domain applies only to groups of type '
                      'at-most', text)

    def test_a_parameter_change_replaces_the_group(self):
        group = self.create(self.stack()['db_per_rack'])
        props = dict(group.properties.data, max_per_domain=4)
        self.assertRaises(exception.UpdateReplace, scheduler.TaskRunner(
            group.update, group.t.freeze(properties=props)))


class DocTest(base.ValetHeatTestCase):

    def test_admin_guide_lists_every_kind_and_parameter(self):
        path = os.path.join(os.path.dirname(__file__), '..', '..', '..',
                            'doc', 'source', 'admin', 'heat.rst')
        with open(path) as f:
            text = f.read()
        section = text[text.index('``OS::Valet::Group``\n'):
                       text.index('``OS::Valet::GroupAssignment``\n')]
        for name in group_kinds.KINDS + tuple(group_kinds.PARAMETERS):
            self.assertIn('``%s``' % name, section)
