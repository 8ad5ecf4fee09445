"""The SQL storage driver (oslo.db engine, SQLAlchemy Core).

Every write that can race is a conditional ``UPDATE ... WHERE id = :id
AND generation = :generation``; a rowcount other than one means the caller
read a stale row (Conflict) or the row is gone (NotFound). Multi-row
changes run in one transaction, so a failure leaves nothing behind.

A transaction that writes does so first: on SQLite a transaction that
reads and then writes can deadlock against another writer.
"""

import contextlib
import functools
import json
import logging
import os
import threading
import types

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import engines
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from valet import objects
from valet import storage
from valet.storage import base
from valet.storage.sql import direct
from valet.storage.sql import migration
from valet.storage.sql import models
from valet.storage.sql import sqlite

LOG = logging.getLogger(__name__)

GROUPS = models.GROUPS
PLANS = models.PLANS
PLACEMENTS = models.PLACEMENTS
PLACEMENT_METADATA = models.PLACEMENT_METADATA

# Statements every plan request runs, built once (SQLAlchemy then also
# keeps their cache keys): lookups of a row by its id or its other
# reference...
_PLAN_BY_REF = sa.select(PLANS).where(sa.or_(
    PLANS.c.id == sa.bindparam('ref'), PLANS.c.stack_id == sa.bindparam('ref')))
_GROUP_BY_REF = sa.select(GROUPS).where(sa.or_(
    GROUPS.c.id == sa.bindparam('ref'), GROUPS.c.name == sa.bindparam('ref')))
_PLACEMENT_BY_REF = sa.select(PLACEMENTS).where(sa.or_(
    PLACEMENTS.c.id == sa.bindparam('ref'),
    PLACEMENTS.c.orchestration_id == sa.bindparam('ref')))
# ... and the statements of a plan's create and delete.
_INSERT_PLAN = PLANS.insert()
# Placements take their JSON columns as text the driver wrote (once, for
# the row and for the copy create_plan answers).
_JSON_COLUMNS = tuple(c.name for c in PLACEMENTS.columns
                      if isinstance(c.type, models.JSONText))
_JSON_TEXT = {name: name + '_text' for name in _JSON_COLUMNS}
_JSON_TEXT_KEYS = frozenset(_JSON_TEXT.values())
_METADATA_TEXT, _SPEC_TEXT = _JSON_TEXT['metadata'], _JSON_TEXT['spec']
_INSERT_PLACEMENTS = PLACEMENTS.insert().values({
    name: sa.bindparam(key, type_=sa.Text())
    for name, key in _JSON_TEXT.items()})
_INSERT_METADATA = PLACEMENT_METADATA.insert()
# The parameters each insert is given (``create_plan``).
_PLAN_KEYS = ('id', 'name', 'stack_id', 'project_id', 'generation')
_PLACEMENT_KEYS = tuple(
    [c.name for c in PLACEMENTS.columns if c.name not in _JSON_COLUMNS]
    + list(_JSON_TEXT.values()))
_METADATA_KEYS = ('placement_id', 'meta_key', 'value_digest')
_DELETE_PLAN_METADATA = PLACEMENT_METADATA.delete().where(
    PLACEMENT_METADATA.c.placement_id.in_(
        sa.select(PLACEMENTS.c.id).where(
            PLACEMENTS.c.plan_id == sa.bindparam('plan_id'))))
_DELETE_PLAN_PLACEMENTS = PLACEMENTS.delete().where(
    PLACEMENTS.c.plan_id == sa.bindparam('plan_id'))
_DELETE_PLAN = PLANS.delete().where(PLANS.c.id == sa.bindparam('plan_id'))

# The Python types a placement filter value may have, per column; any
# other value matches nothing (and would upset a strict backend).
_FILTER_TYPES = {'reserved': (bool,)}
_STRING_FILTER_TYPES = (str, type(None))


def _reason(exc):
    """The driver's own words for ``exc``, without SQLAlchemy's wrapping."""
    inner = getattr(exc, 'inner_exception', None) or exc
    return str(getattr(inner, 'orig', None) or inner).strip()


