"""Groups: the admin manages them, every reader reads them."""

from tempest.lib.common.utils import data_utils
from tempest.lib import decorators
from tempest.lib import exceptions as lib_exc

from valet.tests.tempest.tests import base


def _group(body):
    return body['group'] if 'group' in body else body


class GroupsTest(base.BaseValetTest):

    @decorators.idempotent_id('0e0f4a54-6f0c-4f0e-9a8e-3d8f4f1b9a01')
    def test_group_lifecycle(self):
        group = self.create_group(kind='affinity', level='rack',
                                  description='tempest rack affinity')
        self.assertEqual('affinity', group['type'])
        self.assertEqual('rack', group['level'])
        self.assertEqual([], group['members'])

        by_id = _group(self.admin_groups.show_group(group['id']))
        by_name = _group(self.admin_groups.show_group(group['name']))
        self.assertEqual(by_id, by_name)
        self.assertEqual('tempest rack affinity', by_id['description'])
        listed = self.admin_groups.list_groups()['groups']
        self.assertIn(group['id'], [g['id'] for g in listed])

        updated = _group(self.admin_groups.update_group(
            group['id'], description='changed'))
        self.assertEqual('changed', updated['description'])
        self.assertEqual('changed', _group(
            self.admin_groups.show_group(group['id']))['description'])

        self.admin_groups.delete_group(group['id'])
        self.assertRaises(lib_exc.NotFound, self.admin_groups.show_group,
                          group['id'])

    @decorators.idempotent_id('0e0f4a54-6f0c-4f0e-9a8e-3d8f4f1b9a02')
    def test_members(self):
        group = self.create_group()
        member = self.project_id('member')
        alt = self.project_id('alt')
        body = _group(self.admin_groups.add_members(group['id'],
                                                    [member, alt]))
        self.assertEqual(sorted([member, alt]), sorted(body['members']))
        self.admin_groups.show_member(group['id'], member)
        self.admin_groups.remove_member(group['id'], alt)
        self.assertRaises(lib_exc.NotFound, self.admin_groups.show_member,
                          group['id'], alt)
        # A group with members cannot be deleted; without, it can.
        self.assertRaises(lib_exc.Conflict, self.admin_groups.delete_group,
                          group['id'])
        self.admin_groups.remove_members(group['id'])
        self.assertEqual([], _group(
            self.admin_groups.show_group(group['id']))['members'])
        self.admin_groups.delete_group(group['id'])

    @decorators.idempotent_id('0e0f4a54-6f0c-4f0e-9a8e-3d8f4f1b9a03')
    def test_invalid_group_is_refused_with_its_code(self):
        exc = self.assertRaises(
            lib_exc.BadRequest, self.admin_groups.create_group,
            name=data_utils.rand_name('valet-tempest'),
            type='anti-affinity', level='host')
        self.assertErrorCode(exc, 400, 'valet.request.invalid')

    @decorators.idempotent_id('0e0f4a54-6f0c-4f0e-9a8e-3d8f4f1b9a04')
    def test_duplicate_name_conflicts(self):
        group = self.create_group()
        self.assertRaises(lib_exc.Conflict, self.admin_groups.create_group,
                          name=group['name'], type='affinity', level='host')

    @decorators.idempotent_id('0e0f4a54-6f0c-4f0e-9a8e-3d8f4f1b9a05')
    def test_missing_group_is_not_found(self):
        exc = self.assertRaises(lib_exc.NotFound,
                                self.admin_groups.show_group,
                                data_utils.rand_uuid())
        self.assertErrorCode(exc, 404, 'valet.group.not_found')

    # Members and readers read groups; only the admin changes them.

    @decorators.idempotent_id('0e0f4a54-6f0c-4f0e-9a8e-3d8f4f1b9a11')
    def test_member_and_reader_read_groups(self):
        group = self.create_group()
        for persona in ('member', 'alt', 'reader'):
            client = self.client(persona, 'GroupsClient')
            listed = client.list_groups()['groups']
            self.assertIn(group['id'], [g['id'] for g in listed], persona)
            self.assertEqual(group['id'],
                             _group(client.show_group(group['id']))['id'])

    @decorators.idempotent_id('0e0f4a54-6f0c-4f0e-9a8e-3d8f4f1b9a12')
    def test_member_and_reader_cannot_change_groups(self):
        group = self.create_group()
        for persona in ('member', 'reader'):
            client = self.client(persona, 'GroupsClient')
            self.assertRaises(lib_exc.Forbidden, client.create_group,
                              name=data_utils.rand_name('valet-tempest'),
                              type='affinity', level='host')
            self.assertRaises(lib_exc.Forbidden, client.update_group,
                              group['id'], description='mine')
            self.assertRaises(lib_exc.Forbidden, client.add_members,
                              group['id'], [self.project_id(persona)])
            self.assertRaises(lib_exc.Forbidden, client.delete_group,
                              group['id'])
        # Nothing changed.
        self.assertEqual(group, _group(
            self.admin_groups.show_group(group['id'])))
