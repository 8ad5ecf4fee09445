"""The error format, routing answers, body decoding and microversions."""

import functools
import json

import webob

from valet.api import errors
from valet.api import microversion
from valet.api import request as api_request
from valet.storage import base as storage_base
from valet.tests.unit.api import base

# Every resource path and the methods it serves (besides OPTIONS/HEAD).
RESOURCES = {
    '/v1': {'GET'},
    '/v1/groups': {'GET', 'POST'},
    '/v1/groups/g': {'GET', 'PUT', 'DELETE'},
    '/v1/groups/g/members': {'PUT', 'DELETE'},
    '/v1/groups/g/members/p': {'GET', 'DELETE'},
    '/v1/plans': {'GET', 'POST'},
    '/v1/plans/p': {'GET', 'PUT', 'DELETE'},
    '/v1/placements': {'GET'},
    '/v1/placements/p': {'GET', 'POST', 'DELETE'},
    '/v1/status': {'GET'},
    '/v1/resources': {'GET'},
    '/': {'GET'},
}
ALL_METHODS = {'GET', 'PUT', 'POST', 'DELETE', 'PATCH'}


def allow_of(methods):
    extra = {'OPTIONS'} | ({'HEAD'} if 'GET' in methods else set())
    return ', '.join(sorted(methods | extra))


class RoutingTest(base.APITestCase):

    def test_options_everywhere(self):
        for path, methods in RESOURCES.items():
            resp = self.request('OPTIONS', path, status=204)
            self.assertEqual(allow_of(methods), resp.headers['Allow'], path)
            self.assertEqual(b'', resp.body)

    def test_405_with_allow_everywhere(self):
        for path, methods in RESOURCES.items():
            for method in ALL_METHODS - methods:
                resp = self.request(method, path, body={})
                self.assertError(resp, 405, 'valet.request.method_not_allowed')
                self.assertEqual(allow_of(methods), resp.headers['Allow'])

    def test_unknown_paths_are_json_404(self):
        for path in ('/nope', '/v2', '/v1/nope', '/v1/groups/g/x',
                     '/v1/groups/g/members/p/q', '/v1/plans/p/q',
                     '/v1/status/x', '/favicon.ico'):
            self.assertError(self.get(path), 404, 'valet.request.not_found')
        self.assertError(self.request('DELETE', '/v1/nope'), 404)

    def test_trailing_slash_is_the_same_resource(self):
        self.get('/v1/groups/', status=200)
        self.get('/v1/status/', status=200)

    def test_dotted_names_are_not_file_extensions(self):
        self.make_group('web.json')
        self.assertEqual('web.json', self.get('/v1/groups/web.json')
                         .json['group']['name'])

    def test_query_on_paths_without_filters(self):
        for path in ('/v1/groups', '/v1/plans', '/v1/status',
                     '/v1/plans/x', '/v1/resources'):
            self.assertError(self.get(path + '?a=1'), 400,
                             'valet.request.invalid')

    def test_json_even_when_html_is_preferred(self):
        resp = self.get('/v1/nope', headers=dict(
            base.ADMIN, Accept='text/html'))
        self.assertEqual(404, resp.status_int)
        self.assertEqual('application/json', resp.content_type)

    def test_request_id_from_middleware_is_used(self):
        resp = self.app.get('/v1/nope', expect_errors=True,
                            extra_environ={'openstack.request_id': 'req-x'},
                            headers=base.ADMIN)
        self.assertEqual('req-x', resp.json['errors'][0]['request_id'])


