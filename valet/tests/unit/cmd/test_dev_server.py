"""The all-in-one development server sends each answer in one piece."""

import socket
import threading
from unittest import mock
from wsgiref import simple_server

from oslotest import base as oslo_base

from valet.cmd import api as cmd_api


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
            answer = b''
            while True:
                chunk = client.recv(65536)
                if not chunk:
                    break
                answer += chunk
        self.assertTrue(answer.startswith(b'HTTP/1.0 200 OK'), answer)
        self.assertTrue(answer.endswith(b'{"ok": true}'), answer)
        self.assertEqual([answer], sends)


def get(address):
    """One request on a connection of its own; the answer's bytes."""
    client = socket.create_connection(address, timeout=10)
    try:
        client.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close'
                       b'\r\n\r\n')
        answer = b''
        while True:
            chunk = client.recv(65536)
            if not chunk:
                return answer
            answer += chunk
    finally:
        client.close()


class ConnectionThreadsTest(oslo_base.BaseTestCase):
    """Each connection on a thread of its own, threads reused."""

    def serve(self, idle_timeout=60.0):
        server = simple_server.make_server(
            '127.0.0.1', 0, app, server_class=cmd_api._ThreadingServer,
            handler_class=Quiet)
        server.idle_timeout = idle_timeout
        # A short poll: shutdown() returns within it.
        thread = threading.Thread(target=server.serve_forever, args=(0.01,),
                                  daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
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
