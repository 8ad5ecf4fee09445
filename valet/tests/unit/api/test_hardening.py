"""Input that used to reach a 5xx, a non-JSON answer or a state change.

Each case is answered with a clear 4xx in the API-SIG format and leaves
storage and the engine untouched. The engine is the fake of ``base`` (the
real one is exercised by the deployed fuzz run in
``valet/tests/functional/deploy/test_fuzz.py``).
"""

import io
import json
import math

import fixtures
from oslo_config import cfg
import webob

from valet.cmd import api as cmd_api
from valet.common import exception
from valet import conf as valet_conf
from valet import objects
from valet.tests.unit.api import base
from valet.tests.unit.api import test_deploy


def strict_json(text):
    """Parse like a strict client: NaN and Infinity are not JSON."""
    def refuse(name):
        raise ValueError('%s is not JSON' % name)
    return json.loads(text, parse_constant=refuse)


class HardeningTest(base.APITestCase):

    def snapshot(self):
        """Everything stored, as plain data."""
        return ([g.to_dict() for g in self.storage.list_groups()],
                [p.to_dict([]) for p in self.storage.list_plans()],
                [p.to_dict() for p in self.storage.list_placements()])

    def assertRejectedUnchanged(self, resp, status, code=None):
        self.assertError(resp, status, code)
        self.assertEqual(self.before, self.snapshot())
        self.assertEqual(self.engine_calls, len(self.engine.calls))

    def remember(self):
        self.before = self.snapshot()
        self.engine_calls = len(self.engine.calls)

    # ------------------------------------------------- availability zones
    def test_availability_zone_must_be_text(self):
        self.make_plan('kept')
        for zone in (['nova'], 7, {'a': 'b'}, True, 1.5, ['a', 'b']):
            self.remember()
            resources = {'orch-a': base.server('a')}
            resources['orch-a']['properties']['availability_zone'] = zone
            resp = self.post('/v1/plans', {
                'plan_name': 'p', 'stack_id': 's-az',
                'resources': resources}, headers=base.MEMBER)
            error = self.assertError(resp, 400, 'valet.request.invalid')
            self.assertIn('availability_zone', error['detail'])
            resp = self.put('/v1/plans/kept', {
                'action': 'update', 'resources': resources},
                headers=base.MEMBER)
            self.assertRejectedUnchanged(resp, 400, 'valet.request.invalid')

    def test_availability_zone_text_or_null_is_accepted(self):
        for i, zone in enumerate(('nova', 'nova:host1', None, '')):
            resources = {'orch-%d' % i: base.server('a')}
            resources['orch-%d' % i]['properties'][
                'availability_zone'] = zone
            self.make_plan('s-%d' % i, resources=resources)

    # ---------------------------------------------------- empty segments
    def test_trailing_slash_never_removes_every_member(self):
        group = self.make_group('web', members=['p1', 'p2'])
        for path in ('/v1/groups/%s/members/',
                     '/v1/groups/%s/members/%%2F',
                     '/v1/groups/%s/members//',
                     '/v1/groups/%s//members'):
            self.remember()
            resp = self.delete(path % group['id'])
            self.assertRejectedUnchanged(resp, 404, 'valet.request.not_found')
        self.assertEqual(['p1', 'p2'], self.get('/v1/groups/web')
                         .json['group']['members'])

    def test_empty_segments_are_not_found(self):
        self.make_group('web')
        self.make_plan('s1')
        for method, path in (('GET', '/v1//groups'), ('GET', '/v1/groups//'),
                             ('DELETE', '/v1/groups/web/'),
                             ('PUT', '/v1/groups/web/members/'),
                             ('DELETE', '/v1/plans/s1/'),
                             ('POST', '/v1/groups/'),
                             ('GET', '/v1/plans//s1')):
            self.remember()
            resp = self.request(method, path, body={'members': ['p9']})
            self.assertRejectedUnchanged(resp, 404, 'valet.request.not_found')

    # --------------------------------------------------- strict JSON in
    def test_non_finite_numbers_are_refused(self):
        self.make_plan('kept')
        texts = ('1e400', '-1e400', 'NaN', 'Infinity', '-Infinity',
                 '1' + '0' * 400 + '.0')
        for text in texts:
            self.remember()
            raw = ('{"plan_name": "p", "stack_id": "s", "resources": '
                   '{"o": {"name": "a", "type": "OS::Nova::Server", '
                   '"properties": {"flavor": "m1.small"}, '
                   '"metadata": {"x": %s}}}}' % text)
            resp = self.post('/v1/plans', raw=raw, headers=base.MEMBER)
            self.assertRejectedUnchanged(resp, 400, 'valet.request.malformed')
            raw = '{"description": %s}' % text
            self.assertRejectedUnchanged(
                self.request('PUT', '/v1/groups/nope', raw=raw), 400)
        # In a filter, such text is no number: it is looked up as text.
        for text in texts:
            self.assertEqual([], self.get('/v1/placements?x=' + text)
                             .json['placements'])

    def test_answers_are_strict_json_even_for_bad_stored_data(self):
        # Data stored before the check (or by another writer) holding a
        # non-finite number: the answer is a JSON error, never Infinity.
        plan = objects.Plan(name='p', stack_id='s', project_id='project1')
        self.storage.create_plan(plan, [objects.Placement(
            name='a', orchestration_id='o', plan_id=plan.id,
            metadata={'x': math.inf})])
        resp = self.get('/v1/placements')
        strict_json(resp.text)
        self.assertError(resp, 500, 'valet.internal')

    def test_a_body_that_never_arrives_is_408(self):
        # uwsgi's input raises OSError once its socket timeout passes.
        class Stalled:
            def read(self, *args):
                raise OSError('timeout during read(65536) on wsgi.input')
            readline = read

        for content_type in ('application/json',
                             'application/x-www-form-urlencoded'):
            self._assert_408(Stalled(), content_type)

    def test_a_body_shorter_than_its_length_is_408(self):
        # The input ends early (the client closed mid-body).
        self._assert_408(io.BytesIO(b'{"name": "g"'), 'application/json')

    def _assert_408(self, stream, content_type):
        self.remember()
        req = webob.Request.blank('/v1/groups', method='POST',
                                  headers=dict(base.ADMIN))
        req.content_type = content_type
        req.environ['wsgi.input'] = stream
        req.environ['CONTENT_LENGTH'] = '100'
        resp = req.get_response(self.app.app)
        error = strict_json(resp.text)['errors'][0]
        self.assertEqual((408, 'valet.request.timeout'),
                         (resp.status_int, error['code']))
        self.assertEqual(self.before, self.snapshot())

    # ------------------------------------------------------ microversion
    def test_giant_microversion(self):
        resp = self.get('/v1/groups', headers=dict(
            base.ADMIN, **{'OpenStack-API-Version':
                           'workload-placement 1.' + '9' * 5000}))
        self.assertError(resp, 406, 'valet.microversion.unsupported')


