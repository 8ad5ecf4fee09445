"""SQLite files: the statements of every plan request, run directly.

A plan's create looks its stack up and writes the plan, its placements
and their metadata index; SQLAlchemy's execution of each (connection
events, cache key, execution context, autobegin, result object) cost
several times what SQLite itself took, most of the storage time of a
one-server plan. For an SQLite file (all-in-one) these few statements
are compiled once for the dialect and run on the pooled DB-API
connection, in SQLite's own transactions.

A plan's placements are inserted by statements of many rows each
(``VALUES (...), (...)``): SQLite steps one statement instead of one per
row, in the rows' order.

Nothing else changes: the same SQL, the same pool and connections (with
their foreign keys and WAL), the same rows. Any DB-API error there
rolls back and the caller does the same work again through SQLAlchemy,
which raises the error oslo.db translates (a duplicate stack is still a
``Conflict``); so an error is reported exactly as before.
"""

import itertools
import json
import operator
import sqlite3

from valet.storage.sql import models


class Failed(Exception):
    """The direct statement failed and was rolled back: do it the
    ordinary way."""


class Statement:
    """One statement compiled for the engine's dialect."""

    def __init__(self, stmt, dialect, keys=None):
        compiled = stmt.compile(dialect=dialect, column_keys=keys)
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup or ())
        # ``args(params)``: the values in the statement's order, taken
        # in C once per row (a single one is still a tuple).
        if len(self.order) > 1:
            self.args = operator.itemgetter(*self.order)
        else:
            self.args = lambda params, order=self.order: tuple(
                params[name] for name in order)
        self.names = None
        self.json = ()
        self._rows_sql = _rows_insert(self.sql, len(self.order)) \
            if stmt.is_insert else None
        if stmt.is_select:
            columns = list(stmt.selected_columns)
            self.names = tuple(c.name for c in columns)
            self.json = tuple(i for i, c in enumerate(columns)
                              if isinstance(c.type, models.JSONText))

    def run(self, cursor, params):
        """Execute once per params, in their order: an INSERT as few
        statements of many rows (powers of two of them, so that SQLite's
        statement cache holds every text); SQLite inserts a statement's
        rows in their order, so the rows and their order are those of one
        statement per params."""
        if len(params) == 1:
            cursor.execute(self.sql, self.args(params[0]))
            return
        if self._rows_sql is None:
            cursor.executemany(self.sql, [self.args(p) for p in params])
            return
        start = 0
        for size, sql in self._rows_sql:
            while len(params) - start >= size:
                chunk = params[start:start + size]
                cursor.execute(sql, list(itertools.chain.from_iterable(
                    map(self.args, chunk))))
                start += size


# The fewest host parameters an SQLite build may allow in one statement
# (SQLITE_MAX_VARIABLE_NUMBER before SQLite 3.32).
_MAX_PARAMETERS = 999


def _rows_insert(sql, width):
    """``[(rows, sql)]`` of ``sql`` (an INSERT of one row of ``width``
    parameters) for 2**k rows at once, largest first, down to one; None
    when its text is not ``... VALUES (?, ...)``."""
    head, sep, row = sql.rpartition(' VALUES ')
    if not sep or not width or row != '(%s)' % ', '.join(['?'] * width):
        return None
    out = []
    rows = 1
    while rows * 2 * width <= _MAX_PARAMETERS and rows < 64:
        rows *= 2
    while rows >= 1:
        out.append((rows, '%s VALUES %s' % (head, ', '.join([row] * rows))))
        rows //= 2
    return out


class Row(tuple):
    """A selected row, read by column name like SQLAlchemy's."""

    __slots__ = ()
    names = {}

    def __getattr__(self, name):
        try:
            return self[self.names[name]]
        except KeyError:
            raise AttributeError(name) from None


def _row_class(names):
    return type('Row', (Row,), {'__slots__': (), 'names': {
        name: i for i, name in enumerate(names)}})


class Direct:
    """Runs compiled statements on ``engine``'s pooled connections."""

    def __init__(self, engine):
        self.engine = engine
        self.dialect = engine.dialect
        self._rows = {}

    def compile(self, stmt, keys=None):
        statement = Statement(stmt, self.dialect, keys)
        if statement.names is not None:
            self._rows[id(statement)] = _row_class(statement.names)
        return statement

    def select(self, statement, params):
        """Every row of ``statement`` (JSON columns decoded); Failed."""
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(statement.sql, statement.args(params))
                rows = cursor.fetchall()
            finally:
                cursor.close()
        except sqlite3.Error as exc:
            raise Failed(str(exc)) from exc
        finally:
            conn.close()
        cls = self._rows[id(statement)]
        if not statement.json:
            return [cls(row) for row in rows]
        out = []
        for row in rows:
            row = list(row)
            for i in statement.json:
                if row[i] is not None:
                    row[i] = json.loads(row[i])
            out.append(cls(row))
        return out

    def write(self, steps, last_changes=False):
        """Run ``steps`` (``(statement, [params])``, each statement once
        per params) in one transaction; Failed (nothing written).

        ``last_changes``: commit only when the last statement changed a
        row, else roll back; whether it committed."""
        conn = self.engine.raw_connection()
        try:
            dbapi = conn.dbapi_connection
            if dbapi.in_transaction or dbapi.isolation_level is not None:
                # Not the connection oslo.db configured (it begins every
                # transaction itself): leave it to SQLAlchemy.
                raise Failed('unexpected connection state')
            cursor = dbapi.cursor()
            try:
                cursor.execute('BEGIN')
                for statement, params in steps:
                    if params:
                        statement.run(cursor, params)
                if last_changes and cursor.rowcount < 1:
                    dbapi.rollback()
                    return False
                dbapi.commit()
            except sqlite3.Error as exc:
                if dbapi.in_transaction:
                    dbapi.rollback()
                raise Failed(str(exc)) from exc
            finally:
                cursor.close()
        finally:
            conn.close()
        return True
