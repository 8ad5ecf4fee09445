"""Terse builders of data centres and requests for the solver's tests.

Every feasible placement a test gets from :meth:`SolverTestCase.place` has
already passed the independent validator, and the data-centre model has
been checked to be unchanged by the decision.
"""

import copy
import itertools

import numpy as np
from oslotest import base as oslo_base

from valet.engine.model import datacenter
from valet.engine.model import errors
from valet.engine.model import groups as groups_mod
from valet.engine.model import host as host_mod
from valet.engine.model import request as request_mod
from valet.engine import solver
from valet.engine.solver import validator

VCPU = 'VCPU'
RAM = 'MEMORY_MB'
DISK = 'DISK_GB'


def demand(vcpus=1, ram=512, disk=1, **extra):
    """A demand dict over the standard resource classes (plus ``extra``)."""
    out = {VCPU: vcpus, RAM: ram, DISK: disk}
    out.update(extra)
    return out


def host_name(rack, index):
    return 'r%dh%d' % (rack, index)


def host(name, rack='r0', zone='z0', region='g0', vcpus=8, ram=16384,
         disk=100, az=None, **kw):
    """One HostSpec; ``az`` defaults to the zone's name."""
    kw.setdefault('capacity', {VCPU: vcpus, RAM: ram, DISK: disk})
    return host_mod.HostSpec(
        name=name, domains={'rack': rack, 'zone': zone, 'region': region},
        availability_zone=zone if az is None else az, **kw)


def make_hosts(racks=2, hosts_per_rack=4, vcpus=8, ram=16384, disk=100,
               zones=1, **kw):
    """Hosts ``r<R>h<H>`` in racks ``r<R>``; rack R is in zone ``z<R % zones>``.

    ``hosts_per_rack`` may be a list (one count per rack).
    """
    if isinstance(hosts_per_rack, int):
        hosts_per_rack = [hosts_per_rack] * racks
    out = []
    for rk in range(racks):
        for hi in range(hosts_per_rack[rk]):
            out.append(host(host_name(rk, hi), rack='r%d' % rk,
                            zone='z%d' % (rk % zones), vcpus=vcpus, ram=ram,
                            disk=disk, **kw))
    return out


def placed(sid, on, vcpus=1, ram=512, disk=1, groups=(), stack=None,
           **extra):
    """A server already running on host ``on``."""
    return datacenter.PlacedServer(id=sid, host=on,
                                   demand=demand(vcpus, ram, disk, **extra),
                                   groups=tuple(groups), stack=stack)


def build(hosts, existing=(), groups=()):
    return datacenter.DataCenter.build(hosts=hosts, servers=existing,
                                       groups=groups)


def make_dc(racks=2, hosts_per_rack=4, vcpus=8, ram=16384, disk=100,
            zones=1, existing=(), groups=(), **kw):
    """A regular data centre (see :func:`make_hosts`) with placed servers."""
    return build(make_hosts(racks, hosts_per_rack, vcpus, ram, disk, zones,
                            **kw), existing, groups)


def server(sid, vcpus=1, ram=512, disk=1, groups=(), **kw):
    """One server to place; ``kw`` goes to ServerRequest."""
    extra = kw.pop('extra_demand', {})
    return request_mod.ServerRequest(
        id=sid, demand=demand(vcpus, ram, disk, **extra),
        groups=tuple(groups), **kw)


def group(name, kind, level='host', parents=(), max_per_domain=None,
          max_skew=None):
    """A group definition; an at-most group allows 2 per domain and a
    spread group a skew of 1 unless told otherwise."""
    if kind == groups_mod.AT_MOST and max_per_domain is None:
        max_per_domain = 2
    if kind == groups_mod.SPREAD and max_skew is None:
        max_skew = 1
    return groups_mod.Group(name=name, kind=kind, level=level,
                            parents=tuple(parents),
                            max_per_domain=max_per_domain, max_skew=max_skew)


def affinity(name, level='host', parents=()):
    return group(name, groups_mod.AFFINITY, level, parents)


def diversity(name, level='host', parents=()):
    return group(name, groups_mod.DIVERSITY, level, parents)


