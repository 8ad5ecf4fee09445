"""The development server's own HTTP parsing and WSGI runner
(valet.cmd.dev_server), against wsgiref where they must agree."""

import http.client
import io
import json
import os
import socket
import sys
import threading
from unittest import mock
from wsgiref import simple_server

from oslotest import base as oslo_base

from valet.cmd import api as cmd_api
from valet.cmd import dev_server


def lines_of(raw, buffer_size=io.DEFAULT_BUFFER_SIZE):
    stream = io.BufferedReader(io.BytesIO(raw), buffer_size=buffer_size)
    return dev_server.read_header_lines(stream), stream.read()


def fields_of(raw, buffer_size=io.DEFAULT_BUFFER_SIZE):
    lines, rest = lines_of(raw, buffer_size)
    return dev_server.parse_headers(lines), rest


class HeaderParsingTest(oslo_base.BaseTestCase):

    def assertBad(self, status, raw, buffer_size=io.DEFAULT_BUFFER_SIZE):
        err = self.assertRaises(dev_server.BadRequest, fields_of, raw,
                                buffer_size)
        self.assertEqual(status, err.status)

    def both_ways(self, raw):
        """The fields read from the buffer at once and line by line (a
        buffer too small to hold the section); both must agree."""
        whole = fields_of(raw)
        self.assertEqual(whole, fields_of(raw, buffer_size=8))
        return whole

    def test_names_any_case_one_key(self):
        fields, rest = self.both_ways(
            b'Host: x\r\nx-roles: admin\r\nX-ROLES: member\r\n'
            b'Content-Type: application/json\r\n\r\nBODY')
        self.assertEqual({'HTTP_HOST': 'x', 'HTTP_X_ROLES': 'admin,member',
                          'HTTP_CONTENT_TYPE': 'application/json'}, fields)
        self.assertEqual(b'BODY', rest)

    def test_repeated_headers_are_comma_joined_in_order(self):
        fields, _ = self.both_ways(b'A: 1\r\nB: x\r\nA:  2 \r\nA:3\r\n\r\n')
        self.assertEqual('1,2,3', fields['HTTP_A'])

    def test_first_content_type_counts(self):
        fields, _ = self.both_ways(b'Content-Type: text/plain\r\n'
                                   b'Content-Type: application/json\r\n\r\n')
        self.assertEqual('text/plain', fields['HTTP_CONTENT_TYPE'])

    def test_obsolete_folding_continues_with_one_space(self):
        fields, rest = self.both_ways(b'X-A: one\r\n  two\r\n\tthree\r\n'
                                      b'X-B: b\r\n\r\nrest')
        self.assertEqual({'HTTP_X_A': 'one two three', 'HTTP_X_B': 'b'},
                         fields)
        self.assertEqual(b'rest', rest)

    def test_folding_before_any_header_is_400(self):
        self.assertBad(400, b' X-A: one\r\n\r\n')
        self.assertBad(400, b' X-A: one\r\n\r\n', buffer_size=8)

    def test_malformed_lines_are_400(self):
        for line in (b'NoColon', b'X-A : v', b': v', b'X A: v',
                     b'X-\x01: v', b'X-A: a\rb'):
            self.assertBad(400, b'Host: x\r\n' + line + b'\r\n\r\n')
            self.assertBad(400, b'Host: x\r\n' + line + b'\r\n\r\n',
                           buffer_size=8)

    def test_bare_lf_line_ends(self):
        fields, rest = fields_of(b'Host: x\nX-A: 1\r\nX-A: 2\n\nrest')
        self.assertEqual({'HTTP_HOST': 'x', 'HTTP_X_A': '1,2'}, fields)
        self.assertEqual(b'rest', rest)

    def test_no_headers(self):
        self.assertEqual(({}, b'rest'), fields_of(b'\r\nrest'))
        self.assertEqual(({}, b'rest'), fields_of(b'\nrest'))
        self.assertEqual(({}, b''), fields_of(b''))

    def test_a_hundred_header_lines_at_most(self):
        hundred = b''.join(b'X-%d: v\r\n' % i for i in range(100))
        self.assertEqual(100, len(self.both_ways(hundred + b'\r\n')[0]))
        self.assertBad(431, hundred + b'X-Last: v\r\n\r\n')
        self.assertBad(431, hundred + b'X-Last: v\r\n\r\n', buffer_size=8)

    def test_a_line_too_long_is_431(self):
        self.assertBad(431, b'X-Long: ' + b'v' * 70000 + b'\r\n\r\n')

    def test_content_length(self):
        length = dev_server.content_length
        self.assertEqual((None, None, 0, 12, 12),
                         (length(None), length(''), length('0'),
                          length('12'), length('12, 12')))
        for bad in ('-1', '+1', '1.0', '0x10', '1,2', '\u0661', 'a'):
            self.assertRaises(dev_server.BadRequest, length, bad)


