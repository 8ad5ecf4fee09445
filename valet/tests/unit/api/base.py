"""Test base for the REST API: a noauth app over in-memory storage.

``FakeEngineAPI`` stands in for ``valet.engine.rpcapi.EngineAPI``: same
methods and message shapes, canned decisions (round-robin hosts). It
exists so these tests exercise the API alone; the real engine and its RPC
endpoint are tested in ``valet/tests/unit/engine``.
"""

import dataclasses
import itertools
import json

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import testtools
import webtest

from valet.api import app as api_app
from valet.common import exception
from valet import conf as valet_conf
from valet import objects
from valet import policy
from valet.storage import base as storage_base
from valet.storage import memory

HOSTS = ('host1', 'host2', 'host3', 'host4')
SERVER = 'OS::Nova::Server'
# A flavor the fake engine cannot place anywhere.
UNPLACEABLE = 'm1.enormous'


class FakeEngineAPI:
    """A stand-in for ``rpcapi.EngineAPI`` (see the module docstring).

    ``calls`` records (method, kwargs); ``fail_with`` makes the next call
    raise; ``group_servers`` maps group names to the placed servers
    ``group_members`` reports; ``invalid`` is what ``invalid_placements``
    returns.
    """

    def __init__(self, storage, hosts=HOSTS):
        self.storage = storage
        self.hosts = list(hosts)
        self.calls = []
        self.fail_with = None
        self.group_servers = {}
        self.invalid = {}

    def _record(self, method, **kwargs):
        self.calls.append((method, kwargs))
        if self.fail_with is not None:
            exc, self.fail_with = self.fail_with, None
            raise exc

    def calls_to(self, method):
        return [kw for name, kw in self.calls if name == method]

    # ------------------------------------------------------------ helpers
    def _place(self, resources, locations, plan, project_id):
        hosts = itertools.cycle(locations or self.hosts)
        out = []
        for orch_id, res in sorted(resources.items()):
            if res.get('type') != SERVER:
                continue
            props = res.get('properties') or {}
            if props.get('flavor') == UNPLACEABLE:
                raise exception.NoPlacement(
                    'No host can take server %s' % orch_id,
                    details={'reason': 'capacity', 'servers': [orch_id],
                             'ruled_out': {'vcpus': len(self.hosts)}})
            out.append(objects.Placement(
                name=res['name'], orchestration_id=orch_id, plan_id=plan.id,
                location=next(hosts), metadata=dict(res.get('metadata') or {}),
                spec={'properties': props}, project_id=project_id))
        return out

    def _plan_dict(self, plan):
        return _result(plan, self.storage.list_placements(
            filters={'plan_id': plan.id}))

    # ----------------------------------------------------- EngineAPI calls
    def ping(self, ctxt):
        self._record('ping')
        return {'engine': {'status': 'ok', 'host': 'fake-engine'},
                'storage': self.storage.health()}

    def create_plan(self, ctxt, plan):
        self._record('create_plan', plan=plan)
        # As the engine (valet.engine.planning.create): the stack first.
        try:
            self.storage.get_plan(plan['stack_id'])
        except storage_base.NotFound:
            pass
        else:
            raise exception.Conflict(
                'A plan for stack %s already exists' % plan['stack_id'],
                code='valet.plan.exists')
        new = objects.Plan(name=plan['plan_name'], stack_id=plan['stack_id'],
                           project_id=plan['project_id'])
        placements = self._place(plan['resources'], plan.get('locations'),
                                 new, new.project_id)
        self.storage.create_plan(new, placements)
        return _result(new, placements)

    def update_plan(self, ctxt, plan_id, resources, groups,
                    original_resources=None, plan_name=None):
        self._record('update_plan', plan_id=plan_id, resources=resources,
                     groups=groups, original_resources=original_resources,
                     plan_name=plan_name)
        plan = self.storage.get_plan(plan_id)
        old = {p.orchestration_id: p for p in self.storage.list_placements(
            filters={'plan_id': plan.id})}
        fresh = self._place({k: v for k, v in resources.items()
                             if k not in old}, None, plan, plan.project_id)
        kept = [p for k, p in old.items() if k in resources]
        removed = [p.id for k, p in old.items() if k not in resources]
        if plan_name:
            plan.name = plan_name
        self.storage.save_plan(plan, kept + fresh, removed)
        return self._plan_dict(self.storage.get_plan(plan.id))

    def migrate(self, ctxt, plan_id, resource, excluded_hosts):
        self._record('migrate', plan_id=plan_id, resource=resource,
                     excluded_hosts=excluded_hosts)
        plan = self.storage.get_plan(plan_id)
        for p in self.storage.list_placements(filters={'plan_id': plan.id}):
            if resource in (p.orchestration_id, p.resource_id):
                banned = set(excluded_hosts) | {p.location}
                p.location = [h for h in self.hosts if h not in banned][0]
                p.reserved = False
                self.storage.update_placement(p)
        return self._plan_dict(plan)

    # RPC 1.1 plan calls: recorded under the 1.0 names above.
    def plan_create(self, ctxt, plan, dry_run=False):
        return self.create_plan(ctxt, plan)

    def plan_update(self, ctxt, plan_id, resources, groups, dry_run=False,
                    **kwargs):
        return self.update_plan(ctxt, plan_id, resources, groups, **kwargs)

    def plan_migrate(self, ctxt, plan_id, resource, excluded_hosts):
        return self.migrate(ctxt, plan_id, resource, excluded_hosts)

    def delete_plan(self, ctxt, plan_id):
        self._record('delete_plan', plan_id=plan_id)
        self.storage.delete_plan(plan_id)

    def reserve(self, ctxt, placement_id, locations, resource_id):
        self._record('reserve', placement_id=placement_id,
                     locations=locations, resource_id=resource_id)
        p = self.storage.get_placement(placement_id)
        if p.location not in locations:
            p.location = locations[0]
        p.reserved, p.resource_id = True, resource_id
        return self.storage.update_placement(p).to_dict()

    def replan(self, ctxt, placement_id, locations, resource_id):
        self._record('replan', placement_id=placement_id,
                     locations=locations, resource_id=resource_id)
        p = self.storage.get_placement(placement_id)
        p.location = ([h for h in locations if h != p.location]
                      or locations)[0]
        p.reserved, p.resource_id = True, resource_id
        return self.storage.update_placement(p).to_dict()

    # RPC 1.1 placement calls: the 1.0 answers hold the same fields.
    def placement_reserve(self, ctxt, *args):
        return self.reserve(ctxt, *args)

    def placement_replan(self, ctxt, *args):
        return self.replan(ctxt, *args)

    def placement_reserve_stack_server(self, ctxt, **kwargs):
        return self.reserve_stack_server(ctxt, **kwargs)

    def delete_placement(self, ctxt, placement_id):
        self._record('delete_placement', placement_id=placement_id)
        self.storage.delete_placement(placement_id)

    def group_members(self, ctxt, group_name):
        self._record('group_members', group_name=group_name)
        return list(self.group_servers.get(group_name, []))

    # Group changes: stored as the real engine stores them; the in-use
    # checks read ``group_servers``.
    def _group(self, ref):
        try:
            return self.storage.get_group(ref)
        except storage_base.NotFound:
            raise exception.NotFound("Group '%s' not found" % ref,
                                     code='valet.group.not_found')

    def create_group(self, ctxt, group, project_id=None):
        # Nesting rules are the engine's (tested with the real engine in
        # valet/tests/functional/api_groups/test_nesting.py).
        self._record('create_group', group=group, project_id=project_id)
        new = objects.Group(**group)
        try:
            return (self.storage.create_group(new) or new).portable()
        except storage_base.Conflict:
            raise exception.Conflict("A group named '%s' already exists"
                                     % new.name, code='valet.group.duplicate')

    def _update(self, ref, mutate):
        # Lost races are retried, as the engine does.
        for _attempt in range(3):
            group = self._group(ref)
            mutate(group)
            try:
                return (self.storage.update_group(group) or group).portable()
            except storage_base.Conflict:
                continue
        raise exception.Conflict('Group %s is being changed; retry' % ref,
                                 code='valet.storage.conflict')

    def update_group(self, ctxt, group_id, description=None, parents=None,
                     project_id=None):
        self._record('update_group', group_id=group_id,
                     description=description, parents=parents,
                     project_id=project_id)

        def mutate(group):
            if description is not None:
                group.description = description
            if parents is not None:
                group.parents = list(parents)
        return self._update(group_id, mutate)

    def add_group_members(self, ctxt, group_id, members):
        self._record('add_group_members', group_id=group_id, members=members)
        return self._update(group_id, lambda g: setattr(
            g, 'members', list(g.members) + [
                m for m in members if m not in g.members]))

    def remove_group_members(self, ctxt, group_id, project_id=None):
        self._record('remove_group_members', group_id=group_id,
                     project_id=project_id)
        group = self._group(group_id)
        if project_id is not None and project_id not in group.members:
            raise exception.NotFound(
                'Project %s is not a member of group %s.' % (
                    project_id, group.name),
                code='valet.group.member_not_found')
        wanted = group.members if project_id is None else [project_id]
        busy = {s.get('project_id')
                for s in self.group_servers.get(group.name, [])}
        if busy & set(wanted):
            raise exception.Conflict(
                'Project(s) %s still have servers in group %s' % (
                    ', '.join(sorted(busy & set(wanted))), group.name),
                code='valet.group.member_in_use')
        self._update(group.id, lambda g: setattr(
            g, 'members', [m for m in g.members if m not in wanted]))

    def delete_group(self, ctxt, group_id):
        self._record('delete_group', group_id=group_id)
        group = self._group(group_id)
        if group.members:
            raise exception.Conflict('group %s has members' % group.name,
                                     code='valet.group.has_members')
        if self.group_servers.get(group.name):
            raise exception.Conflict('servers still belong to group %s'
                                     % group.name,
                                     code='valet.group.member_in_use')
        self.storage.delete_group(group.id)

    def invalid_placements(self, ctxt):
        self._record('invalid_placements')
        return dict(self.invalid)


