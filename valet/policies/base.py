"""Personas every Valet policy is written in terms of.

Keystone's default roles imply each other (admin > member > reader), so a
token carries every role it implies; the noauth context does the same.
Plans and placements are project-owned: their rules compare the caller's
project with the object's ``project_id``. Groups are global.
"""

from oslo_policy import policy

ADMIN = 'rule:admin'
SERVICE = 'rule:service'
PROJECT_MEMBER = 'rule:project_member'
PROJECT_READER = 'rule:project_reader'
ANY_READER = 'rule:any_reader'

ADMIN_OR_SERVICE = '%s or %s' % (ADMIN, SERVICE)
ADMIN_OR_PROJECT_MEMBER = '%s or %s' % (ADMIN, PROJECT_MEMBER)
ADMIN_OR_SERVICE_OR_PROJECT_MEMBER = '%s or %s or %s' % (
    ADMIN, SERVICE, PROJECT_MEMBER)
ADMIN_OR_SERVICE_OR_PROJECT_READER = '%s or %s or %s' % (
    ADMIN, SERVICE, PROJECT_READER)
ADMIN_OR_SERVICE_OR_ANY_READER = '%s or %s or %s' % (
    ADMIN, SERVICE, ANY_READER)

SCOPE = ['project']

rules = [
    policy.RuleDefault(
        'admin', 'role:admin',
        description='A cloud administrator: manages groups, sees every '
                    'project.'),
    policy.RuleDefault(
        'service', 'role:service',
        description='An OpenStack service user (the Nova filter): reserves '
                    'and replans placements of any project.'),
    policy.RuleDefault(
        'project_member', 'role:member and project_id:%(project_id)s',
        description='A member of the project that owns the object.'),
    policy.RuleDefault(
        'project_reader', 'role:reader and project_id:%(project_id)s',
        description='A reader of the project that owns the object.'),
    policy.RuleDefault(
        'any_reader', 'role:reader',
        description='Anyone with at least a reader role in some project '
                    '(for global objects such as groups).'),
]


def documented(name, check, description, operations):
    """A project-scoped DocumentedRuleDefault; operations: [(method, path)]."""
    ops = [{'method': method, 'path': path} for method, path in operations]
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=ops, scope_types=SCOPE)


def list_rules():
    return rules