class BodyTest(base.APITestCase):

    def post_raw(self, raw, content_type='application/json'):
        return self.request('POST', '/v1/groups', raw=raw,
                            content_type=content_type)

    def assertNothingStored(self):
        self.assertEqual([], self.storage.list_groups())

    def test_malformed_json(self):
        for raw in ('{', '{"name": }', "{'name': 'g'}", 'null', '[]', '"g"',
                    '7', '{"name": NaN}', '{"a": Infinity}', b'\xff\xfe',
                    '{"a": "\\ud800"}'):
            self.assertError(self.post_raw(raw), 400,
                             'valet.request.malformed')
        self.assertNothingStored()

    def test_empty_body(self):
        self.assertError(self.post_raw(''), 400, 'valet.request.malformed')
        self.assertError(self.request('POST', '/v1/groups'), 400)

    def test_wrong_content_type(self):
        body = json.dumps({'name': 'g', 'type': 'affinity', 'level': 'host'})
        for ctype in ('text/plain', 'application/x-www-form-urlencoded',
                      'application/xml'):
            self.assertError(self.post_raw(body, ctype), 415,
                             'valet.request.unsupported_media_type')
        self.assertNothingStored()
        self.post_raw(body, 'application/json; charset=utf-8')
        self.assertEqual(1, len(self.storage.list_groups()))

    def test_oversize_body(self):
        limit = self.conf.api.max_request_body_size
        raw = json.dumps({'name': 'g', 'type': 'affinity', 'level': 'host',
                          'description': 'x' * limit})
        self.assertError(self.post_raw(raw), 413, 'valet.request.too_large')
        self.flags(max_request_body_size=64, group='api')
        raw = json.dumps({'name': 'g', 'type': 'affinity', 'level': 'host',
                          'description': 'x' * 60})
        self.assertError(self.post_raw(raw), 413, 'valet.request.too_large')
        self.assertNothingStored()

    def test_deep_nesting(self):
        for depth in (40, 5000, 100000):
            raw = '{"a": ' + '[' * depth + ']' * depth + '}'
            resp = self.request('POST', '/v1/plans', raw=raw,
                                headers=base.MEMBER)
            self.assertIn(resp.status_int, (400, 413), resp.text)
        deep = {'plan_name': 'p', 'stack_id': 's', 'resources': {'a': {
            'name': 'a', 'type': base.SERVER,
            'properties': {'x': json.loads('[' * 40 + ']' * 40)}}}}
        self.assertError(self.post('/v1/plans', deep, headers=base.MEMBER),
                         400, 'valet.request.malformed')
        self.assertEqual([], self.storage.list_plans())

    def test_nesting_limit_and_surrogates_exactly(self):
        limit = api_request.MAX_DEPTH

        def nested(depth, leaf):
            # The body is at depth 1; ``leaf`` at ``depth``.
            return '{"a": ' + '[' * (depth - 2) + leaf + ']' * (
                depth - 2) + '}'
        for leaf in ('1', '[]', '{}', '"x"'):
            for depth, ok in ((limit, True), (limit + 1, False)):
                # A surrogate pair makes the strings looked at too.
                for escape in ('', '\\u00e9', '\\ud83d\\ude00'):
                    raw = nested(depth, leaf).replace(
                        '"a"', '"a%s"' % escape)
                    body = api_request.strict_json(raw)
                    if ok:
                        self.assertIsInstance(body, dict)
                    req = webob.Request.blank(
                        '/', method='POST', body=raw.encode('utf-8'),
                        content_type='application/json')
                    call = functools.partial(api_request.json_body, req,
                                             10 ** 6)
                    if ok:
                        self.assertEqual(body, call())
                    else:
                        self.assertEqual(400, self.assertRaises(
                            errors.APIError, call).status)
        for raw in ('{"\\uDC00": 1}', '{"a": ["\\udbff"]}',
                    '{"a": "\\\\ud800"}'):
            req = webob.Request.blank('/', method='POST',
                                      body=raw.encode('utf-8'),
                                      content_type='application/json')
            if raw.count('\\') == 2:
                # An escaped backslash, then text: no surrogate.
                self.assertEqual({'a': '\\ud800'},
                                 api_request.json_body(req, 1000))
                continue
            self.assertRaises(errors.APIError, api_request.json_body, req,
                              1000)

    def test_invalid_utf8_in_path_and_query(self):
        resp = self.app.get('/v1/groups/%ff', expect_errors=True,
                            headers=base.ADMIN)
        self.assertIn(resp.status_int, (400, 404))
        self.assertEqual('application/json', resp.content_type)

    def test_a_target_that_is_not_utf8_where_it_is_decoded_is_400(self):
        # WebOb decodes the path when it is read; that error is the
        # client's (no 500), whichever attribute read it.
        bad = b'/v1/\xff'.decode('latin-1')
        try:
            bad.encode('latin-1').decode('utf-8')
        except UnicodeDecodeError as exc:
            error = errors.from_exception(exc)
        self.assertEqual((400, errors.MALFORMED), (error.status, error.code))
        resp = self.app.get('/v1/plans?name=%ff', expect_errors=True,
                            headers=base.ADMIN)
        self.assertEqual(400, resp.status_int)
        self.assertEqual('application/json', resp.content_type)


