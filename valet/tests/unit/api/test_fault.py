"""The outermost filter answers JSON whatever fails inside the pipeline."""

from keystoneauth1 import exceptions as ks_exc
import testtools
import webtest

from valet.api import middleware


def _failing(exc):
    def app(environ, start_response):
        raise exc
    return app


class FaultFilterTest(testtools.TestCase):

    def _get(self, exc):
        app = webtest.TestApp(middleware.FaultFilter(_failing(exc)))
        return app.get('/v1/plans', expect_errors=True)

    def test_unexpected_error_is_json_500(self):
        resp = self._get(RuntimeError('boom'))
        self.assertEqual(500, resp.status_int)
        (error,) = resp.json['errors']
        self.assertEqual('valet.internal', error['code'])
        self.assertNotIn('boom', resp.text)  # no internals leak out
        self.assertTrue(error['request_id'])

    def test_keystone_unreachable_is_json_503(self):
        resp = self._get(ks_exc.EndpointNotFound('internal endpoint'))
        self.assertEqual(503, resp.status_int)
        self.assertEqual('valet.service.unavailable',
                         resp.json['errors'][0]['code'])

    def test_passes_answers_through(self):
        def ok(environ, start_response):
            start_response('200 OK', [('Content-Type', 'text/plain')])
            return [b'fine']
        app = webtest.TestApp(middleware.FaultFilter(ok))
        self.assertEqual('fine', app.get('/').text)


class SizeLimitFilterTest(testtools.TestCase):

    def setUp(self):
        super().setUp()

        def echo(environ, start_response):
            body = environ['wsgi.input'].read()
            start_response('200 OK', [('Content-Type', 'text/plain')])
            return [b'%d' % len(body)]
        self.app = webtest.TestApp(middleware.SizeLimitFilter(echo, 10))

    def test_oversize_body_is_json_413_before_the_app(self):
        resp = self.app.post('/v1/plans', 'x' * 11, expect_errors=True)
        self.assertEqual(413, resp.status_int)
        self.assertEqual('application/json', resp.content_type)
        self.assertEqual('valet.request.too_large',
                         resp.json['errors'][0]['code'])

    def test_body_within_the_limit_passes(self):
        self.assertEqual('10', self.app.post('/v1/plans', 'x' * 10).text)
