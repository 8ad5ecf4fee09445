"""Policies of /v1/placements: project-owned; the service user reserves."""

from valet.policies import base

PREFIX = 'valet:placements:%s'
LIST = PREFIX % 'list'
LIST_ALL_PROJECTS = PREFIX % 'list_all_projects'
SHOW = PREFIX % 'show'
RESERVE = PREFIX % 'reserve'
REPLAN = PREFIX % 'replan'
DELETE = PREFIX % 'delete'

_ONE = '/v1/placements/{placement_id}'

rules = [
    base.documented(LIST, base.ADMIN_OR_SERVICE_OR_PROJECT_READER,
                    "List and filter placements (the caller's project's "
                    'only, unless valet:placements:list_all_projects allows '
                    'every project).', [('GET', '/v1/placements')]),
    base.documented(LIST_ALL_PROJECTS, base.ADMIN_OR_SERVICE,
                    'List the placements of every project.',
                    [('GET', '/v1/placements')]),
    base.documented(SHOW, base.ADMIN_OR_SERVICE_OR_PROJECT_READER,
                    'Show a placement by id or orchestration id.',
                    [('GET', _ONE)]),
    base.documented(RESERVE, base.ADMIN_OR_SERVICE_OR_PROJECT_MEMBER,
                    'Reserve a placement among candidate hosts (action '
                    '"reserve").', [('POST', _ONE)]),
    base.documented(REPLAN, base.ADMIN_OR_SERVICE_OR_PROJECT_MEMBER,
                    'Re-place one server within candidate hosts (action '
                    '"replan").', [('POST', _ONE)]),
    base.documented(DELETE, base.ADMIN_OR_PROJECT_MEMBER,
                    'Delete a placement.', [('DELETE', _ONE)]),
]


def list_rules():
    return rules
