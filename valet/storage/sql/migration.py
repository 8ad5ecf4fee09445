"""Schema migrations of the SQL driver, run programmatically (alembic)."""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script
import sqlalchemy as sa

_SCRIPT_LOCATION = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                'alembic')


def _config(connection=None):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', _SCRIPT_LOCATION)
    if connection is not None:
        cfg.attributes['connection'] = connection
    return cfg


def head():
    """The newest revision this code knows."""
    return alembic_script.ScriptDirectory.from_config(_config()).get_current_head()


def upgrade(connection, revision='head'):
    """Bring the schema to ``revision``; a no-op when already there.

    Alembic's version table records what ran, so existing tables and rows
    are left alone. The caller owns ``connection`` and its transaction.
    """
    command.upgrade(_config(connection), revision)


def version(connection):
    """The current revision, or None on a database never upgraded."""
    context = alembic_migration.MigrationContext.configure(connection)
    return context.get_current_revision()


_RECORDED = sa.text('SELECT version_num FROM alembic_version')


def recorded_version(connection):
    """The one revision alembic's version table records: a single query,
    for health checks (``version`` asks alembic, which first inspects the
    schema). Raises when the table is missing or holds other than one
    row; ``version`` then answers."""
    rows = connection.execute(_RECORDED).scalars().all()
    if len(rows) != 1:
        raise LookupError('%d revisions recorded' % len(rows))
    return rows[0]
