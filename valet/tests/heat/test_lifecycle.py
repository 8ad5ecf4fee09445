"""The stack lifecycle plugin on real parsed Heat stacks: nested
templates, a ResourceGroup, group assignments and groups declared in the
stack."""

from unittest import mock

from heat.common import exception
from heat.common import template_format
from heat.engine import resources as heat_resources
from heat.tests import utils
from oslo_config import cfg

from valet.common import heat_stack
from valet.plugins.heat import api
from valet.plugins.heat import lifecycle
from valet.tests.heat import base

ROOT = '''
heat_template_version: 2021-04-16
resources:
  db_group:
    type: OS::Valet::Group
    properties: {name: db-apart, type: diversity, level: rack}
  db1:
    type: OS::Nova::Server
    properties:
      flavor: m1.small
      image: cirros
      user_data: not for valet
      metadata:
        valet: {groups: [{get_resource: db_group}]}
  db2:
    type: OS::Nova::Server
    properties:
      flavor: m1.small
      image: cirros
      metadata: {valet: '{"groups": ["db-apart"]}'}
  tier:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def:
        type: pair.yaml
        properties:
          group: {get_resource: db_group}
  together:
    type: OS::Valet::GroupAssignment
    properties:
      group: web-together
      resources: [tier]
'''

# The same stack with its group made beforehand, not in the stack.
PLANNED = ROOT.replace(
    '''  db_group:
    type: OS::Valet::Group
    properties: {name: db-apart, type: diversity, level: rack}
''', '').replace('{get_resource: db_group}', 'db-apart')

PAIR = '''
heat_template_version: 2021-04-16
parameters:
  group: {type: string}
resources:
  web:
    type: OS::Nova::Server
    properties:
      flavor: m1.tiny
      image: cirros
      availability_zone: az1
      metadata:
        valet: {groups: [{get_param: group}]}
  cache:
    type: OS::Nova::Server
    properties: {flavor: m1.tiny, image: cirros}
'''


