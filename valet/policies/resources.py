"""Policy of /v1/resources (placements that break their groups)."""

from valet.policies import base

LIST = 'valet:resources:list'

rules = [
    base.documented(LIST, base.ADMIN_OR_SERVICE,
                    'List servers whose placement breaks their group rules, '
                    'across every project.', [('GET', '/v1/resources')]),
]


def list_rules():
    return rules
