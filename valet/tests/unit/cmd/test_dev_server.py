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