class PipelineHardeningTest(test_deploy.PastePipelineTest):
    """The whole paste application, urlmap included."""

    def raw(self, app, method, path):
        environ = {'REQUEST_METHOD': method, 'PATH_INFO': path,
                   'SCRIPT_NAME': '', 'SERVER_NAME': 'localhost',
                   'SERVER_PORT': '80', 'wsgi.url_scheme': 'http',
                   'SERVER_PROTOCOL': 'HTTP/1.1',
                   'wsgi.input': webob.request.io.BytesIO(b'')}
        return webob.Request(environ).get_response(app)

    def test_request_targets_that_are_not_paths(self):
        for strategy in ('noauth', 'keystone'):
            app = self.load(strategy).app
            for method, path in (('OPTIONS', '*'), ('GET', 'v1/groups'),
                                 ('GET', 'ftp://x/v1'), ('DELETE', '*'),
                                 ('GET', 'http:/v1')):
                resp = self.raw(app, method, path)
                self.assertEqual(400, resp.status_int, resp.text)
                self.assertEqual('application/json', resp.content_type)
                error = strict_json(resp.text)['errors'][0]
                self.assertEqual('valet.request.bad_target', error['code'])
                self.assertEqual(400, error['status'])

    def test_empty_segments_before_the_urlmap_collapses_them(self):
        app = self.load('noauth')
        headers = dict(base.ADMIN, **{'Content-Type': 'application/json'})
        group = app.post('/v1/groups', json.dumps({
            'name': 'g', 'type': 'affinity', 'level': 'host'}),
            headers=headers).json
        app.put('/v1/groups/g/members', json.dumps({'members': ['p1']}),
                headers=headers)
        for path in ('/v1//groups/%s/members', '//v1/groups/%s/members',
                     '/v1/groups/%s//members', '/v1/groups/%s/members/'):
            resp = app.delete(path % group['id'], headers=base.ADMIN,
                              expect_errors=True)
            self.assertEqual(404, resp.status_int, path)
            self.assertEqual('valet.request.not_found',
                             resp.json['errors'][0]['code'])
        self.assertEqual(['p1'], self.storage.get_group('g').members)
        self.assertEqual(200, app.get('/v1/groups/', headers=base.ADMIN)
                         .status_int)

    def test_request_line_without_method_or_path(self):
        # uwsgi hands "GARBAGE" over with neither REQUEST_METHOD nor
        # PATH_INFO in the environment.
        app = self.load('noauth').app
        for missing in ('REQUEST_METHOD', 'PATH_INFO'):
            environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/',
                       'SCRIPT_NAME': '', 'SERVER_NAME': 'localhost',
                       'SERVER_PORT': '80', 'wsgi.url_scheme': 'http',
                       'wsgi.input': webob.request.io.BytesIO(b'')}
            del environ[missing]
            answer = {}

            def start_response(status, headers, exc_info=None):
                answer.update(status=status, headers=dict(headers))
            body = b''.join(app(environ, start_response))
            self.assertTrue(answer['status'].startswith('400'), body)
            self.assertEqual('valet.request.malformed',
                             strict_json(body)['errors'][0]['code'])

    def test_request_line_read_past_its_end(self):
        # "DELETE /v1/plans/x" with no version: uwsgi takes the next
        # header line into the path and its value as the protocol.
        app = self.load('noauth').app
        for protocol, path in (('close', '/v1/plans/x\r\nConnection:'),
                               ('HTTP/1.1', '/v1/plans/\x00'),
                               ('workload-placement 1.9', '/v1/plans/x')):
            environ = {'REQUEST_METHOD': 'DELETE', 'PATH_INFO': path,
                       'SERVER_PROTOCOL': protocol, 'SCRIPT_NAME': '',
                       'SERVER_NAME': 'localhost', 'SERVER_PORT': '80',
                       'wsgi.url_scheme': 'http',
                       'wsgi.input': webob.request.io.BytesIO(b'')}
            resp = webob.Request(environ).get_response(app)
            self.assertEqual(400, resp.status_int, resp.text)
            self.assertEqual('valet.request.malformed',
                             strict_json(resp.text)['errors'][0]['code'])

    def test_absolute_form_targets_are_served_by_their_path(self):
        app = self.load('noauth').app
        self.storage.create_group(objects.Group(name='g', type='affinity'))
        for path in ('http://valet.example.com/v1/groups',
                     'HTTPS://valet.example.com:8090/v1/groups/'):
            environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': path,
                       'SCRIPT_NAME': '', 'SERVER_NAME': 'localhost',
                       'SERVER_PORT': '80', 'wsgi.url_scheme': 'http',
                       'SERVER_PROTOCOL': 'HTTP/1.1', 'HTTP_X_ROLES': 'admin',
                       'wsgi.input': webob.request.io.BytesIO(b'')}
            resp = webob.Request(environ).get_response(app)
            self.assertEqual(200, resp.status_int, resp.text)
            self.assertEqual(['g'], [g['name'] for g in
                                     strict_json(resp.text)['groups']])
        # The path of an absolute target obeys the same rules.
        environ = dict(environ, REQUEST_METHOD='DELETE',
                       PATH_INFO='http://x/v1/groups/g/members/',
                       **{'wsgi.input': webob.request.io.BytesIO(b'')})
        resp = webob.Request(environ).get_response(app)
        self.assertEqual(404, resp.status_int, resp.text)

    def test_noauth_logs_a_warning_at_start(self):
        logger = self.useFixture(fixtures.FakeLogger(level='WARNING'))
        self.load('noauth')
        self.assertIn('NO AUTHENTICATION', logger.output)

    def test_keystone_logs_no_noauth_warning(self):
        logger = self.useFixture(fixtures.FakeLogger(level='WARNING'))
        self.load('keystone')
        self.assertNotIn('NO AUTHENTICATION', logger.output)

    def test_noauth_without_roles_is_a_member(self):
        app = self.load('noauth')
        resp = app.post('/v1/groups', json.dumps({
            'name': 'g', 'type': 'affinity', 'level': 'host'}),
            headers={'Content-Type': 'application/json'},
            expect_errors=True)
        self.assertEqual(403, resp.status_int, resp.text)
        self.assertEqual([], self.storage.list_groups())


