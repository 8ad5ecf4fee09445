"""Property test: groups created in any order, running members, random plans.

Random small clouds (racks of hosts) with running servers that name random
groups; each group is created before the engine starts, after it (between
plans), or never. Random plans join created groups. Through the engine's
endpoint (memory storage, an inventory snapshot) every answer is checked:

* a placement passes the independent validator against the full state
  the engine had before the plan (running servers with every membership,
  pending ones included once their group exists, and earlier plans);
* a refusal that claims a proof is truly infeasible (exhaustive search
  over host assignments, the validator as oracle), and any other refusal
  says that the search budget stopped it;
* a rebuilt engine (restart) has the same memberships.
"""

import copy

from oslo_config import cfg
from oslotest import base
import hypothesis
from hypothesis import strategies as st
from oslo_messaging.rpc import dispatcher as rpc_dispatcher

from valet.common import exception
from valet import conf as valet_conf
from valet.engine.model import datacenter
from valet.engine.model import groups as g
from valet.engine.model import host as host_mod
from valet.engine.model import request as request_mod
from valet.engine import service
from valet.engine.solver import validator
from valet.inventory import base as inventory_base
from valet import objects
from valet.storage import memory
from valet.tests.unit.engine import test_solver_properties as props

LEVELS = ('host', 'rack')
FLAVORS = {'small': {'name': 'small', 'id': '1', 'vcpus': 1, 'ram': 512,
                     'disk': 1},
           'large': {'name': 'large', 'id': '2', 'vcpus': 3, 'ram': 512,
                     'disk': 1}}
DEMAND = {name: {'VCPU': f['vcpus'], 'MEMORY_MB': 512, 'DISK_GB': 1}
          for name, f in FLAVORS.items()}
# A flavor per group whose ``valet`` extra spec joins it.
GROUP_FLAVORS = {
    'small+g%d' % k: dict(FLAVORS['small'], name='small+g%d' % k,
                          id='1%d' % k, extra_specs={
                              'valet': '{"groups": ["g%d"]}' % k})
    for k in range(4)}
# How a new server joins its groups.
WAYS = ('metadata', 'assignment', 'flavor')
SETTINGS = hypothesis.settings(
    max_examples=min(40, hypothesis.settings().max_examples),
    suppress_health_check=[hypothesis.HealthCheck.too_slow])
BEFORE, AFTER, NEVER = 'before', 'after', 'never'


@st.composite
def clouds(draw):
    racks = draw(st.integers(2, 3))
    hosts = []
    for rk in range(racks):
        for hi in range(draw(st.integers(1, 3))):
            hosts.append(host_mod.HostSpec(
                name='r%dh%d' % (rk, hi),
                capacity={'VCPU': draw(st.sampled_from([2, 4, 6])),
                          'MEMORY_MB': 65536, 'DISK_GB': 1000},
                domains={'rack': 'r%d' % rk}, availability_zone='nova'))
    groups = []
    for k in range(draw(st.integers(1, 4))):
        groups.append((
            'g%d' % k, draw(st.sampled_from(g.V1_KINDS)),
            draw(st.sampled_from(LEVELS)),
            draw(st.sampled_from([BEFORE, AFTER, AFTER, NEVER]))))
    names = [name for name, _, _, _ in groups]
    running, load = [], {}
    for i in range(draw(st.integers(0, 5))):
        on = draw(st.sampled_from(hosts))
        if load.get(on.name, 0) + 1 > on.capacity['VCPU']:
            continue
        load[on.name] = load.get(on.name, 0) + 1
        running.append(datacenter.PlacedServer(
            id='run%d' % i, host=on.name, demand=dict(DEMAND['small']),
            groups=tuple(draw(st.lists(st.sampled_from(names + ['ghost']),
                                       max_size=2, unique=True))),
            project='p0', name='running-%d' % i))
    steps = []
    for i in range(draw(st.integers(1, 4))):
        servers = []
        for j in range(draw(st.integers(1, 3))):
            servers.append((draw(st.sampled_from(sorted(FLAVORS))),
                            draw(st.lists(st.sampled_from(names),
                                          max_size=2, unique=True)),
                            draw(st.sampled_from(WAYS))))
        steps.append(servers)
    order = draw(st.permutations(list(range(len(steps) + len(groups)))))
    return hosts, groups, running, steps, order


def call(end, method, **kwargs):
    """An endpoint method called directly, its error unwrapped (RPC would
    re-raise the same exception on the caller's side)."""
    try:
        return getattr(end, method)({}, **kwargs)
    except rpc_dispatcher.ExpectedException as wrapped:
        raise wrapped.exc_info[1]


class Snapshot:
    def __init__(self, hosts, running):
        self.hosts, self.running = hosts, running

    def load(self):
        return inventory_base.InventorySnapshot(
            levels=LEVELS, hosts=copy.deepcopy(self.hosts),
            flavors=copy.deepcopy(dict(FLAVORS, **GROUP_FLAVORS)),
            servers=copy.deepcopy(self.running))


