"""Policy of /v1/status (engine health)."""

from valet.policies import base

SHOW = 'valet:status:show'

rules = [
    base.documented(SHOW, base.ADMIN_OR_SERVICE,
                    'Ping the placement engine and report its health.',
                    [('GET', '/v1/status'), ('HEAD', '/v1/status')]),
]


def list_rules():
    return rules
