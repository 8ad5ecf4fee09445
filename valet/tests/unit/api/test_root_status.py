"""GET /, GET /v1, /v1/status and /v1/resources."""

from valet.api import microversion
from valet.common import exception
from valet.tests.unit.api import base


class RootTest(base.APITestCase):

    def test_versions_document_exactly(self):
        resp = self.get('/', headers={}, status=200)
        self.assertEqual({'versions': [{
            'status': 'CURRENT', 'id': 'v1.0',
            'min_version': '1.0', 'max_version': microversion.VERSIONS[-1],
            'links': [{'href': 'http://localhost/v1/', 'rel': 'self'}]}]},
            resp.json)

    def test_versions_needs_no_auth_with_keystone(self):
        self.flags(auth_strategy='keystone', group='api')
        self.get('/', headers={}, status=200)
        self.assertError(self.get('/v1', headers={}), 401,
                         'valet.auth.required')
        self.assertError(self.get('/v1/groups', headers={}), 401,
                         'valet.auth.required')

    def test_v1_links(self):
        resp = self.get('/v1', status=200)
        (version,) = resp.json['versions']
        self.assertEqual(('CURRENT', 'v1.0'),
                         (version['status'], version['id']))
        rels = {link['rel']: link['href'] for link in version['links']}
        self.assertEqual('http://localhost/v1/', rels['self'])
        for name in ('groups', 'placements', 'plans', 'status',
                     'resources'):
            self.assertEqual('http://localhost/v1/%s/' % name, rels[name])
        self.get('/v1/', status=200)

    def test_version_header_echoed(self):
        resp = self.get('/v1/groups', status=200)
        self.assertEqual('workload-placement 1.0',
                         resp.headers['OpenStack-API-Version'])
        self.assertIn('OpenStack-API-Version', resp.headers['Vary'])


class StatusTest(base.APITestCase):

    def test_get(self):
        resp = self.get('/v1/status', status=200)
        self.assertEqual('ok', resp.json['status']['engine']['status'])
        self.assertIn('storage', resp.json['status'])

    def test_head_is_200(self):
        # Original bug: 204.
        resp = self.request('HEAD', '/v1/status', status=200)
        self.assertEqual(b'', resp.body)
        self.assertEqual(1, len(self.engine.calls_to('ping')))

    def test_engine_down(self):
        self.engine.fail_with = exception.EngineUnavailable(
            'The placement engine did not answer within 30 seconds')
        error = self.assertError(self.get('/v1/status'), 503,
                                 'valet.engine.unavailable')
        self.assertIn('30 seconds', error['detail'])
        self.engine.fail_with = exception.EngineUnavailable()
        self.assertEqual(503, self.request('HEAD', '/v1/status').status_int)

    def test_resources(self):
        self.engine.invalid = {'vm-1': {'status': 'error',
                                        'message': 'breaks diversity'}}
        resp = self.get('/v1/resources', status=200)
        self.assertEqual({'resources': self.engine.invalid}, resp.json)
