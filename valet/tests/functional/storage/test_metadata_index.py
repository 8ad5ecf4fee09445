"""Placement metadata filters are index lookups, on every SQL backend.

``GET /v1/placements?heat_stack_id=X`` is how Nova's filter finds a
placement; with 10,000 placements stored the query plan of the SQL
driver's list must look the metadata up through
``ix_placement_metadata_key_digest``, not read every placement's JSON.
SQLite runs everywhere; MariaDB and PostgreSQL are the real servers of
``databases`` (a missing server fails under CI=true).
"""

import os

import fixtures
from oslotest import base as oslo_base
import sqlalchemy as sa

from valet import objects
from valet.storage.sql import driver
from valet.tests.functional.storage import test_sql_backends
from valet.tests.unit.storage import test_sql_sqlite

INDEX = 'ix_placement_metadata_key_digest'
PLANS = 100
PER_PLAN = 100   # 10,000 placements in all


def fill(store, plans=PLANS, per_plan=PER_PLAN):
    """Store ``plans`` plans of ``per_plan`` placements carrying Heat's
    hints; returns the stack ids."""
    stacks = []
    for i in range(plans):
        stack = 'stack-%04d' % i
        plan = objects.Plan(name='plan-%04d' % i, stack_id=stack,
                            project_id='p%d' % (i % 7))
        store.create_plan(plan, [objects.Placement(
            name='server-%03d' % j, orchestration_id='%s-res-%03d' % (
                stack, j), plan_id=plan.id,
            metadata={'heat_stack_id': stack,
                      'heat_resource_uuid': '%s-res-%03d' % (stack, j),
                      'heat_root_stack_id': stack, 'tier': j % 3})
            for j in range(per_plan)])
        stacks.append(stack)
    return stacks


class _MetadataIndex:
    """Mixed into a test case with ``self.store`` (10,000 placements)."""

    def explain(self, conn, sql):
        raise NotImplementedError

    def analyze(self, conn):
        """Refresh the planner's statistics."""

    def plan_of(self, metadata):
        query = self.store.placements_query(metadata=metadata)
        engine = self.store._get_engine()
        sql = str(query.compile(dialect=engine.dialect,
                                compile_kwargs={'literal_binds': True}))
        with engine.connect() as conn:
            self.analyze(conn)
            return self.explain(conn, sql)

    def test_heat_stack_id_lookup_uses_the_index(self):
        found = self.store.list_placements(
            metadata={'heat_stack_id': self.stacks[42]})
        self.assertEqual(PER_PLAN, len(found))
        self.assertEqual({self.stacks[42]},
                         {p.metadata['heat_stack_id'] for p in found})
        plan = self.plan_of({'heat_stack_id': self.stacks[42]})
        self.assertIn(INDEX, plan, plan)

    def test_two_keys_and_a_number_use_the_index(self):
        resource = '%s-res-007' % self.stacks[3]
        found = self.store.list_placements(metadata={
            'heat_resource_uuid': resource, 'tier': 1})
        self.assertEqual([resource], [p.orchestration_id for p in found])
        plan = self.plan_of({'heat_resource_uuid': resource, 'tier': 1})
        self.assertIn(INDEX, plan, plan)


class SqliteMetadataIndexTest(_MetadataIndex, oslo_base.BaseTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = fixtures.TempDir()
        cls.tmp.setUp()
        cls.store = driver.SqlStorage(test_sql_sqlite.make_conf(
            'sqlite:///' + os.path.join(cls.tmp.path, 'valet.sqlite')))
        cls.store.upgrade()
        cls.stacks = fill(cls.store)

    @classmethod
    def tearDownClass(cls):
        cls.store.dispose()
        cls.tmp.cleanUp()
        super().tearDownClass()

    def analyze(self, conn):
        conn.execute(sa.text('ANALYZE'))

    def explain(self, conn, sql):
        rows = conn.execute(sa.text('EXPLAIN QUERY PLAN ' + sql)).all()
        return '\n'.join(str(row[-1]) for row in rows)

    def test_no_full_scan_of_placements(self):
        plan = self.plan_of({'heat_stack_id': self.stacks[7]})
        self.assertNotIn('SCAN placements', plan, plan)


class _ServerMetadataIndex(test_sql_backends.ServerDatabaseMixin,
                           _MetadataIndex):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.db_url:
            cls.store = driver.SqlStorage(test_sql_sqlite.make_conf(
                cls.db_url))
            cls.store.upgrade()
            cls.stacks = fill(cls.store)

    @classmethod
    def tearDownClass(cls):
        if cls.db_url:
            cls.store.dispose()
        super().tearDownClass()


class MySQLMetadataIndexTest(_ServerMetadataIndex, oslo_base.BaseTestCase):
    SERVER = test_sql_backends.MySQLServer()

    def analyze(self, conn):
        conn.execute(sa.text('ANALYZE TABLE placements, placement_metadata'))

    def explain(self, conn, sql):
        result = conn.execute(sa.text('EXPLAIN ' + sql))
        keys = list(result.keys())
        return '\n'.join(str(dict(zip(keys, row))) for row in result)


class PostgreSQLMetadataIndexTest(_ServerMetadataIndex,
                                  oslo_base.BaseTestCase):
    SERVER = test_sql_backends.PostgreSQLServer()

    def analyze(self, conn):
        conn.execute(sa.text('ANALYZE placements'))
        conn.execute(sa.text('ANALYZE placement_metadata'))

    def explain(self, conn, sql):
        rows = conn.execute(sa.text('EXPLAIN ' + sql)).all()
        return '\n'.join(row[0] for row in rows)
