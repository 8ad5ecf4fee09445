"""The storage contract against the Music driver, on the Music stand-in.

Music cannot be installed here, so these tests run the driver against
``valet.tests.music_stand_in`` (real server processes on loopback over a
real SQLite file; see its docstring). One stand-in cluster serves a test
class; every test gets a keyspace of its own.
"""

import os
import threading
import uuid

import fixtures
from oslo_config import cfg
from oslotest import base as oslo_base
import testtools

from valet import conf as valet_conf
from valet import objects
from valet import storage
from valet.storage import base
from valet.storage.music import driver
from valet.storage.music import schema
from valet.tests.music_stand_in import fixture as stand_in
from valet.tests.unit.storage import contract


def make_conf(cluster, keyspace=None, **music):
    conf = valet_conf.register_all(cfg.ConfigOpts())
    conf([])
    conf.set_override('driver', 'music', group='storage')
    options = cluster.conf_options(**music)
    if keyspace:
        options['keyspace'] = keyspace
    for name, value in options.items():
        opt = conf.music._group._opts[name]['opt']
        conf.set_override(name, opt.type(value), group='music')
    return conf


class StandInClass:
    """One stand-in cluster (``HOSTS`` processes) per test class."""

    HOSTS = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = stand_in.MusicStandIn(hosts=cls.HOSTS)
        cls.cluster.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.cleanUp()
        super().tearDownClass()

    def music_storage(self, keyspace=None, **music):
        keyspace = keyspace or 'valet_%s' % uuid.uuid4().hex[:12]
        store = storage.get_storage(make_conf(self.cluster, keyspace,
                                              **music))
        self.addCleanup(store.dispose)
        return store


class MusicStorageTest(StandInClass, contract.StorageContract,
                       oslo_base.BaseTestCase):

    def make_storage(self):
        store = self.music_storage()
        store.upgrade()
        return store

    def make_blank_storage(self):
        return self.music_storage()

    def test_driver_is_music(self):
        self.assertIsInstance(self.storage, driver.MusicStorage)
        self.assertEqual(schema.SCHEMA_VERSION, self.storage.version())

    def test_lookups_never_scan_a_table(self):
        plan = objects.Plan(name='p', stack_id='stack-x', project_id='p1')
        placement = objects.Placement(
            name='s', orchestration_id='orch-x', plan_id=plan.id,
            location='h1', metadata={'tier': 'db'})
        plan, (placement,) = self.storage.create_plan(plan, [placement])
        group = self.storage.create_group(objects.Group(name='g',
                                                        type='affinity'))
        before = self.cluster.stats()
        self.assertEqual(plan, self.storage.get_plan('stack-x'))
        self.assertEqual(placement.id,
                         self.storage.get_placement('orch-x').id)
        self.assertEqual(group, self.storage.get_group('g'))
        for filters, metadata in (({'location': 'h1'}, None),
                                  ({'name': 's'}, None),
                                  ({'reserved': False}, None),
                                  ({'resource_id': None}, None),
                                  (None, {'tier': 'db'}),
                                  ({'plan_id': plan.id}, None),
                                  ({'id': placement.id}, None)):
            found = self.storage.list_placements(filters, metadata)
            self.assertEqual([placement.id], [p.id for p in found])
        self.assertEqual(1, len(self.storage.list_placements(
            project_id='p1')))
        self.assertEqual([plan], self.storage.list_plans(project_id='p1'))
        after = self.cluster.stats()
        scans = {k: after[k] - before.get(k, 0) for k in after
                 if k.startswith('full_scan.')}
        self.assertEqual({}, {k: v for k, v in scans.items() if v})

    def test_concurrent_creates_of_one_key_one_wins(self):
        # Same stack id, or same orchestration id, from several writers at
        # once (a process each would do the same: locks live in Music).
        for shared in ('stack', 'orchestration'):
            plans = []
            for i in range(5):
                plan = objects.Plan(name='p%d' % i, stack_id=(
                    'stack-%s' % shared if shared == 'stack'
                    else 'stack-%s-%d' % (shared, i)))
                plans.append((plan, [objects.Placement(
                    name='s', plan_id=plan.id, orchestration_id=(
                        'orch-%s' % shared if shared == 'orchestration'
                        else 'orch-%s-%d' % (shared, i)))]))
            outcomes = []
            barrier = threading.Barrier(len(plans))

            def create(plan, placements):
                barrier.wait()
                try:
                    self.storage.create_plan(plan, placements)
                    outcomes.append('stored')
                except base.Conflict:
                    outcomes.append('conflict')

            threads = [threading.Thread(target=create, args=args)
                       for args in plans]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            self.assertEqual(['conflict'] * 4 + ['stored'], sorted(outcomes))
        self.assertEqual(2, len(self.storage.list_plans()))
        self.assertEqual(2, len(self.storage.list_placements()))

    def test_stale_keys_from_a_dead_writer_are_free(self):
        # A writer that died after its claims but before the plan row:
        # its claims point at a plan that does not exist.
        music = self.storage.music
        music.insert(schema.STACK_IDS, {'stack_id': 'stack-y',
                                        'plan_id': 'ghost'})
        music.insert(schema.ORCHESTRATION_IDS, {
            'orchestration_id': 'orch-y', 'plan_id': 'ghost',
            'placement_id': 'ghost-p'})
        music.insert(schema.PLAN_TERMS, {'term': schema.term(
            'location', 'h1'), 'plan_id': 'ghost'})
        self.assertRaises(base.NotFound, self.storage.get_plan, 'stack-y')
        self.assertRaises(base.NotFound, self.storage.get_placement,
                          'orch-y')
        self.assertEqual([], self.storage.list_placements({'location':
                                                           'h1'}))
        plan = objects.Plan(name='p', stack_id='stack-y')
        self.storage.create_plan(plan, [objects.Placement(
            name='s', orchestration_id='orch-y', plan_id=plan.id,
            location='h1')])
        self.assertEqual(plan.id, self.storage.get_plan('stack-y').id)
        self.assertEqual(['s'], [p.name for p in self.storage.list_placements(
            {'location': 'h1'})])


