"""OS::Valet::Group and OS::Valet::GroupAssignment in real Heat stacks."""

from heat.common import exception
from heat.common import template_format
from heat.engine import scheduler
from heat.tests import utils
from oslo_config import cfg

from valet.plugins.heat import api
from valet.tests.heat import base

TEMPLATE = '''
heat_template_version: 2021-04-16
resources:
  web_group:
    type: OS::Valet::Group
    properties:
      name: web-diverse
      type: diversity
      level: host
      description: web servers apart
      members: [p1, p2]
  assign:
    type: OS::Valet::GroupAssignment
    properties:
      group: {get_resource: web_group}
      resources: [web1, web2]
outputs:
  kind:
    value: {get_attr: [web_group, type]}
'''


class GroupTest(base.ValetHeatTestCase):

    def stack(self, template=TEMPLATE):
        # Resources hold their stack weakly: keep it for the test.
        self.stk = utils.parse_stack(template_format.parse(template))
        return self.stk

    def create(self, stack):
        group = stack['web_group']
        scheduler.TaskRunner(group.create)()
        return group

    def test_create_makes_the_group_with_members(self):
        group = self.create(self.stack())
        self.assertEqual((group.CREATE, group.COMPLETE), group.state)
        stored = self.valet.get_group(group.resource_id)
        self.assertEqual(('web-diverse', 'diversity', 'host', ['p1', 'p2']),
                         (stored['name'], stored['type'], stored['level'],
                          stored['members']))
        self.assertEqual('diversity', group.FnGetAtt('type'))
        self.assertEqual(['p1', 'p2'], group.FnGetAtt('members'))
        # get_resource gives the name, usable before the group exists.
        self.assertEqual('web-diverse', group.FnGetRefId())

    def test_a_refused_member_list_leaves_no_group(self):
        # Heat retries a failed create after a pause; once is enough here.
        cfg.CONF.set_override('action_retry_limit', 0)
        stack = self.stack()
        self.patchobject(self.valet, 'add_members',
                         side_effect=api.ValetError(
                             status=409, detail='unknown project'))
        group = stack['web_group']
        exc = self.assertRaises(exception.ResourceFailure,
                                scheduler.TaskRunner(group.create))
        self.assertIn('unknown project', str(exc))
        self.assertEqual({}, self.valet.groups)

    def test_update_changes_description_and_member_diff(self):
        stack = self.stack()
        group = self.create(stack)
        props = dict(group.properties.data, description='new words',
                     members=['p2', 'p3'])
        snippet = group.t.freeze(properties=props)
        scheduler.TaskRunner(group.update, snippet)()
        self.assertEqual((group.UPDATE, group.COMPLETE), group.state)
        stored = self.valet.get_group(group.resource_id)
        self.assertEqual(['p2', 'p3'], stored['members'])
        self.assertEqual('new words', stored['description'])
        self.assertEqual([(group.resource_id, ['p3'])],
                         self.valet.calls_to('add_members')[1:])
        self.assertEqual([(group.resource_id, 'p1')],
                         self.valet.calls_to('remove_member'))

    def test_name_change_replaces(self):
        group = self.create(self.stack())
        props = dict(group.properties.data, name='other')
        snippet = group.t.freeze(properties=props)
        self.assertRaises(exception.UpdateReplace,
                          scheduler.TaskRunner(group.update, snippet))

    def test_delete_waits_for_members_to_be_free(self):
        group = self.create(self.stack())
        gid = group.resource_id
        # Valet has not yet seen the servers of a member project go.
        self.valet.busy_members = 2
        scheduler.TaskRunner(group.delete)()
        self.assertEqual((group.DELETE, group.COMPLETE), group.state)
        self.assertEqual({}, self.valet.groups)
        self.assertEqual([(gid,)], self.valet.calls_to('delete_group'))

    def test_delete_of_a_group_gone_from_valet(self):
        group = self.create(self.stack())
        self.valet.groups.clear()
        scheduler.TaskRunner(group.delete)()
        self.assertEqual((group.DELETE, group.COMPLETE), group.state)

    def test_bad_name_fails_validation(self):
        stack = self.stack(TEMPLATE.replace('web-diverse', 'web diverse!'))
        exc = self.assertRaises(exception.StackValidationFailed,
                                stack.validate)
        self.assertIn('is not a Valet group name', str(exc))

    def test_assignment_keeps_nothing_in_valet(self):
        stack = self.stack()
        self.create(stack)
        assign = stack['assign']
        scheduler.TaskRunner(assign.create)()
        self.assertEqual((assign.CREATE, assign.COMPLETE), assign.state)
        self.assertEqual(1, len(self.valet.calls_to('create_group')))
        self.assertEqual([], self.valet.calls_to('create_plan'))
        scheduler.TaskRunner(assign.delete)()
        self.assertEqual((assign.DELETE, assign.COMPLETE), assign.state)


