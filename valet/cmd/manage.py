"""valet-manage: operator commands.

    valet-manage [--config-file FILE] db_sync     create or upgrade the schema
    valet-manage [--config-file FILE] db_version  print the schema revision

Both act on the storage driver chosen by ``[storage] driver``. The exit
code is 0 on success and 1 on failure, with the reason on stderr.
"""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from valet import conf as valet_conf
from valet import storage
from valet.storage import base


def db_sync(conf):
    store = storage.get_storage(conf)
    before = store.version()
    store.upgrade()
    after = store.version()
    if before == after:
        print('Database schema already at revision %s; nothing to do.'
              % after)
    else:
        print('Database schema upgraded to revision %s (was %s).'
              % (after, before or 'empty'))


def db_version(conf):
    print(storage.get_storage(conf).version())


def _add_commands(subparsers):
    for name, func, help_text in (
            ('db_sync', db_sync,
             'Create the schema or upgrade it to the latest revision; '
             'existing data is kept.'),
            ('db_version', db_version,
             'Print the current schema revision ("None" before db_sync).')):
        parser = subparsers.add_parser(name, help=help_text)
        parser.set_defaults(func=func)


COMMAND_OPT = cfg.SubCommandOpt('command', title='Commands',
                                help='Available commands',
                                handler=_add_commands)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    conf = cfg.ConfigOpts()
    conf.register_cli_opt(COMMAND_OPT)
    logging.register_options(conf)
    # Alembic narrates every step at INFO; the command says what it did.
    levels = logging.get_default_log_levels()
    if 'alembic=WARN' not in levels:
        logging.set_defaults(default_log_levels=levels + ['alembic=WARN'])
    valet_conf.register_all(conf)
    try:
        conf(argv, project='valet', prog='valet-manage')
    except cfg.Error as e:
        print('valet-manage: error: %s' % e, file=sys.stderr)
        return 1
    logging.setup(conf, 'valet')
    try:
        conf.command.func(conf)
    except base.StorageError as e:
        print('valet-manage: %s failed: %s' % (conf.command.name, e),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
