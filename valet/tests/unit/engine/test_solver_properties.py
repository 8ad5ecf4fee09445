"""Property tests of the solver against the independent validator.

Random small data centres (racks of hosts with varied capacities, some
placed servers in named groups the model knows) and random requests
(servers in affinity, diversity and exclusivity groups at host and rack
level, legally nested). For tiny instances an exhaustive search over host
assignments, with the validator as its oracle, says what is possible.
"""

import itertools

import hypothesis
from hypothesis import strategies as st

from valet.engine import solver
from valet.engine.model import errors
from valet.engine.model import groups as g
from valet.engine.model import request as request_mod
from valet.engine.solver import validator
from valet.tests.unit.engine import base

LEVELS = ('host', 'rack')
# Node-bounded and with a generous time net, so that answers are
# deterministic and the suite stays fast.
OPTIONS = dict(max_nodes=4000, time_budget=30.0)
SETTINGS = hypothesis.settings(
    max_examples=min(100, hypothesis.settings().max_examples),
    suppress_health_check=[hypothesis.HealthCheck.too_slow,
                           hypothesis.HealthCheck.filter_too_much])


def between(low, high):
    """An integer in [low, high], drawn evenly (not biased to small)."""
    return st.sampled_from(range(low, high + 1))


@st.composite
def group_defs(draw, prefix, count, parents_from=()):
    """Groups ``<prefix><k>``; a group may nest in an earlier one."""
    out = []
    for k in range(count):
        kind = draw(st.sampled_from(g.KINDS))
        level = draw(st.sampled_from(LEVELS))
        legal = [p for p in list(parents_from) + out
                 if (kind == g.AFFINITY or p.kind == g.AFFINITY)
                 and LEVELS.index(p.level) >= LEVELS.index(level)]
        parents = ()
        if legal and draw(st.booleans()):
            parents = (draw(st.sampled_from(legal)).name,)
        out.append(base.group('%s%d' % (prefix, k), kind, level, parents))
    return out


@st.composite
def scenarios(draw, max_racks=4, max_hosts_per_rack=6, max_hosts=None,
              max_servers=10, max_existing=6, update=True):
    """(DataCenter, PlacementRequest)."""
    racks = draw(between(2, max_racks))
    hosts = []
    for rk in range(racks):
        for hi in range(draw(between(1 if max_hosts else 2,
                                     max_hosts_per_rack))):
            hosts.append(base.host(
                base.host_name(rk, hi), rack='r%d' % rk,
                vcpus=draw(st.sampled_from((4, 8, 16))),
                ram=draw(st.sampled_from((4096, 8192, 16384))),
                disk=100, enabled=draw(st.sampled_from((True,) * 7 +
                                                       (False,)))))
    if max_hosts:
        hypothesis.assume(len(hosts) <= max_hosts)
    names = [h.name for h in hosts]
    model_groups = draw(group_defs('M', draw(between(0, 2))))
    existing = []
    for k in range(draw(between(0, max_existing))):
        sid = 'o%d' % k
        stack = draw(st.sampled_from((None, 's'))) if update else None
        existing.append(base.placed(
            sid, draw(st.sampled_from(names)), vcpus=1, ram=512,
            groups=draw(st.lists(st.sampled_from(
                [m.name for m in model_groups]), max_size=2, unique=True))
            if model_groups else (), stack=stack))
    existing = without_drift(hosts, existing, model_groups)
    stack_ids = [srv.id for srv in existing if srv.stack]
    dc = base.build(hosts, existing, model_groups)

    new_groups = draw(group_defs('G', draw(between(0, 3)),
                                 parents_from=model_groups))
    usable = [x.name for x in model_groups + new_groups]
    servers = []
    kind = request_mod.CREATE
    if update and stack_ids and draw(st.booleans()):
        kind = request_mod.UPDATE
        for sid in draw(st.lists(st.sampled_from(stack_ids), unique=True)):
            old = dc.servers[sid]
            servers.append(request_mod.ServerRequest(
                id=sid, demand=dict(old.demand), groups=old.groups))
    for k in range(draw(between(0 if servers else 1,
                                max_servers - len(servers)))):
        servers.append(base.server(
            'n%d' % k, vcpus=draw(between(1, 8)),
            ram=draw(st.sampled_from((512, 1024, 2048, 4096))),
            disk=draw(between(1, 20)),
            groups=draw(st.lists(st.sampled_from(usable), max_size=2,
                                 unique=True)) if usable else ()))
    req = base.request(servers, new_groups, kind=kind,
                       stack='s' if kind == request_mod.UPDATE else None)
    return dc, req