def capture_app(seen):
    def app(environ, start_response):
        body = environ['wsgi.input'].read(
            int(environ.get('CONTENT_LENGTH') or 0))
        seen.append((dict(environ), body))
        start_response('200 OK', [('Content-Type', 'text/plain'),
                                  ('Content-Length', '2')])
        return [b'ok']
    return app


class Quiet(cmd_api._Handler):
    timeout = 5

    def log_message(self, fmt, *args):
        pass


def serve(test, app, handler=Quiet, server_class=cmd_api._ThreadingServer):
    server = simple_server.make_server('127.0.0.1', 0, app,
                                       server_class=server_class,
                                       handler_class=handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,),
                              daemon=True)
    thread.start()
    test.addCleanup(server.server_close)
    test.addCleanup(server.shutdown)
    return server


def read_all(client):
    """Everything ``client`` receives until the server closes."""
    answer = b''
    while True:
        chunk = client.recv(65536)
        if not chunk:
            return answer
        answer += chunk


def exchange(address, raw):
    """Send raw bytes; everything answered until the server closes."""
    with socket.create_connection(address, timeout=10) as client:
        client.sendall(raw)
        return read_all(client)


REQUESTS = [
    b'GET /v1/groups?limit=2&marker=a%20b HTTP/1.1\r\nHost: x:8090\r\n'
    b'Connection: close\r\n\r\n',
    b'POST /v1/pl%41ns/%C3%A9%2Fx HTTP/1.1\r\nHost: x\r\n'
    b'Content-Type: application/json\r\nContent-Length: 2\r\n'
    b'X-Roles: admin\r\nx-roles:  member \r\nAccept: */*\r\n'
    b'Connection: close\r\n\r\n{}',
    b'PUT /a HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n'
    b'User-Agent: t\r\nX_Odd.Name: 1\r\n\r\nabc',
    b'GET http://valet.example.com/v1/groups HTTP/1.0\r\n\r\n',
    b'DELETE /v1/plans/x HTTP/1.1\r\nContent-Length:\r\n'
    b'Content-Type:\r\nConnection: close\r\n\r\n',
    b'GET /\xe9 HTTP/1.1\r\nX-Latin: caf\xe9\r\nConnection: close\r\n\r\n',
]


