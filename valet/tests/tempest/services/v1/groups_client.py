from valet.tests.tempest.services.v1 import base


class GroupsClient(base.ValetClient):
    """/v1/groups and their members."""

    def list_groups(self):
        return self._get('v1/groups')

    def create_group(self, **group):
        return self._post('v1/groups', group)

    def show_group(self, group_id):
        return self._get('v1/groups/%s' % group_id)

    def update_group(self, group_id, **changes):
        return self._put('v1/groups/%s' % group_id, changes)

    def delete_group(self, group_id):
        return self._delete('v1/groups/%s' % group_id)

    def add_members(self, group_id, members):
        return self._put('v1/groups/%s/members' % group_id,
                         {'members': members})

    def show_member(self, group_id, project_id):
        return self._get('v1/groups/%s/members/%s' % (group_id, project_id),
                         expected=204)

    def remove_members(self, group_id):
        return self._delete('v1/groups/%s/members' % group_id)

    def remove_member(self, group_id, project_id):
        return self._delete('v1/groups/%s/members/%s' % (group_id,
                                                         project_id))