def exclusivity(name, level='host', parents=()):
    return group(name, groups_mod.EXCLUSIVITY, level, parents)


def request(servers, groups=(), kind=request_mod.CREATE, stack=None, **kw):
    return request_mod.PlacementRequest(servers=list(servers),
                                        groups=list(groups), kind=kind,
                                        stack=stack, **kw)


def soft_cost(dc, req, assignment):
    """Weighted soft violations of ``assignment``, as the validator counts
    them."""
    counted = validator.soft_violations(dc, req, assignment)
    return sum(c['weight'] * c['violations'] for c in counted.values())


def new_hosts(dc, assignment):
    """Hosts ``assignment`` puts servers on that run none yet."""
    return len({h for h in assignment.values() if not dc.servers_on(h)})


def fewest(dc, req, hosts, cost):
    """The least ``cost(assignment)`` of any assignment of the request's
    servers to ``hosts`` that the validator passes (None: none does), by
    trying every one."""
    ids = [s.id for s in req.servers]
    best = None
    for combo in itertools.product(hosts, repeat=len(ids)):
        assignment = dict(zip(ids, combo))
        if validator.validate(dc, req, assignment):
            continue
        found = cost(assignment)
        if best is None or found < best:
            best = found
    return best


def snapshot(dc):
    """What a decision must not change in the model."""
    arrays = dc.arrays()
    return {
        'generation': dc.generation,
        'arrays': {f: np.array(getattr(arrays, f), copy=True)
                   for f in ('capacity', 'used', 'present', 'enabled',
                             'count', 'attr', 'domain')},
        'servers': copy.deepcopy(dc.servers),
        'groups': dict(dc.groups),
        'group_servers': {name: set(dc.group_servers(name))
                          for name in dc.groups},
    }


class SolverTestCase(oslo_base.BaseTestCase):
    """Calls the solver and checks every feasible answer independently."""

    def decide(self, dc, req, **opts):
        """decide() with checks that the model is left alone."""
        options = solver.SolverOptions(**opts) if opts else None
        before = snapshot(dc)
        decision = solver.decide(dc, req, options)
        self.assertModelUnchanged(before, dc)
        if decision.feasible:
            validator.assert_valid(dc, req, decision.assignment,
                                   decision.removed)
        return decision

    def place(self, dc, req, **opts):
        """A feasible, validated decision (the test fails otherwise)."""
        decision = self.decide(dc, req, **opts)
        self.assertTrue(decision.feasible,
                        'expected a placement; explanation: %s' % (
                            (decision.explanation or {}).get('summary'),))
        return decision

    def infeasible(self, dc, req, **opts):
        """An infeasible decision with an explanation."""
        decision = self.decide(dc, req, **opts)
        self.assertFalse(decision.feasible,
                         'expected no placement, got %s' % (
                             decision.assignment,))
        self.assertIsNotNone(decision.explanation)
        self.assertIsInstance(decision.explanation.get('summary'), str)
        self.assertTrue(decision.explanation['summary'].strip())
        return decision

    def assertInvalid(self, code, dc, req, **opts):
        before = snapshot(dc)
        options = solver.SolverOptions(**opts) if opts else None
        err = self.assertRaises(errors.InvalidRequest, solver.decide,
                                dc, req, options)
        self.assertEqual(code, err.code, str(err))
        self.assertModelUnchanged(before, dc)
        return err

    def assertModelUnchanged(self, before, dc):
        after = snapshot(dc)
        self.assertEqual(before['generation'], after['generation'])
        for name, arr in before['arrays'].items():
            np.testing.assert_array_equal(arr, after['arrays'][name],
                                          err_msg=name)
        self.assertEqual(before['servers'], after['servers'])
        self.assertEqual(before['groups'], after['groups'])
        self.assertEqual(before['group_servers'], after['group_servers'])

    # Small conveniences on assignments.
    @staticmethod
    def rack_of(dc, hostname):
        return dc.domain_of(hostname, 'rack')

    def hosts_of(self, decision, ids):
        return {decision.assignment[s] for s in ids}

    def racks_of(self, dc, decision, ids):
        return {self.rack_of(dc, decision.assignment[s]) for s in ids}