class LifecycleTest(base.ValetHeatTestCase):

    def setUp(self):
        super().setUp()
        cfg.CONF.set_override('stack_scheduler_hints', True)
        self.plugin = lifecycle.ValetLifecyclePlugin()

    def stack(self, template=PLANNED, files=None, name='shop'):
        # Resources hold their stack weakly: keep every stack made.
        stk = utils.parse_stack(
            template_format.parse(template),
            files=files if files is not None else {'pair.yaml': PAIR},
            stack_name=name)
        self.stacks = getattr(self, 'stacks', []) + [stk]
        return stk

    def planned(self):
        (name, stack_id, resources), = self.valet.calls_to('create_plan')
        return name, stack_id, resources

    def by_path(self, resources):
        return {tuple(r['metadata']['heat_resource_path']): r
                for r in resources.values()}

    def test_registered_with_heat(self):
        env = heat_resources.global_env()
        plugins = [cls for cls in env.get_stack_lifecycle_plugins()]
        self.assertIn(lifecycle.ValetLifecyclePlugin,
                      [p[1] if isinstance(p, tuple) else p for p in plugins])

    def test_create_plans_the_whole_stack_once(self):
        stack = self.stack()
        self.plugin.do_pre_op(stack.context, stack, action='CREATE')
        name, stack_id, resources = self.planned()
        self.assertEqual(('shop', stack.id), (name, stack_id))
        servers = self.by_path(resources)
        self.assertEqual(
            {('db1',), ('db2',), ('tier', '0', 'web'), ('tier', '0', 'cache'),
             ('tier', '1', 'web'), ('tier', '1', 'cache')}, set(servers))
        # Ids anyone can derive from the root stack and the path.
        for oid, res in resources.items():
            self.assertEqual(heat_stack.orchestration_id(
                stack.id, res['metadata']['heat_resource_path']), oid)
            self.assertEqual(stack.id, res['metadata']['heat_root_stack_id'])
        db1 = servers[('db1',)]['properties']
        self.assertEqual({'name', 'flavor', 'image', 'metadata'} & set(db1),
                         set(db1) - {'availability_zone'})
        self.assertNotIn('user_data', db1)
        # get_resource of the group, JSON text, a parameter passed down.
        self.assertEqual({'groups': ['db-apart']}, db1['metadata']['valet'])
        self.assertEqual({'groups': ['db-apart']},
                         servers[('db2',)]['properties']['metadata']['valet'])
        web = servers[('tier', '1', 'web')]['properties']
        self.assertEqual({'groups': ['db-apart', 'web-together']},
                         web['metadata']['valet'])
        self.assertEqual('az1', web['availability_zone'])
        # The assignment of the ResourceGroup reaches every server in it.
        self.assertEqual(
            {'groups': ['web-together']},
            servers[('tier', '0', 'cache')]['properties']['metadata'][
                'valet'])

    def test_ids_match_the_hints_heat_gives_nova(self):
        stack = self.stack()
        self.plugin.do_pre_op(stack.context, stack, action='CREATE')
        _name, _sid, resources = self.planned()
        # As captured from Heat 27 for server "web" of member "1".
        hints = {'heat_root_stack_id': stack.id,
                 'heat_path_in_stack': ['shop', 'tier,shop-tier-x2k',
                                        '1,shop-tier-x2k-1-abc'],
                 'heat_resource_name': 'web'}
        path = heat_stack.path_from_hints(hints)
        self.assertEqual(['tier', '1', 'web'], path)
        self.assertIn(heat_stack.orchestration_id(stack.id, path), resources)

    def test_groups_declared_in_the_stack_defer_the_plan(self):
        # db_group does not exist before the stack's resources are made:
        # the first server scheduled plans the stack (as under
        # convergence), so the pre-op sends nothing.
        stack = self.stack(ROOT)
        self.plugin.do_pre_op(stack.context, stack, action='CREATE')
        self.assertEqual([], self.valet.calls_to('create_plan'))
        # An update naming a group Valet does not know yet is deferred too.
        self.valet.plans[stack.id] = {}
        self.valet.refuse = api.ValetError(
            status=404, detail="Group 'db-apart' not found",
            code='valet.group.not_found')
        self.plugin.do_pre_op(stack.context, stack, current_stack=stack,
                              action='UPDATE')
        self.assertEqual([], self.valet.calls_to('create_plan'))

    def test_nested_stacks_are_left_to_their_root(self):
        stack = self.stack()
        self.patchobject(type(stack), 'parent_resource_name',
                         new_callable=mock.PropertyMock, return_value='tier')
        self.plugin.do_pre_op(stack.context, stack, action='CREATE')
        self.assertEqual([], self.valet.calls)

    def test_refused_plan_fails_the_operation_with_valet_reason(self):
        stack = self.stack()
        self.valet.refuse = api.ValetError(
            status=409, detail='No placement for stack: 3 servers need '
                               'distinct racks, 2 racks have room')
        exc = self.assertRaises(api.ValetError, self.plugin.do_pre_op,
                                stack.context, stack, action='CREATE')
        self.assertIn('distinct racks', str(exc))

    def test_update_replans_and_creates_a_missing_plan(self):
        stack = self.stack()
        # As Heat gives it: the stored stack, and the new definition.
        new = self.stack(PLANNED.replace('count: 2', 'count: 3'),
                         name='new')
        self.plugin.do_pre_op(stack.context, stack, current_stack=new,
                              action='UPDATE')
        # No plan yet (stack had none): created from the new definition.
        (stack_id, sent), = self.valet.calls_to('update_plan')
        self.assertEqual(stack.id, stack_id)
        _n, created_for, resources = self.planned()
        self.assertEqual(stack.id, created_for)
        self.assertEqual(8, len(resources))
        # Ids are the old stack's: the same servers keep the same ids.
        self.assertIn(heat_stack.orchestration_id(stack.id, ['db1']),
                      resources)
        self.plugin.do_pre_op(stack.context, stack, current_stack=new,
                              action='UPDATE')
        self.assertEqual(2, len(self.valet.calls_to('update_plan')))
        self.assertEqual(1, len(self.valet.calls_to('create_plan')))

    def test_delete_forgets_the_plan_and_tolerates_none(self):
        stack = self.stack()
        self.plugin.do_pre_op(stack.context, stack, action='CREATE')
        self.plugin.do_pre_op(stack.context, stack, action='DELETE')
        self.assertEqual({}, self.valet.plans)
        self.plugin.do_pre_op(stack.context, stack, action='DELETE')
        self.assertEqual(2, len(self.valet.calls_to('delete_plan')))

    def test_without_scheduler_hints_nothing_is_planned(self):
        cfg.CONF.set_override('stack_scheduler_hints', False)
        stack = self.stack()
        self.plugin.do_pre_op(stack.context, stack, action='CREATE')
        self.assertEqual([], self.valet.calls)

    def test_stack_without_servers_makes_no_plan(self):
        stack = self.stack('''
heat_template_version: 2021-04-16
resources:
  nothing: {type: OS::Heat::None}
''', files={})
        self.plugin.do_pre_op(stack.context, stack, action='CREATE')
        self.assertEqual([], self.valet.calls_to('create_plan'))


class StackValidationTest(base.ValetHeatTestCase):

    def test_group_name_constraint_is_loaded_from_entry_point(self):
        env = heat_resources.global_env()
        self.assertIn('valet.group_name', env.constraints)
        stk = utils.parse_stack(template_format.parse(
            ROOT.replace('db-apart, type', 'db apart, type')),
            files={'pair.yaml': PAIR})
        self.assertRaises(exception.StackValidationFailed, stk.validate)
