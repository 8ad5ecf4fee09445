"""A plan's rows written by the direct path's many-row INSERTs are the
rows, in the order, that one INSERT per row writes."""

import os
import sqlite3

import fixtures
import hypothesis
from hypothesis import strategies as st
from oslotest import base as oslo_base
import sqlalchemy as sa

from valet import objects
from valet.storage import base
from valet.storage.sql import direct
from valet.storage.sql import driver
from valet.tests.unit.storage.test_sql_sqlite import make_conf


def _former_run(self, cursor, params):
    # The direct path before many-row INSERTs: executemany.
    if len(params) == 1:
        cursor.execute(self.sql, self.args(params[0]))
    else:
        cursor.executemany(self.sql, [self.args(p) for p in params])


def _placements(plan, count, metadata_every):
    return [objects.Placement(
        name='s%03d' % i, plan_id=plan.id,
        orchestration_id='%s-o%03d' % (plan.stack_id, i),
        location='h%d' % (i % 7), resource_id=None if i % 3 else 'r%d' % i,
        reserved=bool(i % 2), spec={'n': i % 4},
        metadata={'k': i} if metadata_every and i % metadata_every == 0
        else {}, project_id='p')
        for i in range(count)]


class ManyRowsTest(oslo_base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def store(self, name):
        store = driver.SqlStorage(make_conf('sqlite:///' + os.path.join(
            self.dir, name)))
        self.addCleanup(store.dispose)
        store.upgrade()
        self.assertIsNotNone(store._direct())
        return store

    def dump(self, store):
        path = store.conf.database.connection.split(':///', 1)[1]
        with sqlite3.connect(path) as raw:
            return {table: raw.execute(
                'SELECT rowid, * FROM %s ORDER BY rowid' % table).fetchall()
                for table in ('plans', 'placements', 'placement_metadata')}

    @hypothesis.settings(max_examples=25, deadline=None)
    @hypothesis.given(
        st.lists(st.sampled_from([0, 1, 2, 3, 7, 50, 63, 64, 65, 130]),
                 min_size=1, max_size=3),
        st.sampled_from([0, 1, 3]))
    def test_same_rows_as_one_insert_per_row(self, sizes, metadata_every):
        name = 'db-%d' % len(os.listdir(self.dir))
        new, former = self.store(name + '-new'), self.store(name + '-old')
        plans = [objects.Plan(name='p%d' % i, stack_id='s%d' % i,
                              project_id='p') for i in range(len(sizes))]
        work = [(plan, _placements(plan, size, metadata_every))
                for plan, size in zip(plans, sizes)]
        for plan, placements in work:
            new.insert_plan(plan, placements)
        with fixtures.MockPatchObject(direct.Statement, 'run', _former_run):
            for plan, placements in work:
                former.insert_plan(plan, placements)
        self.assertEqual(self.dump(former), self.dump(new))
        self.assertEqual(sum(sizes), len(self.dump(new)['placements']))

    def test_a_duplicate_in_a_later_chunk_writes_nothing(self):
        store = self.store('dup')
        plan = objects.Plan(name='p', stack_id='s')
        placements = _placements(plan, 70, 1)
        placements[68].orchestration_id = placements[3].orchestration_id
        before = self.dump(store)
        self.assertRaises(base.Conflict, store.insert_plan, plan, placements)
        self.assertEqual(before, self.dump(store))

    def test_row_statements(self):
        dialect = sa.create_engine('sqlite://').dialect
        insert = direct.Statement(driver._INSERT_PLACEMENTS, dialect,
                                  driver._PLACEMENT_KEYS)
        sizes = [rows for rows, _sql in insert._rows_sql]
        self.assertEqual([64, 32, 16, 8, 4, 2, 1], sizes)
        for rows, sql in insert._rows_sql:
            self.assertEqual(rows * len(insert.order), sql.count('?'))
            self.assertLessEqual(sql.count('?'), direct._MAX_PARAMETERS)
        select = direct.Statement(driver._PLAN_BY_REF, dialect)
        self.assertIsNone(select._rows_sql)
        self.assertIsNone(direct._rows_insert(
            'INSERT INTO t (a) SELECT a FROM u', 1))
