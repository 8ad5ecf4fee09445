"""[DEFAULT] paths: where Valet keeps local state."""

import os

from oslo_config import cfg


def _default_state_dir():
    # An environment override lets tests and all-in-one runs keep their
    # state out of the user's home without a config file.
    return os.environ.get('VALET_STATE_DIR') or os.path.join(
        os.path.expanduser('~'), '.local', 'share', 'valet')


OPTS = [
    cfg.StrOpt('state_dir', default=_default_state_dir(),
               sample_default='$VALET_STATE_DIR or ~/.local/share/valet',
               help='Directory for local state, such as the all-in-one '
                    'SQLite database. Other options may refer to it as '
                    '$state_dir.'),
]


def register_opts(conf):
    conf.register_opts(OPTS)


def list_opts():
    return [('DEFAULT', OPTS)]
