"""The placement solver: search, constraints, objective, explanations.

Pure computation over a :class:`valet.engine.model.datacenter.DataCenter`
and a :class:`valet.engine.model.request.PlacementRequest`; no I/O. The
entry point is :func:`decide`; :func:`apply_decision` records a decision in
the model.
"""

from valet.engine.solver.decide import apply_decision  # noqa: F401
from valet.engine.solver.decide import decide  # noqa: F401
from valet.engine.solver.decision import Decision  # noqa: F401
from valet.engine.solver.decision import SolverOptions  # noqa: F401
