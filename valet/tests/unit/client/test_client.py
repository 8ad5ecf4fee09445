"""The client against a real Valet (``valet-api --all-in-one``).

Every v1 resource through a real keystoneauth session over loopback HTTP,
with the server's real engine deciding; errors come back typed with the
API-SIG code the server sent.
"""

import uuid

from keystoneauth1 import fixture as ks_fixture
from keystoneauth1.identity import access as access_plugin
from keystoneauth1 import access
from keystoneauth1 import session as ks_session

from valet import client
from valet.tests.unit.client import fixtures as valet_fixtures

SERVER = 'OS::Nova::Server'


def server(name, flavor='m1.small', groups=None):
    props = {'flavor': flavor}
    if groups:
        props['metadata'] = {'valet': {'groups': groups}}
    return {'name': name, 'type': SERVER, 'properties': props}


class ClientTest(valet_fixtures.WithValetTestCase):

    def setUp(self):
        super().setUp()
        self.client = client.Client(ks_session.Session(
            additional_headers=valet_fixtures.ADMIN_HEADERS),
                                    endpoint_override=self.valet.url,
                                    timeout=60)
        self.suffix = uuid.uuid4().hex[:8]

    def group(self, kind='diversity', level='host'):
        name = 'g-%s-%s' % (kind, self.suffix)
        created = self.client.create_group(name, kind, level,
                                           description='test')
        self.addCleanup(self._delete_group, name)
        self.client.add_members(name, ['noauth-project'])
        return created

    def _delete_group(self, name):
        try:
            self.client.remove_members(name)
            self.client.delete_group(name)
        except client.ValetClientError:
            pass

    def plan(self, count=2, groups=None):
        stack = 'stack-' + self.suffix
        resources = {'%s-%d' % (stack, i): server('vm%d' % i, groups=groups)
                     for i in range(count)}
        plan = self.client.create_plan('app', stack, resources)
        self.addCleanup(self._delete_plan, stack)
        return stack, plan

    def _delete_plan(self, stack):
        try:
            self.client.delete_plan(stack)
        except client.NotFound:
            pass

    def test_version_and_status(self):
        self.assertIn('versions', self.client.versions())
        status = self.client.status()
        self.assertEqual('ok', status['engine']['status'])
        self.assertEqual(6, status['engine']['hosts'])
        self.assertEqual({}, self.client.resources())

    def test_groups_and_members(self):
        group = self.group('exclusivity', 'rack')
        self.assertEqual('exclusivity', group['type'])
        name = group['name']
        shown = self.client.show_group(name)
        self.assertEqual('rack', shown['level'])
        self.assertEqual(['noauth-project'], shown['members'])
        self.assertIn(name, [g['name'] for g in self.client.list_groups()])
        updated = self.client.update_group(name, 'changed')
        self.assertEqual('changed', updated['description'])
        self.client.show_member(name, 'noauth-project')
        self.client.remove_member(name, 'noauth-project')
        error = self.assertRaises(client.NotFound, self.client.show_member,
                                  name, 'noauth-project')
        self.assertEqual(404, error.status)

    def test_group_parameters(self):
        # Each kind is asked for at the microversion that introduced it.
        name = 'near-' + self.suffix
        created = self.client.create_group(name, 'soft-affinity', 'rack',
                                           weight=4)
        self.addCleanup(self._delete_group, name)
        self.assertEqual(4, created['weight'])
        self.assertEqual(4, self.client.show_group(
            name, parameters=True)['weight'])
        self.assertNotIn('weight', self.client.show_group(name))
        limited = 'db-' + self.suffix
        self.assertEqual(2, self.client.create_group(
            limited, 'at-most', 'rack', max_per_domain=2,
            max_skew=None)['max_per_domain'])
        self.addCleanup(self._delete_group, limited)
        listed = {g['name']: g for g in self.client.list_groups(
            parameters=True)}
        self.assertEqual((4, 2), (listed[name]['weight'],
                                  listed[limited]['max_per_domain']))
        error = self.assertRaises(client.BadRequest,
                                  self.client.create_group, 'x', 'affinity',
                                  'host', weight=3)
        self.assertIn('weight', str(error))

    def test_nested_groups(self):
        outer = self.group('diversity', 'host')['name']
        inner = 'in-' + self.suffix
        created = self.client.create_group(inner, 'affinity', 'host',
                                           parents=[outer])
        self.addCleanup(self._delete_group, inner)
        self.assertEqual([outer], created['parents'])
        self.assertEqual([outer], self.client.show_group(
            inner, parents=True)['parents'])
        self.assertNotIn('parents', self.client.show_group(inner))
        self.assertEqual([outer], {
            g['name']: g for g in self.client.list_groups(parents=True)
        }[inner]['parents'])
        error = self.assertRaises(client.BadRequest,
                                  self.client.update_group, outer,
                                  parents=[inner])
        self.assertEqual('valet.group.nesting_cycle', error.code)
        self.client.remove_members(outer)
        error = self.assertRaises(client.Conflict, self.client.delete_group,
                                  outer)
        self.assertEqual('valet.group.has_children', error.code)
        updated = self.client.update_group(inner, parents=[])
        self.assertEqual(([], ''), (updated['parents'],
                                    updated['description']))

    def test_diversity_plan_spreads_and_lists(self):
        group = self.group()
        stack, plan = self.plan(count=3, groups=[group['name']])
        hosts = [p['location'] for p in plan['placements'].values()]
        self.assertEqual(3, len(set(hosts)), hosts)
        self.assertEqual(plan['id'], self.client.show_plan(stack)['id'])
        self.assertIn(plan['id'], [p['id'] for p in self.client.list_plans()])
        listed = self.client.list_placements(plan_id=plan['id'])
        self.assertEqual(3, len(listed))
        self.assertEqual([], self.client.list_placements(
            plan_id=plan['id'], reserved=True))

    def test_reserve_binds_and_replan_moves(self):
        stack, plan = self.plan(count=1)
        oid, planned = next(iter(plan['placements'].items()))
        nova_uuid = str(uuid.uuid4())
        reserved = self.client.reserve(oid, [planned['location'], 'cmp4'],
                                       resource_id=nova_uuid)
        self.assertTrue(reserved['reserved'])
        self.assertEqual(planned['location'], reserved['location'])
        found = self.client.list_placements(resource_id=nova_uuid)
        self.assertEqual([oid], [p['orchestration_id'] for p in found])
        others = [h for h in ('cmp1', 'cmp2', 'cmp3', 'cmp4')
                  if h != planned['location']]
        moved = self.client.replan(oid, others[:1], resource_id=nova_uuid)
        self.assertEqual(others[0], moved['location'])
        self.assertEqual(others[0],
                         self.client.show_placement(oid)['location'])

    def test_reserve_outside_candidates_replans_within_them(self):
        stack, plan = self.plan(count=1)
        oid, planned = next(iter(plan['placements'].items()))
        elsewhere = [h for h in ('cmp1', 'cmp2') if h != planned['location']]
        moved = self.client.reserve(oid, elsewhere)
        self.assertIn(moved['location'], elsewhere)

    def test_update_migrate_and_delete(self):
        stack, plan = self.plan(count=2)
        resources = {'%s-0' % stack: server('vm0'),
                     '%s-9' % stack: server('vm9')}
        updated = self.client.update_plan(stack, resources,
                                          plan_name='renamed')
        self.assertEqual('renamed', updated['name'])
        self.assertEqual(sorted(resources), sorted(updated['placements']))
        current = updated['placements']['%s-0' % stack]['location']
        advice = self.client.migrate(stack, '%s-0' % stack)
        self.assertNotEqual(
            current, advice['placements']['%s-0' % stack]['location'])
        self.client.delete_placement('%s-9' % stack)
        self.assertRaises(client.NotFound, self.client.show_placement,
                          '%s-9' % stack)
        self.client.delete_plan(stack)
        error = self.assertRaises(client.NotFound, self.client.show_plan,
                                  stack)
        self.assertEqual('valet.plan.not_found', error.code)
        self.assertTrue(error.request_id)

    def test_typed_errors_carry_the_api_sig_code(self):
        stack, _plan = self.plan(count=1)
        error = self.assertRaises(
            client.Conflict, self.client.create_plan, 'again', stack,
            {'x': server('x')})
        self.assertEqual('valet.plan.exists', error.code)
        self.assertEqual(409, error.status)
        self.assertFalse(error.is_outage)
        error = self.assertRaises(
            client.BadRequest, self.client.create_group, 'bad name!',
            'diversity', 'host')
        self.assertEqual(400, error.status)
        self.assertTrue(error.code.startswith('valet.'))
        self.assertTrue(error.detail)
        error = self.assertRaises(
            client.NoPlacement, self.client.create_plan, 'big',
            'big-' + self.suffix, {'b': server('b', flavor='m1.huge')})
        self.assertEqual('valet.placement.none', error.code)


class CatalogTest(valet_fixtures.WithValetTestCase):
    """The endpoint comes from a Keystone token's service catalog."""

    def session(self, url):
        token = ks_fixture.V3Token()
        service = token.add_service(client.SERVICE_TYPE, name='valet')
        service.add_standard_endpoints(internal=url, public=url,
                                       region='RegionOne')
        auth = access_plugin.AccessInfoPlugin(
            access.create(body=token, auth_token='not-checked'))
        return ks_session.Session(
            auth=auth, additional_headers=valet_fixtures.ADMIN_HEADERS)

    def test_catalog_endpoint(self):
        valet = client.Client(self.session(self.valet.url + '/v1/'),
                              interface='internal', timeout=60)
        self.assertEqual(self.valet.url, valet.http.endpoint())
        self.assertEqual('ok', valet.status()['engine']['status'])

    def test_no_endpoint(self):
        valet = client.Client(self.session(self.valet.url),
                              region_name='elsewhere', timeout=60)
        self.assertRaises(client.EndpointNotFound, valet.status)
