"""Building valet-api for a WSGI server (uwsgi, mod_wsgi, gunicorn).

Configuration is parsed first — from ``--config-file``/``--config-dir``
in the server's arguments if present, else from ``VALET_CONFIG_FILE``
(one or more files, comma separated) or ``OS_VALET_CONFIG_DIR``, else
oslo.config's default locations (``/etc/valet/valet.conf`` ...) — and
only then is the paste pipeline loaded, with an absolute path.
"""

import os
import sys

from oslo_config import cfg
from oslo_log import log as logging

from valet.api import app as api_app
from valet import conf as valet_conf
from valet import policy

LOG = logging.getLogger(__name__)

CONFIG_FILE_ENV = 'VALET_CONFIG_FILE'
CONFIG_DIR_ENV = 'OS_VALET_CONFIG_DIR'
_OUR_FLAGS = ('--config-file', '--config-dir')


def config_args(argv=None, environ=None):
    """oslo.config arguments for a WSGI process.

    A WSGI server's own arguments (uwsgi's ``--ini`` ...) mean nothing to
    oslo.config, so only the config flags are picked out of them.
    """
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    args = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _OUR_FLAGS and i + 1 < len(argv):
            args += [arg, argv[i + 1]]
            i += 2
            continue
        if arg.split('=', 1)[0] in _OUR_FLAGS and '=' in arg:
            args.append(arg)
        i += 1
    if args:
        return args
    for path in filter(None, environ.get(CONFIG_FILE_ENV, '').split(',')):
        args += ['--config-file', path.strip()]
    if environ.get(CONFIG_DIR_ENV):
        directory = environ[CONFIG_DIR_ENV]
        conf_file = os.path.join(directory, 'valet.conf')
        if os.path.exists(conf_file) and not args:
            args += ['--config-file', conf_file]
        args += ['--config-dir', directory]
    return args


def init_application(conf=None, argv=None, environ=None):
    """Parse the configuration, set up logging and policy, load paste."""
    conf = cfg.CONF if conf is None else conf
    logging.register_options(conf)
    valet_conf.register_all(conf)
    conf(config_args(argv, environ), project='valet', prog='valet-api')
    logging.setup(conf, 'valet')
    policy.init(conf)
    LOG.info('valet-api: auth_strategy=%s, pipeline %s',
             conf.api.auth_strategy, conf.api.api_paste_config)
    return api_app.load_app(conf)
