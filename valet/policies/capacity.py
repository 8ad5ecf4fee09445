"""Policy of /v1/capacity (microversion 1.8): a what-if, nothing stored.

The answer names hosts, as a plan's placements do, so the same people
who may place servers may ask: a project member (for its own project's
groups) or an administrator.
"""

from valet.policies import base

SHOW = 'valet:capacity:show'

rules = [
    base.documented(SHOW, base.ADMIN_OR_PROJECT_MEMBER,
                    'Ask how many more servers of a flavor, in given '
                    'groups, fit and on which hosts or domains; nothing '
                    'is stored or reserved.',
                    [('GET', '/v1/capacity')]),
]


def list_rules():
    return rules
