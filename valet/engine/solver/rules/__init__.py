"""Group rules, one module per kind, registered here and nowhere else.

Each module implements the protocol of :mod:`.base`; the problem compiles
the request's groups through :data:`REGISTRY`, in its order, and the
search and the explanations only loop over the compiled constraints.
"""

from valet.engine.solver.rules import affinity
from valet.engine.solver.rules import at_most
from valet.engine.solver.rules import diversity
from valet.engine.solver.rules import exclusivity
from valet.engine.solver.rules import soft_affinity
from valet.engine.solver.rules import soft_diversity
from valet.engine.solver.rules import spread

# Compile order: the order constraints are checked and explained in.
MODULES = (affinity, diversity, exclusivity, at_most, spread, soft_affinity,
           soft_diversity)
REGISTRY = {module.KIND: module for module in MODULES}
