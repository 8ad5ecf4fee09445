"""/v1/plans: create, show, list, update, migrate, delete."""

import testtools

from valet.api.controllers.v1 import plans
from valet.common import exception
from valet.engine import planning
from valet import objects
from valet.tests.unit.api import base
from valet.tests.unit.api.base import server


class PlansTest(base.APITestCase):

    def test_create(self):
        resp = self.post('/v1/plans', {
            'plan_name': 'web', 'stack_id': 'stack-1',
            'resources': {'orch-a': server('a'), 'orch-b': server('b')}},
            headers=base.MEMBER, status=201)
        plan = resp.json['plan']
        self.assertEqual({'id', 'name', 'stack_id', 'placements'}, set(plan))
        self.assertEqual(('web', 'stack-1'), (plan['name'], plan['stack_id']))
        self.assertEqual({'orch-a', 'orch-b'}, set(plan['placements']))
        self.assertEqual({'name', 'location'},
                         set(plan['placements']['orch-a']))
        sent = self.engine.calls_to('create_plan')[0]['plan']
        self.assertEqual('project1', sent['project_id'])
        self.assertIsNone(sent['locations'])
        self.assertEqual({}, sent['groups'])

    def test_create_ad_hoc_with_locations(self):
        plan = self.make_plan('vm-uuid', {'vm-uuid': server(
            'ad_hoc_instance')}, locations=['host3'], timeout='60')
        self.assertEqual('host3', plan['placements']['vm-uuid']['location'])
        self.assertEqual(['host3'], self.engine.calls_to(
            'create_plan')[0]['plan']['locations'])

    def test_create_without_servers_is_stored(self):
        # Original bug: {"plan": {}} and nothing stored.
        plan = self.make_plan('stack-vol', {'vol': {
            'name': 'v', 'type': 'OS::Cinder::Volume',
            'properties': {'size': 1}}})
        self.assertEqual({}, plan['placements'])
        self.assertEqual(plan, self.get('/v1/plans/stack-vol',
                                        headers=base.MEMBER).json['plan'])
        self.put('/v1/plans/stack-vol', {
            'action': 'update', 'resources': {'orch-a': server('a')}},
            headers=base.MEMBER, status=201)

    def test_create_existing_stack_conflicts(self):
        self.make_plan('stack-1')
        resp = self.post('/v1/plans', {'plan_name': 'again',
                                       'stack_id': 'stack-1',
                                       'resources': {}},
                         headers=base.MEMBER)
        self.assertError(resp, 409, 'valet.plan.exists')
        # Also when another project owns it: stack ids are unique.
        resp = self.post('/v1/plans', {'plan_name': 'again',
                                       'stack_id': 'stack-1',
                                       'resources': {}},
                         headers=base.OTHER)
        error = self.assertError(resp, 409, 'valet.plan.exists')
        # The API's words, not the engine's: where to go instead.
        self.assertIn('PUT /v1/plans/stack-1', error['detail'])
        self.assertEqual(['plan-stack-1'],
                         [p.name for p in self.storage.list_plans()])

    def test_existing_stack_conflicts_before_other_errors(self):
        # The engine looks the stack up; the API looks only when a create
        # fails, so an existing stack is still a 409 whatever else fails.
        self.make_plan('stack-1')
        body = {'plan_name': 'again', 'stack_id': 'stack-1',
                'resources': {'orch-x': server('x', groups=['nowhere'])}}
        self.assertError(self.post('/v1/plans', body, headers=base.MEMBER),
                         409, 'valet.plan.exists')
        body['resources'] = {'orch-x': server('x')}
        for exc in (exception.EngineUnavailable(),
                    exception.BadRequest('bad flavor')):
            self.engine.fail_with = exc
            self.assertError(self.post('/v1/plans', body,
                                       headers=base.MEMBER),
                             409, 'valet.plan.exists')
        # A new stack gets the engine's own error.
        body['stack_id'] = 'stack-2'
        self.engine.fail_with = exception.EngineUnavailable()
        self.assertError(self.post('/v1/plans', body, headers=base.MEMBER),
                         503, 'valet.engine.unavailable')
        self.assertError(self.post('/v1/plans', dict(body, resources={
            'orch-x': server('x', groups=['nowhere'])}),
            headers=base.MEMBER), 404, 'valet.group.not_found')

    def test_placement_metadata_reaches_the_engine(self):
        # Original bug: metadata was stripped before the engine saw it.
        hints = {'heat_resource_uuid': 'orch-a', 'heat_stack_id': 'stack-1'}
        self.make_plan('stack-1', {'orch-a': server('a', metadata=hints)})
        sent = self.engine.calls_to('create_plan')[0]['plan']
        self.assertEqual(hints, sent['resources']['orch-a']['metadata'])
        found = self.get('/v1/placements?heat_resource_uuid=orch-a',
                         headers=base.MEMBER).json['placements']
        self.assertEqual(['orch-a'], [p['orchestration_id'] for p in found])
        self.assertEqual(hints, found[0]['metadata'])

    def test_groups_resolved_by_name_or_id(self):
        g1 = self.make_group('g1', 'affinity', 'rack')
        self.make_group('g2', 'diversity', 'host')
        self.make_plan('stack-1', {
            'a': server('a', groups=[g1['id'], 'g2']),
            'b': server('b', groups=['g1'], as_json=True),
            'c': server('c')})
        sent = self.engine.calls_to('create_plan')[0]['plan']
        self.assertEqual({'groups': ['g1', 'g2']}, sent['resources']['a'][
            'properties']['metadata']['valet'])
        self.assertEqual({'groups': ['g1']}, sent['resources']['b'][
            'properties']['metadata']['valet'])
        self.assertEqual({'g1': {'name': 'g1', 'type': 'affinity',
                                 'level': 'rack', 'parents': []},
                          'g2': {'name': 'g2', 'type': 'diversity',
                                 'level': 'host', 'parents': []}},
                         sent['groups'])

    def test_parent_groups_are_sent(self):
        self.make_group('outer', 'diversity', 'rack')
        inner = self.make_group('inner', 'affinity', 'host')
        stored = self.storage.get_group(inner['id'])
        stored.parents = ['outer']
        self.storage.update_group(stored)
        self.make_plan('stack-1', {'a': server('a', groups=['inner'])})
        sent = self.engine.calls_to('create_plan')[0]['plan']
        self.assertEqual({'inner', 'outer'}, set(sent['groups']))
        self.assertEqual(['outer'], sent['groups']['inner']['parents'])

    def test_unknown_group_is_404(self):
        resp = self.post('/v1/plans', {
            'plan_name': 'p', 'stack_id': 's',
            'resources': {'a': server('a', groups=['ghost'])}},
            headers=base.MEMBER)
        error = self.assertError(resp, 404, 'valet.group.not_found')
        self.assertIn('ghost', error['detail'])
        self.assertEqual([], self.engine.calls_to('create_plan'))

    def test_group_membership_is_checked(self):
        self.make_group('private', members=['project9'])
        self.make_group('shared', members=['project1', 'project9'])
        self.make_group('open')
        resp = self.post('/v1/plans', {
            'plan_name': 'p', 'stack_id': 's',
            'resources': {'a': server('a', groups=['private'])}},
            headers=base.MEMBER)
        self.assertError(resp, 409, 'valet.group.not_member')
        self.make_plan('s2', {'a': server('a', groups=['shared', 'open'])})

    def test_bad_valet_metadata(self):
        for valet in ('not json', '["g1"]', {'groups': 'g1'},
                      {'groups': [1]}, {'groups': ['bad name!']},
                      {'group': ['g1']}, 7):
            resp = self.post('/v1/plans', {
                'plan_name': 'p', 'stack_id': 's', 'resources': {'a': {
                    'name': 'a', 'type': base.SERVER,
                    'properties': {'metadata': {'valet': valet}}}}},
                headers=base.MEMBER)
            self.assertEqual(400, resp.status_int, (valet, resp.text))
        resp = self.post('/v1/plans', {
            'plan_name': 'p', 'stack_id': 's', 'resources': {'a': {
                'name': 'a', 'type': base.SERVER,
                'properties': {'metadata': 'valet'}}}}, headers=base.MEMBER)
        self.assertError(resp, 400, 'valet.group.metadata_invalid')
        self.assertEqual([], self.engine.calls_to('create_plan'))

    def test_no_placement_explained(self):
        resp = self.post('/v1/plans', {
            'plan_name': 'p', 'stack_id': 's',
            'resources': {'a': server('a', flavor=base.UNPLACEABLE)}},
            headers=base.MEMBER)
        error = self.assertError(resp, 409, 'valet.placement.none')
        self.assertIn('No host can take server a', error['detail'])
        self.assertEqual('capacity', error['explanation']['reason'])
        self.assertError(self.get('/v1/plans/s', headers=base.MEMBER), 404)

    def test_engine_errors_map(self):
        cases = [(exception.BadRequest('flavor missing'), 400),
                 (exception.EngineUnavailable(), 503),
                 (exception.StorageUnavailable('db down'), 503),
                 (exception.Conflict('raced'), 409)]
        for exc, status in cases:
            self.engine.fail_with = exc
            resp = self.post('/v1/plans', {'plan_name': 'p',
                                           'stack_id': 's', 'resources': {}},
                             headers=base.MEMBER)
            error = self.assertError(resp, status, exc.code)
            self.assertEqual(exc.message, error['detail'])

    def test_create_schema(self):
        good = {'plan_name': 'p', 'stack_id': 's', 'resources': {}}
        bad = [{}, {'plan_name': 'p', 'stack_id': 's'},
               dict(good, resources=[]), dict(good, stack_id=''),
               dict(good, stack_id='a b'), dict(good, plan_name=None),
               dict(good, locations='host1'), dict(good, locations=['']),
               dict(good, extra=True), dict(good, timeout={}),
               dict(good, resources={'a b': server('a')}),
               dict(good, resources={'a': {'type': base.SERVER}}),
               dict(good, resources={'a': dict(server('a'), extra=1)}),
               dict(good, resources={'a': dict(server('a'), metadata=[])}),
               dict(good, resources={'a': dict(server('a'),
                                               metadata={'k': {}})}),
               dict(good, resources={'a': dict(server('a'),
                                               metadata={'k k': 'v'})}),
               dict(good, resources={'a': dict(server('a'),
                                               properties=[])})]
        for body in bad:
            resp = self.post('/v1/plans', body, headers=base.MEMBER)
            self.assertError(resp, 400, 'valet.request.invalid')
        self.assertEqual([], self.engine.calls_to('create_plan'))
        self.assertEqual([], self.storage.list_plans())

    def test_list_and_show(self):
        plan = self.make_plan('stack-1')
        self.assertEqual([plan], self.get('/v1/plans', headers=base.MEMBER,
                                          status=200).json['plans'])
        for ref in (plan['id'], 'stack-1'):
            self.assertEqual(plan, self.get('/v1/plans/' + ref,
                                            headers=base.MEMBER,
                                            status=200).json['plan'])
        self.assertError(self.get('/v1/plans/nope', headers=base.MEMBER),
                         404, 'valet.plan.not_found')

    def test_update(self):
        plan = self.make_plan('stack-1')
        body = {'action': 'update', 'plan_name': 'renamed',
                'resources': {'orch-a': server('a'), 'orch-c': server('c')},
                'original_resources': {'orch-a': server('a'),
                                       'orch-b': server('b')}}
        resp = self.put('/v1/plans/stack-1', body, headers=base.MEMBER,
                        status=201)
        updated = resp.json['plan']
        self.assertEqual({'orch-a', 'orch-c'}, set(updated['placements']))
        self.assertEqual('renamed', updated['name'])
        call = self.engine.calls_to('update_plan')[0]
        self.assertEqual(plan['id'], call['plan_id'])
        self.assertEqual({'orch-a', 'orch-b'},
                         set(call['original_resources']))

    def test_update_resolves_groups(self):
        self.make_plan('stack-1')
        self.assertError(self.put('/v1/plans/stack-1', {
            'action': 'update', 'resources': {'x': server('x', groups=['ghost'])}},
            headers=base.MEMBER), 404, 'valet.group.not_found')
        self.make_group('g1')
        self.put('/v1/plans/stack-1', {
            'action': 'update', 'resources': {'x': server('x', groups=['g1'])}},
            headers=base.MEMBER, status=201)
        self.assertIn('g1', self.engine.calls_to('update_plan')[0]['groups'])

    def test_update_missing_plan(self):
        self.assertError(self.put('/v1/plans/nope', {
            'action': 'update', 'resources': {}}, headers=base.MEMBER),
            404, 'valet.plan.not_found')

    def test_migrate_carries_the_resource(self):
        # Original bug: the engine request lacked the resource.
        plan = self.make_plan('stack-1')
        before = plan['placements']['orch-a']['location']
        resp = self.put('/v1/plans/' + plan['id'], {
            'action': 'migrate', 'resources': ['orch-a'],
            'excluded_hosts': ['host4']}, headers=base.MEMBER, status=201)
        after = resp.json['plan']['placements']['orch-a']['location']
        self.assertNotIn(after, (before, 'host4'))
        self.assertEqual([{'plan_id': plan['id'], 'resource': 'orch-a',
                           'excluded_hosts': ['host4']}],
                         self.engine.calls_to('migrate'))

    def test_migrate_by_physical_id(self):
        plan = self.make_plan('stack-1')
        placement = self.storage.get_placement('orch-b')
        placement.resource_id = 'nova-uuid-b'
        self.storage.update_placement(placement)
        self.put('/v1/plans/stack-1', {'action': 'migrate',
                                       'resources': ['nova-uuid-b']},
                 headers=base.MEMBER, status=201)
        self.assertEqual([], self.engine.calls_to('migrate')[0][
            'excluded_hosts'])
        self.assertEqual(plan['id'],
                         self.engine.calls_to('migrate')[0]['plan_id'])

    def test_migrate_validation(self):
        self.make_plan('stack-1')
        for body in ({'action': 'migrate', 'resources': []},
                     {'action': 'migrate', 'resources': ['a', 'b']},
                     {'action': 'migrate', 'resources': {'a': 1}},
                     {'action': 'migrate', 'resources': ['orch-a'],
                      'original_resources': {}},
                     {'action': 'update', 'resources': ['orch-a']},
                     {'action': 'destroy', 'resources': {}},
                     {'resources': {}}):
            self.assertError(self.put('/v1/plans/stack-1', body,
                                      headers=base.MEMBER), 400,
                             'valet.request.invalid')
        self.assertError(self.put('/v1/plans/stack-1', {
            'action': 'migrate', 'resources': ['orch-zzz']},
            headers=base.MEMBER), 400, 'valet.plan.resource_unknown')
        self.assertEqual([], self.engine.calls_to('migrate'))

    def test_delete_tells_the_engine(self):
        # Original bug: the engine was not told.
        plan = self.make_plan('stack-1')
        self.delete('/v1/plans/stack-1', headers=base.MEMBER, status=204)
        self.assertEqual([{'plan_id': plan['id']}],
                         self.engine.calls_to('delete_plan'))
        self.assertError(self.get('/v1/plans/stack-1', headers=base.MEMBER),
                         404)
        self.assertError(self.delete('/v1/plans/stack-1',
                                     headers=base.MEMBER), 404,
                         'valet.plan.not_found')

    def test_engine_unavailable_on_delete(self):
        self.make_plan('stack-1')
        self.engine.fail_with = exception.EngineUnavailable()
        self.assertError(self.delete('/v1/plans/stack-1',
                                     headers=base.MEMBER), 503,
                         'valet.engine.unavailable')


class RenderPlanTest(testtools.TestCase):
    """The answer's plan is what the plan's ``to_dict`` gives."""

    def test_same_as_the_records_to_dict(self):
        plan = objects.Plan(name='n', stack_id='s', project_id='p')
        placements = [
            objects.Placement(name='a', orchestration_id='o1',
                              plan_id=plan.id, location='h1',
                              metadata={'k': 'v'}, spec={'x': 1}),
            objects.Placement(name='b', orchestration_id='o2',
                              plan_id=plan.id)]
        result = planning.result(plan, placements, None)
        result['plan']['added_by_a_newer_engine'] = 1
        result['placements'][0]['also_new'] = 2
        self.assertEqual(plan.to_dict(placements),
                         plans.render_plan(result))