def _translated(func):
    """Turn database errors into the storage errors of ``base``."""

    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        try:
            return func(self, *args, **kwargs)
        except base.StorageError:
            raise
        except db_exc.DBDuplicateEntry as e:
            raise base.Conflict('Already stored: %s' % (
                ', '.join(e.columns or ()) or 'a unique value')) from e
        except (db_exc.DBDeadlock, db_exc.DBReferenceError) as e:
            # Both mean a concurrent writer got there first.
            raise base.Conflict('Lost a race with another writer; read '
                                'again and retry (%s)' % _reason(e)) from e
        except db_exc.DBConnectionError as e:
            raise base.Unavailable('Database %s unreachable: %s'
                                   % (self.safe_url, _reason(e))) from e
        except (db_exc.DBError, sa_exc.SQLAlchemyError) as e:
            raise base.StorageError('Database error: %s' % _reason(e)) from e

    return wrapper


class SqlStorage(base.Storage):
    """Storage in the database of ``[database] connection``.

    The engine is created on first use, so constructing the driver never
    blocks on an unreachable server.
    """

    def __init__(self, conf):
        self.conf = conf
        self._url = conf.database.connection
        self._engine = None
        self._engine_lock = threading.Lock()
        self._pooled_file = False
        self._hot = None
        try:
            self.safe_url = sa.engine.make_url(self._url).render_as_string(
                hide_password=True)
        except sa_exc.ArgumentError as e:
            raise base.StorageError(
                'Invalid [database] connection: %s' % e) from e

    # --------------------------------------------------------------- engine
    def _get_engine(self):
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._create_engine()
                if self._pooled_file:
                    self._hot = _Hot(self._engine)
            return self._engine

    def _direct(self):
        """The statements run directly (an SQLite file), else None."""
        if self._engine is None:
            self._get_engine()
        return self._hot

    def _create_engine(self):
        db = self.conf.database
        url = sa.engine.make_url(self._url)
        if url.get_backend_name() == 'sqlite' and url.database not in (
                None, '', ':memory:'):
            # All-in-one: the state directory may not exist yet.
            os.makedirs(os.path.dirname(os.path.abspath(url.database)),
                        exist_ok=True)
        create = engines.create_engine
        if sqlite.is_file(url):
            # Pooled connections in WAL mode (sqlite.py).
            create = functools.partial(sqlite.create_engine, db=db)
            self._pooled_file = True
        try:
            return create(
                self._url,
                sqlite_fk=True,
                mysql_sql_mode=db.mysql_sql_mode,
                mysql_wsrep_sync_wait=db.mysql_wsrep_sync_wait,
                connection_recycle_time=db.connection_recycle_time,
                connection_debug=db.connection_debug,
                max_pool_size=db.max_pool_size,
                max_overflow=db.max_overflow,
                pool_timeout=db.pool_timeout,
                sqlite_synchronous=db.sqlite_synchronous,
                connection_trace=db.connection_trace,
                connection_parameters=db.connection_parameters,
                # oslo.db yields (time.sleep(0)) at every connection
                # checkin for eventlet's sake; Valet runs on OS threads, and
                # on a busy machine each yield can cost a scheduler slice.
                thread_checkin=False,
                # Connect lazily; callers see Unavailable, never a
                # minutes-long retry loop inside the driver.
                max_retries=0)
        except (ImportError, sa_exc.ArgumentError) as e:
            raise base.StorageError('Cannot use [database] connection %s: %s'
                                    % (self.safe_url, e)) from e

    def dispose(self):
        """Close pooled connections (tests; dropping a database)."""
        with self._engine_lock:
            if self._engine is not None:
                self._engine.dispose()

    @contextlib.contextmanager
    def _connect(self):
        engine = self._get_engine()
        try:
            conn = engine.connect()
        except (db_exc.DBError, sa_exc.SQLAlchemyError) as e:
            raise base.Unavailable('Cannot connect to database %s: %s'
                                   % (self.safe_url, _reason(e))) from e
        with conn:
            yield conn

    @contextlib.contextmanager
    def _txn(self):
        with self._connect() as conn, conn.begin():
            yield conn

    # ------------------------------------------------------------ lifecycle
    @_translated
    def upgrade(self):
        with self._txn() as conn:
            before = migration.version(conn)
            migration.upgrade(conn)
            after = migration.version(conn)
        LOG.info('Database schema at revision %s (was %s)', after, before)

    @_translated
    def version(self):
        with self._connect() as conn:
            return migration.version(conn)

    def health(self):
        try:
            current = self._recorded_version()
            if current is None:
                with self._connect() as conn:
                    conn.execute(sa.text('SELECT 1'))
                current = self.version()
        except base.StorageError as e:
            return {'ok': False, 'detail': str(e)}
        except Exception as e:  # health() must never raise
            return {'ok': False, 'detail': 'Unexpected error: %s' % e}
        if current is None:
            return {'ok': False, 'detail': 'Database reachable but has no '
                                           'schema; run valet-manage db_sync'}
        return {'ok': True, 'detail': 'Schema at revision %s' % current}

    def _recorded_version(self):
        """The revision in one query (status asks on every call); None
        when that does not answer, for ``health`` to ask the long way."""
        try:
            with self._connect() as conn:
                return migration.recorded_version(conn)
        except (LookupError, db_exc.DBError, sa_exc.SQLAlchemyError,
                base.StorageError):
            return None

    # --------------------------------------------------------------- groups
    @_translated
    def create_group(self, group):
        with self._txn() as conn:
            conn.execute(GROUPS.insert().values(
                id=group.id, name=group.name, type=group.type,
                level=group.level, description=group.description or '',
                members=list(group.members), parents=list(group.parents),
                parameters=dict(group.parameters), generation=1))
            return _group(self._row(conn, GROUPS, group.id))

    @_translated
    def get_group(self, id_or_name):
        rows = self._select('group_by_ref', _GROUP_BY_REF,
                            {'ref': id_or_name})
        row = _prefer_id(rows, id_or_name)
        if row is None:
            raise base.NotFound('No group %r' % id_or_name)
        return _group(row)

    @_translated
    def list_groups(self, limit=None, marker=None):
        query = sa.select(GROUPS).order_by(GROUPS.c.name)
        with self._connect() as conn:
            if marker is not None:
                after = self._marker(conn, GROUPS, marker)
                query = query.where(GROUPS.c.name > after.name)
            if limit is not None:
                query = query.limit(max(limit, 0))
            rows = conn.execute(query).all()
        return [_group(r) for r in rows]

    @_translated
    def update_group(self, group):
        with self._txn() as conn:
            result = conn.execute(
                GROUPS.update()
                .where(GROUPS.c.id == group.id,
                       GROUPS.c.generation == group.generation)
                .values(description=group.description or '',
                        members=list(group.members),
                        parents=list(group.parents),
                        generation=GROUPS.c.generation + 1))
            if result.rowcount != 1:
                self._stale(conn, GROUPS, group, 'Group')
            return _group(self._row(conn, GROUPS, group.id))

    @_translated
    def delete_group(self, group_id):
        with self._txn() as conn:
            result = conn.execute(GROUPS.delete().where(
                GROUPS.c.id == group_id))
            if result.rowcount != 1:
                raise base.NotFound('No group %s' % group_id)

    # ---------------------------------------------------- plans, placements
    @_translated
    def create_plan(self, plan, placements):
        params = self._insert_plan(plan, placements)
        # Every row is exactly what was inserted: no need to read it back.
        return (_plan(_Written(id=plan.id, name=plan.name,
                               stack_id=plan.stack_id,
                               project_id=plan.project_id, generation=1)),
                _as_read(params))

    @_translated
    def insert_plan(self, plan, placements):
        self._insert_plan(plan, placements)

    def _insert_plan(self, plan, placements):
        """Write a new plan; the placements' insert parameters."""
        # Placements may share their spec (a plan's servers of one flavor
        # and groups): its text is written once.
        texts = {}
        params = [_new_placement_params(p, plan.id, plan.project_id, texts)
                  for p in placements]
        plan_row = {'id': plan.id, 'name': plan.name,
                    'stack_id': plan.stack_id,
                    'project_id': plan.project_id, 'generation': 1}
        # Placements without metadata have no index rows (most of them).
        entries = _metadata_entries(
            {'id': p.id, 'metadata': p.metadata} for p in placements
            if p.metadata)
        hot = self._direct()
        try:
            if hot is None:
                raise direct.Failed('no direct statements')
            hot.direct.write([(hot.insert_plan, [plan_row]),
                              (hot.insert_placements, params),
                              (hot.insert_metadata, entries)])
        except direct.Failed:
            # Again through SQLAlchemy: written, or its error raised.
            with self._txn() as conn:
                conn.execute(_INSERT_PLAN, plan_row)
                if params:
                    conn.execute(_INSERT_PLACEMENTS, params)
                if entries:
                    conn.execute(_INSERT_METADATA, entries)
        return params

    @_translated
    def get_plan(self, id_or_stack_id, project_id=None):
        rows = self._select('plan_by_ref', _PLAN_BY_REF,
                            {'ref': id_or_stack_id})
        row = _prefer_id(rows, id_or_stack_id)
        if row is None or (project_id is not None
                           and row.project_id != project_id):
            raise base.NotFound('No plan %r' % id_or_stack_id)
        return _plan(row)

    @_translated
    def list_plans(self, project_id=None, limit=None, marker=None):
        query = sa.select(PLANS).order_by(PLANS.c.name, PLANS.c.id)
        if project_id is not None:
            query = query.where(PLANS.c.project_id == project_id)
        with self._connect() as conn:
            if marker is not None:
                after = self._marker(conn, PLANS, marker, project_id)
                query = query.where(_after(PLANS, after))
            if limit is not None:
                query = query.limit(max(limit, 0))
            return [_plan(r) for r in conn.execute(query)]

    @_translated
    def save_plan(self, plan, placements, removed=()):
        removed = set(removed)
        for p in placements:
            if p.id in removed:
                raise ValueError('Placement %s is both saved and removed'
                                 % p.id)
        with self._txn() as conn:
            # The plan row first: it serialises concurrent savers.
            result = conn.execute(
                PLANS.update()
                .where(PLANS.c.id == plan.id,
                       PLANS.c.generation == plan.generation)
                .values(name=plan.name, generation=PLANS.c.generation + 1))
            if result.rowcount != 1:
                self._stale(conn, PLANS, plan, 'Plan')
            stored = self._row(conn, PLANS, plan.id)
            if removed:
                mine = sa.select(PLACEMENTS.c.id).where(
                    PLACEMENTS.c.plan_id == plan.id,
                    PLACEMENTS.c.id.in_(sorted(removed)))
                conn.execute(PLACEMENT_METADATA.delete().where(
                    PLACEMENT_METADATA.c.placement_id.in_(mine)))
                conn.execute(PLACEMENTS.delete().where(
                    PLACEMENTS.c.plan_id == plan.id,
                    PLACEMENTS.c.id.in_(sorted(removed))))
            saved = []
            for p in placements:
                row = _placement_row(p, plan.id, stored.project_id)
                if p.generation:
                    self._update_placement(conn, p, row,
                                           PLACEMENTS.c.plan_id == plan.id)
                else:
                    row['generation'] = 1
                    conn.execute(PLACEMENTS.insert().values(**row))
                    _index_metadata(conn, [row])
                saved.append(p.id)
            return _plan(stored), self._placements_of(conn, saved)

    @_translated
    def delete_plan(self, plan_id):
        hot = self._direct()
        if hot is not None:
            params = [{'plan_id': plan_id}]
            try:
                deleted = hot.direct.write(
                    [(hot.delete_plan_metadata, params),
                     (hot.delete_plan_placements, params),
                     (hot.delete_plan, params)], last_changes=True)
            except direct.Failed:
                deleted = None      # again through SQLAlchemy, for its error
            if deleted is not None:
                if not deleted:
                    raise base.NotFound('No plan %s' % plan_id)
                return
        with self._txn() as conn:
            conn.execute(_DELETE_PLAN_METADATA, {'plan_id': plan_id})
            conn.execute(_DELETE_PLAN_PLACEMENTS, {'plan_id': plan_id})
            result = conn.execute(_DELETE_PLAN, {'plan_id': plan_id})
            if result.rowcount != 1:
                raise base.NotFound('No plan %s' % plan_id)

    @_translated
    def get_placement(self, id_or_orchestration_id, project_id=None):
        with self._connect() as conn:
            rows = conn.execute(_PLACEMENT_BY_REF,
                                {'ref': id_or_orchestration_id}).all()
        row = _prefer_id(rows, id_or_orchestration_id)
        if row is None or (project_id is not None
                           and row.project_id != project_id):
            raise base.NotFound('No placement %r' % id_or_orchestration_id)
        return _placement(row)

    @_translated
    def list_placements(self, filters=None, metadata=None, project_id=None,
                        plan_ids=None, limit=None, marker=None):
        query = self.placements_query(filters, metadata, project_id,
                                      plan_ids)
        if query is None:
            return []
        with self._connect() as conn:
            if marker is not None:
                after = self._marker(conn, PLACEMENTS, marker, project_id)
                query = query.where(_after(PLACEMENTS, after))
            if limit is not None:
                query = query.limit(max(limit, 0))
            found = [_placement(r) for r in conn.execute(query)]
        # The digests matched; the shared rule confirms on the JSON itself.
        return [p for p in found
                if storage.placement_matches(p, filters, metadata)]

    @staticmethod
    def placements_query(filters=None, metadata=None, project_id=None,
                         plan_ids=None):
        """The SELECT of ``list_placements`` (None: nothing can match).

        Metadata filters join the ``placement_metadata`` index once per
        key, so the database looks them up by (meta_key, value_digest)
        instead of reading every placement.
        """
        storage.check_filters(filters)
        query = sa.select(PLACEMENTS).order_by(PLACEMENTS.c.name,
                                               PLACEMENTS.c.id)
        for key, value in (filters or {}).items():
            if not isinstance(value, _FILTER_TYPES.get(
                    key, _STRING_FILTER_TYPES)):
                return None
            query = query.where(PLACEMENTS.c[key] == value)
        if project_id is not None:
            query = query.where(PLACEMENTS.c.project_id == project_id)
        if plan_ids is not None:
            plan_ids = sorted(set(plan_ids))
            if not plan_ids:
                return None
            query = query.where(PLACEMENTS.c.plan_id.in_(plan_ids))
        for position, (key, value) in enumerate(
                sorted((metadata or {}).items())):
            digest = storage.metadata_digest(value)
            if digest is None:
                return None
            entry = PLACEMENT_METADATA.alias('metadata_%d' % position)
            query = query.join(entry, sa.and_(
                entry.c.placement_id == PLACEMENTS.c.id,
                entry.c.meta_key == key, entry.c.value_digest == digest))
        return query

    @_translated
    def update_placement(self, placement):
        with self._txn() as conn:
            self._update_placement(conn, placement, _placement_row(
                placement, placement.plan_id, placement.project_id))
            return _placement(self._row(conn, PLACEMENTS, placement.id))

    @_translated
    def delete_placement(self, placement_id):
        with self._txn() as conn:
            conn.execute(PLACEMENT_METADATA.delete().where(
                PLACEMENT_METADATA.c.placement_id == placement_id))
            result = conn.execute(PLACEMENTS.delete().where(
                PLACEMENTS.c.id == placement_id))
            if result.rowcount != 1:
                raise base.NotFound('No placement %s' % placement_id)

    # -------------------------------------------------------------- helpers
    def _select(self, name, stmt, params):
        """The rows of a hot SELECT (``_Hot``'s ``name``, ``stmt`` for
        SQLAlchemy)."""
        hot = self._direct()
        if hot is not None:
            try:
                return hot.direct.select(getattr(hot, name), params)
            except direct.Failed:
                pass        # again through SQLAlchemy, for its error
        with self._connect() as conn:
            return conn.execute(stmt, params).all()

    def _update_placement(self, conn, placement, row, *scope):
        """Conditional update of one placement; its plan and project stay."""
        values = {k: v for k, v in row.items()
                  if k not in ('id', 'plan_id', 'project_id')}
        values['generation'] = PLACEMENTS.c.generation + 1
        result = conn.execute(
            PLACEMENTS.update()
            .where(PLACEMENTS.c.id == placement.id,
                   PLACEMENTS.c.generation == placement.generation, *scope)
            .values(**values))
        if result.rowcount != 1:
            if scope:
                # Within a plan, a placement gone is a stale view too.
                raise base.Conflict('Placement %s of plan %s changed or is '
                                    'gone; read the plan again and retry'
                                    % (placement.id, placement.plan_id))
            self._stale(conn, PLACEMENTS, placement, 'Placement')
        conn.execute(PLACEMENT_METADATA.delete().where(
            PLACEMENT_METADATA.c.placement_id == placement.id))
        _index_metadata(conn, [dict(row, id=placement.id)])

    @staticmethod
    def _row(conn, table, row_id):
        return conn.execute(sa.select(table).where(
            table.c.id == row_id)).one()

    @staticmethod
    def _placements_of(conn, ids):
        if not ids:
            return []
        rows = conn.execute(sa.select(PLACEMENTS).where(
            PLACEMENTS.c.id.in_(ids))).all()
        by_id = {r.id: r for r in rows}
        return [_placement(by_id[i]) for i in ids]

    @staticmethod
    def _marker(conn, table, marker, project_id=None):
        """The row a paged list continues after; MarkerNotFound."""
        row = conn.execute(sa.select(table).where(
            table.c.id == marker)).first()
        if row is None or (project_id is not None
                           and row.project_id != project_id):
            raise base.MarkerNotFound('No object %r to page after' % marker)
        return row

    @staticmethod
    def _stale(conn, table, obj, kind):
        """Raise why a conditional update matched no row."""
        current = conn.execute(sa.select(table.c.generation).where(
            table.c.id == obj.id)).scalar()
        if current is None:
            raise base.NotFound('No %s %s' % (kind.lower(), obj.id))
        raise base.Conflict(
            '%s %s changed since it was read (generation %s, now %s); '
            'read it again and retry' % (kind, obj.id, obj.generation,
                                         current))


