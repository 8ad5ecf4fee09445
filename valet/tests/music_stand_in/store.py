"""The stand-in's state: keyspaces, tables, rows and lock queues in SQLite.

Every server process of one stand-in opens the same SQLite file, so
several "Music hosts" share one store, as Music hosts share Cassandra and
ZooKeeper. There is one copy of every row: eventual, critical and atomic
operations differ here only in their lock rules (which is what Valet's
correctness depends on), not in replica counts.
"""

import json
import sqlite3
import threading
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS keyspaces (name TEXT PRIMARY KEY, info TEXT);
CREATE TABLE IF NOT EXISTS tables (
    ks TEXT, name TEXT, fields TEXT, pk TEXT, PRIMARY KEY (ks, name));
CREATE TABLE IF NOT EXISTS rows (
    ks TEXT, tbl TEXT, part TEXT, pk TEXT, doc TEXT,
    PRIMARY KEY (ks, tbl, pk));
CREATE INDEX IF NOT EXISTS rows_part ON rows (ks, tbl, part);
CREATE TABLE IF NOT EXISTS locks (
    ref INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, created REAL,
    head_since REAL, acquired_at REAL, lease REAL);
CREATE INDEX IF NOT EXISTS locks_name ON locks (name, ref);
CREATE TABLE IF NOT EXISTS unsynced (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS stats (name TEXT PRIMARY KEY, n INTEGER);
"""

TYPES = {'text': str, 'varchar': str, 'boolean': bool, 'int': int,
         'bigint': int, 'varint': int, 'double': float, 'float': float}


class BadRequest(Exception):
    """The request is wrong (Music answers 400)."""


class NotHolder(BadRequest):
    """A critical operation by a lock reference not at the queue's head."""


def lock_id(name, ref):
    # Music returns the ZooKeeper node path with "/" turned into "$".
    return '$%s$x-%010d' % (name, ref)


def parse_lock_id(lockid):
    try:
        name, ref = lockid[1:].rsplit('$x-', 1)
        return name, int(ref)
    except (ValueError, IndexError):
        raise BadRequest('Malformed lock id %r' % lockid)


class Store:

    def __init__(self, path, default_lease=10.0):
        self.path = path
        self.default_lease = default_lease
        self._local = threading.local()
        self._db().executescript(SCHEMA)

    # ----------------------------------------------------------- plumbing
    def _db(self):
        db = getattr(self._local, 'db', None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60,
                                 isolation_level=None)
            db.execute('PRAGMA journal_mode=WAL')
            db.execute('PRAGMA synchronous=NORMAL')
            self._local.db = db
        return db

    class _Txn:
        def __init__(self, db, immediate):
            self.db, self.immediate = db, immediate

        def __enter__(self):
            self.db.execute('BEGIN IMMEDIATE' if self.immediate else 'BEGIN')
            return self.db

        def __exit__(self, exc_type, exc, tb):
            self.db.execute('ROLLBACK' if exc_type else 'COMMIT')

    def write(self):
        """A transaction that holds SQLite's write lock from its start."""
        return self._Txn(self._db(), True)

    def read(self):
        return self._Txn(self._db(), False)

    def count(self, db, name):
        db.execute('INSERT INTO stats VALUES (?, 1) ON CONFLICT(name) DO '
                   'UPDATE SET n = n + 1', (name,))

    def stats(self):
        with self.read() as db:
            return dict(db.execute('SELECT name, n FROM stats'))

    # ----------------------------------------------------------- keyspaces
    def create_keyspace(self, ks, info):
        with self.write() as db:
            db.execute('INSERT OR IGNORE INTO keyspaces VALUES (?, ?)',
                       (ks, json.dumps(info)))

    def drop_keyspace(self, ks):
        with self.write() as db:
            for table in ('rows',):
                db.execute('DELETE FROM %s WHERE ks = ?' % table, (ks,))
            db.execute('DELETE FROM tables WHERE ks = ?', (ks,))
            db.execute('DELETE FROM keyspaces WHERE name = ?', (ks,))

    def create_table(self, ks, name, fields):
        fields = dict(fields)
        spec = fields.pop('PRIMARY KEY', None)
        if not spec:
            raise BadRequest('fields needs a "PRIMARY KEY"')
        pk = [c.strip() for c in spec.replace('(', ' ').replace(
            ')', ' ').split(',') if c.strip()]
        for column in pk:
            if column not in fields:
                raise BadRequest('Primary key column %r is not a field'
                                 % column)
        for column, kind in fields.items():
            if kind.lower() not in TYPES:
                raise BadRequest('Unknown type %r of %r' % (kind, column))
        fields['vector_ts'] = 'text'
        with self.write() as db:
            if not db.execute('SELECT 1 FROM keyspaces WHERE name = ?',
                              (ks,)).fetchone():
                raise BadRequest('Keyspace %s does not exist' % ks)
            db.execute('INSERT OR IGNORE INTO tables VALUES (?, ?, ?, ?)',
                       (ks, name, json.dumps(fields), json.dumps(pk)))

    def drop_table(self, ks, name):
        with self.write() as db:
            db.execute('DELETE FROM rows WHERE ks = ? AND tbl = ?',
                       (ks, name))
            db.execute('DELETE FROM tables WHERE ks = ? AND name = ?',
                       (ks, name))

    def primary_key(self, ks, name):
        with self.read() as db:
            return self._table(db, ks, name)[1]

    def _table(self, db, ks, name):
        row = db.execute('SELECT fields, pk FROM tables WHERE ks = ? AND '
                         'name = ?', (ks, name)).fetchone()
        if row is None:
            raise BadRequest('Table %s.%s does not exist' % (ks, name))
        return json.loads(row[0]), json.loads(row[1])

    # ---------------------------------------------------------------- rows
    @staticmethod
    def _typed(fields, column, value, from_query=False):
        if column not in fields:
            raise BadRequest('Unknown column %r' % column)
        kind = TYPES[fields[column].lower()]
        if value is None:
            return None
        if from_query and kind is not str:
            try:
                return (value == 'true') if kind is bool else kind(value)
            except ValueError:
                raise BadRequest('Bad value %r for %r' % (value, column))
        if not isinstance(value, kind) or (kind is int and
                                           isinstance(value, bool)):
            raise BadRequest('Column %r is %s, not %s' % (
                column, fields[column], type(value).__name__))
        return value

    def _where(self, fields, pk, params):
        """(sql, args) for a key lookup; a full scan when ``params`` is
        empty; BadRequest for a column that is not a key (Cassandra needs
        a secondary index for those)."""
        params = {c: self._typed(fields, c, v, True)
                  for c, v in params.items()}
        if not params:
            return '', (), True
        if set(params) == set(pk):
            return ' AND pk = ?', (json.dumps([params[c] for c in pk]),), \
                False
        if set(params) == {pk[0]}:
            return ' AND part = ?', (json.dumps(params[pk[0]]),), False
        raise BadRequest('Cannot select by %s: not the primary key or its '
                         'partition key, and no index'
                         % ', '.join(sorted(params)))

    def select(self, ks, tbl, params, lock=None):
        # Only a critical read (an expired lease) or a full scan (its
        # counter) writes.
        writes = lock is not None or not params
        with (self.write() if writes else self.read()) as db:
            fields, pk = self._table(db, ks, tbl)
            sql, args, scan = self._where(fields, pk, params)
            if lock is not None:
                self._check_holder(db, lock, ks, tbl, pk, params)
            if scan:
                self.count(db, 'full_scan.%s' % tbl)
            rows = db.execute('SELECT doc FROM rows WHERE ks = ? AND tbl = ?'
                              + sql + ' ORDER BY pk', (ks, tbl) + args)
            return [json.loads(r[0]) for r in rows]

    def insert(self, ks, tbl, values, lock=None):
        with self.write() as db:
            fields, pk = self._table(db, ks, tbl)
            doc = {c: self._typed(fields, c, v) for c, v in values.items()}
            missing = [c for c in pk if doc.get(c) is None]
            if missing:
                raise BadRequest('Missing primary key %s' % missing)
            if lock is not None:
                self._check_holder(db, lock, ks, tbl, pk,
                                   {c: doc[c] for c in pk})
            self._upsert(db, ks, tbl, pk, doc)

    def _upsert(self, db, ks, tbl, pk, doc):
        key = json.dumps([doc[c] for c in pk])
        old = db.execute('SELECT doc FROM rows WHERE ks = ? AND tbl = ? AND '
                         'pk = ?', (ks, tbl, key)).fetchone()
        merged = json.loads(old[0]) if old else {}
        merged.update(doc)
        merged['vector_ts'] = '%.6f' % time.time()
        db.execute('INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?)',
                   (ks, tbl, json.dumps(doc[pk[0]]), key,
                    json.dumps(merged)))

    def update(self, ks, tbl, params, values, conditions=None, lock=None):
        """Cassandra's UPDATE: the row is created if absent. False when
        ``conditions`` do not hold (nothing written)."""
        with self.write() as db:
            fields, pk = self._table(db, ks, tbl)
            keys = {c: self._typed(fields, c, v, True)
                    for c, v in params.items()}
            if set(keys) != set(pk):
                raise BadRequest('An update needs the whole primary key')
            if lock is not None:
                self._check_holder(db, lock, ks, tbl, pk, keys)
            if conditions and not self._holds(db, ks, tbl, pk, keys,
                                              fields, conditions):
                return False
            doc = {c: self._typed(fields, c, v) for c, v in values.items()}
            doc.update(keys)
            self._upsert(db, ks, tbl, pk, doc)
            return True

    def delete(self, ks, tbl, params, conditions=None, lock=None):
        with self.write() as db:
            fields, pk = self._table(db, ks, tbl)
            sql, args, scan = self._where(fields, pk, params)
            if scan:
                raise BadRequest('A delete needs a key')
            if lock is not None:
                self._check_holder(db, lock, ks, tbl, pk, params)
            if conditions:
                keys = {c: self._typed(fields, c, v, True)
                        for c, v in params.items()}
                if set(keys) != set(pk) or not self._holds(
                        db, ks, tbl, pk, keys, fields, conditions):
                    return False
            db.execute('DELETE FROM rows WHERE ks = ? AND tbl = ?' + sql,
                       (ks, tbl) + args)
            return True

    def _holds(self, db, ks, tbl, pk, keys, fields, conditions):
        row = db.execute('SELECT doc FROM rows WHERE ks = ? AND tbl = ? AND '
                         'pk = ?', (ks, tbl, json.dumps(
                             [keys[c] for c in pk]))).fetchone()
        if row is None:
            return False
        doc = json.loads(row[0])
        return all(doc.get(c) == self._typed(fields, c, v)
                   for c, v in conditions.items())

    # --------------------------------------------------------------- locks
    def create_lock(self, name):
        with self.write() as db:
            cur = db.execute('INSERT INTO locks (name, created) VALUES '
                             '(?, ?)', (name, time.time()))
            return lock_id(name, cur.lastrowid)

    def _head(self, db, name):
        """The head reference of ``name``'s queue after expired leases
        were forced free (their keys marked unsynced), or None."""
        while True:
            row = db.execute('SELECT ref, head_since, acquired_at, lease '
                             'FROM locks WHERE name = ? ORDER BY ref '
                             'LIMIT 1', (name,)).fetchone()
            if row is None:
                return None
            ref, head_since, acquired_at, lease = row
            now = time.time()
            if head_since is None:
                db.execute('UPDATE locks SET head_since = ? WHERE ref = ?',
                           (now, ref))
                return ref
            start = max(head_since, acquired_at or 0)
            if now <= start + (lease or self.default_lease):
                return ref
            self._force_release(db, name, ref)

    def _force_release(self, db, name, ref):
        db.execute('DELETE FROM locks WHERE ref = ?', (ref,))
        db.execute('INSERT OR IGNORE INTO unsynced VALUES (?)', (name,))
        self.count(db, 'forced_release')

    def acquire(self, lockid, lease=None):
        """True when ``lockid`` is at the head of its queue (it holds the
        lock). BadRequest when the reference no longer exists."""
        name, ref = parse_lock_id(lockid)
        with self.write() as db:
            if not db.execute('SELECT 1 FROM locks WHERE ref = ? AND name = '
                              '?', (ref, name)).fetchone():
                raise NotHolder('Lock reference %s does not exist (released '
                                'or forced free)' % lockid)
            if self._head(db, name) != ref:
                return False
            db.execute('UPDATE locks SET acquired_at = ?, lease = '
                       'COALESCE(?, lease) WHERE ref = ?',
                       (time.time(), lease, ref))
            # Music re-syncs a forced-free key at quorum here; one copy
            # needs nothing but forgetting the mark.
            db.execute('DELETE FROM unsynced WHERE name = ?', (name,))
            return True

    def holder(self, name):
        with self.write() as db:
            ref = self._head(db, name)
            return None if ref is None else lock_id(name, ref)

    def release(self, lockid):
        name, ref = parse_lock_id(lockid)
        with self.write() as db:
            db.execute('DELETE FROM locks WHERE ref = ?', (ref,))

    def delete_lock(self, name):
        with self.write() as db:
            db.execute('DELETE FROM locks WHERE name = ?', (name,))

    def force_release(self, name):
        """Free ``name`` from its holder, as Music does when a lease ran
        out (a fault the tests inject). True if there was a holder."""
        with self.write() as db:
            ref = self._head(db, name)
            if ref is None:
                return False
            self._force_release(db, name, ref)
            return True

    def _check_holder(self, db, lockid, ks, tbl, pk, keys):
        if len(pk) != 1:
            raise BadRequest('Critical operations need a single-column '
                             'primary key')
        name, ref = parse_lock_id(lockid)
        expected = '%s.%s.%s' % (ks, tbl, keys.get(pk[0]))
        if name != expected:
            raise NotHolder('Lock %s is not the lock of %s' % (lockid,
                                                               expected))
        if self._head(db, name) != ref:
            raise NotHolder('Lock reference %s is not the lock holder of %s '
                            '(released, forced free or never acquired)'
                            % (lockid, name))
