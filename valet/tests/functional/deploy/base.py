"""Helpers for tests against a real deployment (see ../deployment.py)."""

import uuid

import requests
import testtools

from valet.tests.functional import deployment

ADMIN = {'X-Project-Id': 'p-admin', 'X-User-Id': 'u-admin',
         'X-Roles': 'admin'}


def member(project):
    return {'X-Project-Id': project, 'X-User-Id': 'u-' + project,
            'X-Roles': 'member,reader'}


def server(name, flavor='m1.small', groups=(), **properties):
    """A HOT-style OS::Nova::Server resource."""
    props = dict(properties, flavor=flavor)
    if groups:
        props['metadata'] = {'valet': {'groups': list(groups)}}
    return {'name': name, 'type': 'OS::Nova::Server', 'properties': props}


def plan_body(name, servers, stack_id=None):
    return {'plan_name': name, 'stack_id': stack_id or str(uuid.uuid4()),
            'resources': {str(uuid.uuid4()): s for s in servers}}


class DeploymentTestCase(testtools.TestCase):
    """One deployment per test (noauth unless a test says otherwise)."""

    connection = None

    def deploy(self, **kwargs):
        kwargs.setdefault('connection', self.connection)
        self.dep = self.useFixture(deployment.Deployment(**kwargs))
        self.addOnException(lambda exc_info: self.addDetail(
            'deployment', testtools.content.text_content(self.dep.logs())))
        return self.dep

    def call(self, method, path, headers=None, **kwargs):
        headers = dict(ADMIN if headers is None else headers)
        return requests.request(method, self.dep.url + path,
                                headers=headers, timeout=60, **kwargs)

    def stored(self):
        """(plans, placements) as an admin sees them."""
        plans = self.call('GET', '/v1/plans')
        placements = self.call('GET', '/v1/placements')
        self.assertEqual(200, plans.status_code, plans.text)
        self.assertEqual(200, placements.status_code, placements.text)
        return plans.json()['plans'], placements.json()['placements']
