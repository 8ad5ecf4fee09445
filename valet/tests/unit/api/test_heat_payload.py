"""The v1 contract with the original Heat plugin's requests.

The bodies under ``samples/`` are shaped as the original lifecycle plugin
built them from a stack: each server's parsed template (with Heat template
keys such as ``depends_on`` and ``deletion_policy``), the scheduler hints
Heat later gives Nova as ``metadata`` (``heat_path_in_stack`` a list), and
on update the Nova ``resource_id`` of servers that already exist. The
engine is the API tests' stand-in (see ``base``); what is checked here is
that the API takes the bodies as they are and stores what Nova's filter
needs to find each server again by its hints.
"""

import json
import os

from valet.tests.unit.api import base

SAMPLES = os.path.join(os.path.dirname(__file__), 'samples')
STACK = '8a1a7a9e-5b0e-4c0a-9f59-3b8f3f1b6d10'
WEB1 = '3f2a8a14-1f2e-4a55-8a4b-0d7c3c3f6a01'
DB = '5d4c3b2a-0f1e-4d2c-9b8a-7f6e5d4c3b03'


def sample(name):
    with open(os.path.join(SAMPLES, name)) as handle:
        return json.load(handle)


class OriginalHeatPayloadTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.make_group('web-diversity', 'diversity', 'host')

    def create(self):
        return self.post('/v1/plans',
                         sample('original-heat-plan-create.json'),
                         headers=base.MEMBER, status=201).json['plan']

    def test_create_body_is_accepted_as_recorded(self):
        plan = self.create()
        self.assertEqual(STACK, plan['stack_id'])
        self.assertEqual(3, len(plan['placements']))
        sent = self.engine.calls_to('create_plan')[0]['plan']
        self.assertEqual({'groups': ['web-diversity']},
                         sent['resources'][WEB1]['properties']['metadata'][
                             'valet'])
        self.assertEqual('diversity', sent['groups']['web-diversity']['type'])

    def test_servers_are_found_by_their_hints(self):
        self.create()
        # What Nova's filter has when Heat's resource uuid is missing: the
        # root stack, the path in it (JSON, a list) and the resource name.
        path = json.dumps(['web-tier', 'db,web-tier-db-x7k2m4q3fz1a'])
        found = self.get(
            '/v1/placements?heat_root_stack_id=%s&heat_resource_name='
            'db_server&heat_path_in_stack=%s' % (STACK, path),
            headers=base.MEMBER, status=200).json['placements']
        self.assertEqual([DB], [p['orchestration_id'] for p in found])
        self.assertEqual(['web-tier', 'db,web-tier-db-x7k2m4q3fz1a'],
                         found[0]['metadata']['heat_path_in_stack'])
        found = self.get('/v1/placements?heat_resource_uuid=%s' % WEB1,
                         headers=base.MEMBER).json['placements']
        self.assertEqual([WEB1], [p['orchestration_id'] for p in found])

    def test_update_body_with_resource_ids_is_accepted(self):
        self.create()
        plan = self.put('/v1/plans/%s' % STACK,
                        sample('original-heat-plan-update.json'),
                        headers=base.MEMBER, status=201).json['plan']
        self.assertIn('e91c2b7a-4d3f-4e8a-9c1b-2a3b4c5d6e05',
                      plan['placements'])
        sent = self.engine.calls_to('update_plan')[0]
        self.assertEqual('0b8f4f1c-2b6a-4c61-a1cf-9d5c3b2a1e10',
                         sent['resources'][WEB1]['resource_id'])

    def test_hint_lists_hold_strings_only(self):
        body = sample('original-heat-plan-create.json')
        body['resources'][WEB1]['metadata']['heat_path_in_stack'] = [
            'web-tier', {'nested': 1}]
        resp = self.post('/v1/plans', body, headers=base.MEMBER)
        self.assertError(resp, 400, 'valet.request.invalid')
        self.assertEqual([], self.engine.calls_to('create_plan'))

    def test_unknown_resource_keys_are_still_refused(self):
        body = sample('original-heat-plan-create.json')
        body['resources'][WEB1]['colour'] = 'blue'
        resp = self.post('/v1/plans', body, headers=base.MEMBER)
        self.assertError(resp, 400, 'valet.request.invalid')
        self.assertIn('colour', resp.json['errors'][0]['detail'])


V12 = {'OpenStack-API-Version': 'workload-placement 1.2'}
HINTS = {'heat_root_stack_id': STACK, 'heat_stack_id': STACK,
         'heat_stack_name': 'web-tier', 'heat_path_in_stack': ['web-tier'],
         'heat_resource_name': 'web_server_1',
         'heat_resource_uuid': 'c3d4e5f6-0000-4000-8000-00000000a001'}


class ReserveByHintsTest(base.APITestCase):
    """Microversion 1.2: a reserve carrying Heat's hints for a server
    Valet has no placement for goes to the engine, which plans the stack
    from Heat (tested in valet/tests/unit/engine/test_stacks.py)."""

    def setUp(self):
        super().setUp()
        self.sent = []

        def reserve_stack_server(ctxt, **kwargs):
            self.sent.append(kwargs)
            return {'id': 'p-1', 'location': kwargs['locations'][0],
                    'reserved': True}

        self.engine.reserve_stack_server = reserve_stack_server

    def reserve(self, headers, hints=HINTS):
        return self.post('/v1/placements/%s' % HINTS['heat_resource_uuid'],
                         {'locations': ['host2', 'host3'],
                          'resource_id': 'vm-1', 'hints': hints},
                         headers=dict(headers, **V12))

    def test_unknown_placement_with_hints_goes_to_the_engine(self):
        resp = self.reserve(base.MEMBER)
        self.assertEqual(201, resp.status_int, resp.text)
        self.assertEqual('host2', resp.json['placement']['location'])
        (sent,) = self.sent
        self.assertEqual(HINTS, sent['hints'])
        self.assertEqual(('project1', False, 'vm-1'), (
            sent['project_id'], sent['any_project'], sent['resource_id']))

    def test_admin_may_plan_any_projects_stack(self):
        self.assertEqual(201, self.reserve(base.ADMIN).status_int)
        self.assertTrue(self.sent[0]['any_project'])

    def test_hints_need_microversion_1_2(self):
        resp = self.post('/v1/placements/x', {
            'locations': ['host1'], 'hints': HINTS}, headers=base.MEMBER)
        self.assertError(resp, 400, 'valet.request.invalid')
        self.assertIn('1.2', resp.json['errors'][0]['detail'])
        self.assertEqual([], self.sent)

    def test_a_known_placement_is_reserved_as_before(self):
        self.make_group('web-diversity', 'diversity', 'host')
        self.post('/v1/plans', sample('original-heat-plan-create.json'),
                  headers=base.MEMBER, status=201)
        resp = self.post('/v1/placements/%s' % WEB1, {
            'locations': ['host1', 'host2', 'host3', 'host4'],
            'hints': HINTS}, headers=dict(base.MEMBER, **V12))
        self.assertEqual(201, resp.status_int, resp.text)
        self.assertEqual([], self.sent)
        self.assertEqual(1, len(self.engine.calls_to('reserve')))