def _result(plan, placements):
    """A plan result as the engine's RPC answers it (dry runs are
    tested against the real engine)."""
    return {'plan': dataclasses.asdict(plan),
            'placements': [dataclasses.asdict(p) for p in placements],
            'decision': {'feasible': True, 'optimal': False,
                         'objective': {'hosts_used': len(
                             {p.location for p in placements})},
                         'moved': [], 'removed': []},
            'dry_run': False, 'removed': []}


def roles_headers(project, *roles):
    return {'X-Project-Id': project, 'X-User-Id': 'user-' + project,
            'X-Roles': ','.join(roles)}


ADMIN = roles_headers('adminproject', 'admin')
MEMBER = roles_headers('project1', 'member')
READER = roles_headers('project1', 'reader')
OTHER = roles_headers('project2', 'member')
SERVICE = roles_headers('serviceproject', 'service')


def server(name, flavor='m1.small', groups=None, metadata=None,
           as_json=False):
    """A HOT server resource as the Heat plugin sends it."""
    props = {'flavor': flavor, 'image': 'cirros'}
    if groups is not None:
        valet = {'groups': groups}
        props['metadata'] = {'valet': json.dumps(valet) if as_json
                             else valet}
    res = {'name': name, 'type': SERVER, 'properties': props}
    if metadata is not None:
        res['metadata'] = metadata
    return res


