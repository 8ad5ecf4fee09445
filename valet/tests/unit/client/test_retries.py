"""Retries, back-off and time budgets against tiny loopback servers.

The servers are real HTTP servers on 127.0.0.1 answering scripted
statuses, and a listening socket that never answers; the client talks to
them through a real keystoneauth session. Back-off waits are recorded
instead of slept, so the tests do not depend on the machine's speed.
"""

import http.server
import json
import socket
import threading

from keystoneauth1 import session as ks_session
import testtools

from valet import client
from valet.tests.functional import processes


class _Script(http.server.BaseHTTPRequestHandler):
    """Answers each request with the next (status, body) of the script;
    the last one repeats."""

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        server = self.server
        with server.lock:
            server.seen.append((self.command, self.path, body,
                                dict(self.headers)))
            index = min(len(server.seen), len(server.script)) - 1
            status, payload = server.script[index]
        data = json.dumps(payload).encode() if payload is not None else b''
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('x-openstack-request-id', 'req-test')
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


def error(status, code):
    return {'errors': [{'status': status, 'title': 'T', 'code': code,
                        'detail': 'what went wrong',
                        'request_id': 'req-1'}]}


class RetryTest(testtools.TestCase):

    def serve(self, *script):
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Script)
        server.daemon_threads = True
        server.script = list(script)
        server.seen = []
        server.lock = threading.Lock()
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server

    def client(self, url, **kwargs):
        self.waits = []
        kwargs.setdefault('timeout', 60)
        kwargs.setdefault('retries', 2)
        kwargs.setdefault('retry_delay', 0.25)
        return client.Client(ks_session.Session(), endpoint_override=url,
                             sleep=self.waits.append, **kwargs)

    def url(self, server):
        return 'http://127.0.0.1:%d' % server.server_address[1]

    def test_503_then_success_with_doubling_back_off(self):
        server = self.serve((503, error(503, 'valet.engine.unavailable')),
                            (502, None), (200, {'status': {'x': 1}}))
        valet = self.client(self.url(server))
        self.assertEqual({'x': 1}, valet.status())
        self.assertEqual(3, len(server.seen))
        self.assertEqual([0.25, 0.5], self.waits)

    def test_gives_up_after_the_retries(self):
        server = self.serve((504, None))
        valet = self.client(self.url(server), retries=3)
        error = self.assertRaises(client.ServerError, valet.status)
        self.assertEqual(504, error.status)
        self.assertEqual(4, len(server.seen))
        self.assertTrue(error.is_outage)

    def test_post_is_retried_on_503(self):
        server = self.serve((503, error(503, 'valet.engine.starting')),
                            (201, {'placement': {'location': 'h1'}}))
        valet = self.client(self.url(server))
        placement = valet.reserve('p1', ['h1'], resource_id='u1')
        self.assertEqual('h1', placement['location'])
        self.assertEqual(2, len(server.seen))
        method, path, body, headers = server.seen[-1]
        self.assertEqual(('POST', '/v1/placements/p1'), (method, path))
        self.assertEqual({'action': 'reserve', 'locations': ['h1'],
                          'resource_id': 'u1'}, json.loads(body))
        self.assertEqual('workload-placement 1.0',
                         headers['OpenStack-API-Version'])

    def test_newer_fields_ask_for_their_microversion(self):
        server = self.serve((201, {'placement': {'location': 'h1'}}),
                            (201, {'plan': {'placements': {}}}))
        valet = self.client(self.url(server))
        hints = {'heat_root_stack_id': 's', 'heat_path_in_stack': [',a']}
        valet.reserve('p1', ['h1'], hints=hints)
        valet.create_plan('p', 's', {}, project_id='tenant-a')
        (_m, _p, reserve, r_headers), (_m2, _p2, plan, p_headers) = \
            server.seen
        self.assertEqual(hints, json.loads(reserve)['hints'])
        self.assertEqual('workload-placement 1.2',
                         r_headers['OpenStack-API-Version'])
        self.assertEqual('tenant-a', json.loads(plan)['project_id'])
        self.assertEqual('workload-placement 1.3',
                         p_headers['OpenStack-API-Version'])

    def test_other_errors_are_not_retried(self):
        for status, cls in ((500, client.ServerError),
                            (400, client.BadRequest),
                            (404, client.NotFound),
                            (409, client.Conflict)):
            server = self.serve((status, error(status, 'valet.x.y')))
            valet = self.client(self.url(server))
            raised = self.assertRaises(cls, valet.status)
            self.assertEqual(1, len(server.seen), status)
            self.assertEqual('valet.x.y', raised.code)
            self.assertEqual('what went wrong', raised.detail)
            self.assertEqual([], self.waits)

    def test_error_without_json_body(self):
        server = self.serve((403, None))
        raised = self.assertRaises(client.Forbidden,
                                   self.client(self.url(server)).status)
        self.assertEqual('valet.forbidden', raised.code)
        self.assertEqual('req-test', raised.request_id)
        self.assertTrue(raised.is_outage)

    def test_connection_refused_is_retried_then_raised(self):
        port = processes.free_port()
        valet = self.client('http://127.0.0.1:%d' % port)
        raised = self.assertRaises(client.ConnectionFailure, valet.status)
        self.assertNotIsInstance(raised, client.Timeout)
        self.assertEqual(2, len(self.waits))

    def test_silent_server_costs_one_budget(self):
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(('127.0.0.1', 0))
        listener.listen(8)      # accepted by the kernel, never answered
        url = 'http://127.0.0.1:%d' % listener.getsockname()[1]
        valet = self.client(url, timeout=0.5)
        self.assertRaises(client.Timeout, valet.status)
        # The whole budget went to the first attempt: nothing is left to
        # retry with, and a POST that timed out is never repeated.
        self.assertEqual([], self.waits)
        self.assertRaises(client.Timeout, valet.create_plan, 'p', 's', {})

    def test_exhausted_budget_stops_retrying(self):
        server = self.serve((503, None))
        now = [0.0]

        def sleep(seconds):
            now[0] += seconds
        valet = client.Client(ks_session.Session(),
                              endpoint_override=self.url(server),
                              timeout=1.0, retries=10, retry_delay=0.4,
                              clock=lambda: now[0], sleep=sleep)
        self.assertRaises(client.ServiceUnavailable, valet.status)
        # 0.4 + 0.8 would pass the 1 s budget: two attempts only.
        self.assertEqual(2, len(server.seen))
