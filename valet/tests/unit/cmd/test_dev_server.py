"""The all-in-one development server sends each answer in one piece."""

import http.client
import socket
import threading
from unittest import mock
from wsgiref import simple_server

from oslotest import base as oslo_base

from valet.cmd import api as cmd_api
from valet.tests.unit.cmd import test_dev_server_http


def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('X-One', '1'), ('X-Two', '2')])
    return [b'{"ok": true}']


class Quiet(cmd_api._Handler):
    def log_message(self, fmt, *args):
        pass


class DevServerTest(oslo_base.BaseTestCase):

    def test_status_headers_and_body_leave_in_one_send(self):
        server = simple_server.make_server(
            '127.0.0.1', 0, app, server_class=cmd_api._ThreadingServer,
            handler_class=Quiet)
        self.addCleanup(server.server_close)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.shutdown)
        sends = []
        real_send, real_sendall = socket.socket.send, socket.socket.sendall

        def send(sock, data, *args):
            sends.append(bytes(data))
            return real_send(sock, data, *args)

        def sendall(sock, data, *args):
            sends.append(bytes(data))
            return real_sendall(sock, data, *args)

        client = socket.create_connection(server.server_address)
        self.addCleanup(client.close)
        with mock.patch.object(socket.socket, 'send', send), \
                mock.patch.object(socket.socket, 'sendall', sendall):
            real_sendall(client, b'GET / HTTP/1.1\r\nHost: x\r\n'
                                 b'Connection: close\r\n\r\n')
            answer = test_dev_server_http.read_all(client)
        self.assertTrue(answer.startswith(b'HTTP/1.1 200 OK'), answer)
        self.assertTrue(answer.endswith(b'{"ok": true}'), answer)
        self.assertEqual([answer], sends)


