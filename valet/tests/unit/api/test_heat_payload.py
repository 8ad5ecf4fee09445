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
