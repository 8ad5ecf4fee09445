"""The SQL driver on an SQLite file: kept connections, WAL, one
transaction per decision."""

import os
import sqlite3
import threading

import fixtures
from oslotest import base as oslo_base
import sqlalchemy as sa

from valet import objects
from valet.storage import base
from valet.storage.sql import direct
from valet.storage.sql import driver
from valet.storage.sql import models
from valet.storage.sql import sqlite
from valet.tests.unit.storage.test_sql_sqlite import make_conf


def placement(plan, name, oid=None, **kw):
    return objects.Placement(name=name, plan_id=plan.id,
                             orchestration_id=oid or 'o-' + name,
                             location='h1', metadata={'k': name}, **kw)


class SqliteFileTest(oslo_base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'valet.sqlite')
        self.store = self.make_store()
        self.store.upgrade()
        self.connects = []
        sa.event.listen(self.store._get_engine(), 'connect',
                        lambda dbapi, record: self.connects.append(dbapi))

    def make_store(self, **overrides):
        conf = make_conf('sqlite:///' + self.path)
        for key, value in overrides.items():
            conf.set_override(key, value, group='database')
        store = driver.SqlStorage(conf)
        self.addCleanup(store.dispose)
        return store

    def pragma(self, store, name):
        with store._connect() as conn:
            return conn.execute(sa.text('PRAGMA %s' % name)).scalar()

    def counts(self):
        with sqlite3.connect(self.path) as raw:
            return {table: raw.execute('SELECT count(*) FROM %s'
                                       % table).fetchone()[0]
                    for table in ('plans', 'placements',
                                  'placement_metadata')}

    def test_wal_and_synchronous_normal(self):
        self.assertEqual('wal', self.pragma(self.store, 'journal_mode'))
        self.assertEqual(1, self.pragma(self.store, 'synchronous'))  # NORMAL
        # WAL is a property of the file: another client sees it too.
        with sqlite3.connect(self.path) as raw:
            self.assertEqual('wal', raw.execute(
                'PRAGMA journal_mode').fetchone()[0])

    def test_sqlite_synchronous_false_still_means_off(self):
        store = self.make_store(sqlite_synchronous=False)
        self.assertEqual(0, self.pragma(store, 'synchronous'))
        self.assertEqual('wal', self.pragma(store, 'journal_mode'))

    def test_connections_are_kept(self):
        engine = self.store._get_engine()
        self.assertIsInstance(engine.pool, sa.pool.QueuePool)
        for i in range(20):
            plan = objects.Plan(name='p%d' % i, stack_id='s%d' % i)
            self.store.create_plan(plan, [placement(plan, 'a%d' % i)])
            self.store.get_plan(plan.id)
        # One engine for the driver, one connection for sequential calls.
        self.assertIs(engine, self.store._get_engine())
        self.assertLessEqual(len(self.connects), 1)

    def test_threads_share_the_pool(self):
        errors = []

        def work(n):
            try:
                for i in range(10):
                    plan = objects.Plan(name='t%d-%d' % (n, i),
                                        stack_id='t%d-%d' % (n, i))
                    self.store.create_plan(plan, [placement(plan, plan.name)])
                    self.store.list_plans()
            except Exception as exc:     # reported below
                errors.append(exc)
        threads = [threading.Thread(target=work, args=(n,))
                   for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], errors)
        self.assertEqual(40, len(self.store.list_plans()))
        self.assertLessEqual(len(self.connects), 4)

    def test_memory_database_is_not_pooled_per_file(self):
        url = sa.engine.make_url('sqlite://')
        self.assertFalse(sqlite.is_file(url))
        self.assertFalse(sqlite.is_file(sa.engine.make_url(
            'sqlite:///file:x?mode=memory&uri=true')))
        self.assertFalse(sqlite.is_file(sa.engine.make_url(
            'mysql+pymysql://u:p@h/valet')))
        self.assertTrue(sqlite.is_file(sa.engine.make_url(
            'sqlite:///' + self.path)))

    def test_a_plan_create_is_written_whole_or_not_at_all(self):
        first = objects.Plan(name='p1', stack_id='s1')
        self.store.create_plan(first, [placement(first, 'a', oid='taken')])
        before = self.counts()
        second = objects.Plan(name='p2', stack_id='s2')
        # The third placement's orchestration id is stored already: the
        # plan row, the first two placements and their metadata index
        # rows, written before it, go too.
        self.assertRaises(base.Conflict, self.store.create_plan, second, [
            placement(second, 'b'), placement(second, 'c'),
            placement(second, 'd', oid='taken')])
        self.assertEqual(before, self.counts())
        self.assertRaises(base.NotFound, self.store.get_plan, 's2')

    def test_a_plan_save_is_written_whole_or_not_at_all(self):
        plan = objects.Plan(name='p1', stack_id='s1')
        plan, (a, b) = self.store.create_plan(
            plan, [placement(plan, 'a'), placement(plan, 'b')])
        before = self.counts()
        stale = objects.Placement(**{**b.__dict__, 'generation': 99})
        new = placement(plan, 'c')
        # Removing a, adding c, then a stale b: nothing of it stays.
        self.assertRaises(base.Conflict, self.store.save_plan, plan,
                          [new, stale], removed=[a.id])
        self.assertEqual(before, self.counts())
        self.assertEqual(plan.generation,
                         self.store.get_plan(plan.id).generation)
        self.assertEqual(
            {'a', 'b'},
            {p.name for p in self.store.list_placements()})
        with self.store._connect() as conn:
            keys = {r.placement_id for r in conn.execute(
                sa.select(models.PLACEMENT_METADATA))}
        self.assertEqual({a.id, b.id}, keys)

    def test_no_yield_at_connection_checkin(self):
        # oslo.db's eventlet yield (time.sleep(0)) is not wanted on threads.
        from oslo_db.sqlalchemy import engines
        self.assertFalse(sa.event.contains(
            self.store._get_engine(), 'checkin', engines._thread_yield))

    def test_a_created_plan_is_returned_as_stored(self):
        plan = objects.Plan(name='p1', stack_id='s1', project_id='pr')
        made = [placement(plan, 'a'), placement(plan, 'b')]
        made[0].spec = {'flavor': {'vcpus': 1}}
        stored_plan, stored = self.store.create_plan(plan, made)
        self.assertEqual(self.store.get_plan(plan.id), stored_plan)
        self.assertEqual(
            sorted(self.store.list_placements(), key=lambda p: p.name),
            stored)
        # Copies: changing what was passed in changes nothing returned.
        made[0].spec['flavor']['vcpus'] = 9
        self.assertEqual(1, stored[0].spec['flavor']['vcpus'])

    def statements(self, store):
        """Every statement ``store`` sends through SQLAlchemy, from now."""
        sent = []
        sa.event.listen(store._get_engine(), 'before_cursor_execute',
                        lambda conn, cursor, statement, *a: sent.append(
                            statement.split()[0].upper()))
        return sent

    def test_connections_are_not_pinged_at_checkout(self):
        # A file does not drop connections; a ping per checkout is a query.
        self.assertFalse(self.store._get_engine().pool._pre_ping)

    def test_a_read_sends_no_begin_through_sqlalchemy(self):
        sent = self.statements(self.store)
        self.assertEqual([], self.store.list_plans())
        self.assertEqual(['SELECT'], sent)

    def test_a_plan_create_and_its_lookups_run_directly(self):
        sent = self.statements(self.store)
        plan = objects.Plan(name='p1', stack_id='s1', project_id='pr')
        self.store.create_plan(plan, [placement(plan, 'a'),
                                      placement(plan, 'b', reserved=True)])
        self.assertEqual(plan.id, self.store.get_plan('s1').id)
        self.assertRaises(base.NotFound, self.store.get_group, 'g')
        self.assertEqual([], sent)
        # What SQLAlchemy reads back is what it would have written.
        self.assertEqual({'plans': 1, 'placements': 2,
                          'placement_metadata': 2}, self.counts())
        a, b = self.store.list_placements()
        self.assertEqual((False, True, {'k': 'b'}),
                         (a.reserved, b.reserved, b.metadata))
        with sqlite3.connect(self.path) as raw:
            self.assertEqual([(0,), (1,)], raw.execute(
                'SELECT reserved FROM placements ORDER BY name').fetchall())

    def test_a_plan_create_indexes_the_metadata_of_every_placement(self):
        plan = objects.Plan(name='p1', stack_id='s1')
        made = [objects.Placement(name=name, plan_id=plan.id,
                                  orchestration_id='o-' + name,
                                  metadata=metadata)
                for name, metadata in (('a', {}),
                                       ('b', {'x': 1, 'y': [1, 2]}),
                                       ('c', {}), ('d', {'x': 'v'}))]
        self.store.create_plan(plan, made)
        expected = driver._metadata_entries(
            {'id': p.id, 'metadata': p.metadata} for p in made)
        with sqlite3.connect(self.path) as raw:
            stored = raw.execute(
                'SELECT placement_id, meta_key, value_digest '
                'FROM placement_metadata').fetchall()
        self.assertEqual(2, len(expected))     # a list is not indexed
        self.assertEqual(sorted((e['placement_id'], e['meta_key'],
                                 e['value_digest']) for e in expected),
                         sorted(stored))

    def test_a_plan_delete_runs_directly(self):
        plan = objects.Plan(name='p1', stack_id='s1')
        other = objects.Plan(name='p2', stack_id='s2')
        self.store.create_plan(plan, [placement(plan, 'a'),
                                      placement(plan, 'b')])
        self.store.create_plan(other, [placement(other, 'c')])
        sent = self.statements(self.store)
        self.store.delete_plan(plan.id)
        e = self.assertRaises(base.NotFound, self.store.delete_plan, plan.id)
        self.assertEqual('No plan %s' % plan.id, str(e))
        self.assertEqual([], sent)
        # Only that plan's rows are gone.
        self.assertEqual({'plans': 1, 'placements': 1,
                          'placement_metadata': 1}, self.counts())
        self.assertEqual(['c'], [p.name for p in
                                 self.store.list_placements()])

    def test_a_failed_direct_write_leaves_nothing_behind(self):
        plan = objects.Plan(name='p1', stack_id='s1')
        self.store.create_plan(plan, [placement(plan, 'a')])
        before = self.counts()
        hot = self.store._direct()
        params = [{'plan_id': plan.id}]
        broken = hot.direct.compile(sa.delete(models.PLANS).where(
            models.PLANS.c.id == sa.bindparam('plan_id')))
        broken.sql = 'DELETE FROM no_such_table WHERE id = ?'
        self.assertRaises(direct.Failed, hot.direct.write, [
            (hot.delete_plan_metadata, params),
            (hot.delete_plan_placements, params), (broken, params)])
        self.assertEqual(before, self.counts())
        # No row changed by the last statement: rolled back too.
        self.assertFalse(hot.direct.write([
            (hot.delete_plan_metadata, params),
            (hot.delete_plan_placements, params),
            (hot.delete_plan, [{'plan_id': 'other'}])], last_changes=True))
        self.assertEqual(before, self.counts())

    def test_a_direct_failure_is_done_again_through_sqlalchemy(self):
        def failed(*args):
            raise direct.Failed('database is locked')
        self.useFixture(fixtures.MockPatchObject(
            direct.Direct, 'write', side_effect=failed))
        self.useFixture(fixtures.MockPatchObject(
            direct.Direct, 'select', side_effect=failed))
        sent = self.statements(self.store)
        plan = objects.Plan(name='p1', stack_id='s1')
        self.store.create_plan(plan, [placement(plan, 'a')])
        self.assertEqual(plan.id, self.store.get_plan('s1').id)
        self.assertEqual(['INSERT', 'INSERT', 'INSERT', 'SELECT'], sent)
        # The stack's unique constraint answers through oslo.db, as ever.
        self.assertRaises(base.Conflict, self.store.create_plan,
                          objects.Plan(name='p2', stack_id='s1'), [])

    def test_a_failed_direct_delete_is_done_again_through_sqlalchemy(self):
        plan = objects.Plan(name='p1', stack_id='s1')
        self.store.create_plan(plan, [placement(plan, 'a')])

        def failed(*args, **kwargs):
            raise direct.Failed('database is locked')
        self.useFixture(fixtures.MockPatchObject(
            direct.Direct, 'write', side_effect=failed))
        sent = self.statements(self.store)
        self.store.delete_plan(plan.id)
        self.assertRaises(base.NotFound, self.store.delete_plan, plan.id)
        self.assertEqual(['DELETE'] * 6, sent)
        self.assertEqual({'plans': 0, 'placements': 0,
                          'placement_metadata': 0}, self.counts())

    def test_a_duplicate_stack_is_still_a_conflict(self):
        self.store.create_plan(objects.Plan(name='p1', stack_id='s1'), [])
        before = self.counts()
        again = objects.Plan(name='p2', stack_id='s1')
        self.assertRaises(base.Conflict, self.store.create_plan, again,
                          [placement(again, 'a')])
        self.assertEqual(before, self.counts())

    def test_only_the_pooled_file_engine_runs_directly(self):
        class Former(driver.SqlStorage):
            def _create_engine(self):
                return sa.create_engine('sqlite:///' + self.conf.database
                                        .connection.split(':///', 1)[1])
        store = Former(make_conf('sqlite:///' + self.path))
        self.addCleanup(store.dispose)
        self.assertIsNone(store._direct())
        self.assertIsNotNone(self.store._direct())

    def test_transactions_still_begin(self):
        # BEGIN reaches sqlite3: a second writer waits for the first.
        with self.store._txn() as conn:
            conn.execute(models.PLANS.insert().values(
                id='p', name='p', stack_id='s', project_id='x',
                generation=1))
            raw = sqlite3.connect(self.path, timeout=0)
            self.addCleanup(raw.close)
            self.assertRaises(sqlite3.OperationalError, raw.execute,
                              'BEGIN IMMEDIATE')
        self.assertEqual(1, self.counts()['plans'])

    def test_health_is_one_query(self):
        version = self.store.version()
        sent = self.statements(self.store)
        self.assertEqual({'ok': True,
                          'detail': 'Schema at revision %s' % version},
                         self.store.health())
        self.assertEqual(['SELECT'], sent)

    def test_health_of_a_database_without_schema(self):
        blank = self.make_store()
        os.remove(self.path)
        self.assertEqual(
            {'ok': False, 'detail': 'Database reachable but has no schema; '
                                    'run valet-manage db_sync'},
            blank.health())
