"""Every way of joining a group counts (through the real API and engine).

A server joins a group through its metadata, an
``OS::Valet::GroupAssignment`` of its plan (by group name, id, or
``get_resource`` of an ``OS::Valet::Group`` resource), or its flavor's
``valet`` extra spec; ``valet.objects.membership`` reads them all, for the
API and the engine alike. SQLite only: no storage behaviour is involved
beyond what ``test_group_state`` runs on every database.
"""

import json

from valet.tests.functional.api_groups import base

FLAVORS = {
    'm1.small': {'vcpus': 1, 'ram': 512, 'disk': 1},
    'm1.spread': {'vcpus': 1, 'ram': 512, 'disk': 1,
                  'extra_specs': {'valet': json.dumps({'groups': ['fg']})}},
    'm1.ghost': {'vcpus': 1, 'ram': 512, 'disk': 1,
                 'extra_specs': {'valet': json.dumps({'groups': ['nobody']})}},
}


def assignment(group, *servers):
    return {'name': 'assign', 'type': 'OS::Valet::GroupAssignment',
            'properties': {'group': group, 'resources': list(servers)}}


class MembershipTest(base.APIGroupsTestCase):

    def setUp(self):
        super().setUp()
        self.start(flavors=FLAVORS)

    def pair(self, group_ref, servers=('a', 'b'), extra=None):
        resources = {'oa': base.server('a'), 'ob': base.server('b'),
                     'as': assignment(group_ref, *servers)}
        resources.update(extra or {})
        return resources

    def test_assignment_by_name_spreads_the_servers(self):
        self.post_group('dg', 'diversity')
        hosts = self.post_plan('s1', self.pair('dg'))
        self.assertEqual(2, len(set(hosts.values())), hosts)
        self.assertEqual({'oa', 'ob'}, set(hosts))
        self.assertEqual({'oa', 'ob'}, self.aio.model.group_servers('dg'))

    def test_assignment_by_id_and_get_resource(self):
        group = self.post_group('dg', 'diversity')
        hosts = self.post_plan('s1', self.pair(group['id'], servers=(
            {'get_resource': 'a'}, 'ob')))
        self.assertEqual(2, len(set(hosts.values())), hosts)
        declared = {'name': 'the_group', 'type': 'OS::Valet::Group',
                    'properties': {'name': 'dg2', 'type': 'diversity',
                                   'level': 'host'}}
        self.post_group('dg2', 'diversity')
        hosts = self.post_plan('s2', {
            'oc': base.server('c'), 'od': base.server('d'),
            'grp': declared,
            'as': assignment({'get_resource': 'the_group'}, 'c', 'd')})
        self.assertEqual(2, len(set(hosts.values())), hosts)

    def test_assignment_adds_to_metadata_groups(self):
        self.post_group('dg', 'diversity')
        self.post_group('aff', 'affinity')
        resources = self.pair('dg')
        resources['oa'] = base.server('a', ['aff'])
        resources['oc'] = base.server('c', ['aff'])
        hosts = self.post_plan('s1', resources)
        self.assertEqual(hosts['oa'], hosts['oc'])
        self.assertNotEqual(hosts['oa'], hosts['ob'])

    def test_legacy_assignment_names_a_group(self):
        self.post_group('dg', 'diversity')
        resources = {'oa': base.server('a'), 'ob': base.server('b'),
                     'as': {'name': 'as',
                            'type': 'ATT::Valet::GroupAssignment',
                            'properties': {'group_name': 'dg',
                                           'group_type': 'diversity',
                                           'level': 'host',
                                           'resources': ['a', 'b']}}}
        hosts = self.post_plan('s1', resources)
        self.assertEqual(2, len(set(hosts.values())), hosts)

    def test_unknown_group_is_a_404_naming_it(self):
        error = self.post_plan('s1', self.pair('nowhere'), status=404)
        self.assertEqual('valet.group.not_found', error['code'])
        self.assertIn("'nowhere'", error['detail'])
        self.assertEqual([], self.aio.store.list_plans())

    def test_bad_assignments_are_400(self):
        self.post_group('dg', 'diversity')
        cases = [
            assignment(None, 'a', 'b'),
            assignment('dg'),
            assignment('dg', 'a', 'missing'),
            assignment('dg', 'a', 'as'),
            assignment({'get_resource': 'a'}, 'a', 'b'),
            assignment(['dg'], 'a', 'b'),
        ]
        for bad in cases:
            resources = {'oa': base.server('a'), 'ob': base.server('b'),
                         'as': bad}
            error = self.post_plan('s1', resources, status=400)
            self.assertEqual('valet.group.metadata_invalid', error['code'],
                             bad)
        self.assertEqual([], self.aio.store.list_plans())

    def test_flavor_extra_spec_group_counts(self):
        self.post_group('fg', 'diversity')
        hosts = self.post_plan('s1', {
            'oa': base.server('a', flavor='m1.spread'),
            'ob': base.server('b', flavor='m1.spread')})
        self.assertEqual(2, len(set(hosts.values())), hosts)
        self.assertEqual({'oa', 'ob'}, self.aio.model.group_servers('fg'))

    def test_flavor_naming_an_unknown_group_is_a_404(self):
        error = self.post_plan('s1', {
            'oa': base.server('a', flavor='m1.ghost')}, status=404)
        self.assertEqual('valet.group.not_found', error['code'])
        self.assertIn("'nobody'", error['detail'])
        self.assertIn('m1.ghost', error['detail'])

    def test_flavor_group_project_must_be_a_member(self):
        group = self.post_group('fg', 'diversity')
        self.aio.call('PUT', '/v1/groups/%s/members' % group['id'],
                      {'members': ['p7']}, status=201)
        error = self.post_plan('s1', {
            'oa': base.server('a', flavor='m1.spread')}, status=409)
        self.assertEqual('valet.group.not_member', error['code'])
