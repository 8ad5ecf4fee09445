"""The one way a Heat stack becomes a plan (valet.common.heat_stack)."""

import testtools

from valet.common import heat_stack

ROOT = 'a1b2c3d4-0000-4000-8000-000000000000'


def server(path, **props):
    return {'path': path, 'type': heat_stack.SERVER_TYPE,
            'properties': dict({'flavor': 'm1.small', 'image': 'cirros'},
                               **props)}


class PathTest(testtools.TestCase):

    def test_path_from_hints_drops_nested_stack_names(self):
        self.assertEqual(['tier', '1', 'web'], heat_stack.path_from_hints({
            'heat_path_in_stack': ['shop', 'tier,shop-tier-abc',
                                   '1,shop-tier-abc-1-xyz'],
            'heat_resource_name': 'web'}))
        self.assertEqual(['db'], heat_stack.path_from_hints({
            'heat_path_in_stack': ['shop'], 'heat_resource_name': 'db'}))

    def test_resource_names_with_commas(self):
        self.assertEqual(['a,b', 'web'], heat_stack.path_from_hints({
            'heat_path_in_stack': ['shop', 'a,b,shop-ab-x'],
            'heat_resource_name': 'web'}))

    def test_incomplete_hints(self):
        self.assertIsNone(heat_stack.path_from_hints(
            {'heat_resource_name': 'web'}))
        self.assertIsNone(heat_stack.path_from_hints(
            {'heat_path_in_stack': ['shop']}))

    def test_orchestration_ids_are_stable_and_distinct(self):
        one = heat_stack.orchestration_id(ROOT, ['tier', '1', 'web'])
        self.assertEqual(one, heat_stack.orchestration_id(
            ROOT, ('tier', '1', 'web')))
        self.assertNotEqual(one, heat_stack.orchestration_id(
            ROOT, ['tier', '1web']))
        self.assertNotEqual(one, heat_stack.orchestration_id(
            'other', ['tier', '1', 'web']))


class PlanResourcesTest(testtools.TestCase):

    def test_servers_keep_what_the_engine_reads(self):
        out = heat_stack.plan_resources(ROOT, 'shop', [
            server(['db'], user_data='secret', availability_zone='az1',
                   metadata={'role': 'db'}),
            {'path': ['port'], 'type': 'OS::Neutron::Port',
             'properties': {'network': 'n'}}])
        (oid, db), = out.items()
        self.assertEqual(heat_stack.orchestration_id(ROOT, ['db']), oid)
        self.assertEqual({'flavor': 'm1.small', 'image': 'cirros',
                          'availability_zone': 'az1',
                          'metadata': {'role': 'db'}}, db['properties'])
        self.assertEqual({'heat_root_stack_id': ROOT,
                          'heat_stack_name': 'shop',
                          'heat_resource_name': 'db',
                          'heat_resource_path': ['db']}, db['metadata'])

    def test_assignment_of_a_nested_resource_reaches_its_servers(self):
        out = heat_stack.plan_resources(ROOT, 'shop', [
            server(['tier', '0', 'web'],
                   metadata={'valet': '{"groups": ["apart"]}'}),
            server(['tier', '1', 'web']),
            server(['other']),
            {'path': ['together'], 'type': 'OS::Valet::GroupAssignment',
             'properties': {'group': 'rack-mates', 'resources': ['tier']}}])
        groups = {r['name']: r['properties'].get('metadata', {}).get('valet')
                  for r in out.values()}
        self.assertEqual({'tier/0/web': {'groups': ['apart', 'rack-mates']},
                          'tier/1/web': {'groups': ['rack-mates']},
                          'other': None}, groups)

    def test_group_resources_are_referred_to_by_their_names(self):
        # get_resource of an OS::Valet::Group not yet created gives the
        # Heat resource name, also when passed down to a nested stack.
        out = heat_stack.plan_resources(ROOT, 'shop', [
            {'path': ['grp'], 'type': heat_stack.GROUP_TYPE,
             'properties': {'name': 'web-apart'}},
            server(['nest', 'web'], metadata={'valet': {'groups': ['grp']}}),
            {'path': ['nest', 'assign'],
             'type': 'OS::Valet::GroupAssignment',
             'properties': {'group': 'grp', 'resources': ['web']}}])
        (web,) = out.values()
        self.assertEqual({'groups': ['web-apart']},
                         web['properties']['metadata']['valet'])