def get(address):
    """One request on a connection of its own; the answer's bytes."""
    return test_dev_server_http.exchange(
        address, b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')


class ConnectionThreadsTest(oslo_base.BaseTestCase):
    """Each connection on a thread of its own, threads reused."""

    def serve(self, idle_timeout=60.0):
        server = test_dev_server_http.serve(self, app, handler=Quiet)
        # Read by each connection thread, none of which has started.
        server.idle_timeout = idle_timeout
        return server

    @staticmethod
    def connection_threads():
        return [t for t in threading.enumerate()
                if t.name == 'valet-api-connection']

    def wait_for(self, condition):
        for _ in range(500):
            if condition():
                return
            threading.Event().wait(0.01)
        self.fail('condition not met in 5 s')

    def test_one_connection_at_a_time_uses_one_thread(self):
        before = len(self.connection_threads())
        server = self.serve()
        for _ in range(5):
            self.assertTrue(get(server.server_address).endswith(
                b'{"ok": true}'))
            self.wait_for(lambda: server._idle == server._threads)
        self.assertEqual(1, server._threads)
        self.assertEqual(before + 1, len(self.connection_threads()))

    def test_a_stalled_connection_does_not_hold_up_others(self):
        server = self.serve()
        stalled = socket.create_connection(server.server_address)
        self.addCleanup(stalled.close)
        stalled.sendall(b'GET / HTTP/1.1\r\n')     # and nothing more
        self.wait_for(lambda: server._threads == 1)
        self.assertTrue(get(server.server_address).endswith(
            b'{"ok": true}'))
        self.assertEqual(2, server._threads)

    def test_idle_threads_end(self):
        server = self.serve(idle_timeout=0.05)
        get(server.server_address)
        self.wait_for(lambda: server._threads == 0)
        # A later connection gets a new thread.
        self.assertTrue(get(server.server_address).endswith(
            b'{"ok": true}'))

    def test_closing_the_server_ends_its_threads(self):
        before = self.connection_threads()
        server = self.serve()
        get(server.server_address)
        self.wait_for(lambda: server._idle == 1)
        mine = [t for t in self.connection_threads() if t not in before]
        self.assertEqual(1, len(mine))
        server.shutdown()
        server.server_close()
        mine[0].join(5)
        self.assertFalse(mine[0].is_alive())


def echo_app(environ, start_response):
    """Answers the body it read; ``/skip`` reads none, ``/stream`` answers
    without a Content-Length."""
    path = environ['PATH_INFO']
    if path == '/stream':
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return (piece for piece in (b'a', b'b'))
    body = b'' if path == '/skip' else environ['wsgi.input'].read(
        int(environ.get('CONTENT_LENGTH') or 0))
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', str(len(body) + 2))])
    return [b'[' + body + b']']


class KeepAliveTest(oslo_base.BaseTestCase):
    """HTTP/1.1 connections serve request after request."""

    def setUp(self):
        super().setUp()
        self.server = simple_server.make_server(
            '127.0.0.1', 0, echo_app, server_class=cmd_api._ThreadingServer,
            handler_class=type('Short', (Quiet,), {'timeout': 2}))
        self.connections = 0
        accept = self.server.process_request

        def counted(*args):
            self.connections += 1
            return accept(*args)
        self.server.process_request = counted
        thread = threading.Thread(target=self.server.serve_forever,
                                  args=(0.01,), daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)

    def connect(self):
        conn = http.client.HTTPConnection(*self.server.server_address,
                                          timeout=10)
        self.addCleanup(conn.close)
        return conn

    def ask(self, conn, method, path, body=None, headers=None):
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()

    def test_requests_share_one_connection(self):
        conn = self.connect()
        for i in range(3):
            resp, body = self.ask(conn, 'POST', '/', b'x%d' % i)
            self.assertEqual((200, b'[x%d]' % i), (resp.status, body))
            self.assertEqual(11, resp.version)
            self.assertIsNone(resp.getheader('Connection'))
            self.assertFalse(resp.will_close)
        self.assertEqual(1, self.connections)

    def test_requests_session_reuses_the_connection(self):
        # Valet's clients talk through keystoneauth over requests.
        import requests
        session = requests.Session()
        self.addCleanup(session.close)
        url = 'http://%s:%d/' % self.server.server_address
        for i in range(3):
            self.assertEqual(b'[%d]' % i, session.post(
                url, data=b'%d' % i).content)
        self.assertEqual(1, self.connections)

    def closed_after(self, method, path, body=None, headers=None,
                     raw=None):
        client = socket.create_connection(self.server.server_address,
                                          timeout=10)
        self.addCleanup(client.close)
        client.sendall(raw or (
            '%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n' % (
                method, path, len(body or b''), ''.join(
                    '%s: %s\r\n' % h for h in (headers or {}).items()))
        ).encode() + (body or b''))
        answer = b''
        while True:         # EOF: the server closed the connection
            chunk = client.recv(65536)
            if not chunk:
                return answer
            answer += chunk

    def test_connection_close_is_honoured(self):
        answer = self.closed_after('GET', '/', headers={
            'Connection': 'close'})
        self.assertIn(b'\r\nConnection: close\r\n', answer)
        self.assertTrue(answer.endswith(b'[]'), answer)

    def test_http_1_0_is_closed(self):
        answer = self.closed_after(
            None, None, raw=b'GET / HTTP/1.0\r\nConnection: keep-alive'
                            b'\r\n\r\n')
        self.assertIn(b'\r\nConnection: close\r\n', answer)

    def test_an_unread_body_closes(self):
        answer = self.closed_after('POST', '/skip', b'GET / HTTP/1.1\r\n'
                                                    b'Host: x\r\n\r\n')
        self.assertEqual(1, answer.count(b'HTTP/1.1 200'), answer)

    def test_an_answer_without_length_closes(self):
        answer = self.closed_after('GET', '/stream')
        self.assertIn(b'\r\nConnection: close\r\n', answer)
        self.assertTrue(answer.endswith(b'ab'), answer)

    def test_an_idle_connection_is_closed_without_an_answer(self):
        answer = self.closed_after(
            None, None, raw=b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
        # The handler's timeout (2 s) ends it: one answer, no 408.
        self.assertEqual(1, answer.count(b'HTTP/1.1 '), answer)
        self.assertNotIn(b'408', answer)

    def test_expect_100_continue_answered_at_once(self):
        client = socket.create_connection(self.server.server_address,
                                          timeout=10)
        self.addCleanup(client.close)
        client.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2'
                       b'\r\nExpect: 100-continue\r\n\r\n')
        self.assertTrue(client.recv(65536).startswith(
            b'HTTP/1.1 100 Continue'))
        client.sendall(b'ok')
        self.assertTrue(client.recv(65536).endswith(b'[ok]'))

    def test_nagle_is_off(self):
        self.assertTrue(cmd_api._Handler.disable_nagle_algorithm)
