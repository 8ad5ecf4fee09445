"""SQLite database files: kept connections and a write-ahead log.

oslo.db opens a new connection for every transaction on an SQLite file
(it puts ``NullPool`` in place of SQLAlchemy's default ``QueuePool``), and
SQLite's default rollback journal with ``synchronous=FULL`` syncs the disk
several times per commit. For an all-in-one Valet that was most of the
time a plan takes. Here a file database gets instead:

- a ``QueuePool`` of connections (``[database] max_pool_size``,
  ``max_overflow``, ``pool_timeout``), so connections are opened once per
  process and reused; the driver keeps one engine per process. They are
  not pinged when checked out (oslo.db's ``pool_pre_ping``): a file
  cannot drop a connection the way a server can;
- ``journal_mode=WAL``: readers do not block the writer and a commit
  appends to the log instead of rewriting pages;
- ``synchronous=NORMAL`` (WAL's recommended level): a commit survives a
  crash of Valet; after a power loss or an OS crash the last commits may
  be rolled back, never corrupted. ``[database] sqlite_synchronous =
  false`` still means ``OFF``.

In-memory databases keep oslo.db's single shared connection.
"""

from oslo_db.sqlalchemy import engines
import sqlalchemy as sa

JOURNAL_MODE = 'wal'
SYNCHRONOUS = 'NORMAL'


def is_file(url):
    """True when ``url`` (a SQLAlchemy URL) names an SQLite file."""
    if url.get_backend_name() != 'sqlite':
        return False
    if url.database in (None, '', ':memory:'):
        return False
    return url.query.get('mode') != 'memory'


def _pooled_engine(db):
    """An oslo.db engine target that keeps a pool of connections."""

    def target(url, **engine_args):
        engine_args['poolclass'] = sa.pool.QueuePool
        engine_args['pool_pre_ping'] = False
        # The connection used last goes out first: its SQLite page cache
        # is still valid (a connection's cache survives its own commits;
        # another connection's commit voids it), so one request after
        # another reads no page again.
        engine_args['pool_use_lifo'] = True
        engine_args['pool_size'] = db.max_pool_size or 5
        if db.max_overflow is not None:
            engine_args['max_overflow'] = db.max_overflow
        if db.pool_timeout is not None:
            engine_args['pool_timeout'] = db.pool_timeout
        engine = sa.create_engine(url, **engine_args)
        return engine, engine
    return target


def create_engine(url, db, **kwargs):
    """oslo.db's engine for the SQLite file ``url``, pooled and in WAL mode.

    ``db`` is the ``[database]`` option group; ``kwargs`` are the other
    arguments of ``oslo_db.sqlalchemy.engines.create_engine``.
    """
    # _engine_target is oslo.db's hook for building the SQLAlchemy engine;
    # everything else (error translation, foreign keys, BEGIN handling)
    # stays oslo.db's own.
    engine = engines.create_engine(url, _engine_target=_pooled_engine(db),
                                   **kwargs)
    synchronous = kwargs.get('sqlite_synchronous', True)
    _begin_directly(engine)

    @sa.event.listens_for(engine, 'connect')
    def _wal(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute('PRAGMA journal_mode=%s' % JOURNAL_MODE)
            if synchronous:
                cursor.execute('PRAGMA synchronous=%s' % SYNCHRONOUS)
        finally:
            cursor.close()

    return engine


def _begin_directly(engine):
    """Send oslo.db's BEGIN straight to the DB-API connection.

    oslo.db begins every SQLite transaction itself (pysqlite's own
    transaction handling is off), with a statement run through SQLAlchemy:
    that costs as much as a query, on every transaction, reads included.
    The same BEGIN, under the same condition, goes to sqlite3 directly.
    Left alone if oslo.db's listener is not found under its name.
    """
    theirs = [fn for fn in engine.dispatch.begin
              if getattr(fn, '__name__', '') == '_sqlite_emit_begin']
    if len(theirs) != 1:
        return
    sa.event.remove(engine, 'begin', theirs[0])

    @sa.event.listens_for(engine, 'begin')
    def _begin(conn):
        if 'in_transaction' not in conn.info:
            conn.connection.dbapi_connection.execute('BEGIN')
            conn.info['in_transaction'] = True
