"""Alembic environment of the SQL storage driver.

``valet-manage db_sync`` (through ``migration.upgrade``) hands over an open
connection in ``config.attributes['connection']``. Developers may also run
the ``alembic`` command with ``valet/storage/sql/alembic.ini`` and a
``sqlalchemy.url``; offline (``--sql``) mode renders the DDL.
"""

from alembic import context
import sqlalchemy as sa

from valet.storage.sql import models

config = context.config


def _run_offline():
    context.configure(url=config.get_main_option('sqlalchemy.url'),
                      target_metadata=models.METADATA, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection):
    context.configure(connection=connection,
                      target_metadata=models.METADATA)
    with context.begin_transaction():
        context.run_migrations()


def _run_online():
    connection = config.attributes.get('connection')
    if connection is not None:
        _run_with(connection)
        return
    engine = sa.create_engine(config.get_main_option('sqlalchemy.url'),
                              poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        _run_with(connection)


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
