"""``valet-engine``: the placement engine service.

Loads storage and the inventory, rebuilds the data-centre model from them
(``EngineService.start``) and serves the ``valet-engine`` RPC topic until SIGTERM or SIGINT.
"""

import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging

from valet import conf as valet_conf
from valet.engine import manager
from valet import inventory
from valet import storage

LOG = logging.getLogger(__name__)

DESCRIPTION = (
    'The Valet placement engine. Builds a model of the data centre from '
    'the inventory ([inventory] driver: the static YAML file, or the '
    'cloud\'s Placement and Nova), follows it through Nova notifications '
    'and periodic resyncs, and decides every placement valet-api asks for '
    'over oslo.messaging RPC ([DEFAULT] transport_url, topic [engine] '
    'topic). Several engines may run; one leads ([coordination] '
    'backend_url). Runs in the foreground until SIGTERM or SIGINT.')


def parse_args(argv, conf):
    logging.register_options(conf)
    valet_conf.register_all(conf)
    conf(argv, project='valet', prog='valet-engine',
         description=DESCRIPTION)
    logging.setup(conf, 'valet')


def main(argv=None, conf=None):
    conf = cfg.CONF if conf is None else conf
    parse_args(sys.argv[1:] if argv is None else argv, conf)
    try:
        store = storage.get_storage(conf)
        source = inventory.get_inventory(conf)
        engine = manager.EngineService(conf, store, source)
        engine.start()
    except Exception as exc:
        # A clear line, not a traceback, for what an operator must fix.
        LOG.error('valet-engine cannot start: %s', exc)
        return 1
    stopping = threading.Event()

    def on_signal(signum, frame):
        LOG.info('valet-engine: signal %d received, stopping', signum)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Event.wait without a timeout would not wake for signals on every
    # platform; a short poll keeps shutdown prompt.
    while not stopping.wait(1.0):
        pass
    engine.stop()
    engine.wait()
    LOG.info('valet-engine stopped')
    return 0


if __name__ == '__main__':
    sys.exit(main())
