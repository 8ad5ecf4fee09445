"""Custom constraint ``valet.group_name`` (entry point ``heat.constraints``).

Group names are RFC 3986 unreserved characters, 1 to 255 of them — the
rule Valet's API applies — so a bad name fails the template's validation
instead of the stack's creation.
"""

import re

from heat.engine import constraints

_NAME = re.compile(r'^[A-Za-z0-9._~-]{1,255}$')


class GroupNameConstraint(constraints.BaseCustomConstraint):

    def validate(self, value, context, template=None):
        if isinstance(value, str) and _NAME.match(value):
            return True
        self._error_message = (
            '"%s" is not a Valet group name: use 1 to 255 letters, digits '
            'or . _ ~ -' % value)
        return False
