"""The shipped api-paste.ini, the WSGI config lookup and all-in-one."""

import json
import os

import fixtures
from keystonemiddleware import auth_token
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_messaging import conffixture as messaging_fixture
from oslo_middleware import cors
import webtest

from valet.api import app as api_app
from valet.cmd import api as cmd_api
from valet import conf as valet_conf
from valet.tests.unit.api import base
from valet import wsgi

PASTE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                     'etc', 'valet', 'api-paste.ini')


class PastePipelineTest(base.APITestCase):

    def load(self, strategy):
        self.flags(auth_strategy=strategy, group='api')
        for group, opts in auth_token.list_opts():
            self.conf.register_opts(opts, group=group)
        # Where to send clients for a token; no Keystone is called for
        # requests without one.
        self.flags(www_authenticate_uri='http://keystone.test/v3',
                   group='keystone_authtoken')
        return webtest.TestApp(api_app.load_app(
            self.conf, PASTE, engine_api=self.engine, storage=self.storage))

    def test_packaged_paste_file_is_the_default(self):
        self.assertEqual(os.path.normpath(PASTE),
                         os.path.normpath(self.conf.api.api_paste_config))

    def test_noauth_pipeline(self):
        app = self.load('noauth')
        resp = app.get('/')
        self.assertEqual('http://localhost/v1/',
                         resp.json['versions'][0]['links'][0]['href'])
        resp = app.get('/v1', headers=base.ADMIN)
        links = {link['rel']: link['href']
                 for link in resp.json['versions'][0]['links']}
        self.assertEqual('http://localhost/v1/groups/', links['groups'])
        resp = app.post('/v1/groups', json.dumps({
            'name': 'g', 'type': 'affinity', 'level': 'host'}),
            headers=dict(base.ADMIN, **{'Content-Type': 'application/json'}))
        self.assertEqual(201, resp.status_int)
        rid = resp.headers['x-openstack-request-id']
        self.assertTrue(rid.startswith('req-'))
        resp = app.get('/v1/nope', headers=base.ADMIN, expect_errors=True)
        self.assertEqual(resp.headers['x-openstack-request-id'],
                         resp.json['errors'][0]['request_id'])

    def test_member_headers_are_trusted_in_noauth(self):
        app = self.load('noauth')
        resp = app.post('/v1/groups', json.dumps({
            'name': 'g', 'type': 'affinity', 'level': 'host'}),
            headers=dict(base.MEMBER, **{'Content-Type': 'application/json'}),
            expect_errors=True)
        self.assertEqual(403, resp.status_int)

    def test_healthchecks_need_no_auth(self):
        for strategy in ('noauth', 'keystone'):
            app = self.load(strategy)
            self.assertEqual(200, app.get('/healthcheck').status_int)
            self.assertEqual(200, app.get('/v1/healthcheck').status_int)

    def test_keystone_pipeline_requires_a_token(self):
        app = self.load('keystone')
        self.assertEqual(200, app.get('/').status_int)
        resp = app.get('/v1/groups', expect_errors=True)
        self.assertEqual(401, resp.status_int)
        # Identity headers a client makes up are not trusted.
        resp = app.get('/v1/groups', headers=dict(
            base.ADMIN, **{'X-Identity-Status': 'Confirmed'}),
            expect_errors=True)
        self.assertEqual(401, resp.status_int)

    def test_sizelimit_filter(self):
        self.flags(max_request_body_size=100, group='api')
        app = self.load('noauth')
        resp = app.post('/v1/groups', json.dumps({'description': 'x' * 200}),
                        headers=dict(base.ADMIN, **{
                            'Content-Type': 'application/json'}),
                        expect_errors=True)
        self.assertEqual(413, resp.status_int)


