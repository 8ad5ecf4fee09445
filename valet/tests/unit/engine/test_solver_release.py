"""A decision frees its search state as it returns.

The trackers, the kept candidates' generators and the proofs' root view
all refer back to their search or problem; :func:`decide` releases every
problem it builds (and ``phases.solve`` its search), so none of them is
left for the cyclic garbage collector. These tests run decisions with the
collector stopped and then ask it what it found unreachable: a search,
problem, root view or tracker there means a reference cycle was left.
"""

import gc

from valet.engine.model import groups as groups_mod
from valet.engine.solver import decide
from valet.tests.unit.engine import base
from valet.tests.unit.engine.base import affinity
from valet.tests.unit.engine.base import diversity
from valet.tests.unit.engine.base import make_dc
from valet.tests.unit.engine.base import request
from valet.tests.unit.engine.base import server

# The solver's own types, by module: none may be left as cyclic garbage.
SOLVER = 'valet.engine.solver'


def _soft_affinity(name, weight=None):
    return groups_mod.Group(name=name, kind=groups_mod.SOFT_AFFINITY,
                            level='host', weight=weight)


class TestNoCyclicGarbage(base.SolverTestCase):

    def left_behind(self, dc, req, solver_only=True):
        """The solver's objects the collector finds unreachable after one
        decision (none should be), and the decision; not
        ``solver_only``: every object's type (functions and cells
        included)."""
        decide(dc, req)             # warm the model's per-generation cache
        was_enabled = gc.isenabled()
        gc.disable()
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            decision = decide(dc, req)
            gc.collect()
            found = sorted({type(o).__module__ + '.' + type(o).__name__
                            for o in gc.garbage
                            if not solver_only
                            or type(o).__module__.startswith(SOLVER)})
        finally:
            gc.set_debug(0)
            del gc.garbage[:]
            if was_enabled:
                gc.enable()
        return found, decision

    def test_feasible_decision_with_soft_groups(self):
        dc = make_dc()
        servers = [server('s%d' % k, 2, groups=['T', 'P%d' % (k // 2)])
                   for k in range(6)]
        groups = [_soft_affinity('T', weight=3)] + [
            affinity('P%d' % k) for k in range(3)]
        found, decision = self.left_behind(dc, request(servers, groups))
        self.assertTrue(decision.feasible)
        self.assertEqual([], found)

    def test_infeasible_decision_with_proofs_and_explanation(self):
        # Ten servers kept on different hosts of eight: the counting
        # proofs and the explanation's rechecks both run.
        dc = make_dc()
        servers = [server('s%d' % k, 1, groups=['D']) for k in range(10)]
        found, decision = self.left_behind(
            dc, request(servers, [diversity('D')]))
        self.assertFalse(decision.feasible)
        self.assertIsNotNone(decision.explanation)
        self.assertEqual([], found)

    def test_nested_groups_leave_nothing(self):
        # Affinity pairs nested in a diversity group: the nesting check
        # walks the parents; nothing of it (no function or cell either)
        # may be left for the collector.
        dc = make_dc()
        pairs = [groups_mod.Group(name='A%d' % k, kind=groups_mod.AFFINITY,
                                  level='host', parents=('D',))
                 for k in range(3)]
        servers = [server('s%d' % k, 2, groups=['A%d' % (k // 2)])
                   for k in range(6)]
        found, decision = self.left_behind(
            dc, request(servers, [diversity('D')] + pairs),
            solver_only=False)
        self.assertTrue(decision.feasible)
        self.assertEqual([], found)
