"""The storage contract against the SQL driver on SQLite, and valet-manage."""

import os

import fixtures
from oslo_config import cfg
from oslotest import base as oslo_base
import sqlalchemy as sa

from valet import conf as valet_conf
from valet import objects
from valet.storage import base
from valet.storage.sql import driver
from valet.storage.sql import migration
from valet.tests.unit.storage import contract


def make_conf(connection=None, **defaults):
    conf = valet_conf.register_all(cfg.ConfigOpts())
    conf([])
    if connection:
        conf.set_override('connection', connection, group='database')
    return conf


class SqliteStorageTest(contract.StorageContract, oslo_base.BaseTestCase):

    def _storage(self, filename):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            filename)
        store = driver.SqlStorage(make_conf('sqlite:///' + path))
        self.addCleanup(store.dispose)
        return store

    def make_storage(self):
        store = self._storage('valet.sqlite')
        store.upgrade()
        return store

    def make_blank_storage(self):
        return self._storage('blank.sqlite')

    def test_schema_matches_models(self):
        # The frozen migration and models.py must describe one schema.
        from alembic import autogenerate
        from alembic import migration as alembic_migration
        from valet.storage.sql import models
        with self.storage._get_engine().connect() as conn:
            context = alembic_migration.MigrationContext.configure(conn)
            diff = autogenerate.compare_metadata(context, models.METADATA)
        self.assertEqual([], diff)

    def test_version_is_head(self):
        self.assertEqual(migration.head(), self.storage.version())

    def test_group_parameters_migration_moves_the_columns(self):
        # Groups stored with the per-kind columns keep their parameters.
        store = self.make_blank_storage()
        with store._txn() as conn:
            migration.upgrade(conn, 'c4a8f0e2d6b1')
            for gid, kind, limit, skew in (('a', 'at-most', 2, None),
                                           ('s', 'spread', None, 3),
                                           ('d', 'diversity', None, None)):
                conn.execute(sa.text(
                    "INSERT INTO groups (id, name, type, level, description, "
                    "members, parents, max_per_domain, max_skew, generation) "
                    "VALUES (:id, :id, :type, 'rack', '', '[]', '[]', "
                    ":limit, :skew, 1)"),
                    {'id': gid, 'type': kind, 'limit': limit, 'skew': skew})
        store.upgrade()
        self.assertEqual(migration.head(), store.version())
        self.assertEqual({'max_per_domain': 2},
                         store.get_group('a').parameters)
        self.assertEqual(3, store.get_group('s').max_skew)
        self.assertEqual({}, store.get_group('d').parameters)

    def test_metadata_index_migration_indexes_existing_placements(self):
        # Placements stored before the index existed are found by it.
        store = self.make_blank_storage()
        with store._txn() as conn:
            migration.upgrade(conn, '5c1e7d0a9b42')
            conn.execute(sa.text(
                "INSERT INTO plans (id, name, stack_id, project_id, "
                "generation) VALUES ('pl', 'p', 'st', 'p1', 1)"))
            for i in range(3):
                conn.execute(sa.text(
                    "INSERT INTO placements (id, plan_id, name, "
                    "orchestration_id, reserved, metadata, spec, project_id, "
                    "generation) VALUES (:id, 'pl', :name, :orch, 0, :md, "
                    "'{}', 'p1', 1)"), {
                        'id': 'id-%d' % i, 'name': 's%d' % i,
                        'orch': 'o-%d' % i,
                        'md': '{"heat_stack_id": "%s", "n": %d}'
                              % ('a' if i < 2 else 'b', i)})
        store.upgrade()
        self.assertEqual(migration.head(), store.version())
        self.assertEqual(['s0', 's1'], [p.name for p in store.list_placements(
            metadata={'heat_stack_id': 'a'})])
        self.assertEqual(['s2'], [p.name for p in store.list_placements(
            metadata={'heat_stack_id': 'b', 'n': 2})])


class SqlErrorsTest(oslo_base.BaseTestCase):

    def test_unreachable_server_is_unavailable(self):
        # Nothing listens on port 1; the driver must say so, not hang.
        store = driver.SqlStorage(make_conf(
            'mysql+pymysql://valet:secret@127.0.0.1:1/valet'))
        e = self.assertRaises(base.Unavailable, store.version)
        self.assertNotIn('secret', str(e))
        self.assertRaises(base.Unavailable, store.list_groups)
        self.assertRaises(base.Unavailable, store.create_group,
                          objects.Group(name='g', type='affinity'))
        health = store.health()
        self.assertIs(False, health['ok'])
        self.assertIn('127.0.0.1', health['detail'])

    def test_missing_schema(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, 'x.db')
        store = driver.SqlStorage(make_conf('sqlite:///' + path))
        self.addCleanup(store.dispose)
        self.assertRaises(base.StorageError, store.list_groups)
        self.assertIs(False, store.health()['ok'])
        self.assertIn('db_sync', store.health()['detail'])


class StorageConfTest(oslo_base.BaseTestCase):

    def test_default_connection_under_state_dir(self):
        state = self.useFixture(fixtures.TempDir()).path
        conf = make_conf()
        conf.set_override('state_dir', state)
        self.assertEqual('sql', conf.storage.driver)
        self.assertEqual('sqlite:///%s/valet.sqlite' % state,
                         conf.database.connection)

    def test_state_dir_from_environment(self):
        self.useFixture(fixtures.EnvironmentVariable('VALET_STATE_DIR',
                                                     '/srv/valet'))
        from valet.conf import paths
        self.assertEqual('/srv/valet', paths._default_state_dir())

    def test_all_in_one_creates_the_state_dir(self):
        state = os.path.join(self.useFixture(fixtures.TempDir()).path,
                             'not', 'yet')
        conf = make_conf()
        conf.set_override('state_dir', state)
        store = driver.SqlStorage(conf)
        self.addCleanup(store.dispose)
        store.upgrade()
        self.assertTrue(os.path.exists(os.path.join(state, 'valet.sqlite')))


class ManageSqliteTest(oslo_base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.url = 'sqlite:///%s/valet.sqlite' % self.tmp

    def _config(self, connection):
        path = os.path.join(self.tmp, 'valet.conf')
        with open(path, 'w') as f:
            f.write('[database]\nconnection = %s\n' % connection)
        return path

    def test_db_sync_and_version(self):
        config = self._config(self.url)
        rc, out, err = contract.run_manage(config, 'db_version')
        self.assertEqual((0, 'None\n'), (rc, out), err)
        rc, out, err = contract.run_manage(config, 'db_sync')
        self.assertEqual(0, rc, err)
        self.assertIn('upgraded to revision %s' % migration.head(), out)
        rc, out, err = contract.run_manage(config, 'db_sync')
        self.assertEqual(0, rc, err)
        self.assertIn('already at revision', out)
        rc, out, err = contract.run_manage(config, 'db_version')
        self.assertEqual((0, migration.head() + '\n'), (rc, out), err)
        engine = sa.create_engine(self.url)
        self.addCleanup(engine.dispose)
        self.assertEqual({'alembic_version', 'groups', 'plans',
                          'placements', 'placement_metadata'},
                         set(sa.inspect(engine).get_table_names()))

    def test_db_sync_unreachable(self):
        config = self._config('postgresql+psycopg2://valet:pw@127.0.0.1:1/v')
        rc, out, err = contract.run_manage(config, 'db_sync')
        self.assertEqual(1, rc)
        self.assertIn('db_sync failed: Cannot connect to database', err)
        self.assertNotIn('Traceback', err)
        self.assertNotIn(':pw@', err)