class GroupOrderPropertyTest(base.BaseTestCase):

    def endpoint(self, storage, inventory):
        """An engine endpoint, called directly (no RPC thread)."""
        conf = valet_conf.register_all(cfg.ConfigOpts())
        conf([])
        end = service.EngineEndpoint(conf, storage, inventory)
        end.options = props.base.solver.SolverOptions(**props.OPTIONS)
        end.rebuild()
        return end

    def create(self, end, name, kind, level):
        out = call(end, 'create_group', group={
            'name': name, 'type': kind, 'level': level})
        self.assertEqual(name, out['name'])

    def plan(self, end, index, servers, created):
        """One plan; its servers join groups the way each one drew."""
        resources, requests, assigned = {}, [], {}
        missing = None
        for j, (flavor, groups, way) in enumerate(servers):
            oid, name = 'o%d-%d' % (index, j), 'new-%d-%d' % (index, j)
            usable = [n for n in groups if n in created]
            props_ = {'flavor': flavor}
            if way == 'flavor' and flavor == 'small' and groups:
                # The flavor names the first group, created or not.
                props_['flavor'] = 'small+' + groups[0]
                if groups[0] not in created:
                    missing = missing or groups[0]
            elif way == 'assignment':
                for group in usable:
                    assigned.setdefault(group, []).append(name)
                usable_in_metadata = []
            if way != 'assignment':
                usable_in_metadata = [n for n in usable
                                      if props_['flavor'] != 'small+' + n]
            if usable_in_metadata:
                props_['metadata'] = {'valet': {'groups':
                                                usable_in_metadata}}
            resources[oid] = {'name': name, 'type': 'OS::Nova::Server',
                              'properties': props_}
            requests.append(request_mod.ServerRequest(
                id=oid, demand=dict(DEMAND[flavor]), groups=tuple(usable),
                name=name))
        for group, members in sorted(assigned.items()):
            resources['as-%s' % group] = {
                'name': 'assign-%s' % group,
                'type': 'OS::Valet::GroupAssignment',
                'properties': {'group': group, 'resources': members}}
        if missing is not None:
            err = self.assertRaises(exception.NotFound, call, end,
                                    'create_plan', plan={
                                        'plan_name': 'x', 'stack_id': 'x',
                                        'project_id': 'p1',
                                        'resources': resources})
            self.assertEqual('valet.group.not_found', err.code)
            self.assertIn("'%s'" % missing, err.message)
            return
        before = copy.deepcopy(end.dc)
        req = request_mod.PlacementRequest(
            servers=requests, groups=list(before.groups.values()))
        try:
            out = call(end, 'create_plan', plan={
                'plan_name': 's%d' % index, 'stack_id': 's%d' % index,
                'project_id': 'p1', 'resources': resources, 'groups': {}})
        except exception.NoPlacement as exc:
            why = exc.details
            if why['proven']:
                self.assertEqual([], props.brute_force(before, req),
                                 'refused as impossible: %s' % exc.message)
            else:
                self.assertEqual('search_budget', why['reason'])
                self.assertIn('not proven impossible', exc.message)
            return
        except exception.BadRequest as exc:
            # A request no search could satisfy by construction (two
            # exclusivity groups at one level): a clear 400.
            self.assertEqual('valet.request.multiple_exclusivity',
                             exc.code, exc.message)
            return
        assignment = {oid: p['location']
                      for oid, p in out['placements'].items()}
        violations = validator.validate(before, req, assignment)
        self.assertEqual([], violations, 'placement %s' % assignment)

    @hypothesis.given(clouds())
    @SETTINGS
    def test_any_order_of_groups_and_plans(self, cloud):
        hosts, groups, running, steps, order = cloud
        storage = memory.MemoryStorage()
        created = set()
        for name, kind, level, when in groups:
            if when == BEFORE:
                storage.create_group(objects.Group(name=name, type=kind,
                                                   level=level))
                created.add(name)
        inventory = Snapshot(hosts, running)
        end = self.endpoint(storage, inventory)
        for item in order:
            if item < len(steps):
                self.plan(end, item, steps[item], created)
                continue
            name, kind, level, when = groups[item - len(steps)]
            if when == AFTER:
                self.create(end, name, kind, level)
                created.add(name)
        for name in created:
            # Running servers that named it before it existed are members.
            named = {s.id for s in running if name in s.groups}
            self.assertLessEqual(named, end.dc.group_servers(name))
        restarted = self.endpoint(storage, inventory)
        self.assertEqual(set(end.dc.servers), set(restarted.dc.servers))
        for name in created:
            self.assertEqual(end.dc.group_servers(name),
                             restarted.dc.group_servers(name), name)