class LeanFiltersTest(PastePipelineTest):
    """oslo.middleware's CORS, proxy-header and request id filters,
    stepped over or done without webob, behave as before."""

    def test_cors_answers_an_allowed_origin(self):
        self.conf.register_opts(cors.CORS_OPTS, 'cors')
        self.flags(allowed_origin=['https://dash.test'], group='cors')
        app = self.load('noauth')
        resp = app.get('/v1', headers=dict(base.ADMIN,
                                           Origin='https://dash.test'))
        self.assertEqual('https://dash.test',
                         resp.headers['Access-Control-Allow-Origin'])
        resp = app.options('/v1/groups', headers={
            'Origin': 'https://dash.test',
            'Access-Control-Request-Method': 'POST'})
        self.assertEqual('https://dash.test',
                         resp.headers['Access-Control-Allow-Origin'])
        resp = app.get('/v1', headers=base.ADMIN)
        self.assertNotIn('Access-Control-Allow-Origin', resp.headers)
        resp = app.get('/v1', headers=dict(base.ADMIN,
                                           Origin='https://other.test'))
        self.assertNotIn('Access-Control-Allow-Origin', resp.headers)

    def test_proxy_headers_only_when_enabled(self):
        app = self.load('noauth')
        forwarded = dict(base.ADMIN, **{'X-Forwarded-Proto': 'https',
                                        'X-Forwarded-Host': 'valet.test'})
        links = app.get('/v1', headers=forwarded).json['versions'][0]
        self.assertTrue(links['links'][0]['href'].startswith(
            'http://localhost/'))
        self.flags(enable_proxy_headers_parsing=True,
                   group='oslo_middleware')
        links = app.get('/v1', headers=forwarded).json['versions'][0]
        self.assertTrue(links['links'][0]['href'].startswith(
            'https://valet.test/'))

    def test_request_ids(self):
        app = self.load('noauth')
        inbound = 'req-12345678-1234-1234-1234-123456789abc'
        seen = []
        answer = self.engine.ping

        def ping(ctxt):
            seen.append(ctxt.get('global_request_id'))
            return answer(ctxt)
        self.useFixture(fixtures.MockPatchObject(self.engine, 'ping', ping))
        first = app.get('/v1/status', headers=dict(
            base.ADMIN, **{'X-Openstack-Request-Id': inbound}))
        second = app.get('/v1/status', headers=dict(
            base.ADMIN, **{'X-Openstack-Request-Id': 'bogus'}))
        rids = [r.headers.getall('x-openstack-request-id')
                for r in (first, second)]
        self.assertEqual(1, len(rids[0]))
        self.assertNotEqual(rids[0], rids[1])
        self.assertNotEqual([inbound], rids[0])
        self.assertEqual([inbound, None], seen)


class ConfigArgsTest(base.APITestCase):

    def test_picks_only_config_flags_from_server_arguments(self):
        argv = ['--ini', 'x.ini', '--config-file', 'a.conf', '--master',
                '--config-dir=/etc/valet/conf.d']
        self.assertEqual(['--config-file', 'a.conf',
                          '--config-dir=/etc/valet/conf.d'],
                         wsgi.config_args(argv, {}))

    def test_environment(self):
        self.assertEqual(['--config-file', 'a.conf', '--config-file',
                          'b.conf'],
                         wsgi.config_args([], {'VALET_CONFIG_FILE':
                                               'a.conf, b.conf'}))
        tmp = self.useFixture(fixtures.TempDir()).path
        self.assertEqual(['--config-dir', tmp],
                         wsgi.config_args([], {'OS_VALET_CONFIG_DIR': tmp}))
        open(os.path.join(tmp, 'valet.conf'), 'w').close()
        self.assertEqual(['--config-file', os.path.join(tmp, 'valet.conf'),
                          '--config-dir', tmp],
                         wsgi.config_args([], {'OS_VALET_CONFIG_DIR': tmp}))
        self.assertEqual([], wsgi.config_args([], {}))


class AllInOneTest(base.APITestCase):
    """``valet-api --all-in-one``: SQLite, noauth, the real engine."""

    def test_places_a_stack(self):
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf.register_cli_opts(cmd_api.CLI_OPTS)
        conf(['--all-in-one'], project='valet', default_config_files=[])
        fixture = self.useFixture(config_fixture.Config(conf))
        # oslo.messaging registers some options on the global CONF only
        # (valet-api itself uses that one); a private conf needs them.
        self.useFixture(messaging_fixture.ConfFixture(conf))
        state = self.useFixture(fixtures.TempDir()).path
        fixture.config(state_dir=state)
        fixture.config(auth_strategy='keystone', group='api')
        app, stop = cmd_api.build(conf)
        self.addCleanup(stop)
        self.assertTrue(os.path.exists(os.path.join(state, 'valet.sqlite')))
        self.assertEqual('noauth', conf.api.auth_strategy)
        test = webtest.TestApp(app)
        json_headers = {'Content-Type': 'application/json',
                        'X-Roles': 'admin'}
        test.post('/v1/groups', json.dumps({
            'name': 'spread', 'type': 'diversity', 'level': 'host'}),
            headers=json_headers, status=201)
        resources = {name: base.server(name, groups=['spread'])
                     for name in ('a', 'b')}
        plan = test.post('/v1/plans', json.dumps({
            'plan_name': 'p', 'stack_id': 's1', 'resources': resources}),
            headers=json_headers, status=201).json['plan']
        hosts = {p['location'] for p in plan['placements'].values()}
        self.assertEqual(2, len(hosts))
        status = test.get('/v1/status', headers={'X-Roles': 'admin'},
                          status=200).json['status']
        self.assertEqual('ok', status['engine']['status'])