class _Written(types.SimpleNamespace):
    """A row as written, read like a row that was selected."""


def _insert_params(row):
    """The parameters of ``_INSERT_PLACEMENTS`` for a placement ``row``:
    its JSON columns as the text stored (written once here, not again by
    the column type)."""
    params = {k: v for k, v in row.items() if k not in _JSON_COLUMNS}
    params['generation'] = 1
    for name, key in _JSON_TEXT.items():
        params[key] = models.json_text(row[name])
    return params


def _new_placement_params(p, plan_id, project_id, texts=None):
    """``_insert_params(_placement_row(p, ...))`` in one step: a plan's
    create writes every placement so. ``texts`` keeps the text of each
    spec object by its id while the caller holds every spec alive (a
    spec is not changed while its placements are written)."""
    params = _scalar_columns(p, plan_id, project_id)
    params['generation'] = 1
    params[_METADATA_TEXT] = models.json_text(dict(p.metadata))
    spec = p.spec
    if texts is None:
        params[_SPEC_TEXT] = models.json_text(dict(spec))
        return params
    text = texts.get(id(spec))
    if text is None:
        text = texts[id(spec)] = models.json_text(dict(spec))
    params[_SPEC_TEXT] = text
    return params


def _as_read(params):
    """The placements as reading their rows back would give them, from
    their insert parameters: the JSON columns decoded from their stored
    text (a copy the caller cannot change the rows by; a deep copy took
    longer than the inserts), all texts in one decoding."""
    keys = tuple(_JSON_TEXT.items())
    decoded = iter(json.loads('[%s]' % ','.join(
        p[key] for p in params for _name, key in keys)))
    out = []
    for p in params:
        row = {k: v for k, v in p.items() if k not in _JSON_TEXT_KEYS}
        for name, _key in keys:
            row[name] = next(decoded)
        out.append(_placement(_Written(**row)))
    return out


