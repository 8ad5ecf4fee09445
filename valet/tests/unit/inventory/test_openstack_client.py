"""Keystoneauth clients of the openstack inventory: config, errors, retries."""

import http.server
import json
import os
import threading

import fixtures
from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg
from oslotest import base

from valet import conf as valet_conf
from valet.conf import clients as clients_conf
from valet.inventory import base as inventory_base
from valet.inventory.openstack import client
from valet.tests.functional import processes
from valet.tests.unit.inventory import test_openstack_fakes as fakes


def make_conf(test, text=''):
    path = os.path.join(test.useFixture(fixtures.TempDir()).path, 'v.conf')
    with open(path, 'w') as handle:
        handle.write(text)
    conf = cfg.ConfigOpts()
    valet_conf.register_all(conf)
    conf([], default_config_files=[path])
    return conf


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers 503 ``failures`` times, then 200 with the request headers."""

    def do_GET(self):
        server = self.server
        server.seen.append(dict(self.headers))
        if len(server.seen) <= server.failures:
            self.send_response(503)
            body = b'busy'
        else:
            self.send_response(200)
            body = json.dumps({'ok': True}).encode()
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class ConfTest(base.BaseTestCase):

    def test_groups_have_service_types_and_safe_defaults(self):
        conf = make_conf(self)
        self.assertEqual('placement', conf.placement.service_type)
        self.assertEqual('compute', conf.nova.service_type)
        for group in ('placement', 'nova'):
            section = conf[group]
            self.assertEqual(3, section.connect_retries)
            self.assertEqual(3, section.status_code_retries)
            self.assertEqual([502, 503, 504], section.retriable_status_codes)
            self.assertEqual(60, section.timeout)
            self.assertIsNone(section.auth_type)
            self.assertFalse(client.is_configured(conf, group))

    def test_sample_lists_password_options_with_our_defaults(self):
        groups = dict((g.name, opts) for g, opts in clients_conf.list_opts())
        self.assertEqual({'placement', 'nova'}, set(groups))
        for name, opts in groups.items():
            by_dest = {o.dest: o for o in opts}
            for dest in ('auth_type', 'auth_url', 'username', 'password',
                         'project_name', 'user_domain_name', 'cafile',
                         'endpoint_override', 'region_name',
                         'status_code_retries'):
                self.assertIn(dest, by_dest, name)
            self.assertTrue(by_dest['password'].secret)
            self.assertEqual(clients_conf.SERVICE_TYPES[name],
                             by_dest['service_type'].default)
            self.assertEqual(3, by_dest['connect_retries'].default)
            self.assertEqual(len(by_dest), len(opts), 'duplicate options')

    def test_make_client_from_admin_token(self):
        conf = make_conf(self, '[placement]\nauth_type = admin_token\n'
                               'endpoint = http://127.0.0.1:1/p\n'
                               'token = admin\nconnect_retries = 5\n')
        self.assertTrue(client.is_configured(conf, 'placement'))
        c = client.make_client(conf, 'placement', 'Placement', '1.14',
                               pool_size=16)
        self.assertEqual('http://127.0.0.1:1/p', c.adapter.get_endpoint())
        self.assertEqual('1.14', c.adapter.default_microversion)
        self.assertEqual(5, c.adapter.connect_retries)
        self.assertEqual([502, 503, 504], c.adapter.retriable_status_codes)
        self.assertEqual('http://127.0.0.1:1/p/resource_providers',
                         c.url('/resource_providers'))

    def test_unusable_configuration_is_a_clear_error(self):
        conf = make_conf(self, '[nova]\nauth_type = no-such-plugin\n')
        exc = self.assertRaises(inventory_base.InventoryError,
                                client.make_client, conf, 'nova', 'Nova',
                                '2.61')
        self.assertIn('Nova client: [nova] is not usable', str(exc))
        self.assertIn('no-such-plugin', str(exc))
        conf = make_conf(self, '[placement]\nauth_type = password\n')
        exc = self.assertRaises(inventory_base.InventoryError,
                                client.make_client, conf, 'placement',
                                'Placement', '1.14')
        self.assertIn('[placement] is not usable', str(exc))
        self.assertIn('not given: auth_url', str(exc))

    def test_no_endpoint_is_a_clear_error(self):
        conf = make_conf(self, '[placement]\nauth_type = admin_token\n'
                               'token = admin\n')
        c = client.make_client(conf, 'placement', 'Placement', '1.14')
        exc = self.assertRaises(inventory_base.InventoryError, c.get, '/')
        self.assertIn('Placement: no endpoint found', str(exc))
        self.assertIn('set endpoint_override', str(exc))


class ServiceClientTest(base.BaseTestCase):

    def test_json_body(self):
        c = fakes.fake_client({'/x': {'a': 1}})
        self.assertEqual({'a': 1}, c.get('/x'))

    def test_http_errors_name_service_url_and_detail(self):
        c = fakes.fake_client({'/x': (500, {'errors': [{
            'status': 500, 'title': 'Internal Server Error',
            'detail': 'database is locked'}]})})
        exc = self.assertRaises(inventory_base.InventoryError, c.get, '/x')
        self.assertEqual('Placement GET http://api.example.org:8778/x '
                         'answered 500: database is locked', str(exc))

    def test_nova_error_bodies(self):
        c = fakes.fake_client({'/os-aggregates': (403, {'forbidden': {
            'message': "Policy doesn't allow it.", 'code': 403}})}, 'Nova')
        exc = self.assertRaises(inventory_base.InventoryError, c.get,
                                '/os-aggregates')
        self.assertIn("Nova GET http://api.example.org:8778/os-aggregates "
                      "answered 403: Policy doesn't allow it.", str(exc))

    def test_long_or_plain_error_bodies_are_shortened(self):
        c = fakes.fake_client({'/x': (502, '<html>\n' + 'x' * 500)})
        exc = self.assertRaises(inventory_base.InventoryError, c.get, '/x')
        self.assertIn('answered 502: <html> xxx', str(exc))
        self.assertLess(len(str(exc)), 300)

    def test_tolerated_status(self):
        c = fakes.fake_client({})
        self.assertIsNone(c.get('/gone', tolerate=(404,)))
        self.assertRaises(inventory_base.InventoryError, c.get, '/gone')

    def test_malformed_json(self):
        c = fakes.fake_client({'/x': (200, '{"resource_providers": [')})
        exc = self.assertRaises(inventory_base.InventoryError, c.get, '/x')
        self.assertEqual('Placement GET http://api.example.org:8778/x '
                         'answered 200 with a body that is not JSON',
                         str(exc))

    def test_transport_failures(self):
        cases = [
            (ks_exc.ConnectFailure('refused'),
             'Placement at http://api.example.org:8778/x: unreachable after '
             'retries (ConnectFailure)'),
            (ks_exc.ConnectTimeout('slow'),
             'Placement at http://api.example.org:8778/x: timed out after '
             'retries'),
            (ks_exc.SSLError('bad cert'), 'unreachable after retries '
                                          '(SSLError)'),
            (ks_exc.EndpointNotFound('no placement'),
             'Placement: no endpoint found in the service catalog'),
            (ks_exc.Unauthorized('The request you have made requires '
                                 'authentication.'),
             'Placement: authentication failed: The request you have made '
             'requires authentication. (HTTP 401)'),
            (ks_exc.DiscoveryFailure('no versions'),
             'request failed: no versions'),
        ]
        for error, message in cases:
            c = fakes.fake_client({'/x': error})
            exc = self.assertRaises(inventory_base.InventoryError, c.get,
                                    '/x')
            self.assertIn(message, str(exc))

    def test_pagination_follows_markers(self):
        pages = {
            '/servers/detail?all_tenants=1': {
                'servers': [{'id': 'a'}, {'id': 'b'}],
                'servers_links': [{'rel': 'next', 'href':
                                   'https://public.example.org/compute/v2.1/'
                                   'servers/detail?all_tenants=1&marker=b'}]},
            '/servers/detail?all_tenants=1&marker=b': {
                'servers': [{'id': 'c'}],
                'servers_links': [{'rel': 'next', 'href':
                                   '/servers/detail?marker=c'}]},
            '/servers/detail?all_tenants=1&marker=c': {'servers': []},
        }
        c = fakes.fake_client(pages, 'Nova')
        items = c.get_paged('/servers/detail', 'servers',
                            params={'all_tenants': 1})
        self.assertEqual(['a', 'b', 'c'], [s['id'] for s in items])

    def test_pagination_stops_on_a_repeated_marker(self):
        loop = {'/x': {'items': [{'id': 1}], 'items_links': [
            {'rel': 'next', 'href': '/x?marker=1'}]},
            '/x?marker=1': {'items': [{'id': 1}], 'items_links': [
                {'rel': 'next', 'href': '/x?marker=1'}]}}
        c = fakes.fake_client(loop)
        self.assertEqual(2, len(c.get_paged('/x', 'items')))

    def test_unexpected_shape(self):
        c = fakes.fake_client({'/x': {'other': []}}, 'Nova')
        exc = self.assertRaises(inventory_base.InventoryError, c.get_paged,
                                '/x', 'items')
        self.assertIn("Nova GET http://api.example.org:8778/x: unexpected "
                      "response, no list 'items' in it", str(exc))


class RetryTest(base.BaseTestCase):
    """Retries and back-off are keystoneauth's; check they are wired."""

    def serve(self, failures):
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        server.failures = failures
        server.seen = []
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server

    def client(self, url, retries=3):
        conf = make_conf(self, '[placement]\nauth_type = admin_token\n'
                               'endpoint = %s\ntoken = admin\n'
                               'status_code_retries = %d\n'
                               'status_code_retry_delay = 0.01\n'
                               'connect_retries = 1\n'
                               'connect_retry_delay = 0.01\n' % (
                                   url, retries))
        return client.make_client(conf, 'placement', 'Placement', '1.14')

    def test_transient_503_is_retried(self):
        server = self.serve(failures=2)
        c = self.client('http://127.0.0.1:%d' % server.server_port)
        self.assertEqual({'ok': True}, c.get('/resource_providers'))
        self.assertEqual(3, len(server.seen))
        headers = server.seen[-1]
        self.assertEqual('admin', headers['X-Auth-Token'])
        self.assertEqual('placement 1.14', headers['OpenStack-API-Version'])

    def test_persistent_503_gives_up(self):
        server = self.serve(failures=100)
        c = self.client('http://127.0.0.1:%d' % server.server_port,
                        retries=2)
        exc = self.assertRaises(inventory_base.InventoryError, c.get,
                                '/resource_providers')
        self.assertEqual(3, len(server.seen))
        self.assertIn('answered 503: busy', str(exc))

    def test_nobody_listening(self):
        url = 'http://127.0.0.1:%d' % processes.free_port()
        exc = self.assertRaises(inventory_base.InventoryError,
                                self.client(url).get, '/resource_providers')
        self.assertEqual('Placement at %s/resource_providers: unreachable '
                         'after retries (ConnectFailure)' % url, str(exc))
