"""What the solver is given as options and what it answers."""

import dataclasses

CONSOLIDATE = 'consolidate'
SPREAD = 'spread'
OBJECTIVES = (CONSOLIDATE, SPREAD)


@dataclasses.dataclass(frozen=True)
class SolverOptions:
    """Knobs of one decision.

    ``max_nodes`` and ``max_work`` (nodes times hosts) bound the search
    deterministically (the same input gives the same answer);
    ``time_budget`` (seconds) is a safety net for the improvement phase
    only: when it cuts that phase, the best placement found so far is the
    answer and the decision says so (``stats['timed_out']``); it never
    turns a placeable request into a refusal. ``improve`` lets the search go on
    after the first valid placement to find a better one, within
    ``improve_work`` (nodes times hosts).
    """

    objective: str = CONSOLIDATE
    time_budget: float = 10.0
    max_nodes: int = 200000
    max_work: int = 3_000_000
    improve_work: int = 100_000
    improve: bool = True
    explain_conflicts: bool = True


@dataclasses.dataclass
class Decision:
    """The answer to one placement request.

    ``assignment`` maps every server the request placed (or kept) to its host
    name; ``removed`` lists servers an update dropped; ``moved`` those an
    update, replan or migrate put on another host. ``optimal`` is True only
    when the search proved no better placement exists for the objective.
    ``objective`` holds ``new_hosts``, ``moves``, ``hosts_used``,
    ``fragmentation``, ``soft_violations`` (weighted), ``soft`` (per soft
    group: ``kind``, ``level``, ``weight``, ``violations``) and ``bound``
    (``soft_violations`` and, consolidating, ``new_hosts``: values the
    search proved no placement goes under; see placement-semantics.rst).
    On failure, ``explanation`` says why (see ``explain.py``).
    """

    feasible: bool
    assignment: dict = dataclasses.field(default_factory=dict)
    removed: list = dataclasses.field(default_factory=list)
    moved: list = dataclasses.field(default_factory=list)
    optimal: bool = False
    proven_infeasible: bool = False
    objective: dict = dataclasses.field(default_factory=dict)
    explanation: dict | None = None
    stats: dict = dataclasses.field(default_factory=dict)

    def to_dict(self):
        return dataclasses.asdict(self)
