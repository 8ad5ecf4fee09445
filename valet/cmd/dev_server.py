"""The HTTP/1.1 server behind ``valet-api`` without uwsgi.

Production runs ``valet.wsgi.api:application`` under uwsgi; the
development server (``valet-api``, ``--all-in-one`` above all) serves
the same WSGI app with this module: a connection per thread (threads
reused), HTTP/1.1 keep-alive, its own errors in API-SIG JSON.

The request line and headers are parsed here, and the WSGI environ and
the answer built here, instead of by ``http.server`` and ``wsgiref``:
those go through the email package to parse headers and through
several objects per answer, about half a millisecond per request, as
much as a one-server placement decision itself.
"""

import email.utils
import http.server
import json
import queue
import sys
import threading
import time
import urllib.parse
import uuid
from wsgiref import simple_server
from wsgiref import util as wsgiref_util

from oslo_log import log as logging

# The access and error lines keep the name they always had.
LOG = logging.getLogger('valet.cmd.api')

# Bounds of a request line and of the header section (as http.server's).
MAX_LINE = 65536
MAX_HEADERS = 100

SERVER_SOFTWARE = simple_server.software_version

# The development server's own error answers, by HTTP status.
SERVER_ERRORS = {
    400: ('valet.request.malformed',
          'The HTTP request could not be parsed; send a request line '
          '"METHOD /path HTTP/1.1" and well-formed headers.'),
    408: ('valet.request.timeout',
          'The request was not received in time; send the whole request '
          'at once.'),
    414: ('valet.request.target_too_long',
          'The request target is too long; at most 65,536 bytes are '
          'read.'),
    431: ('valet.request.headers_too_large',
          'The request has too many or too long header lines.'),
    500: ('valet.internal',
          'The server failed to answer the request.'),
    501: ('valet.request.method_not_implemented',
          'That method is not supported.'),
    505: ('valet.request.http_version_unsupported',
          'Only HTTP/1.0 and HTTP/1.1 are supported.'),
}

# A client that went away while answered: nothing to log or answer.
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _ClientGone(Exception):
    """Writing the answer failed: the client closed its connection."""


class BadRequest(Exception):
    """A request the server answers itself: ``(status, reason)``."""

    def __init__(self, status, reason):
        super().__init__(status, reason)
        self.status, self.reason = status, reason


# Header name -> environ key ("X-Roles" -> "HTTP_X_ROLES"), remembered
# for the names clients send; bounded so odd names cannot grow it.
_KEYS = {}
_KEYS_MAX = 512


def environ_key(name):
    key = _KEYS.get(name)
    if key is None:
        key = 'HTTP_' + name.upper().replace('-', '_')
        if len(_KEYS) < _KEYS_MAX:
            _KEYS[name] = key
    return key


def read_header_lines(stream):
    """The header section's lines (str, without line ends), read from a
    buffered ``stream`` up to and including the empty line.

    Usually the whole section is in the stream's buffer already: it is
    taken in one read and split. Otherwise (a section longer than the
    buffer, sent in pieces, or with bare LF line ends) line by line.
    BadRequest (431) for too many or too long lines.
    """
    buffered = stream.peek()
    if buffered[:2] == b'\r\n':
        stream.read(2)
        return []
    end = buffered.find(b'\r\n\r\n')
    if end >= 0:
        section = buffered[:end]
        crlf = section.count(b'\r\n')
        # Only CRLF line ends: every other CR or LF is read line by line.
        if crlf == section.count(b'\r') == section.count(b'\n'):
            if crlf >= MAX_HEADERS:
                raise BadRequest(431, 'Too many headers')
            stream.read(end + 4)
            return section.decode('latin-1').split('\r\n')
    lines = []
    while True:
        line = stream.readline(MAX_LINE + 1)
        if line in (b'\r\n', b'\n', b''):   # the end (or the stream's)
            return lines
        if len(line) > MAX_LINE:
            raise BadRequest(431, 'Line too long')
        if len(lines) == MAX_HEADERS:
            raise BadRequest(431, 'Too many headers')
        lines.append(line.decode('latin-1').rstrip('\r\n'))


