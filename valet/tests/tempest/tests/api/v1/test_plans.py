"""Plans through the API: ownership, policy and refusals.

Placing a plan needs flavors, which Valet reads from Nova; the scenario
tests place real stacks where Nova and Heat run.
"""

from tempest.lib.common.utils import data_utils
from tempest.lib import decorators
from tempest.lib import exceptions as lib_exc

from valet.tests.tempest.tests import base


def _plan_body(flavor='no-such-flavor', groups=()):
    server = data_utils.rand_uuid()
    properties = {'flavor': flavor, 'image': 'cirros'}
    if groups:
        properties['metadata'] = {'valet': {'groups': list(groups)}}
    return {'plan_name': data_utils.rand_name('valet-tempest'),
            'stack_id': data_utils.rand_uuid(),
            'resources': {server: {'name': 'vm-1',
                                   'type': 'OS::Nova::Server',
                                   'properties': properties}}}


class PlansTest(base.BaseValetTest):

    @decorators.idempotent_id('7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c01')
    def test_list_plans_of_a_new_project_is_empty(self):
        for persona in ('member', 'reader'):
            body = self.client(persona, 'PlansClient').list_plans()
            self.assertEqual([], body['plans'], persona)
        self.assertIsInstance(
            self.client('admin', 'PlansClient').list_plans()['plans'], list)

    @decorators.idempotent_id('7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c02')
    def test_unknown_flavor_is_refused_and_nothing_stored(self):
        client = self.client('member', 'PlansClient')
        body = _plan_body()
        exc = self.assertRaises(lib_exc.BadRequest, client.create_plan,
                                **body)
        self.assertErrorCode(exc, 400, 'valet.plan.unknown_flavor')
        self.assertEqual([], client.list_plans()['plans'])
        self.assertRaises(lib_exc.NotFound, client.show_plan,
                          body['stack_id'])

    @decorators.idempotent_id('7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c03')
    def test_unknown_group_is_not_found(self):
        client = self.client('member', 'PlansClient')
        exc = self.assertRaises(
            lib_exc.NotFound, client.create_plan,
            **_plan_body(groups=[data_utils.rand_name('no-such-group')]))
        self.assertErrorCode(exc, 404, 'valet.group.not_found')

    @decorators.idempotent_id('7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c04')
    def test_malformed_plan_is_refused(self):
        client = self.client('member', 'PlansClient')
        exc = self.assertRaises(lib_exc.BadRequest, client.create_plan,
                                plan_name='x')
        self.assertErrorCode(exc, 400, 'valet.request.invalid')

    @decorators.idempotent_id('7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c05')
    def test_reader_cannot_create_plans(self):
        client = self.client('reader', 'PlansClient')
        exc = self.assertRaises(lib_exc.Forbidden, client.create_plan,
                                **_plan_body())
        self.assertErrorCode(exc, 403, 'valet.policy.forbidden')

    @decorators.idempotent_id('7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c06')
    def test_missing_plan_is_not_found(self):
        missing = data_utils.rand_uuid()
        for persona in ('admin', 'member'):
            client = self.client(persona, 'PlansClient')
            exc = self.assertRaises(lib_exc.NotFound, client.show_plan,
                                    missing)
            self.assertErrorCode(exc, 404, 'valet.plan.not_found')
            self.assertRaises(lib_exc.NotFound, client.delete_plan, missing)
            self.assertRaises(lib_exc.NotFound, client.migrate_plan,
                              missing, resources=[data_utils.rand_uuid()])