def _metadata_entries(rows):
    """The metadata index rows of placement ``rows``."""
    entries = []
    for row in rows:
        for key, value in row['metadata'].items():
            digest = storage.metadata_digest(value)
            if digest is not None:
                entries.append({'placement_id': row['id'], 'meta_key': key,
                                'value_digest': digest})
    return entries


def _index_metadata(conn, rows):
    """Index the metadata of freshly written placement ``rows``."""
    entries = _metadata_entries(rows)
    if entries:
        conn.execute(_INSERT_METADATA, entries)


class _Hot:
    """The statements every plan request runs (lookups, a plan's create
    and delete), compiled for an SQLite file's direct execution
    (``valet.storage.sql.direct``)."""

    def __init__(self, engine):
        self.direct = direct.Direct(engine)
        compiled = self.direct.compile
        self.plan_by_ref = compiled(_PLAN_BY_REF)
        self.group_by_ref = compiled(_GROUP_BY_REF)
        self.insert_plan = compiled(_INSERT_PLAN, _PLAN_KEYS)
        self.insert_placements = compiled(_INSERT_PLACEMENTS, _PLACEMENT_KEYS)
        self.insert_metadata = compiled(_INSERT_METADATA, _METADATA_KEYS)
        self.delete_plan_metadata = compiled(_DELETE_PLAN_METADATA)
        self.delete_plan_placements = compiled(_DELETE_PLAN_PLACEMENTS)
        self.delete_plan = compiled(_DELETE_PLAN)


