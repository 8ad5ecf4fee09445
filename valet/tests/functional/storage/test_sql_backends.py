"""The storage contract and valet-manage against real MariaDB and PostgreSQL.

Each test class works in a database of its own (``valet_test_<random>``),
created through the server's admin account over 127.0.0.1 and dropped at
the end. An unreachable server skips these tests, unless ``CI=true``: a
missing service in CI is a failure, not a skip. ``VALET_TEST_MYSQL_PORT``
and ``VALET_TEST_PGSQL_PORT`` point at servers on other ports.
"""

import os
import uuid

import fixtures
from oslotest import base as oslo_base
import sqlalchemy as sa

from valet import objects
from valet.storage.sql import driver
from valet.storage.sql import migration
from valet.tests.functional import databases
from valet.tests.functional import services
from valet.tests.unit.storage import contract
from valet.tests.unit.storage import test_sql_sqlite

HOST = databases.HOST
MySQLServer = databases.MySQLServer
PostgreSQLServer = databases.PostgreSQLServer


class ServerDatabaseMixin:
    """One fresh database per test class on ``SERVER``."""

    SERVER = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db_name = 'valet_test_%s' % uuid.uuid4().hex[:12]
        cls.db_url = cls.db_error = None
        try:
            cls.db_url = cls.SERVER.create(cls.db_name)
        except Exception as e:  # any failure to reach the server
            reason = ' '.join(str(e).split())
            cls.db_error = ('%s at %s is not usable (%s); start it to run '
                            'these tests' % (cls.SERVER.label, HOST, reason))

    @classmethod
    def tearDownClass(cls):
        if cls.db_url:
            cls.SERVER.drop(cls.db_name)
        super().tearDownClass()

    def setUp(self):
        if self.db_error:
            # Skips, or fails when CI=true.
            services.unavailable(self.db_error)
        super().setUp()

    def server_storage(self, url=None):
        store = driver.SqlStorage(test_sql_sqlite.make_conf(
            url or self.db_url))
        self.addCleanup(store.dispose)
        return store


class _ServerContract(ServerDatabaseMixin, contract.StorageContract):

    def make_storage(self):
        store = self.server_storage()
        store.upgrade()
        # Tests of one class share the database: start each one empty.
        with store._txn() as conn:
            for table in ('placement_metadata', 'placements', 'plans',
                          'groups'):
                conn.execute(sa.text('DELETE FROM %s' % table))
        return store

    def make_blank_storage(self):
        name = self.db_name + '_blank'
        url = self.SERVER.create(name)
        self.addCleanup(self.SERVER.drop, name)
        return self.server_storage(url)


class MySQLStorageTest(_ServerContract, oslo_base.BaseTestCase):
    SERVER = MySQLServer()


class PostgreSQLStorageTest(_ServerContract, oslo_base.BaseTestCase):
    SERVER = PostgreSQLServer()


class _ManageDbSync(ServerDatabaseMixin):

    def test_db_sync_keeps_data_and_db_version(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        config = os.path.join(tmp, 'valet.conf')
        with open(config, 'w') as f:
            f.write('[database]\nconnection = %s\n' % self.db_url)
        rc, out, err = contract.run_manage(config, 'db_version')
        self.assertEqual((0, 'None\n'), (rc, out), err)

        rc, out, err = contract.run_manage(config, 'db_sync')
        self.assertEqual(0, rc, err)
        self.assertIn('upgraded to revision %s' % migration.head(), out)
        store = self.server_storage()
        group = store.create_group(objects.Group(name='kept',
                                                 type='affinity'))
        plan = objects.Plan(name='p', stack_id='stack-1', project_id='p1')
        store.create_plan(plan, [objects.Placement(
            name='s', orchestration_id='o-1', plan_id=plan.id)])

        rc, out, err = contract.run_manage(config, 'db_sync')
        self.assertEqual(0, rc, err)
        self.assertIn('already at revision %s' % migration.head(), out)
        self.assertEqual(group, store.get_group('kept'))
        self.assertEqual('o-1', store.get_placement('o-1').orchestration_id)

        rc, out, err = contract.run_manage(config, 'db_version')
        self.assertEqual((0, migration.head() + '\n'), (rc, out), err)


class MySQLManageTest(_ManageDbSync, oslo_base.BaseTestCase):
    SERVER = MySQLServer()


class PostgreSQLManageTest(_ManageDbSync, oslo_base.BaseTestCase):
    SERVER = PostgreSQLServer()
