"""Policy defaults in code, one module per resource.

``list_rules()`` is the ``oslo.policy.policies`` entry point used by the
sample generator and by the enforcer.
"""

import itertools

from valet.policies import base
from valet.policies import capacity
from valet.policies import groups
from valet.policies import placements
from valet.policies import plans
from valet.policies import resources
from valet.policies import status


def list_rules():
    return list(itertools.chain(
        base.list_rules(),
        groups.list_rules(),
        plans.list_rules(),
        placements.list_rules(),
        status.list_rules(),
        resources.list_rules(),
        capacity.list_rules(),
    ))
