"""Microversion 1.8 on /v1/plans and /v1/capacity, against the real engine.

The API runs over an in-process engine (``LocalEngineAPI`` over an
``EngineEndpoint`` with the static inventory and the API's own memory
storage), so what a dry run leaves behind is checked in the storage and
the model the engine really uses.
"""

import os

import fixtures
import webtest
import yaml

from valet.api import app as api_app
from valet.engine import local
from valet.engine import service
from valet.inventory import static
from valet.storage import memory
from valet.tests.unit.api import base


def version(v, headers=base.MEMBER):
    return dict(headers,
                **{'OpenStack-API-Version': 'workload-placement %s' % v})


V17, V18 = version('1.7'), version('1.8')


def inventory():
    """Two racks of two hosts; each host takes two m1.small."""
    hosts = [{'name': 'r%dh%d' % (r, h), 'rack': 'r%d' % r, 'zone': 'z0',
              'availability_zone': 'az0', 'vcpus': 2, 'memory_mb': 4096,
              'disk_gb': 40} for r in range(2) for h in range(2)]
    return {'levels': ['host', 'rack', 'zone'], 'hosts': hosts,
            'flavors': {'m1.small': {'id': '1', 'vcpus': 1, 'ram': 2048,
                                     'disk': 20},
                        'm1.enormous': {'id': '9', 'vcpus': 64,
                                        'ram': 2048, 'disk': 20}}}


class RealEngineTestCase(base.APITestCase):

    def build_app(self):
        self.storage = memory.MemoryStorage(self.conf)
        self.storage.upgrade()
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'inventory.yaml')
        with open(path, 'w') as handle:
            yaml.safe_dump(inventory(), handle)
        self.endpoint = service.EngineEndpoint(
            self.conf, self.storage, static.StaticInventory(self.conf,
                                                            path=path))
        self.endpoint.rebuild()
        self.engine = local.LocalEngineAPI(self.conf, self.endpoint)
        self.app = webtest.TestApp(api_app.setup_app(
            self.conf, self.engine, self.storage))

    def create(self, stack_id, resources, headers=V18, status=201, **extra):
        body = dict({'plan_name': stack_id, 'stack_id': stack_id,
                     'resources': resources}, **extra)
        return self.post('/v1/plans', body, headers=headers, status=status)

    def stored(self):
        """Everything a decision could leave behind."""
        return ([(p.id, p.name) for p in self.storage.list_plans()],
                sorted((p.orchestration_id, p.location, p.reserved)
                       for p in self.storage.list_placements()),
                sorted(self.endpoint.dc.servers),
                {n: sorted(self.endpoint.dc.group_servers(n))
                 for n in self.endpoint.dc.groups})


class DecisionTest(RealEngineTestCase):

    def test_create_returns_the_decision_from_1_8(self):
        resp = self.create('s1', {'a': base.server('a'),
                                  'b': base.server('b')})
        decision = resp.json['decision']
        self.assertTrue(decision['feasible'])
        self.assertIsInstance(decision['optimal'], bool)
        # Every objective value the engine reports, whatever its keys.
        objective = decision['objective']
        self.assertEqual(1, objective['hosts_used'])
        self.assertIn('fragmentation', objective)
        self.assertNotIn('stats', decision)
        self.assertNotIn('explanation', decision)
        self.assertNotIn('dry_run', resp.json)
        self.assertEqual({'id', 'name', 'stack_id', 'placements'},
                         set(resp.json['plan']))

    def test_no_decision_before_1_8(self):
        resp = self.create('s1', {'a': base.server('a')}, headers=V17)
        self.assertEqual({'plan'}, set(resp.json))
        resp = self.put('/v1/plans/s1', {
            'action': 'update', 'resources': {'a': base.server('a')}},
            headers=V17, status=201)
        self.assertEqual({'plan'}, set(resp.json))

    def test_dry_run_is_refused_before_1_8(self):
        resp = self.create('s1', {'a': base.server('a')}, headers=V17,
                           status=None, dry_run=True)
        self.assertError(resp, 400, 'valet.request.invalid')
        self.assertEqual(([], [], [], {}), self.stored())

    def test_dry_run_create_stores_nothing(self):
        self.make_group('apart', 'diversity', 'rack')
        before = self.stored()
        resp = self.create('s1', {
            'a': base.server('a', groups=['apart']),
            'b': base.server('b', groups=['apart'])}, status=200,
            dry_run=True)
        self.assertTrue(resp.json['dry_run'])
        plan = resp.json['plan']
        self.assertIsNone(plan['id'])
        racks = {self.endpoint.dc.domain_of(p['location'], 'rack')
                 for p in plan['placements'].values()}
        self.assertEqual({'r0', 'r1'}, racks)
        self.assertTrue(resp.json['decision']['feasible'])
        # No plan, no placement, no server in the model, no member.
        self.assertEqual(before, self.stored())
        self.get('/v1/plans/s1', headers=V18, status=404)
        # The same request for real decides the same.
        real = self.create('s1', {
            'a': base.server('a', groups=['apart']),
            'b': base.server('b', groups=['apart'])})
        self.assertEqual(
            {k: v['location'] for k, v in plan['placements'].items()},
            {k: v['location']
             for k, v in real.json['plan']['placements'].items()})
        self.assertEqual(resp.json['decision'], real.json['decision'])

    def test_dry_run_refusal_is_an_answer(self):
        resp = self.create('s1', {'a': base.server(
            'a', flavor='m1.enormous')}, status=200, dry_run=True)
        decision = resp.json['decision']
        self.assertFalse(decision['feasible'])
        self.assertTrue(decision['explanation']['summary'])
        self.assertIsNone(resp.json['plan']['placements']['a']['location'])
        self.assertEqual(([], [], [], {}), self.stored())
        # For real, the same request is a 409 with the explanation.
        resp = self.create('s1', {'a': base.server(
            'a', flavor='m1.enormous')}, status=None)
        self.assertError(resp, 409, 'valet.placement.none')

    def test_dry_run_update_stores_nothing(self):
        self.create('s1', {'a': base.server('a'), 'b': base.server('b')})
        before = self.stored()
        generation = self.endpoint.dc.generation
        body = {'action': 'update', 'dry_run': True, 'plan_name': 'renamed',
                'resources': {'a': base.server('a'), 'c': base.server('c'),
                              'd': base.server('d'),
                              'e': base.server('e')}}
        resp = self.put('/v1/plans/s1', body, headers=V18, status=200)
        self.assertTrue(resp.json['dry_run'])
        self.assertEqual({'a', 'c', 'd', 'e'},
                         set(resp.json['plan']['placements']))
        self.assertEqual('renamed', resp.json['plan']['name'])
        self.assertEqual(['b'], resp.json['decision']['removed'])
        self.assertEqual(before, self.stored())
        self.assertEqual(generation, self.endpoint.dc.generation)
        self.assertEqual('s1', self.storage.get_plan('s1').name)

    def test_dry_run_must_be_a_boolean(self):
        resp = self.create('s1', {}, status=None, dry_run='yes')
        self.assertError(resp, 400, 'valet.request.invalid')
        self.assertIn('dry_run', resp.json['errors'][0]['detail'])

    def test_migrate_answers_the_decision(self):
        self.create('s1', {'a': base.server('a')})
        body = {'action': 'migrate', 'resources': ['a']}
        resp = self.put('/v1/plans/s1', body, headers=V18, status=201)
        self.assertEqual(['a'], resp.json['decision']['moved'])
        self.assertNotIn('dry_run', resp.json)