class BaseUrlTest(testtools.TestCase):

    def test_host_forms(self):
        from valet.storage.music import transport
        for host, url in (
                ('music1', 'http://music1:8080/MUSIC/rest'),
                ('10.0.0.1:9000', 'http://10.0.0.1:9000/MUSIC/rest'),
                ('fd00::1', 'http://[fd00::1]:8080/MUSIC/rest'),
                ('[fd00::1]', 'http://[fd00::1]:8080/MUSIC/rest'),
                ('[fd00::1]:9000', 'http://[fd00::1]:9000/MUSIC/rest')):
            self.assertEqual(url, transport.base_url(host, 8080,
                                                     '/MUSIC/rest/'))


class MusicFaultsTest(StandInClass, testtools.TestCase):
    """Music hosts that are down, slow or failing; locks forced free."""

    HOSTS = 3

    def setUp(self):
        super().setUp()
        for index in range(self.HOSTS):
            if self.cluster.procs[index].poll() is not None:
                self.cluster.start_host(index)
            self.cluster.clear_fault(index)

    def storage(self, **music):
        # Generous: a busy machine must not look like a slow host.
        music.setdefault('request_timeout', 5.0)
        music.setdefault('retry_interval', 0.05)
        store = self.music_storage(**music)
        store.upgrade()
        return store

    def test_one_host_down_fails_over(self):
        store = self.storage()
        group = store.create_group(objects.Group(name='g', type='affinity'))
        self.cluster.stop_host(0)
        self.assertEqual(group, store.get_group('g'))
        group.description = 'after failover'
        self.assertEqual(2, store.update_group(group).generation)
        self.assertTrue(store.health()['ok'])
        self.assertNotIn(self.cluster.hosts[0],
                         store.health()['detail'])

    def test_5xx_host_is_skipped(self):
        store = self.storage()
        self.cluster.fault(0, status=503)
        self.cluster.fault(1, status=500)
        store.create_group(objects.Group(name='g', type='affinity'))
        self.assertEqual(['g'], [g.name for g in store.list_groups()])

    def test_every_host_failing_is_unavailable_then_recovers(self):
        store = self.storage(retries=2)
        for index in range(self.HOSTS):
            self.cluster.fault(index, status=503)
        e = self.assertRaises(base.Unavailable, store.list_groups)
        self.assertIn('503', str(e))
        health = store.health()
        self.assertIs(False, health['ok'])
        for index in range(self.HOSTS):
            self.cluster.clear_fault(index)
        self.assertEqual([], store.list_groups())
        self.assertTrue(store.health()['ok'])

    def test_slow_host_times_out_to_the_next(self):
        store = self.storage()
        store.create_group(objects.Group(name='g', type='affinity'))
        store.transport.timeout = (5.0, 2.0)
        self.cluster.fault(0, delay=30, count=1, match='GET ')
        self.assertEqual('g', store.get_group('g').name)
        self.assertNotIn(self.cluster.hosts[0], store.health()['detail'])

    def test_lock_creation_is_not_sent_twice(self):
        # A second lock reference would queue behind one nobody holds.
        store = self.storage()
        group = store.create_group(objects.Group(name='g', type='affinity'))
        store.transport.timeout = (5.0, 2.0)
        self.cluster.fault(0, delay=30, count=1,
                           match='POST /MUSIC/rest/locks/create')
        group.description = 'new'
        e = self.assertRaises(base.Unavailable, store.update_group, group)
        self.assertIn('not sent again', str(e))
        self.assertEqual(1, store.get_group(group.id).generation)

    def test_lock_of_a_dead_writer_is_taken_over_after_its_lease(self):
        store = self.storage(lock_lease=1.0, lock_wait=20)
        group = store.create_group(objects.Group(name='g', type='affinity'))
        # A writer that died holding the group's lock (never released).
        music = store.music
        dead = music.create_lock(music.lock_name(schema.GROUPS, group.id))
        self.assertTrue(music.acquire(dead, 1.0))
        group.description = 'new'
        self.assertEqual(2, store.update_group(group).generation)
        # The dead writer's lock id is refused from now on.
        row = schema.group_row(group)
        self.assertRaises(Exception, music.insert, schema.GROUPS, row,
                          music.critical(dead))
        self.assertEqual('new', store.get_group(group.id).description)

    def test_lock_wait_is_bounded(self):
        store = self.storage(lock_lease=60, lock_wait=0.5)
        group = store.create_group(objects.Group(name='g', type='affinity'))
        music = store.music
        holder = music.create_lock(music.lock_name(schema.GROUPS, group.id))
        self.assertTrue(music.acquire(holder, 60))
        self.addCleanup(music.release, holder)
        e = self.assertRaises(base.Unavailable, store.update_group, group)
        self.assertIn('lock_wait', str(e))
        self.assertEqual(1, store.get_group(group.id).generation)

    def test_write_after_the_lock_was_forced_free_is_refused(self):
        from valet.storage.music import locks
        store = self.storage()
        group = store.create_group(objects.Group(name='g', type='affinity'))
        music = store.music
        name = music.lock_name(schema.GROUPS, group.id)
        lockid = music.create_lock(name)
        self.assertTrue(music.acquire(lockid, 30))
        self.assertTrue(self.cluster.force_release(name))
        group.description = 'late'
        with testtools.ExpectedException(locks.LockLost):
            with locks.translated('test write'):
                music.insert(schema.GROUPS, schema.group_row(group),
                             music.critical(lockid))
        self.assertEqual('', store.get_group(group.id).description)