class ListenAddressTest(base.APITestCase):
    """Where ``valet-api`` binds (valet.cmd.api.listen_address)."""

    def conf_for(self, *argv):
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf.register_cli_opts(cmd_api.CLI_OPTS)
        conf(list(argv), project='valet', default_config_files=[])
        return conf

    def test_all_in_one_binds_loopback(self):
        conf = self.conf_for('--all-in-one')
        self.assertEqual(('127.0.0.1', 8090), cmd_api.listen_address(conf))

    def test_all_in_one_elsewhere_warns_loudly(self):
        logger = self.useFixture(fixtures.FakeLogger(level='WARNING'))
        conf = self.conf_for('--all-in-one', '--host', '0.0.0.0',
                             '--port', '9999')
        self.assertEqual(('0.0.0.0', 9999), cmd_api.listen_address(conf))
        self.assertIn('NO AUTHENTICATION', logger.output)
        self.assertIn('0.0.0.0', logger.output)

    def test_all_in_one_on_loopback_does_not_warn(self):
        logger = self.useFixture(fixtures.FakeLogger(level='WARNING'))
        for host in ('127.0.0.1', '::1', 'localhost'):
            conf = self.conf_for('--all-in-one', '--host', host)
            self.assertEqual(host, cmd_api.listen_address(conf)[0])
        self.assertEqual('', logger.output)

    def test_without_all_in_one_the_configured_host(self):
        conf = self.conf_for()
        self.assertEqual(conf.api.host, cmd_api.listen_address(conf)[0])


class StrictErrorBodyTest(base.APITestCase):

    def test_non_finite_numbers_in_an_explanation_become_null(self):
        self.engine.fail_with = exception.NoPlacement(
            'No host', details={'reason': 'capacity', 'ratio': math.inf,
                                'servers': [{'left': math.nan}]})
        resp = self.post('/v1/plans', {
            'plan_name': 'p', 'stack_id': 's',
            'resources': {'o': base.server('a')}}, headers=base.MEMBER)
        body = strict_json(resp.text)
        self.assertEqual(409, resp.status_int, resp.text)
        explanation = body['errors'][0]['explanation']
        self.assertIsNone(explanation['ratio'])
        self.assertEqual([{'left': None}], explanation['servers'])
