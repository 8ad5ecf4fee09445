"""Heat stacks placed by Valet, under Heat's convergence engine and under
the legacy engine with Valet's lifecycle plugin.

Real heat-api and heat-engine (MariaDB, RabbitMQ, real Keystone) create
real servers in the compute cloud, whose scheduler runs ValetFilter.
Under convergence the first server of each stack makes Valet read the
stack from Heat and plan it whole; under the legacy engine the lifecycle
plugin plans it before any server exists. Hosts are checked on Nova's
view, independently of Valet's.
"""

from valet.tests.functional.heat import base

RESOURCE_GROUP = '''
heat_template_version: 2021-04-16
parameters:
  count: {type: number, default: %(count)d}
resources:
%(extra)s
  web:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: count}
      resource_def:
        type: OS::Nova::Server
        properties:
          flavor: valet.small
          image: %(image)s
          networks: [{allocate_network: none}]
          metadata: {valet: {groups: [%(group)s]}}
'''

GROUP_IN_STACK = '''
  apart:
    type: OS::Valet::Group
    properties: {name: %s, type: diversity, level: host}
'''


class StackTests:
    """The same stacks for both Heat engines."""

    def template(self, group, count=3, extra=''):
        return RESOURCE_GROUP % {'count': count, 'group': group,
                                 'image': self.cloud.image_id,
                                 'extra': extra}

    def assert_apart(self, client, stack_id, count):
        hosts = self.server_hosts(client, stack_id)
        self.assertEqual(count, len(hosts), hosts)
        self.assertEqual(count, len(set(hosts.values())), hosts)
        plan = self.valet('GET', '/v1/plans/%s' % stack_id).json()['plan']
        planned = sorted(p['location'] for p in plan['placements'].values()
                         if p['location'])
        self.assertEqual(sorted(hosts.values()), planned)
        return hosts

    def test_diversity_resource_group_update_and_delete(self):
        group = self.make_group('diversity', 'host')
        client, stack_id, _ = self.run_stack(self.template(group, 3))
        before = self.assert_apart(client, stack_id, 3)
        # Scale out: the new server goes to the fourth host, the others
        # stay where they are.
        client.update(stack_id, self.template(group, 4))
        self.assertEqual('UPDATE_COMPLETE',
                         client.wait(stack_id)['stack_status'])
        after = self.assert_apart(client, stack_id, 4)
        for server, host in before.items():
            self.assertEqual(host, after[server])
        client.update(stack_id, self.template(group, 2))
        self.assertEqual('UPDATE_COMPLETE',
                         client.wait(stack_id)['stack_status'])
        self.assertEqual(2, len(set(self.server_hosts(
            client, stack_id).values())))
        plan_id = self.valet('GET', '/v1/plans/%s' % stack_id).json()[
            'plan']['id']
        client.delete(stack_id)
        self.assertIsNone(client.wait(stack_id))
        self.assert_plan_gone(stack_id, plan_id)

    def test_unsatisfiable_stack_fails(self):
        group = self.make_group('diversity', 'host')
        # Five servers apart on four hosts.
        client, stack_id, stack = self.run_stack(
            self.template(group, len(self.cloud.hosts) + 1),
            expect='CREATE_FAILED')
        self.assertIn(self.failure_words, stack['stack_status_reason'])


class ConvergenceStackTest(StackTests, base.HeatTestCase):

    convergence = True
    # Nova reports the filter's refusal; Valet's explanation is in the
    # engine's log (and in its answer to the filter).
    failure_words = 'No valid host'

    def test_group_declared_in_the_stack(self):
        name = 'apart-%s' % self.id().rsplit('.', 1)[-1][-12:].replace(
            '_', '-')
        client, stack_id, _ = self.run_stack(
            self.template('{get_resource: apart}', 2,
                          GROUP_IN_STACK % name), user='admin')
        self.assert_apart(client, stack_id, 2)
        group = self.valet('GET', '/v1/groups/%s' % name).json()['group']
        self.assertEqual(('diversity', 'host'), (group['type'],
                                                 group['level']))
        client.delete(stack_id)
        self.assertIsNone(client.wait(stack_id))
        self.valet('GET', '/v1/groups/%s' % name, expect=(404,))


class LegacyStackTest(StackTests, base.HeatTestCase):

    convergence = False
    # The lifecycle plugin fails the stack with Valet's explanation.
    failure_words = 'No placement for stack'
