"""[storage]: which storage driver to use; [database] defaults for ``sql``.

The [database] options themselves belong to oslo.db (its own
``oslo.db`` generator namespace); Valet only changes the default
connection to an SQLite file under ``state_dir`` so that all-in-one runs
need no database server.
"""

from oslo_config import cfg
from oslo_db import options as db_options


def _group():
    return cfg.OptGroup('storage', title='Storage options')


GROUP = _group()

DEFAULT_CONNECTION = 'sqlite:///$state_dir/valet.sqlite'

OPTS = [
    cfg.StrOpt('driver', default='sql',
               help='Storage driver, by name in the valet.storage '
                    'namespace: "sql" (SQLite, MySQL/MariaDB or '
                    'PostgreSQL through [database] connection), "music" '
                    '(Music over Cassandra, see [music]) or "memory" '
                    '(tests only; nothing survives a restart).'),
]


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: register_group keeps a shallow copy
    # whose option table is shared, so overrides would leak between
    # ConfigOpts objects (tests) through a module-level group.
    conf.register_group(_group())
    conf.register_opts(OPTS, group='storage')
    # set_defaults registers oslo.db's [database] options if needed.
    db_options.set_defaults(conf, connection=DEFAULT_CONNECTION)


def list_opts():
    return [(GROUP, OPTS)]


def set_lib_defaults():
    """Valet's defaults for library options (oslo.config.opts.defaults).

    The generator prints oslo.db's own option objects, so the default is
    set on them.
    """
    cfg.set_defaults(db_options.database_opts, connection=DEFAULT_CONNECTION)