class APITestCase(testtools.TestCase):
    """A fresh app, storage and fake engine per test."""

    auth_strategy = 'noauth'

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        policy.reset()
        self.addCleanup(policy.reset)
        self.conf = self.make_conf()
        self.build_app()

    def build_app(self):
        """(Re)build empty storage, the fake engine and the app."""
        self.storage = memory.MemoryStorage(self.conf)
        self.storage.upgrade()
        self.engine = FakeEngineAPI(self.storage)
        self.app = webtest.TestApp(api_app.setup_app(
            self.conf, self.engine, self.storage))

    def make_conf(self):
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf([], project='valet', default_config_files=[])
        # oslo.config shares option groups between ConfigOpts objects; the
        # fixture undoes every override when the test ends.
        self.config_fixture = self.useFixture(config_fixture.Config(conf))
        self.flags(auth_strategy=self.auth_strategy, group='api')
        return conf

    def flags(self, group=None, **kwargs):
        self.config_fixture.config(group=group, **kwargs)

    # ------------------------------------------------------------ requests
    def request(self, method, path, body=None, headers=ADMIN, status=None,
                raw=None, content_type='application/json'):
        """Send a request; ``body`` is JSON-encoded, ``raw`` sent as is."""
        kwargs = {'method': method, 'headers': dict(headers or {}),
                  'expect_errors': True}
        if raw is not None or body is not None:
            data = raw if raw is not None else json.dumps(body)
            kwargs['body'] = data.encode('utf-8') if isinstance(
                data, str) else data
            if content_type:
                kwargs['content_type'] = content_type
        resp = self.app.request(path, **kwargs)
        if status is not None:
            self.assertEqual(status, resp.status_int,
                             '%s %s: %s' % (method, path, resp.text))
        return resp

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, body=None, **kw):
        return self.request('POST', path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request('PUT', path, body, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    def assertError(self, resp, status, code=None):
        """The response is one API-SIG error with this status (and code)."""
        self.assertEqual(status, resp.status_int, resp.text)
        self.assertEqual('application/json', resp.content_type)
        body = resp.json
        self.assertEqual(['errors'], list(body))
        self.assertEqual(1, len(body['errors']))
        error = body['errors'][0]
        for key in ('status', 'title', 'detail', 'code', 'request_id'):
            self.assertIn(key, error)
        self.assertEqual(status, error['status'])
        self.assertTrue(error['code'].startswith('valet.'), error['code'])
        self.assertTrue(error['detail'])
        self.assertEqual(resp.headers.get('x-openstack-request-id'),
                         error['request_id'])
        if code is not None:
            self.assertEqual(code, error['code'], error['detail'])
        return error

    # ------------------------------------------------------------ fixtures
    def make_group(self, name='g1', type_='affinity', level='host',
                   members=None):
        group = self.post('/v1/groups', {'name': name, 'type': type_,
                                         'level': level},
                          status=201).json
        if members:
            group = self.put('/v1/groups/%s/members' % group['id'],
                             {'members': members}, status=201).json
        return group

    def make_plan(self, stack_id='stack-1', resources=None, headers=MEMBER,
                  **extra):
        body = {'plan_name': 'plan-' + stack_id, 'stack_id': stack_id,
                'resources': resources if resources is not None else {
                    'orch-a': server('a'), 'orch-b': server('b')}}
        body.update(extra)
        return self.post('/v1/plans', body, headers=headers,
                         status=201).json['plan']
