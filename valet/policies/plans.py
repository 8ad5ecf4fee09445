"""Policies of /v1/plans: project-owned, members write, readers read."""

from valet.policies import base

PREFIX = 'valet:plans:%s'
LIST = PREFIX % 'list'
LIST_ALL_PROJECTS = PREFIX % 'list_all_projects'
SHOW = PREFIX % 'show'
CREATE = PREFIX % 'create'
CREATE_FOR_PROJECT = PREFIX % 'create_for_project'
UPDATE = PREFIX % 'update'
MIGRATE = PREFIX % 'migrate'
DELETE = PREFIX % 'delete'

_ONE = '/v1/plans/{plan_id}'

rules = [
    base.documented(LIST, base.ADMIN_OR_SERVICE_OR_PROJECT_READER,
                    "List plans (the caller's project's only, unless "
                    'valet:plans:list_all_projects allows every project).',
                    [('GET', '/v1/plans')]),
    base.documented(LIST_ALL_PROJECTS, base.ADMIN_OR_SERVICE,
                    'List the plans of every project.',
                    [('GET', '/v1/plans')]),
    base.documented(SHOW, base.ADMIN_OR_SERVICE_OR_PROJECT_READER,
                    'Show a plan by plan id or stack id.', [('GET', _ONE)]),
    base.documented(CREATE, base.ADMIN_OR_PROJECT_MEMBER,
                    "Place a stack; the plan belongs to the caller's "
                    'project.', [('POST', '/v1/plans')]),
    base.documented(CREATE_FOR_PROJECT, base.ADMIN_OR_SERVICE,
                    'Place servers for another project (project_id, '
                    "microversion 1.3): the plan, its groups' membership "
                    'checks and exclusivity belong to that project.',
                    [('POST', '/v1/plans')]),
    base.documented(UPDATE, base.ADMIN_OR_PROJECT_MEMBER,
                    'Re-plan a stack (action "update").', [('PUT', _ONE)]),
    base.documented(MIGRATE, base.ADMIN_OR_PROJECT_MEMBER,
                    'Ask where one server of a plan should move (action '
                    '"migrate"); advice only, nothing moves.',
                    [('PUT', _ONE)]),
    base.documented(DELETE, base.ADMIN_OR_PROJECT_MEMBER,
                    'Delete a plan and its placements.', [('DELETE', _ONE)]),
]


def list_rules():
    return rules
