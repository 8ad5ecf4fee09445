"""Policies of /v1/groups: admins manage, readers look."""

from valet.policies import base

PREFIX = 'valet:groups:%s'
LIST = PREFIX % 'list'
SHOW = PREFIX % 'show'
CREATE = PREFIX % 'create'
UPDATE = PREFIX % 'update'
DELETE = PREFIX % 'delete'
ADD_MEMBERS = PREFIX % 'members:add'
SHOW_MEMBER = PREFIX % 'members:show'
REMOVE_MEMBERS = PREFIX % 'members:remove'

_ONE = '/v1/groups/{group_id}'

rules = [
    base.documented(LIST, base.ADMIN_OR_SERVICE_OR_ANY_READER,
                    'List groups.', [('GET', '/v1/groups')]),
    base.documented(SHOW, base.ADMIN_OR_SERVICE_OR_ANY_READER,
                    'Show a group by id or name.', [('GET', _ONE)]),
    base.documented(CREATE, base.ADMIN, 'Create a group.',
                    [('POST', '/v1/groups')]),
    base.documented(UPDATE, base.ADMIN, "Change a group's description.",
                    [('PUT', _ONE)]),
    base.documented(DELETE, base.ADMIN, 'Delete a group without members.',
                    [('DELETE', _ONE)]),
    base.documented(ADD_MEMBERS, base.ADMIN,
                    'Add member projects to a group.',
                    [('PUT', _ONE + '/members')]),
    base.documented(SHOW_MEMBER, base.ADMIN_OR_SERVICE_OR_ANY_READER,
                    'Test whether a project is a member of a group.',
                    [('GET', _ONE + '/members/{project_id}')]),
    base.documented(REMOVE_MEMBERS, base.ADMIN,
                    'Remove one or every member project of a group.',
                    [('DELETE', _ONE + '/members'),
                     ('DELETE', _ONE + '/members/{project_id}')]),
]


def list_rules():
    return rules