def without_drift(hosts, existing, model_groups):
    """The placed servers, less those that would break a group rule.

    The model's state is one valet itself could have produced: servers are
    kept in order while all of them, placed at once, form a valid request
    (no server in two exclusivity groups at one level, say) and the
    validator finds nothing wrong. (Drift has its own unit tests.)
    """
    empty = base.build(hosts, (), model_groups)
    kept = []
    for srv in existing:
        trial = kept + [srv]
        req = base.request([request_mod.ServerRequest(
            id=s.id, demand=dict(s.demand), groups=s.groups,
            candidate_hosts={s.host}) for s in trial])
        try:
            solver.decide(empty, req, solver.SolverOptions(**OPTIONS))
        except errors.InvalidRequest:
            continue
        if not validator.validate(empty, req, {s.id: s.host for s in trial}):
            kept = trial
    return kept


@st.composite
def wild_scenarios(draw):
    """Scenarios with some illegal bits: bad nesting, names, demands."""
    dc, req = draw(scenarios(max_racks=3, max_hosts_per_rack=3,
                             max_servers=6))
    kinds = g.KINDS + ('bogus',)
    levels = LEVELS + ('zone', 'pod')
    names = ['G%d' % k for k in range(3)] + ['M0', 'nope']
    groups = [base.group('G%d' % k, draw(st.sampled_from(kinds)),
                         draw(st.sampled_from(levels)),
                         draw(st.lists(st.sampled_from(names), max_size=2)))
              for k in range(draw(between(0, 3)))]
    servers = list(req.servers)
    for k, srv in enumerate(servers):
        if draw(st.booleans()):
            srv.groups = tuple(draw(st.lists(st.sampled_from(names),
                                             max_size=3)))
        if draw(st.integers(0, 9)) == 0:
            srv.demand = draw(st.sampled_from(
                ({}, {'VCPU': -1}, {'VCPU': 'x'}, {'CUSTOM_X': 1})))
    if servers and draw(st.integers(0, 9)) == 0:
        servers.append(servers[0])
    kind = draw(st.sampled_from((req.kind,) * 4 + (
        request_mod.ADHOC, request_mod.REPLAN, request_mod.MIGRATE)))
    target = draw(st.sampled_from(sorted(dc.servers) + ['ghost']))
    return dc, base.request(servers, groups, kind=kind, stack=req.stack,
                            target=target)


def brute_force(dc, req):
    """Every valid assignment's objective (exhaustive; tiny only): weighted
    soft violations, then new hosts (the lexicographic cost)."""
    hosts = sorted(dc.hosts)
    free = {h: dc.free(h) for h in hosts}
    empty = {h for h in hosts if not dc.servers_on(h)}
    options = []
    for srv in req.servers:
        options.append([h for h in hosts if dc.hosts[h].enabled and all(
            free[h].get(rc, 0) + 1e-9 >= amount
            for rc, amount in srv.demand.items())])
    found = []
    for combo in itertools.product(*options):
        load = {}
        fits = True
        for srv, h in zip(req.servers, combo):
            used = load.setdefault(h, {})
            for rc, amount in srv.demand.items():
                used[rc] = used.get(rc, 0) + amount
                if used[rc] > free[h].get(rc, 0) + 1e-9:
                    fits = False
        if not fits:
            continue
        assignment = {srv.id: h for srv, h in zip(req.servers, combo)}
        if not validator.validate(dc, req, assignment):
            soft = validator.soft_violations(dc, req, assignment)
            found.append((sum(v['weight'] * v['violations']
                              for v in soft.values()),
                          len(set(combo) & empty)))
    return found


