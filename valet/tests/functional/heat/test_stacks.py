"""Heat stacks placed by Valet, under Heat's convergence engine and under
the legacy engine with Valet's lifecycle plugin.

Real heat-api and heat-engine (MariaDB, RabbitMQ, real Keystone) create
real servers in the compute cloud, whose scheduler runs ValetFilter.
Under convergence the first server of each stack makes Valet read the
stack from Heat and plan it whole; under the legacy engine the lifecycle
plugin plans it before any server exists — except a stack that declares
its own groups (OS::Valet::Group), which exist only once Heat creates
them: the plugin leaves it to the engine, which reads it from Heat at its
first server as under convergence. ``StackTests`` runs the same stacks on
both engines. Hosts are checked on Nova's view
(``OS-EXT-SRV-ATTR:host`` of every server in the cloud) by
``assert_rules``, which knows the rules and nothing of Valet's code.
"""

import uuid

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

# A group stack of its own, as an administrator keeps shared groups.
GROUP_STACK = '''
heat_template_version: 2021-04-16
parameters:
  project: {type: string}
resources:
  rack_alone:
    type: OS::Valet::Group
    properties:
      name: %s
      type: exclusivity
      level: rack
      description: a rack of its own
      members: [{get_param: project}]
outputs:
  level: {value: {get_attr: [rack_alone, level]}}
'''

# Affinity nested in diversity across nested templates: each tier (a
# nested template, twice through a ResourceGroup) keeps its two servers on
# one host, and the tiers are on different racks.
TIERS = '''
heat_template_version: 2021-04-16
resources:
  tiers:
    type: OS::Valet::Group
    properties: {name: %(name)s, type: diversity, level: rack}
  tier:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def:
        type: tier.yaml
        properties:
          name: %(name)s-%%index%%
          parent: {get_resource: tiers}
'''

TIER = '''
heat_template_version: 2021-04-16
parameters:
  name: {type: string}
  parent: {type: string}
resources:
  together:
    type: OS::Valet::Group
    properties:
      name: {get_param: name}
      type: affinity
      level: host
      parents: [{get_param: parent}]
%(servers)s
outputs:
  parents: {value: {get_attr: [together, parents]}}
'''

TIER_SERVER = '''
  %(name)s:
    type: OS::Nova::Server
    properties:
      flavor: valet.small
      image: %(image)s
      networks: [{allocate_network: none}]
      metadata: {valet: {groups: [{get_resource: together}]}}
'''


