"""``valet-api``: a development server for the REST API.

Production runs ``valet.wsgi.api:application`` under uwsgi; this command
serves the same paste pipeline with the standard library's WSGI server.

``--all-in-one`` needs no config file and no other service: SQLite under
the state directory (``[DEFAULT] state_dir``, env ``VALET_STATE_DIR``,
default ``~/.local/share/valet``), no authentication (noauth), the static
inventory (``--inventory FILE`` or ``[inventory] static_file``), and the
engine running inside this process, called directly
(``valet.engine.local``: the RPC interface without a transport).

Because all-in-one switches authentication off, it is a command-line flag
only: a config file that sets ``all_in_one`` is refused at start (a shared
file must never turn authentication off by accident), and it listens on
127.0.0.1 unless ``--host`` says otherwise, with a warning.

The development server answers its own errors (a malformed request line,
too many headers, an unsupported HTTP version) in the API-SIG JSON format
like the API does, and closes connections that send nothing for
``[api] client_socket_timeout`` seconds.
"""

import gc
import ipaddress
import json
import os
import queue
import signal
import sys
import threading
import uuid
from wsgiref import simple_server

from oslo_config import cfg
from oslo_log import log as logging

from valet.api import app as api_app
from valet import conf as valet_conf
from valet import policy

LOG = logging.getLogger(__name__)

CLI_OPTS = [
    cfg.BoolOpt('all-in-one', default=False,
                help='Run the engine in this process with SQLite, noauth '
                     'and the static inventory; no config file needed.'),
    cfg.HostAddressOpt('host', dest='cli_host',
                       help='Listen address (default [api] host).'),
    cfg.PortOpt('port', dest='cli_port',
                help='Listen port (default [api] port).'),
    cfg.StrOpt('inventory', dest='cli_inventory',
               help='All-in-one: the static inventory YAML file (default '
                    '[inventory] static_file).'),
]

FAKE_TRANSPORT = 'fake://'
LOOPBACK = '127.0.0.1'

# The development server's own error answers, by HTTP status.
_SERVER_ERRORS = {
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
    501: ('valet.request.method_not_implemented',
          'That method is not supported.'),
    505: ('valet.request.http_version_unsupported',
          'Only HTTP/1.0 and HTTP/1.1 are supported.'),
}


class ConfigError(Exception):
    """valet-api cannot start with this configuration."""


class _ThreadingServer(simple_server.WSGIServer):
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


class _Body:
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


class _ServerHandler(simple_server.ServerHandler):
    """wsgiref's handler answering HTTP/1.1: the connection stays open
    after an answer whose end the client can find (Content-Length)."""

    http_version = '1.1'
    length = None               # the answer's Content-Length, once sent
    whole = False               # the answer left whole (as long as said)

    def cleanup_headers(self):
        super().cleanup_headers()
        request = self.request_handler
        try:
            self.length = int(self.headers.get('Content-Length'))
        except (TypeError, ValueError):
            request.close_connection = True
        if request.close_connection:
            self.headers['Connection'] = 'close'

    def close(self):
        # Worked out before wsgiref's close forgets what was sent.
        self.whole = self.length is not None and (
            self.bytes_sent == self.length
            or self.request_handler.command == 'HEAD')
        super().close()