class CapacityTest(RealEngineTestCase):

    def capacity(self, query, headers=V18, status=200):
        return self.get('/v1/capacity?' + query, headers=headers,
                        status=status)

    def test_count_and_hosts(self):
        self.create('s1', {'a': base.server('a')})
        before = self.stored()
        out = self.capacity('flavor=m1.small').json['capacity']
        # Eight slots on four hosts, one taken.
        self.assertEqual(7, out['count'])
        self.assertTrue(out['exact'])
        self.assertEqual('host', out['level'])
        self.assertEqual(7, sum(d['count'] for d in out['domains']))
        self.assertEqual(before, self.stored())

    def test_groups_rules_and_level(self):
        self.make_group('apart', 'diversity', 'rack')
        out = self.capacity('flavor=m1.small&groups=apart&level=rack'
                            ).json['capacity']
        self.assertEqual((2, ['apart']), (out['count'], out['groups']))
        self.assertEqual([{'name': 'r0', 'count': 1},
                          {'name': 'r1', 'count': 1}], out['domains'])
        self.create('s1', {'a': base.server('a', groups=['apart'])})
        out = self.capacity('flavor=m1.small&groups=apart').json['capacity']
        self.assertEqual(1, out['count'])

    def test_needs_1_8(self):
        resp = self.capacity('flavor=m1.small', headers=V17, status=None)
        self.assertError(resp, 404, 'valet.request.not_found')

    def test_bad_queries_are_400(self):
        for query, code in (
                ('', 'valet.request.invalid'),
                ('flavor=m1.small&colour=red', 'valet.request.invalid'),
                ('flavor=m1.small&groups=a,,b', 'valet.request.invalid'),
                ('flavor=nope', 'valet.plan.unknown_flavor'),
                ('flavor=m1.small&level=galaxy',
                 'valet.capacity.level_unknown')):
            resp = self.capacity(query, status=None)
            self.assertError(resp, 400, code)

    def test_unknown_group_is_404(self):
        resp = self.capacity('flavor=m1.small&groups=nope', status=None)
        self.assertError(resp, 404, 'valet.group.not_found')

    def test_reader_may_not_ask(self):
        resp = self.capacity('flavor=m1.small',
                             headers=version('1.8', base.READER),
                             status=None)
        self.assertError(resp, 403)


class DecisionRenderingTest(base.APITestCase):
    """Over the fake engine: what the API makes of a decision."""

    def test_objective_values_flow_through_members_do_not(self):
        answer = self.engine.plan_create

        def plan_create(ctxt, plan, dry_run=False):
            out = answer(ctxt, plan, dry_run)
            out['decision']['objective'].update(
                soft_violations=2, bound={'new_hosts': 1})
            out['decision']['stats'] = {'elapsed_ms': 12.5}
            out['decision']['surprise'] = 'engine internals'
            return out
        self.engine.plan_create = plan_create
        resp = self.post('/v1/plans', {
            'plan_name': 's1', 'stack_id': 's1',
            'resources': {'a': base.server('a')}}, headers=V18, status=201)
        decision = resp.json['decision']
        self.assertEqual({'feasible', 'optimal', 'objective', 'moved',
                          'removed'}, set(decision))
        self.assertEqual((2, {'new_hosts': 1}), (
            decision['objective']['soft_violations'],
            decision['objective']['bound']))