class StackTests:
    """The same stacks for both Heat engines."""

    def template(self, group, count=3, extra=''):
        return RESOURCE_GROUP % {'count': count, 'group': group,
                                 'image': self.cloud.image_id,
                                 'extra': extra}

    def group_name(self, what):
        return '%s-%s' % (what, uuid.uuid4().hex[:8])

    # ------------------------------------------------------------ checker
    def cloud_hosts(self):
        """{server id: host} of every server in the cloud, from Nova."""
        servers = self.cloud.compute(
            'GET', '/servers/detail?all_tenants=1').json()['servers']
        return {s['id']: self.cloud.host_of(s) for s in servers
                if s['status'] != 'DELETED'}

    def domain(self, host, level):
        return host if level == 'host' else self.rack_of(host)

    def assert_rules(self, groups, members):
        """Every group holds on Nova's view. ``groups``: name -> (type,
        level); ``members``: name -> Nova server ids."""
        everywhere = self.cloud_hosts()
        for name, (kind, level) in groups.items():
            ids = set(members[name])
            where = [self.domain(everywhere[s], level) for s in ids]
            self.assertEqual(len(ids), len(where), name)
            if kind == 'affinity':
                self.assertEqual(1, len(set(where)), (name, where))
            elif kind == 'diversity':
                self.assertEqual(len(where), len(set(where)), (name, where))
            else:
                outsiders = {s: h for s, h in everywhere.items()
                             if s not in ids
                             and self.domain(h, level) in set(where)}
                self.assertEqual({}, outsiders, (name, where))

    def servers_by_name(self, client, stack_id):
        return {r['resource_name']: r['physical_resource_id']
                for r in client.resources(stack_id)
                if r['resource_type'] == 'OS::Nova::Server'}

    def assert_apart(self, client, stack_id, count):
        hosts = self.server_hosts(client, stack_id)
        self.assertEqual(count, len(hosts), hosts)
        self.assertEqual(count, len(set(hosts.values())), hosts)
        plan = self.valet('GET', '/v1/plans/%s' % stack_id).json()['plan']
        planned = sorted(p['location'] for p in plan['placements'].values()
                         if p['location'])
        self.assertEqual(sorted(hosts.values()), planned)
        return hosts

    def delete_and_check(self, client, stack_id):
        plan_id = self.valet('GET', '/v1/plans/%s' % stack_id).json()[
            'plan']['id']
        client.delete(stack_id)
        self.assertIsNone(client.wait(stack_id))
        self.assert_plan_gone(stack_id, plan_id)

    # -------------------------------------------------------------- tests
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
        self.delete_and_check(client, stack_id)

    def test_affinity_and_exclusivity_with_a_group_from_another_stack(self):
        # The rack-level exclusivity group comes from an administrator's
        # stack; the others from Valet's API.
        rack_alone = self.group_name('rack-alone')
        admin = self.stack_client('admin')
        groups_stack = admin.create(
            self.group_name('groups'), GROUP_STACK % rack_alone,
            parameters={'project': self.cloud.keystone.ids['alpha']})
        self.addCleanup(self.delete_stack, admin, groups_stack)
        stack = admin.wait(groups_stack)
        self.assertEqual('CREATE_COMPLETE', stack['stack_status'],
                         stack.get('stack_status_reason'))
        self.assertEqual({'level': 'rack'}, admin.outputs(groups_stack))
        together = self.make_group('affinity', 'host')
        host_alone = self.make_group('exclusivity', 'host')
        rules = {together: ('affinity', 'host'),
                 host_alone: ('exclusivity', 'host'),
                 rack_alone: ('exclusivity', 'rack')}
        servers = {'a1': [together], 'a2': [together], 'solo': [host_alone],
                   'r1': [rack_alone], 'r2': [rack_alone], 'free': []}
        # Four hosts in two racks: one rack for r1 and r2, one host for
        # solo, the last for the affinity pair and the free server.
        client, stack_id, _ = self.run_stack(
            self.server_template(servers))
        ids = self.servers_by_name(client, stack_id)
        members = {g: [ids[s] for s, names in servers.items()
                       if g in names] for g in rules}
        self.assert_rules(rules, members)
        first = self.cloud_hosts()
        # Update: a third server joins the pair, the free one goes.
        del servers['free']
        servers['a3'] = [together]
        client.update(stack_id, self.server_template(servers))
        self.assertEqual('UPDATE_COMPLETE',
                         client.wait(stack_id)['stack_status'])
        ids = self.servers_by_name(client, stack_id)
        self.assertNotIn('free', ids)
        members = {g: [ids[s] for s, names in servers.items()
                       if g in names] for g in rules}
        self.assert_rules(rules, members)
        now = self.cloud_hosts()
        for name in ('a1', 'a2', 'solo', 'r1', 'r2'):
            self.assertEqual(first[ids[name]], now[ids[name]], name)
        self.delete_and_check(client, stack_id)
        # Groups of the other stack go with it, once no server uses them.
        admin.delete(groups_stack)
        self.assertIsNone(admin.wait(groups_stack))
        self.valet('GET', '/v1/groups/%s' % rack_alone, expect=(404,))

    def test_unsatisfiable_stack_fails_with_valets_reason(self):
        group = self.make_group('diversity', 'host')
        # Five servers apart on four hosts.
        client, stack_id, stack = self.run_stack(
            self.template(group, len(self.cloud.hosts) + 1),
            expect='CREATE_FAILED')
        # The lifecycle plugin's refusal, or (convergence) the filter's
        # NoValidHost in the server's fault (Nova keeps 255 characters of
        # it): Valet's explanation either way.
        self.assertIn('No placement for stack', stack['stack_status_reason'])

    def test_group_declared_in_the_stack(self):
        name = self.group_name('apart')
        client, stack_id, _ = self.run_stack(
            self.template('{get_resource: apart}', 2,
                          GROUP_IN_STACK % name), user='admin')
        self.assert_apart(client, stack_id, 2)
        group = self.valet('GET', '/v1/groups/%s' % name).json()['group']
        self.assertEqual(('diversity', 'host'), (group['type'],
                                                 group['level']))
        self.delete_and_check(client, stack_id)
        self.valet('GET', '/v1/groups/%s' % name, expect=(404,))

    def test_affinity_nested_in_diversity_across_nested_templates(self):
        name = self.group_name('tiers')
        tier = TIER % {'servers': ''.join(
            TIER_SERVER % {'name': server, 'image': self.cloud.image_id}
            for server in ('web', 'db'))}
        client, stack_id, _ = self.run_stack(
            TIERS % {'name': name}, files={'tier.yaml': tier}, user='admin')
        placed = {}
        for res in client.resources(stack_id):
            if res['resource_type'] != 'OS::Nova::Server':
                continue
            # A tier's servers are in the ResourceGroup member "0" or "1".
            placed.setdefault(res.get('parent_resource'), []).append(
                res['physical_resource_id'])
        self.assertEqual(['0', '1'], sorted(placed))
        tiers = {'%s-%s' % (name, i): ('affinity', 'host') for i in placed}
        members = {'%s-%s' % (name, i): ids for i, ids in placed.items()}
        self.assert_rules(tiers, members)
        # The diversity group holds the tiers: a rack each.
        racks = {i: {self.rack_of(self.cloud_hosts()[s]) for s in ids}
                 for i, ids in placed.items()}
        self.assertEqual(1, len(racks['0']), racks)
        self.assertNotEqual(racks['0'], racks['1'])
        for i in placed:
            resp = self._session('admin').request(
                self.cloud.valet_url + '/v1/groups/%s-%s' % (name, i), 'GET',
                headers={'OpenStack-API-Version': 'workload-placement 1.4'})
            self.assertEqual([name], resp.json()['group']['parents'])
        self.delete_and_check(client, stack_id)
        self.valet('GET', '/v1/groups/%s' % name, expect=(404,))


class ConvergenceStackTest(StackTests, base.HeatTestCase):

    convergence = True


class LegacyStackTest(StackTests, base.HeatTestCase):

    convergence = False