def _after(table, row):
    """Rows ordered after ``row`` by (name, id)."""
    return sa.or_(table.c.name > row.name,
                  sa.and_(table.c.name == row.name, table.c.id > row.id))


def _prefer_id(rows, key):
    """The row whose id is ``key``, else the other match, else None."""
    for row in rows:
        if row.id == key:
            return row
    return rows[0] if rows else None


def _scalar_columns(p, plan_id, project_id):
    """A placement's columns other than its JSON ones."""
    if p.plan_id != plan_id:
        raise ValueError('Placement %s belongs to plan %s, not %s'
                         % (p.id, p.plan_id, plan_id))
    return {'id': p.id, 'plan_id': plan_id, 'name': p.name,
            'orchestration_id': p.orchestration_id,
            'resource_id': p.resource_id, 'location': p.location,
            'reserved': bool(p.reserved),
            'project_id': p.project_id if p.project_id is not None
            else project_id}


def _placement_row(p, plan_id, project_id):
    row = _scalar_columns(p, plan_id, project_id)
    row['metadata'] = dict(p.metadata)
    row['spec'] = dict(p.spec)
    return row


def _group(row):
    return objects.Group(id=row.id, name=row.name, type=row.type,
                         level=row.level, description=row.description,
                         members=list(row.members),
                         parents=list(row.parents),
                         parameters=dict(row.parameters),
                         generation=row.generation)


def _plan(row):
    return objects.Plan(id=row.id, name=row.name, stack_id=row.stack_id,
                        project_id=row.project_id, generation=row.generation)


def _placement(row):
    return objects.Placement(
        id=row.id, plan_id=row.plan_id, name=row.name,
        orchestration_id=row.orchestration_id, resource_id=row.resource_id,
        location=row.location, reserved=bool(row.reserved),
        metadata=dict(row.metadata), spec=dict(row.spec),
        project_id=row.project_id, generation=row.generation)
