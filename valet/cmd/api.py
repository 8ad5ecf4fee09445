"""``valet-api``: a development server for the REST API.

Production runs ``valet.wsgi.api:application`` under uwsgi; this command
serves the same paste pipeline with the development server of
``valet.cmd.dev_server``.

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
import os
import signal
import sys
import threading
from wsgiref import simple_server

from oslo_config import cfg
from oslo_log import log as logging

from valet.api import app as api_app
from valet.cmd import dev_server
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


class ConfigError(Exception):
    """valet-api cannot start with this configuration."""


# The development server (valet.cmd.dev_server), by the names the tests
# and bench/end_to_end.py know it by.
_ThreadingServer = dev_server.ThreadingServer
_Handler = dev_server.Handler
_Body = dev_server.Body


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
