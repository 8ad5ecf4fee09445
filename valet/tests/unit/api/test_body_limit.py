"""The default ``[api] max_request_body_size`` holds a 1,000-server stack.

The bodies are what Valet's Heat plugins send for a stack of 1,000
servers in a ResourceGroup (``valet.common.heat_stack.plan_resources``),
through the whole shipped paste pipeline, size-limit filter included.
"""

import json
import uuid

from valet.common import heat_stack
from valet.conf import api as api_conf
from valet import objects
from valet.tests.unit.api import base
from valet.tests.unit.api import test_deploy

JSON = dict(base.ADMIN, **{'Content-Type': 'application/json'})


def stack_resources(count, stack_id):
    """A Heat stack: ``count`` servers of a ResourceGroup in a group."""
    entries = [{'path': ['spread'], 'type': heat_stack.GROUP_TYPE,
                'properties': {'name': 'app-spread'}}]
    for i in range(count):
        entries.append({
            'path': ['app_servers', str(i), 'server'],
            'type': heat_stack.SERVER_TYPE,
            'properties': {
                'name': 'production-app-server-%04d' % i,
                'flavor': 'm1.small',
                'image': 'ubuntu-22.04-server-cloudimg-amd64',
                'availability_zone': 'nova',
                'metadata': {'valet': {'groups': ['app-spread']},
                             'role': 'application-tier'}}})
    return heat_stack.plan_resources(stack_id, 'production-app-stack',
                                     entries)


class BodyLimitTest(base.APITestCase):

    load = test_deploy.PastePipelineTest.load

    def test_default_fits_a_thousand_server_stack_with_margin(self):
        stack_id = str(uuid.uuid4())
        resources = stack_resources(1000, stack_id)
        create = json.dumps({'plan_name': 'production-app-stack',
                             'stack_id': stack_id, 'resources': resources})
        # An update that also sends the stack's previous resources is
        # twice the size.
        update = json.dumps({'action': 'update', 'resources': resources,
                             'original_resources': resources})
        limit = self.conf.api.max_request_body_size
        self.assertEqual(api_conf.DEFAULT_MAX_BODY, limit)
        self.assertLessEqual(3 * len(create), limit)
        self.assertLess(len(update), limit)
        self.storage.create_group(self.group('app-spread'))
        app = self.load('noauth')
        resp = app.post('/v1/plans', create, headers=JSON,
                        expect_errors=True)
        self.assertEqual(201, resp.status_int, resp.text[:500])
        self.assertEqual(1000, len(resp.json['plan']['placements']))
        resp = app.put('/v1/plans/%s' % stack_id, update, headers=JSON,
                       expect_errors=True)
        self.assertNotEqual(413, resp.status_int, resp.text[:500])
        self.assertLess(resp.status_int, 300, resp.text[:500])

    def test_twice_the_default_is_refused(self):
        stack_id = str(uuid.uuid4())
        body = json.dumps({'plan_name': 'big', 'stack_id': stack_id,
                           'resources': stack_resources(4000, stack_id)})
        self.assertGreater(len(body), self.conf.api.max_request_body_size)
        resp = self.load('noauth').post('/v1/plans', body, headers=JSON,
                                        expect_errors=True)
        self.assertEqual(413, resp.status_int)
        self.assertEqual([], self.storage.list_plans())

    @staticmethod
    def group(name):
        return objects.Group(name=name, type='diversity', level='host')