class ManageMusicTest(StandInClass, testtools.TestCase):
    """valet-manage db_sync and db_version with [storage] driver = music."""

    def config(self, **music):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'valet.conf')
        options = self.cluster.conf_options(**music)
        with open(path, 'w') as f:
            f.write('[storage]\ndriver = music\n[music]\n')
            f.writelines('%s = %s\n' % item for item in options.items())
        return path

    def test_db_sync_is_idempotent_and_keeps_data(self):
        keyspace = 'valet_%s' % uuid.uuid4().hex[:12]
        config = self.config(keyspace=keyspace)
        rc, out, err = contract.run_manage(config, 'db_version')
        self.assertEqual((0, 'None\n'), (rc, out), err)
        rc, out, err = contract.run_manage(config, 'db_sync')
        self.assertEqual(0, rc, err)
        self.assertIn('upgraded to revision %s' % schema.SCHEMA_VERSION, out)
        store = self.music_storage(keyspace)
        group = store.create_group(objects.Group(name='kept',
                                                 type='affinity'))
        rc, out, err = contract.run_manage(config, 'db_sync')
        self.assertEqual(0, rc, err)
        self.assertIn('already at revision %s' % schema.SCHEMA_VERSION, out)
        self.assertEqual(group, store.get_group('kept'))
        rc, out, err = contract.run_manage(config, 'db_version')
        self.assertEqual((0, schema.SCHEMA_VERSION + '\n'), (rc, out), err)

    def test_db_sync_unreachable(self):
        config = self.config(hosts='127.0.0.1:1', retries=1,
                             connect_timeout=1)
        rc, out, err = contract.run_manage(config, 'db_sync')
        self.assertEqual(1, rc)
        self.assertIn('db_sync failed: Music unavailable', err)
        self.assertNotIn('Traceback', err)
