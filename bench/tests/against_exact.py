"""Valet's solver and the exact CP-SAT model on the same instances.

The checks every comparison makes, whatever the group kinds: the same
feasibility, a proof from valet wherever the reference proves there is
no placement, and valid placements from both.
"""

from bench import exact
from valet.engine import solver
from valet.engine.solver import validator

# Only the node budget stops the search: the answer does not depend on
# how busy the machine is.
OPTIONS = solver.SolverOptions(time_budget=120)
# Instances the reference must decide in time for a comparison to count.
MIN_CHECKED = 12


def compared(test, instances):
    """(instance, model, decision, reference assignment, reference info)
    of every instance both place, once the common checks passed; fails
    ``test`` when fewer than MIN_CHECKED instances were decided."""
    checked = 0
    for inst in instances:
        dc = inst.make_dc()
        ref, info = exact.solve(dc, inst.request, time_limit=20)
        if ref is None and not info['proven_infeasible']:
            continue        # the reference could not tell in time
        decision = solver.decide(dc, inst.request, OPTIONS)
        test.assertEqual(ref is not None, decision.feasible, inst.name)
        checked += 1
        if ref is None:
            test.assertTrue(decision.proven_infeasible, inst.name)
            continue
        test.assertEqual([], validator.validate(dc, inst.request, ref),
                         inst.name)
        test.assertEqual([], validator.validate(
            dc, inst.request, decision.assignment), inst.name)
        yield inst, dc, decision, ref, info
    test.assertGreaterEqual(checked, MIN_CHECKED)