def parse_headers(lines):
    """Header lines as ``{environ key: value}``.

    A header sent more than once is one comma-joined value (as WSGI
    expects), except Content-Type, whose first value counts; an obsolete
    folded line continues the previous value after one space.
    BadRequest (400) for a line without a colon, a name with spaces or
    control characters, an empty name or a CR inside a line.
    """
    fields = {}
    keys = _KEYS
    key = None
    for text in lines:
        if text[0] in ' \t':
            # obs-fold (RFC 7230 3.2.4): one space instead.
            if key is None or '\r' in text:
                raise BadRequest(400, 'Malformed folded header line')
            fields[key] = (fields[key] + ' ' + text.strip()).strip()
            continue
        name, colon, value = text.partition(':')
        key = keys.get(name)
        if key is None:
            if (not name or ' ' in name or not name.isprintable()):
                raise BadRequest(400, 'Malformed header line')
            key = environ_key(name)
        if not colon or '\r' in value:
            raise BadRequest(400, 'Malformed header line')
        value = value.strip()
        if key not in fields:
            fields[key] = value
        elif key != 'HTTP_CONTENT_TYPE':
            fields[key] += ',' + value
    return fields


def content_length(value):
    """The body's length from a Content-Length value (a repeated header
    is comma-joined, and must say one number); BadRequest otherwise."""
    if not value:
        return None
    if value.isdigit() and value.isascii():
        return int(value)
    lengths = {v.strip() for v in value.split(',')}
    if len(lengths) == 1:
        length = lengths.pop()
        if length.isdigit() and length.isascii():
            return int(length)
    raise BadRequest(400, 'Bad Content-Length %r' % value[:40])


_date = (0, '')


