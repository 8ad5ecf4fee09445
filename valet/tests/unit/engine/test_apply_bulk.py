"""``apply_decision`` places new servers in bulk (``DataCenter.place_all``):
the model must end exactly as with one ``place`` per server, in order,
errors included."""

import dataclasses
import random

import numpy as np
from oslotest import base as oslo_base

from valet.engine.model import datacenter
from valet.engine.model import errors
from valet.engine import solver
from valet.engine.solver import decision as decision_mod
from valet.tests.unit.engine import base


def one_by_one(dc, request, decision):
    """The plain path: ``apply_decision`` as a ``place`` per server."""
    for group in request.groups:
        if group.name not in dc.groups or group.parents:
            dc.define_group(group)
    for sid in decision.removed:
        dc.remove_server(sid)
    given = {s.id: s for s in request.servers}
    for sid, host in decision.assignment.items():
        placed = dc.servers.get(sid)
        if placed is not None:
            spec = given.get(sid)
            dc.remove_server(sid)
            if spec is not None:
                placed = dataclasses.replace(
                    placed, demand=dict(spec.demand), groups=spec.groups,
                    name=spec.name)
            dc.place(dataclasses.replace(placed, host=host))
            continue
        spec = given[sid]
        dc.place(datacenter.PlacedServer(
            id=sid, host=host, demand=dict(spec.demand), groups=spec.groups,
            project=request.project, stack=request.stack, name=spec.name))


def state(dc):
    """Everything placing changes, orders and bits included."""
    return {
        'generation': dc.generation,
        'servers': list(dc.servers.items()),
        'used': dc._used.tobytes(), 'used_shape': dc._used.shape,
        'count': dc._count.tobytes(),
        'host_servers': {k: sorted(v) for k, v in dc._host_servers.items()},
        'direct': {k: sorted(v) for k, v in dc._direct.items()},
        'resource_classes': list(dc.resource_classes),
    }


def amount(rng):
    return rng.choice([
        rng.randint(0, 64), rng.random() * 1e3, 0.1, 1e-17,
        rng.randint(2 ** 53, 2 ** 60), float('nan'), np.float32(0.3)])


class PlaceAllTest(oslo_base.BaseTestCase):

    def _case(self, rng, servers=60):
        hosts = base.make_hosts(racks=2, hosts_per_rack=6)
        existing = [base.placed('old%d' % i, hosts[i % 12].name,
                                vcpus=rng.randint(0, 2), groups=['g1'])
                    for i in range(10)]
        names = [h.name for h in hosts] + (['ghost'] if rng.random() < .2
                                           else [])
        reqs, assignment = [], {}
        for i in range(servers):
            extra = {}
            if rng.random() < .1:
                extra['CUSTOM_%d' % rng.randint(0, 2)] = amount(rng)
            sid = 'old%d' % rng.randint(0, 9) if rng.random() < .1 else \
                's%d' % i
            reqs.append(base.server(
                sid, vcpus=amount(rng), ram=amount(rng), disk=1,
                groups=rng.sample(['g1', 'g2', 'g3'], rng.randint(0, 2)),
                extra_demand=extra))
            assignment[sid] = rng.choice(names)
        if rng.random() < .1:
            # Neither in the request nor in the model.
            at = rng.randint(0, len(assignment))
            items = list(assignment.items())
            items.insert(at, ('stray', names[0]))
            assignment = dict(items)
        removed = ['old%d' % i for i in range(10) if rng.random() < .1]
        request = base.request(reqs, stack='st', project='pr')
        decision = decision_mod.Decision(feasible=True,
                                         assignment=assignment,
                                         removed=removed)
        return hosts, existing, request, decision

    def _both(self, seed, servers=60):
        rng = random.Random(seed)
        hosts, existing, request, decision = self._case(rng, servers)
        out = []
        for apply in (solver.apply_decision, one_by_one):
            dc = base.build(hosts, [dataclasses.replace(s)
                                    for s in existing])
            try:
                apply(dc, request, decision)
                error = None
            except (errors.ModelError, KeyError) as exc:
                error = (type(exc), str(exc))
            out.append((error, state(dc)))
        return out

    def test_same_model_as_one_place_per_server(self):
        failed = 0
        for seed in range(150):
            for servers in (3, 60):
                bulk, plain = self._both(seed, servers)
                self.assertEqual(plain[0], bulk[0], seed)
                self.assertEqual(plain[1], bulk[1], seed)
                failed += plain[0] is not None
        # Both the errors and the successes were compared.
        self.assertTrue(0 < failed < 280, failed)

    def test_bulk_sums_in_order(self):
        # Amounts whose sum depends on the order of the additions.
        dc = base.make_dc(racks=1, hosts_per_rack=1)
        other = base.make_dc(racks=1, hosts_per_rack=1)
        host = dc.host_name(0)
        servers = [datacenter.PlacedServer(
            id='s%d' % i, host=host, demand={base.VCPU: a})
            for i, a in enumerate([1e16, 1.0, 1.0, -1e16, 0.1] * 4)]
        dc.place_all(servers)
        for s in servers:
            other.place(s)
        self.assertEqual(state(other), state(dc))