class _Handler(simple_server.WSGIRequestHandler):
    """wsgiref's handler with HTTP/1.1 keep-alive, a socket timeout and
    JSON errors.

    wsgiref answers one request per connection, as HTTP/1.0; Valet's
    clients (keystoneauth over requests, in Nova's filter and Heat) keep
    connections open, so each of their requests paid a new connection
    and its thread hand-off. Here an HTTP/1.1 connection serves request
    after request on its thread unless the client says ``Connection:
    close``, an answer has no Content-Length, or the app left some of the
    body unread.

    ``timeout`` (socketserver sets it on the connection) bounds every
    read: a client that stalls mid-request gets a 408 and its thread is
    freed; an idle kept-open connection is closed without an answer.
    """

    timeout = 60
    protocol_version = 'HTTP/1.1'
    # Answers leave in one send; no wait for the client's ACK of the last.
    disable_nagle_algorithm = True
    # Buffered writes: the status line, headers and body leave in one
    # send (wsgiref's default, unbuffered, sent each piece on its own, a
    # wake-up of the client per piece).
    wbufsize = -1

    def log_message(self, fmt, *args):
        # One access line per request through oslo.log, not stderr.
        LOG.info('%s %s', self.address_string(), fmt % args)

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
        answer = super().handle_expect_100()
        self.wfile.flush()
        return answer

    def _handle_one(self):
        self.raw_requestline = b''
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ''
            self.send_error(414)
            return
        if not self.parse_request():    # answered (send_error)
            return
        if self.request_version != 'HTTP/1.1':
            self.close_connection = True
        environ, body = self.get_environ(), None
        try:
            length = int(environ.get('CONTENT_LENGTH') or 0)
        except ValueError:
            length = -1
        if length < 0 or 'chunked' in self.headers.get(
                'Transfer-Encoding', '').lower():
            # A body whose end is not known cannot be skipped past.
            self.close_connection = True
        else:
            body = _Body(self.rfile, length)
        # The handler makes its input the app's wsgi.input.
        handler = _ServerHandler(body or self.rfile, self.wfile,
                                 self.get_stderr(), environ,
                                 multithread=False)
        handler.request_handler = self      # backpointer for logging
        handler.run(self.server.get_app())
        # An answer cut short (the app failed mid-way, the client went)
        # or a body left unread ends the connection.
        if body is None or body.left or not handler.whole:
            self.close_connection = True
        self.wfile.flush()

    def send_error(self, code, message=None, explain=None):
        """Answer an error of the server itself in API-SIG JSON."""
        title = self.responses.get(code, ('Error',))[0]
        error_code, detail = _SERVER_ERRORS.get(
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


def parse_args(argv, conf):
    logging.register_options(conf)
    valet_conf.register_all(conf)
    conf.register_cli_opts(CLI_OPTS)
    conf(argv, project='valet', prog='valet-api',
         description='The Valet REST API (development server; production '
                     'runs valet.wsgi.api:application under uwsgi).')
    logging.setup(conf, 'valet')


def check_all_in_one_source(conf):
    """ConfigError when a config file, not the command line, sets
    ``all_in_one``: it turns authentication off."""
    location = conf.get_location('all_in_one')
    if location is not None and location.location == cfg.Locations.user:
        raise ConfigError(
            'all_in_one is set in the config file %s; it switches '
            'authentication off, so it is accepted only on the command '
            'line (valet-api --all-in-one). Remove it from the file.'
            % (location.detail or '(unknown file)'))


def _is_loopback(host):
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen_address(conf):
    """``(host, port)`` the development server binds.

    All-in-one (no authentication) stays on loopback unless ``--host``
    asks for more, and then says loudly what that means.
    """
    port = conf.cli_port if conf.cli_port is not None else conf.api.port
    if not conf.all_in_one:
        return conf.cli_host or conf.api.host, port
    host = conf.cli_host or LOOPBACK
    if not _is_loopback(host):
        LOG.warning('valet-api --all-in-one listens on %s: it has NO '
                    'AUTHENTICATION, so anyone who can reach %s:%d can '
                    'create, change and delete every group and plan as an '
                    'administrator. Use --host 127.0.0.1 unless this network '
                    'is yours alone.', host, host, port)
    return host, port


def _state_dir(conf):
    try:
        path = conf.state_dir
    except cfg.NoSuchOptError:
        path = os.environ.get('VALET_STATE_DIR') or os.path.join(
            os.path.expanduser('~'), '.local', 'share', 'valet')
    os.makedirs(path, exist_ok=True)
    return path


def start_all_in_one(conf):
    """Storage, the in-process engine and its RPC client.

    Returns ``(engine_api, storage, engine_service)``.
    """
    # Late imports: only all-in-one runs the engine in this process.
    from valet.engine import local
    from valet.engine import manager
    from valet.engine import rpcapi
    from valet import inventory
    from valet import storage

    state_dir = _state_dir(conf)
    conf.set_override('auth_strategy', 'noauth', group='api')
    if conf.cli_inventory:
        conf.set_override('static_file', os.path.abspath(conf.cli_inventory),
                          group='inventory')
    store = storage.get_storage(conf)
    store.upgrade()
    # The engine service still serves its RPC topic, on an in-memory
    # transport nobody else reaches; the API calls its endpoint directly
    # (valet.engine.local), without the transport's polling delay.
    transport = rpcapi.get_transport(conf, url=FAKE_TRANSPORT)
    engine = manager.EngineService(conf, store, inventory.get_inventory(conf),
                                   transport)
    # Building the model allocates millions of objects that all live on:
    # cyclic collections during it would only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        engine.start()
    finally:
        if collecting:
            gc.enable()
    LOG.info('valet-api all-in-one: state in %s, inventory %s', state_dir,
             conf.inventory.static_file)
    return local.LocalEngineAPI(conf, engine.endpoint), store, engine


def build(conf):
    """The WSGI app and a function that stops what ``build`` started."""
    policy.init(conf)
    if not conf.all_in_one:
        return api_app.load_app(conf), lambda: None
    engine_api, store, engine = start_all_in_one(conf)

    def stop():
        engine_api.close()
        engine.stop()
        engine.wait()
    return api_app.load_app(conf, engine_api=engine_api, storage=store), stop


def main(argv=None, conf=None):
    conf = cfg.CONF if conf is None else conf
    parse_args(sys.argv[1:] if argv is None else argv, conf)
    try:
        check_all_in_one_source(conf)
        host, port = listen_address(conf)
        app, stop = build(conf)
    except Exception as exc:
        LOG.error('valet-api cannot start: %s', exc)
        return 1
    handler = type('Handler', (_Handler,),
                   {'timeout': conf.api.client_socket_timeout})
    server = simple_server.make_server(host, port, app,
                                       server_class=_ThreadingServer,
                                       handler_class=handler)

    def on_signal(signum, frame):
        LOG.info('valet-api: signal %d received, stopping', signum)
        # shutdown() waits for serve_forever; call it off this thread.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    LOG.info('valet-api (development server) on http://%s:%d/', host, port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