def http_date():
    """The Date header's value, made once a second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, email.utils.formatdate(now, usegmt=True))
    return _date[1]


class ThreadingServer(simple_server.WSGIServer):
    """Every connection on a thread of its own, threads reused.

    ``socketserver.ThreadingMixIn`` starts a new thread per connection,
    and its accepting thread waits until that thread runs: on a busy
    machine two scheduler hand-offs per request, most of a millisecond.
    Here a connection goes to an idle thread when there is one and to a
    new thread otherwise, so as many connections are served at once as
    before. A thread idle for ``idle_timeout`` seconds ends.
    """

    idle_timeout = 60.0

    def __init__(self, *args, **kwargs):
        self._connections = queue.SimpleQueue()
        self._pool_lock = threading.Lock()
        self._idle = 0          # threads waiting, not yet promised work
        self._threads = 0
        super().__init__(*args, **kwargs)

    def setup_environ(self):
        # What every request's environ starts from. Unlike wsgiref, not
        # a copy of the process environment: the API reads none of it.
        self.base_environ = {
            'SERVER_NAME': self.server_name,
            'SERVER_PORT': str(self.server_port),
            'GATEWAY_INTERFACE': 'CGI/1.1',
            'SERVER_SOFTWARE': Handler.server_version,
            'SCRIPT_NAME': '',
            'REMOTE_HOST': '',
            'CONTENT_LENGTH': '',
            'wsgi.version': (1, 0),
            'wsgi.url_scheme': 'http',
            'wsgi.multithread': False,
            'wsgi.multiprocess': False,
            'wsgi.run_once': False,
            'wsgi.file_wrapper': wsgiref_util.FileWrapper,
        }

    def process_request(self, request, client_address):
        with self._pool_lock:
            start = self._idle == 0
            if start:
                self._threads += 1
            else:
                self._idle -= 1     # that one is promised this connection
        if start:
            threading.Thread(target=self._serve, daemon=True,
                             name='valet-api-connection').start()
        self._connections.put((request, client_address))

    def _serve(self):
        while True:
            try:
                item = self._connections.get(timeout=self.idle_timeout)
            except queue.Empty:
                with self._pool_lock:
                    # Leave only while no connection is promised to the
                    # idle threads (this one included).
                    if self._idle > 0:
                        self._idle -= 1
                        self._threads -= 1
                        return
                continue
            if item is None:            # server_close
                return
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            # Idle before the socket closes: a client that read its answer
            # may connect again at once.
            with self._pool_lock:
                self._idle += 1
            try:
                self.shutdown_request(request)
            except Exception:
                self.handle_error(request, client_address)

    def server_close(self):
        super().server_close()
        with self._pool_lock:
            threads, self._threads, self._idle = self._threads, 0, 0
        for _ in range(threads):
            self._connections.put(None)


class Body:
    """A request's body as the app reads it: at most Content-Length
    bytes, and how many are left unread (a connection kept open must not
    read them as the next request)."""

    def __init__(self, stream, length):
        self._stream, self.left = stream, length

    def read(self, size=-1):
        size = self.left if size is None or size < 0 else min(size,
                                                              self.left)
        data = self._stream.read(size) if size else b''
        self.left -= len(data)
        return data

    def readline(self, size=-1):
        size = self.left if size is None or size < 0 else min(size,
                                                              self.left)
        data = self._stream.readline(size) if size else b''
        self.left -= len(data)
        return data

    def readlines(self, hint=-1):
        return list(iter(self.readline, b''))

    def __iter__(self):
        return iter(self.readline, b'')


class Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, a socket timeout and JSON errors,
    running a WSGI app (``server.get_app()``).

    Valet's clients (keystoneauth over requests, in Nova's filter and
    Heat) keep connections open: an HTTP/1.1 connection serves request
    after request on its thread unless the client says ``Connection:
    close``, an answer has no Content-Length, or the app left some of the
    body unread.

    ``timeout`` (socketserver sets it on the connection) bounds every
    read: a client that stalls mid-request gets a 408 and its thread is
    freed; an idle kept-open connection is closed without an answer.
    """

    timeout = 60
    protocol_version = 'HTTP/1.1'
    server_version = simple_server.WSGIRequestHandler.server_version
    # Answers leave in one send; no wait for the client's ACK of the last.
    disable_nagle_algorithm = True
    # Buffered writes: the status line, headers and body leave in one
    # send (flushed once the answer is whole).
    wbufsize = -1

    environ = None

    def log_message(self, fmt, *args):
        # One access line per request through oslo.log, not stderr.
        LOG.info('%s ' + fmt, self.address_string(), *args)

    def handle(self):
        self.close_connection = True
        first = True
        # A kept-open connection that times out between requests has
        # nothing to answer: it is closed quietly.
        try:
            while True:
                self._handle_one()
                if self.close_connection:
                    return
                first = False
        except TimeoutError:
            self.close_connection = True
            if first or self.raw_requestline:
                try:
                    self.send_error(408)
                except OSError:
                    pass

    def handle_expect_100(self):
        # The interim answer must leave now, not with the final one.
        self.wfile.write(b'HTTP/1.1 100 Continue\r\n\r\n')
        self.wfile.flush()
        return True

    def _handle_one(self):
        self.raw_requestline = b''
        self.raw_requestline = self.rfile.readline(MAX_LINE + 1)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > MAX_LINE:
            self.requestline = self.request_version = self.command = ''
            self.send_error(414)
            return
        if not self.parse_request():    # answered (send_error)
            return
        environ = self.environ
        body = None
        if 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower():
            # A body whose end is not known cannot be skipped past.
            self.close_connection = True
            environ['wsgi.input'] = self.rfile
        else:
            body = environ['wsgi.input'] = Body(
                self.rfile, self._body_length or 0)
        whole = self._run_app(environ)
        # An answer cut short (the app failed mid-way, the client went)
        # or a body left unread ends the connection.
        if body is None or body.left or not whole:
            self.close_connection = True

    def parse_request(self):
        """Read the request line (``raw_requestline``) and the headers
        into ``environ``; False once an error is answered."""
        self.command = None
        self.request_version = 'HTTP/0.9'
        self.close_connection = True
        self.requestline = line = self.raw_requestline.decode(
            'latin-1').rstrip('\r\n')
        words = line.split()
        if not words:
            return False
        if len(words) == 3 and words[2] == 'HTTP/1.1':
            method, target, self.request_version = words
        elif len(words) >= 3:
            version = words[-1]
            major, minor = self._version(version)
            if major is None:
                self.send_error(400, 'Bad request version (%r)' % version)
                return False
            if major >= 2:
                self.send_error(505, 'Invalid HTTP version (%s)' % version)
                return False
            if len(words) > 3:
                self.send_error(400, 'Bad request syntax (%r)' % line)
                return False
            method, target = words[:2]
            self.request_version = version
        elif len(words) == 2 and words[0] == 'GET':
            method, target = words      # HTTP/0.9: answered without a head
        else:
            self.send_error(400, 'Bad request syntax (%r)' % line)
            return False
        self.command, self.path = method, target
        try:
            fields = parse_headers(read_header_lines(self.rfile))
            self._body_length = content_length(
                fields.pop('HTTP_CONTENT_LENGTH', None))
        except BadRequest as exc:
            self.send_error(exc.status, exc.reason)
            return False
        # Only HTTP/1.1 connections are kept open, unless told otherwise.
        self.close_connection = (
            self.request_version != 'HTTP/1.1'
            or 'close' in fields.get('HTTP_CONNECTION', '').lower())
        environ = self.environ = self.server.base_environ.copy()
        path, _, environ['QUERY_STRING'] = target.partition('?')
        environ['PATH_INFO'] = (urllib.parse.unquote(path, 'latin-1')
                                if '%' in path else path)
        environ['REQUEST_METHOD'] = method
        environ['SERVER_PROTOCOL'] = self.request_version
        environ['REMOTE_ADDR'] = self.client_address[0]
        environ['wsgi.errors'] = sys.stderr
        # wsgiref's default, which the API's error messages show.
        environ['CONTENT_TYPE'] = fields.pop('HTTP_CONTENT_TYPE',
                                             'text/plain')
        if self._body_length is not None:
            environ['CONTENT_LENGTH'] = str(self._body_length)
        environ.update(fields)
        if (fields.get('HTTP_EXPECT', '').lower() == '100-continue'
                and self.request_version >= 'HTTP/1.1'):
            return self.handle_expect_100()
        return True

    @staticmethod
    def _version(text):
        """``(major, minor)`` of "HTTP/x.y", ``(None, None)`` if it is
        not one."""
        proto, _, number = text.partition('/')
        major, dot, minor = number.partition('.')
        if (proto != 'HTTP' or not dot or not major.isdigit()
                or not minor.isdigit() or not number.isascii()
                or len(major) > 10 or len(minor) > 10):
            return None, None
        return int(major), int(minor)

    # -------------------------------------------------------------- WSGI
    def _run_app(self, environ):
        """Run the app for one request and send its answer; True when
        the answer left whole (as long as its Content-Length said).

        The answer leaves before the result is closed and the access
        line logged: the client does not wait for either.
        """
        self._status = self._headers = None
        self._started = False       # status line and headers written
        self._sent = 0              # body bytes the app gave
        self._length = None         # the answer's Content-Length
        result = None
        answered = whole = False
        try:
            result = self.server.get_app()(environ, self._start_response)
            try:
                # wsgiref's rule: a result of one block is the whole body.
                single = len(result) == 1
            except (TypeError, AttributeError, NotImplementedError):
                single = False
            for data in result:
                if data:
                    if not self._started:
                        self._send_head(len(data) if single else None)
                    self._write(data)
            if not self._started:
                self._send_head(0)
            answered = True
            whole = self._length is not None and (
                self._sent == self._length or self.command == 'HEAD')
        except _ClientGone:
            self.close_connection = True
        except Exception:
            self._failed()
        try:
            self.wfile.flush()
        except OSError:
            whole = False
        close = getattr(result, 'close', None)
        if close is not None:
            try:
                close()
            except Exception:
                LOG.exception('valet-api: closing the answer of %r failed',
                              self.requestline)
                whole = False
        if answered and LOG.isEnabledFor(logging.INFO):
            self.log_request(self._status.split(' ', 1)[0], self._sent)
        return whole

    def _failed(self):
        LOG.exception('valet-api: the application failed on %r',
                      self.requestline)
        self.close_connection = True
        if not self._started:
            try:
                self.send_error(500)
            except OSError:
                pass

    def _start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self._started:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None     # no cycle through the traceback
        elif self._status is not None:
            raise AssertionError('start_response called a second time '
                                 'without exc_info')
        if (type(status) is not str or len(status) < 4
                or status[3] != ' ' or not status[:3].isdigit()):
            raise ValueError('Bad WSGI status %r' % (status,))
        self._status, self._headers = status, headers
        return self._write

    def _write(self, data):
        """The app's ``write()``: headers first, then the data, never
        past the Content-Length said."""
        if not self._started:
            if self._status is None:
                raise AssertionError('write() before start_response()')
            self._send_head(None)
        if not data:
            return
        left = None if self._length is None else self._length - self._sent
        self._sent += len(data)
        if left is not None and len(data) > left:
            data = data[:max(left, 0)]
        if self.command != 'HEAD' and data:
            try:
                self.wfile.write(data)
            except _GONE:
                raise _ClientGone() from None

    def _send_head(self, length):
        """Write the status line and headers; ``length`` is the body's
        whole length when known from the result, for an answer that does
        not say its Content-Length."""
        headers = self._headers
        said = date = server = None
        for name, value in headers:
            lower = name.lower()
            if lower == 'content-length':
                said = value
            elif lower == 'date':
                date = True
            elif lower == 'server':
                server = True
        lines = ['HTTP/1.1 %s\r\n' % self._status]
        if not date:
            lines.append('Date: %s\r\n' % http_date())
        if not server:
            lines.append('Server: %s\r\n' % SERVER_SOFTWARE)
        lines.extend(['%s: %s\r\n' % header for header in headers])
        if said is not None:
            try:
                self._length = int(said)
            except (TypeError, ValueError):
                self._length = None
            if self._length is not None and self._length < 0:
                self._length = None
        elif length is not None:
            self._length = length
            lines.append('Content-Length: %d\r\n' % length)
        if self._length is None:
            self.close_connection = True
        if self.close_connection:
            lines.append('Connection: close\r\n')
        lines.append('\r\n')
        head = ''.join(lines)
        if head.count('\n') != len(lines) or head.count('\r') != len(lines):
            # A line break inside a status or header: not sent.
            raise ValueError('Line break in a WSGI status or header')
        head = head.encode('latin-1')
        if self.request_version != 'HTTP/0.9':
            try:
                self.wfile.write(head)
            except _GONE:
                raise _ClientGone() from None
        self._started = True

    def send_error(self, code, message=None, explain=None):
        """Answer an error of the server itself in API-SIG JSON."""
        title = self.responses.get(code, ('Error',))[0]
        error_code, detail = SERVER_ERRORS.get(
            code, ('valet.http.%d' % code, message or title))
        LOG.info('%s %d %s (%s)', self.address_string(), code, title,
                 message or '')
        body = json.dumps({'errors': [{
            'status': code, 'title': title, 'detail': detail,
            'code': error_code,
            'request_id': 'req-%s' % uuid.uuid4()}]}).encode('utf-8')
        self.close_connection = True
        if getattr(self, 'request_version', 'HTTP/0.9') == 'HTTP/0.9':
            # No version parsed yet: HTTP/0.9 would drop status and
            # headers, leaving a client nothing to read the error by.
            self.request_version = 'HTTP/1.0'
        self.send_response_only(code, title)
        self.send_header('Connection', 'close')
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if getattr(self, 'command', None) != 'HEAD':
            self.wfile.write(body)