class EnvironTest(oslo_base.BaseTestCase):
    """The environ is wsgiref's, without the process environment."""

    def test_same_environ_as_wsgiref(self):
        ours, theirs = [], []
        server = serve(self, capture_app(ours))
        with mock.patch.dict(os.environ, {}, clear=True):
            # wsgiref copies the process environment into every environ.
            reference = serve(self, capture_app(theirs),
                              handler=simple_server.WSGIRequestHandler,
                              server_class=simple_server.WSGIServer)
        self.assertIsInstance(server, simple_server.WSGIServer)
        # Its handler copies the environment wsgiref was imported with.
        with mock.patch.object(simple_server.WSGIRequestHandler,
                               'log_message'), \
                mock.patch.object(simple_server.ServerHandler,
                                  'os_environ', {}):
            for raw in REQUESTS:
                exchange(server.server_address, raw)
                exchange(reference.server_address, raw)
        self.assertEqual(len(REQUESTS), len(ours))
        self.assertEqual(len(REQUESTS), len(theirs))
        for (mine, body), (reference_env, reference_body) in zip(ours,
                                                                 theirs):
            for env in (mine, reference_env):
                del env['wsgi.input']
                env['SERVER_PORT'] = '-'
            self.assertEqual(reference_body, body)
            self.assertEqual(reference_env, mine)
        self.assertEqual('/v1/plAns/\xc3\xa9/x', ours[1][0]['PATH_INFO'])
        self.assertEqual('admin,member', ours[1][0]['HTTP_X_ROLES'])
        self.assertEqual('text/plain', ours[0][0]['CONTENT_TYPE'])

    def test_no_process_environment(self):
        seen = []
        server = serve(self, capture_app(seen))
        with mock.patch.dict(os.environ, {'VALET_SECRET_X': 'x'}):
            exchange(server.server_address, REQUESTS[0])
        self.assertNotIn('VALET_SECRET_X', seen[0][0])

    def test_pipelined_and_split_requests(self):
        seen = []
        server = serve(self, capture_app(seen))
        with socket.create_connection(server.server_address,
                                      timeout=10) as client:
            # Two requests in one piece, then one whose headers and body
            # come in pieces (read line by line).
            client.sendall(b'POST /1 HTTP/1.1\r\nContent-Length: 1\r\n\r\na'
                           b'POST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nbb')
            pieces = [b'POST /3 HTTP/1.1\r\nX-A: 1\r\nX-', b'A: 2\r\nConte',
                      b'nt-Length: 3\r\nConnection: close\r\n', b'\r\ncc',
                      b'c']
            for piece in pieces:
                threading.Event().wait(0.05)
                client.sendall(piece)
            answer = read_all(client)
        self.assertEqual(3, len(answers(answer)))
        self.assertEqual([('/1', b'a'), ('/2', b'bb'), ('/3', b'ccc')],
                         [(env['PATH_INFO'], body) for env, body in seen])
        self.assertEqual('1,2', seen[2][0]['HTTP_X_A'])

    def test_leading_slashes_are_left_alone(self):
        # As uwsgi passes them: the API answers empty segments itself.
        seen = []
        server = serve(self, capture_app(seen))
        exchange(server.server_address, b'GET //v1/groups HTTP/1.1\r\n'
                                        b'Connection: close\r\n\r\n')
        self.assertEqual('//v1/groups', seen[0][0]['PATH_INFO'])


def answers(raw):
    """The (status line, headers, body) of each answer in ``raw``."""
    out = []
    sock = FakeSock(raw)
    while sock.stream.peek(1):
        resp = http.client.HTTPResponse(sock, method=sock.method)
        resp.begin()
        out.append(('%d %s' % (resp.status, resp.reason),
                    dict(resp.getheaders()), resp.read()))
    return out


class Kept(io.BufferedReader):
    def close(self):    # each HTTPResponse closes it; the next reads on
        pass


class FakeSock:
    method = 'GET'

    def __init__(self, raw):
        self.stream = Kept(io.BytesIO(raw))

    def makefile(self, mode):
        return self.stream