NESTED = '''
heat_template_version: 2021-04-16
resources:
  tiers:
    type: OS::Valet::Group
    properties: {name: tiers, type: diversity, level: rack}
  web_tier:
    type: OS::Valet::Group
    properties:
      name: web-tier
      type: affinity
      level: host
      parents: [{get_resource: tiers}]
outputs:
  parents:
    value: {get_attr: [web_tier, parents]}
'''


class NestedGroupTest(base.ValetHeatTestCase):

    def stack(self, template=NESTED):
        self.stk = utils.parse_stack(template_format.parse(template))
        return self.stk

    def create_both(self):
        stack = self.stack(NESTED)
        for name in ('tiers', 'web_tier'):
            scheduler.TaskRunner(stack[name].create)()
        return stack['tiers'], stack['web_tier']

    def test_parents_are_sent_and_shown(self):
        tiers, web = self.create_both()
        self.assertEqual([('web-tier', ['tiers'])],
                         self.valet.calls_to('create_group_parents'))
        self.assertEqual(['tiers'], web.FnGetAtt('parents'))
        # A group without parents asks for no nesting (microversion 1.4
        # is needed only by those with parents).
        self.assertEqual(1, len(self.valet.calls_to('create_group_parents')))
        self.assertEqual([], tiers.FnGetAtt('parents'))

    def test_the_dependency_creates_the_parent_first(self):
        stack = self.stack(NESTED)
        self.assertIn(stack['web_tier'], list(
            stack.dependencies.required_by(stack['tiers'])))

    def test_update_of_parents_alone_keeps_the_description(self):
        tiers, web = self.create_both()
        props = dict(web.properties.data, parents=[])
        scheduler.TaskRunner(web.update, web.t.freeze(properties=props))()
        self.assertEqual((web.UPDATE, web.COMPLETE), web.state)
        self.assertEqual([(web.resource_id, None)],
                         self.valet.calls_to('update_group'))
        self.assertEqual([(web.resource_id, [])],
                         self.valet.calls_to('update_group_parents'))
        self.assertEqual([], web.FnGetAtt('parents'))

    def test_parent_deleted_after_its_child(self):
        tiers, web = self.create_both()
        # Valet refuses to delete a group others nest in (409): polled.
        runner = scheduler.TaskRunner(tiers.delete)
        runner.start()
        self.assertFalse(runner.step())
        scheduler.TaskRunner(web.delete)()
        runner.run_to_completion()
        self.assertEqual((tiers.DELETE, tiers.COMPLETE), tiers.state)
        self.assertEqual({}, self.valet.groups)

    def test_bad_parent_name_fails_validation(self):
        stack = self.stack(NESTED.replace('[{get_resource: tiers}]',
                                          '["no such!"]'))
        exc = self.assertRaises(exception.StackValidationFailed,
                                stack.validate)
        self.assertIn('is not a Valet group name', str(exc))