class FailureTest(base.APITestCase):

    def test_storage_unavailable_is_503(self):
        def down(*args, **kwargs):
            raise storage_base.Unavailable('connection refused')
        self.storage.list_groups = down
        self.assertError(self.get('/v1/groups'), 503,
                         'valet.storage.unavailable')

    def test_unexpected_error_is_500_without_details(self):
        def broken(*args, **kwargs):
            raise RuntimeError('secret internals')
        self.storage.list_groups = broken
        error = self.assertError(self.get('/v1/groups'), 500,
                                 'valet.internal')
        self.assertNotIn('secret', error['detail'])


class MicroversionTest(base.APITestCase):

    def with_version(self, value, path='/v1/groups'):
        return self.get(path, headers=dict(
            base.ADMIN, **{'OpenStack-API-Version': value}))

    def test_accepted(self):
        for value, served in (
                ('workload-placement 1.0', '1.0'),
                ('workload-placement latest', microversion.VERSIONS[-1]),
                ('WORKLOAD-PLACEMENT 1.0', '1.0'), ('compute 2.90', '1.0'),
                ('compute 2.1, workload-placement 1.1', '1.1')):
            resp = self.with_version(value)
            self.assertEqual(200, resp.status_int, value)
            self.assertEqual('workload-placement ' + served,
                             resp.headers['OpenStack-API-Version'])

    def test_huge_numbers_are_unsupported_not_a_crash(self):
        # Python refuses int() of 4,300+ digits; such a version is valid
        # syntax naming no version that exists: 406, echoed short.
        for value in ('1.' + '9' * 5000, '9' * 5000 + '.0',
                      '1.' + '0' * 0 + '1' * 20):
            error = self.assertError(
                self.with_version('workload-placement ' + value), 406,
                'valet.microversion.unsupported')
            self.assertLess(len(error['detail']), 200)
        self.assertError(self.with_version(
            'workload-placement 1.' + '9' * 5000, '/'), 406,
            'valet.microversion.unsupported')
        self.assertError(self.with_version(
            'workload-placement 1.0' + 'x' * 5000), 400,
            'valet.microversion.invalid')

    def test_malformed(self):
        for value in ('workload-placement', 'workload-placement 1',
                      'workload-placement 1.x', 'workload-placement 01.0',
                      'workload-placement 1.0.1', 'workload-placement -1.0'):
            self.assertError(self.with_version(value), 400,
                             'valet.microversion.invalid')

    def test_unsupported(self):
        latest = microversion.VERSIONS[-1]
        beyond = 'workload-placement 1.%d' % len(microversion.VERSIONS)
        for value in (beyond, 'workload-placement 2.0',
                      'workload-placement 0.9'):
            error = self.assertError(self.with_version(value), 406,
                                     'valet.microversion.unsupported')
            self.assertEqual(('1.0', latest), (error['min_version'],
                                               error['max_version']))
        self.assertError(self.with_version('workload-placement 9.9', '/'),
                         406)