class RunnerTest(oslo_base.BaseTestCase):
    """start_response, write(), close(), HEAD, errors and keep-alive."""

    def serve(self, app):
        self.connections = 0
        server = serve(self, app)
        accept = server.process_request

        def counted(*args):
            self.connections += 1
            return accept(*args)
        server.process_request = counted
        return server

    def keep(self, server):
        conn = http.client.HTTPConnection(*server.server_address,
                                          timeout=10)
        self.addCleanup(conn.close)
        return conn

    def test_head_sends_no_body_and_keeps_the_connection(self):
        def app(environ, start_response):
            start_response('200 OK', [('Content-Length', '5')])
            return [b'hello']
        server = self.serve(app)
        conn = self.keep(server)
        for method in ('HEAD', 'GET', 'HEAD'):
            conn.request(method, '/')
            resp = conn.getresponse()
            self.assertEqual('5', resp.getheader('Content-Length'))
            self.assertEqual(b'' if method == 'HEAD' else b'hello',
                             resp.read())
        self.assertEqual(1, self.connections)
        # Nothing after the head of a HEAD answer, even if the app gave it.
        raw = exchange(server.server_address, b'HEAD / HTTP/1.1\r\n'
                                              b'Connection: close\r\n\r\n')
        self.assertTrue(raw.endswith(b'\r\n\r\n'), raw)

    def test_write_callable(self):
        def app(environ, start_response):
            headers = [('Content-Type', 'text/plain')]
            if environ['PATH_INFO'] == '/said':
                headers.append(('Content-Length', '4'))
            write = start_response('200 OK', headers)
            write(b'ab')
            write(b'')
            return [b'c', b'', b'd']
        server = self.serve(app)
        conn = self.keep(server)
        for _ in range(2):
            conn.request('GET', '/said')
            resp = conn.getresponse()
            self.assertEqual(b'abcd', resp.read())
            self.assertIsNone(resp.getheader('Connection'))
        self.assertEqual(1, self.connections)
        # Without a Content-Length the connection ends the answer.
        raw = exchange(server.server_address, b'GET / HTTP/1.1\r\n\r\n')
        (status, headers, body), = answers(raw)
        self.assertEqual(('close', b'abcd'), (headers['Connection'], body))

    def test_one_block_gets_its_length_and_keeps_the_connection(self):
        def app(environ, start_response):
            start_response('200 OK', [('Content-Type', 'text/plain')])
            return [] if environ['PATH_INFO'] == '/empty' else [b'abc']
        server = self.serve(app)
        conn = self.keep(server)
        for path, body in (('/', b'abc'), ('/empty', b''), ('/', b'abc')):
            conn.request('GET', path)
            resp = conn.getresponse()
            self.assertEqual(str(len(body)),
                             resp.getheader('Content-Length'))
            self.assertEqual(body, resp.read())
        self.assertEqual(1, self.connections)

    def test_more_than_the_length_said_is_cut_and_closes(self):
        def app(environ, start_response):
            start_response('200 OK', [('Content-Length', '3')])
            return [b'ab', b'cd', b'ef']
        server = self.serve(app)
        raw = exchange(server.server_address, b'GET / HTTP/1.1\r\n\r\n'
                                              b'GET / HTTP/1.1\r\n\r\n')
        self.assertTrue(raw.endswith(b'\r\n\r\nabc'), raw)
        self.assertEqual(1, raw.count(b'HTTP/1.1 200'))

    def test_exc_info_replaces_an_answer_not_yet_sent(self):
        def app(environ, start_response):
            start_response('200 OK', [('Content-Length', '2')])
            try:
                raise KeyError('x')
            except KeyError:
                start_response('503 Service Unavailable',
                               [('Content-Length', '4')], sys.exc_info())
            return [b'oops']
        server = self.serve(app)
        (status, _, body), = answers(exchange(
            server.server_address, b'GET / HTTP/1.1\r\n'
                                   b'Connection: close\r\n\r\n'))
        self.assertEqual(('503 Service Unavailable', b'oops'),
                         (status, body))

    def test_exc_info_after_the_head_was_sent_raises_and_closes(self):
        raised = []

        def app(environ, start_response):
            write = start_response('200 OK', [('Content-Length', '10')])
            write(b'part')
            try:
                raise KeyError('x')
            except KeyError:
                try:
                    start_response('500 Oops', [], sys.exc_info())
                except KeyError as exc:
                    raised.append(exc)
                    raise
            return [b'never']
        server = self.serve(app)
        with mock.patch.object(dev_server.LOG, 'exception') as logged:
            raw = exchange(server.server_address,
                           b'GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n')
        self.assertEqual(1, len(raised))
        # The answer as far as it went; no second answer, no 500.
        self.assertTrue(raw.startswith(b'HTTP/1.1 200 OK\r\n'), raw)
        self.assertTrue(raw.endswith(b'\r\n\r\npart'), raw)
        self.assertEqual(1, logged.call_count)

    def test_start_response_twice_without_exc_info_is_a_500(self):
        def app(environ, start_response):
            start_response('200 OK', [])
            start_response('200 OK', [])
            return [b'x']
        server = self.serve(app)
        with mock.patch.object(dev_server.LOG, 'exception'):
            (status, _, body), = answers(exchange(
                server.server_address, b'GET / HTTP/1.1\r\n\r\n'))
        self.assertEqual('500 Internal Server Error', status)

    def test_failure_before_the_head_is_a_json_500_and_closes(self):
        closed = []

        class Result:
            def __iter__(self):
                raise RuntimeError('boom')

            def close(self):
                closed.append(True)

        def app(environ, start_response):
            if environ['PATH_INFO'] == '/iter':
                start_response('200 OK', [('Content-Length', '1')])
                return Result()
            raise RuntimeError('boom')
        server = self.serve(app)
        for path in (b'/', b'/iter'):
            with mock.patch.object(dev_server.LOG, 'exception') as logged:
                raw = exchange(server.server_address,
                               b'GET %s HTTP/1.1\r\n\r\n'
                               b'GET / HTTP/1.1\r\n\r\n' % path)
            (status, headers, body), = answers(raw)
            self.assertEqual('500 Internal Server Error', status)
            self.assertEqual(('close', 'application/json'),
                             (headers['Connection'],
                              headers['Content-Type']))
            error = json.loads(body)['errors'][0]
            self.assertEqual((500, 'valet.internal'),
                             (error['status'], error['code']))
            self.assertTrue(error['request_id'].startswith('req-'))
            self.assertEqual(1, logged.call_count)
        self.assertEqual([True], closed)

    def test_failure_mid_answer_closes(self):
        closed = []

        class Result:
            def __iter__(self):
                yield b'abc'
                raise RuntimeError('boom')

            def close(self):
                closed.append(True)

        def app(environ, start_response):
            start_response('200 OK', [('Content-Length', '6')])
            return Result()
        server = self.serve(app)
        with mock.patch.object(dev_server.LOG, 'exception'):
            raw = exchange(server.server_address,
                           b'GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n')
        self.assertTrue(raw.endswith(b'\r\n\r\nabc'), raw)
        self.assertEqual(1, raw.count(b'HTTP/1.1 '))
        self.assertEqual([True], closed)

    def test_line_breaks_in_headers_are_not_sent(self):
        def app(environ, start_response):
            start_response('200 OK', [('X-A', 'a\r\nSet-Cookie: x')])
            return [b'x']
        server = self.serve(app)
        with mock.patch.object(dev_server.LOG, 'exception'):
            raw = exchange(server.server_address, b'GET / HTTP/1.1\r\n\r\n')
        self.assertNotIn(b'Set-Cookie', raw)
        self.assertEqual('500 Internal Server Error', answers(raw)[0][0])

    def test_date_and_server_once(self):
        def app(environ, start_response):
            headers = [('Content-Length', '0')]
            if environ['PATH_INFO'] == '/own':
                headers += [('date', 'x'), ('server', 'y')]
            start_response('204 No Content', headers)
            return []
        server = self.serve(app)
        conn = self.keep(server)
        conn.request('GET', '/')
        resp = conn.getresponse()
        resp.read()
        headers = resp.getheaders()
        names = [name for name, _ in headers]
        self.assertEqual(['Date', 'Server', 'Content-Length'], names)
        self.assertIn('WSGIServer/', dict(headers)['Server'])
        conn.request('GET', '/own')
        self.assertEqual([('Content-Length', '0'), ('date', 'x'),
                          ('server', 'y')], conn.getresponse().getheaders())

    def test_http_0_9_gets_the_body_alone(self):
        server = self.serve(capture_app([]))
        self.assertEqual(b'ok', exchange(server.server_address,
                                         b'GET /\r\n\r\n'))

    def test_server_errors_are_json(self):
        server = self.serve(capture_app([]))
        for raw, status in (
                (b'GET / HTTP/1.1\r\n folded: x\r\n\r\n', 400),
                (b'GET / HTTP/1.1\r\nNo colon\r\n\r\n', 400),
                (b'POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n', 400),
                (b'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400),
                (b'GET / x HTTP/1.1\r\n\r\n', 400),
                (b'GET / HTTP/1.x\r\n\r\n', 400),
                (b'GET / HTTPS/1.1\r\n\r\n', 400),
                (b'POST /\r\n\r\n', 400),
                (b'GET / HTTP/3.0\r\n\r\n', 505),
                (b'GET / HTTP/1.1\r\n' + b'X: v\r\n' * 101 + b'\r\n', 431)):
            (got, headers, body), = answers(exchange(server.server_address,
                                                     raw))
            self.assertEqual(status, int(got.split()[0]), raw)
            self.assertEqual('close', headers['Connection'])
            self.assertEqual(status, json.loads(body)['errors'][0]['status'])

    def test_the_answer_leaves_before_close_and_the_access_line(self):
        got, seen_by = threading.Event(), {}

        class Result(list):
            def close(self):
                seen_by.setdefault('close', got.wait(5))

        class Logging(Quiet):
            def log_message(self, fmt, *args):
                seen_by.setdefault('log', got.is_set())

        def app(environ, start_response):
            start_response('200 OK', [('Content-Length', '2')])
            return Result([b'ok'])
        server = serve(self, app, handler=Logging)
        conn = self.keep(server)
        with mock.patch.object(dev_server.LOG, 'isEnabledFor',
                               return_value=True):
            conn.request('GET', '/')
            self.assertEqual(b'ok', conn.getresponse().read())
            got.set()
            conn.request('GET', '/')    # the first one is over by now
            self.assertEqual(b'ok', conn.getresponse().read())
        self.assertEqual({'close': True, 'log': True}, seen_by)

    def test_large_answers_on_a_kept_connection(self):
        big = bytes(range(256)) * 1200

        def app(environ, start_response):
            write = start_response('200 OK',
                                   [('Content-Length', str(3 * len(big)))])
            write(big)
            return [big, big]
        server = self.serve(app)
        conn = self.keep(server)
        for _ in range(2):
            conn.request('GET', '/')
            self.assertEqual(big * 3, conn.getresponse().read())
        self.assertEqual(1, self.connections)

    def test_chunked_bodies_close(self):
        seen = []
        server = self.serve(capture_app(seen))
        raw = exchange(server.server_address,
                       b'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n'
                       b'\r\n0\r\n\r\n')
        (status, headers, _), = answers(raw)
        self.assertEqual('close', headers['Connection'])


class AccessLogTest(oslo_base.BaseTestCase):

    def run_one(self, enabled):
        calls = []

        class Recording(cmd_api._Handler):
            def log_message(self, fmt, *args):
                calls.append(fmt % args)

        server = serve(self, capture_app([]), handler=Recording)
        with mock.patch.object(dev_server.LOG, 'isEnabledFor',
                               return_value=enabled):
            exchange(server.server_address, b'GET /x?y HTTP/1.1\r\n'
                                            b'Connection: close\r\n\r\n')
        return calls

    def test_an_access_line_when_info_is_on(self):
        self.assertEqual(['"GET /x?y HTTP/1.1" 200 2'], self.run_one(True))

    def test_an_answer_without_length_is_logged_too(self):
        calls = []

        class Recording(cmd_api._Handler):
            def log_message(self, fmt, *args):
                calls.append(fmt % args)

        def app(environ, start_response):
            start_response('200 OK', [])
            return iter([b'abc'])
        server = serve(self, app, handler=Recording)
        with mock.patch.object(dev_server.LOG, 'isEnabledFor',
                               return_value=True):
            exchange(server.server_address, b'GET / HTTP/1.1\r\n\r\n')
        self.assertEqual(['"GET / HTTP/1.1" 200 3'], calls)

    def test_nothing_built_when_info_is_off(self):
        self.assertEqual([], self.run_one(False))

    def test_the_line_goes_through_oslo_log(self):
        handler = cmd_api._Handler.__new__(cmd_api._Handler)
        handler.client_address = ('10.0.0.1', 1)
        handler.requestline = 'GET / HTTP/1.1'
        with mock.patch.object(dev_server.LOG, 'info') as info:
            handler.log_request(200, 12)
        line = info.call_args[0][0] % info.call_args[0][1:]
        self.assertTrue(line.startswith('10.0.0.1 "'), line)
        self.assertTrue(line.endswith('" 200 12'), line)
