"""``valet-api``: a development server for the REST API.

Production runs ``valet.wsgi.api:application`` under uwsgi; this command
serves the same paste pipeline with the standard library's WSGI server.

``--all-in-one`` needs no config file and no other service: SQLite under
the state directory (``[DEFAULT] state_dir``, env ``VALET_STATE_DIR``,
default ``~/.local/share/valet``), no authentication (noauth), the static
inventory (``--inventory FILE`` or ``[inventory] static_file``), and the
engine running inside this process over an in-memory RPC transport.
"""

import os
import signal
import socketserver
import sys
import threading
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


class _ThreadingServer(socketserver.ThreadingMixIn,
                       simple_server.WSGIServer):
    daemon_threads = True


class _Handler(simple_server.WSGIRequestHandler):
    def log_message(self, fmt, *args):
        # One access line per request through oslo.log, not stderr.
        LOG.info('%s %s', self.address_string(), fmt % args)


def parse_args(argv, conf):
    logging.register_options(conf)
    valet_conf.register_all(conf)
    conf.register_cli_opts(CLI_OPTS)
    conf(argv, project='valet', prog='valet-api',
         description='The Valet REST API (development server; production '
                     'runs valet.wsgi.api:application under uwsgi).')
    logging.setup(conf, 'valet')


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
    from valet.engine import rpcapi
    from valet.engine import manager
    from valet import inventory
    from valet import storage

    state_dir = _state_dir(conf)
    conf.set_override('auth_strategy', 'noauth', group='api')
    if conf.cli_inventory:
        conf.set_override('static_file', os.path.abspath(conf.cli_inventory),
                          group='inventory')
    store = storage.get_storage(conf)
    store.upgrade()
    transport = rpcapi.get_transport(conf, url=FAKE_TRANSPORT)
    engine = manager.EngineService(conf, store, inventory.get_inventory(conf),
                                   transport)
    engine.start()
    LOG.info('valet-api all-in-one: state in %s, inventory %s', state_dir,
             conf.inventory.static_file)
    return rpcapi.EngineAPI(conf, transport), store, engine


def build(conf):
    """The WSGI app and a function that stops what ``build`` started."""
    policy.init(conf)
    if not conf.all_in_one:
        return api_app.load_app(conf), lambda: None
    engine_api, store, engine = start_all_in_one(conf)

    def stop():
        engine.stop()
        engine.wait()
    return api_app.load_app(conf, engine_api=engine_api, storage=store), stop


def main(argv=None, conf=None):
    conf = cfg.CONF if conf is None else conf
    parse_args(sys.argv[1:] if argv is None else argv, conf)
    try:
        app, stop = build(conf)
    except Exception as exc:
        LOG.error('valet-api cannot start: %s', exc)
        return 1
    host = conf.cli_host or conf.api.host
    port = conf.cli_port if conf.cli_port is not None else conf.api.port
    server = simple_server.make_server(host, port, app,
                                       server_class=_ThreadingServer,
                                       handler_class=_Handler)

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
