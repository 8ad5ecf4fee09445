"""valet-manage: operator commands.

    valet-manage [--config-file FILE] db_sync     create or upgrade the schema
    valet-manage [--config-file FILE] db_version  print the schema revision
    valet-manage [--config-file FILE] inventory show [--format table|json]
                 [--level LEVEL | --host NAME]
                                                  print the data centre as
                                                  the engine sees it

The db commands act on the storage driver chosen by ``[storage] driver``;
``inventory show`` reads the inventory and storage as valet-engine does
(see ``valet.cmd.inventory_show``). The exit code is 0 on success and 1 on
failure, with the reason on stderr.
"""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from valet.cmd import inventory_show
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
        parser.set_defaults(func=func, command_label=name)
    parser = subparsers.add_parser(
        'inventory', help='Inspect the data centre the engine places into.')
    actions = parser.add_subparsers(dest='inventory_action', metavar='ACTION',
                                    title='inventory commands')
    actions.required = True
    show = actions.add_parser(
        'show', help='Print levels, domains, hosts and free capacity as '
                     'valet-engine sees them (inventory plus stored '
                     'placements).')
    inventory_show.add_arguments(show)
    show.set_defaults(func=inventory_show.show,
                      command_label='inventory show', logs_to_stderr=True)


# Errors a command reports in one line (no traceback) with exit code 1.
COMMAND_ERRORS = (base.StorageError,) + inventory_show.ERRORS


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
    if getattr(conf.command, 'logs_to_stderr', False):
        # The report is stdout (JSON must stay parseable); oslo.log would
        # write there too without a log file.
        conf.set_default('use_stderr', True)
    logging.setup(conf, 'valet')
    try:
        conf.command.func(conf)
    except COMMAND_ERRORS as e:
        print('valet-manage: %s failed: %s' % (conf.command.command_label, e),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