def decide_or_skip(dc, req, **opts):
    """The decision, or None for a request rejected as invalid."""
    try:
        return solver.decide(dc, req, solver.SolverOptions(**opts))
    except errors.InvalidRequest:
        return None


class TestSolverProperties(base.SolverTestCase):

    @SETTINGS
    @hypothesis.given(scenarios())
    def test_feasible_decisions_are_valid(self, scenario):
        dc, req = scenario
        before = base.snapshot(dc)
        decision = decide_or_skip(dc, req, **OPTIONS)
        self.assertModelUnchanged(before, dc)
        if decision is None or not decision.feasible:
            return
        found = validator.validate(dc, req, decision.assignment,
                                   decision.removed)
        self.assertEqual([], found)
        self.assertEqual({s.id for s in req.servers},
                         set(decision.assignment))

    @SETTINGS
    @hypothesis.given(scenarios(), st.sampled_from(solver.decision.OBJECTIVES))
    def test_decisions_are_valid_for_each_objective(self, scenario, objective):
        dc, req = scenario
        decision = decide_or_skip(dc, req, objective=objective, **OPTIONS)
        if decision is not None and decision.feasible:
            validator.assert_valid(dc, req, decision.assignment,
                                   decision.removed)

    @SETTINGS
    @hypothesis.given(wild_scenarios())
    def test_only_invalid_request_is_raised(self, scenario):
        dc, req = scenario
        before = base.snapshot(dc)
        try:
            decision = solver.decide(dc, req, solver.SolverOptions(**OPTIONS))
        except errors.InvalidRequest as err:
            self.assertTrue(err.code.startswith('valet.request.'), err.code)
        else:
            if decision.feasible:
                validator.assert_valid(dc, req, decision.assignment,
                                       decision.removed)
            else:
                self.assertTrue(decision.explanation['summary'])
        self.assertModelUnchanged(before, dc)

    @SETTINGS
    @hypothesis.given(scenarios())
    def test_deterministic(self, scenario):
        dc, req = scenario
        first = decide_or_skip(dc, req, **OPTIONS)
        if first is None:
            return
        again = decide_or_skip(dc, req, **OPTIONS)
        self.assertEqual(first.feasible, again.feasible)
        self.assertEqual(first.assignment, again.assignment)
        self.assertEqual(first.removed, again.removed)
        self.assertEqual(first.moved, again.moved)
        self.assertEqual(first.objective, again.objective)

    @SETTINGS
    @hypothesis.given(scenarios(max_racks=3, max_hosts_per_rack=2,
                                max_hosts=6, max_servers=5, max_existing=3,
                                update=False))
    def test_agrees_with_brute_force(self, scenario):
        dc, req = scenario
        decision = decide_or_skip(dc, req, **OPTIONS)
        if decision is None:
            return
        found = brute_force(dc, req)
        if decision.feasible:
            self.assertTrue(found, 'decide placed %s; brute force found '
                            'nothing' % decision.assignment)
            mine = (decision.objective['soft_violations'],
                    decision.objective['new_hosts'])
            if decision.optimal:
                self.assertEqual(min(found), mine)
            else:
                self.assertGreaterEqual(mine, min(found))
        else:
            self.assertFalse(found, 'brute force found a placement (best '
                             '%s); decide: %s' % (
                                 min(found) if found else None,
                                 decision.explanation['summary']))
            if decision.proven_infeasible:
                self.assertEqual([], found)
