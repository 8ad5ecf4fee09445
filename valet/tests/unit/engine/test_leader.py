"""Leader election (valet.engine.leader) against an in-memory backend.

The backend below behaves like tooz's Redis driver (a lock with a lease,
renewals that fail once the lock is someone else's) on a fake clock, so the
lease accounting is checked to the tick. The election is driven by calling
``_step()`` as the background thread would; one test runs the real threads.
"""

import json
import logging
import os
import threading
import time

import fixtures
from oslo_config import cfg
from oslotest import base
from redis import exceptions as redis_exc
import tooz
from tooz import coordination

from valet.common import exception
from valet import conf as valet_conf
from valet.engine import leader

SECRET = 's3cret-pw'
REDIS = 'redis://127.0.0.1:6379'


class FakeClock:

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class Result:

    def __init__(self, value=None, error=None):
        self.value, self.error = value, error

    def get(self, timeout=None):
        if self.error is not None:
            raise self.error
        return self.value


class Store:
    """What the backend holds: lock owners with expiry, group members."""

    def __init__(self, clock):
        self.clock = clock
        self.up = True
        self.locks = {}         # name -> (token, expires_at, member)
        self.groups = {}        # group -> {member: capabilities}
        self.groups_supported = True

    def check(self):
        if not self.up:
            # Drivers may quote the URL, password and all.
            raise coordination.ToozConnectionError(
                'Error 111 connecting to redis://:%s@127.0.0.1:6379' % SECRET)

    def holder(self, name):
        entry = self.locks.get(name)
        if entry and entry[1] > self.clock():
            return entry
        return None

    def owner(self, name=None):
        names = [name] if name else list(self.locks)
        for n in names:
            entry = self.holder(n)
            if entry:
                return entry[2].decode()
        return None


class FakeLock:
    """A Redis-like lock; ``_conn`` also lets it pass for an SQL one."""

    def __init__(self, store, name, member, lease):
        self.store, self.name, self.member = store, name, member
        self.lease = lease
        self.token = None
        self._conn = self

    @property
    def acquired(self):
        return self.token is not None

    def acquire(self, blocking=True):
        self.store.check()
        if self.store.holder(self.name):
            return False
        self.token = object()
        self.store.locks[self.name] = (
            self.token, self.store.clock() + self.lease, self.member)
        return True

    def _mine(self):
        entry = self.store.holder(self.name)
        return bool(entry and entry[0] is self.token)

    def heartbeat(self):
        self.store.check()
        if self.token is None:
            return False
        if not self._mine():
            try:
                raise redis_exc.LockNotOwnedError('no longer owned')
            except redis_exc.LockNotOwnedError as exc:
                raise tooz.ToozError('Cannot reacquire a lock') from exc
        self.store.locks[self.name] = (
            self.token, self.store.clock() + self.lease, self.member)
        return True

    def ping(self, reconnect=True):
        self.store.check()
        if not self._mine():
            raise ConnectionError('Lost connection to MySQL server')

    def release(self):
        self.store.check()
        mine = self._mine()
        if mine:
            del self.store.locks[self.name]
        self.token = None
        return mine


class FakeCoordinator:

    requires_beating = True

    def __init__(self, store, member_id, options):
        self.store, self.member_id, self.options = store, member_id, options
        self.started = False

    def start(self, start_heart=False):
        self.store.check()
        self.started = True

    def stop(self):
        self.started = False
        for members in self.store.groups.values():
            members.pop(self.member_id, None)

    def heartbeat(self):
        self.store.check()

    def get_lock(self, name):
        return FakeLock(self.store, name, self.member_id,
                        int(self.options.get('lock_timeout', 10)))

    def _groups(self):
        self.store.check()
        if not self.store.groups_supported:
            raise tooz.NotImplemented('not implemented')
        return self.store.groups

    def create_group(self, group):
        groups = self._groups()
        if group in groups:
            return Result(error=coordination.GroupAlreadyExist(group))
        groups[group] = {}
        return Result()

    def join_group(self, group, capabilities=None):
        groups = self._groups()
        if group not in groups:
            return Result(error=coordination.GroupNotCreated(group))
        groups[group][self.member_id] = capabilities
        return Result()

    def update_capabilities(self, group, capabilities):
        self._groups()[group][self.member_id] = capabilities
        return Result()

    def leave_group(self, group):
        self._groups()[group].pop(self.member_id, None)
        return Result()

    def delete_group(self, group):
        groups = self._groups()
        if groups.get(group):
            return Result(error=coordination.GroupNotEmpty(group))
        groups.pop(group, None)
        return Result()

    def get_members(self, group):
        return Result(set(self._groups()[group]))

    def get_member_capabilities(self, group, member):
        return Result(self._groups()[group][member])


class LeaderTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.clock = FakeClock()
        self.store = Store(self.clock)
        self.calls = []         # (url, member, options) per coordinator
        self.logs = self.useFixture(fixtures.FakeLogger(
            name='valet.engine.leader', level=logging.DEBUG))

    def factory(self, url, member_id, options):
        self.calls.append((url, member_id, options))
        return FakeCoordinator(self.store, member_id, options)

    def conf(self, url=REDIS, **overrides):
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf([], default_config_files=[])
        conf.set_override('backend_url', url, group='coordination')
        defaults = {'lease_timeout': 10, 'heartbeat_interval': 1.0,
                    'lease_safety_fraction': 0.6, 'max_retry_interval': 8.0}
        defaults.update(overrides)
        for key, value in defaults.items():
            conf.set_override(key, value, group='coordination')
        return conf

    def member(self, name='A', url=REDIS, begin=True, **overrides):
        events = []
        lead = leader.Leadership(
            self.conf(url, **overrides), member_id=name,
            on_elected=lambda: events.append('elected'),
            on_lost=lambda: events.append('lost'),
            clock=self.clock, coordinator_factory=self.factory)
        lead.events = events
        if begin:
            lead._begin()
        return lead

    def run_until(self, lead, predicate, limit=100):
        """Step ``lead`` as its thread would, moving the fake clock."""
        for _ in range(limit):
            if predicate():
                return
            self.clock.advance(lead._step())
        self.fail('condition not reached in %d steps' % limit)


class SingleEngineTest(LeaderTestCase):

    def test_no_backend_means_always_leader_without_tooz(self):
        def factory(*args):
            raise AssertionError('no backend must be contacted')
        events = []
        lead = leader.Leadership(
            self.conf(url=''), member_id='solo',
            on_elected=lambda: events.append('elected'),
            on_lost=lambda: events.append('lost'),
            coordinator_factory=factory)
        self.assertTrue(lead.single)
        self.assertFalse(lead.is_leader)
        lead.start()
        self.assertEqual(['elected'], events)     # synchronous
        self.assertIsNone(lead._thread)
        self.assertTrue(lead.is_leader)
        lead.assert_leader()
        status = lead.status()
        self.assertEqual('single', status['mode'])
        self.assertIsNone(status['backend'])
        self.assertEqual('not used', status['backend_state'])
        self.assertEqual('leader', status['role'])
        self.assertEqual('solo', status['leader'])
        lead.stop()
        self.assertEqual(['elected', 'lost'], events)
        self.assertFalse(lead.is_leader)
        self.assertRaises(exception.EngineNotLeader, lead.assert_leader)
        lead.stop()
        self.assertEqual(['elected', 'lost'], events)

    def test_on_elected_error_reaches_the_caller(self):
        def boom():
            raise RuntimeError('storage down')
        lead = leader.Leadership(self.conf(url=''), on_elected=boom)
        self.assertRaises(RuntimeError, lead.start)
        self.assertFalse(lead.is_leader)


class OptionsTest(LeaderTestCase):

    def test_default_member_id_is_unique_per_process(self):
        conf = self.conf()
        conf.set_override('host', 'engine-7', group='engine')
        one = leader.default_member_id(conf)
        self.assertTrue(one.startswith('engine-7@'))
        self.assertIn(':%d:' % os.getpid(), one)
        self.assertNotEqual(one, leader.default_member_id(conf))

    def test_group_name_derives_from_topic(self):
        conf = self.conf()
        conf.set_override('topic', 'valet-engine-east', group='engine')
        self.assertEqual('valet-engine-east.leader', leader.group_name(conf))
        conf.set_override('topic', 'x' * 100, group='engine')
        long_name = leader.group_name(conf)
        self.assertEqual(leader.MAX_NAME, len(long_name))
        conf.set_override('topic', 'x' * 99 + 'y', group='engine')
        self.assertNotEqual(long_name, leader.group_name(conf))
        conf.set_override('group_name', 'shared', group='coordination')
        self.assertEqual('shared', leader.group_name(conf))

    def test_lease_reaches_the_redis_driver(self):
        lead = self.member(lease_timeout=7)
        lead._step()
        options = self.calls[0][2]
        self.assertEqual(7, options['lock_timeout'])
        self.assertEqual(7.0, options['membership_timeout'])
        # Socket timeouts well inside the lease: a hung server cannot
        # block a renewal for long.
        self.assertLess(options['socket_timeout'], 7 * 0.6)
        self.assertEqual(b'A', self.calls[0][1])

    def test_url_cannot_override_the_lease(self):
        lead = self.member(
            url=REDIS + '?lock_timeout=99&socket_timeout=0.7')
        lead._step()
        options = self.calls[0][2]
        self.assertEqual(10, options['lock_timeout'])
        self.assertNotIn('socket_timeout', options)   # the URL's wins
        self.assertIn('backend_url sets lock_timeout', self.logs.output)

    def test_session_backends_wait_a_lease_by_default(self):
        self.assertEqual(0.0, self.member(begin=False).takeover_delay)
        for url in ('mysql://u:p@db/valet', 'postgresql://db/valet',
                    'zookeeper://zk:2181'):
            lead = self.member(url=url, begin=False)
            self.assertEqual(10.0, lead.takeover_delay, url)
        lead = self.member(url='mysql://db/v', begin=False,
                           takeover_delay=2.5)
        self.assertEqual(2.5, lead.takeover_delay)

    def test_unsupported_backend_is_refused(self):
        err = self.assertRaises(ValueError, self.member,
                                url='memcached://127.0.0.1:11211')
        self.assertIn('unsupported backend', str(err))

    def test_heartbeat_interval_is_capped_inside_the_lease(self):
        lead = self.member(lease_timeout=3, heartbeat_interval=5.0)
        self.assertAlmostEqual(3 * 0.6 / 3, lead.interval)
        self.assertIn('heartbeat_interval', self.logs.output)


class StatusTest(LeaderTestCase):

    URL = ('redis://admin:%s@127.0.0.1:6379/0?password=%s'
           '&sentinel_password=%s' % (SECRET, SECRET, SECRET))

    def test_status_never_shows_credentials(self):
        lead = self.member(url=self.URL)
        self.store.up = False
        lead._step()
        status = lead.status()
        self.assertEqual('redis://127.0.0.1:6379', status['backend'])
        self.assertEqual('unreachable', status['backend_state'])
        self.assertIn('ToozConnectionError', status['backend_error'])
        self.assertNotIn(SECRET, json.dumps(status))
        self.store.up = True
        self.run_until(lead, lambda: lead.is_leader)
        self.assertNotIn(SECRET, json.dumps(lead.status()))
        self.assertNotIn(SECRET, self.logs.output)

    def test_status_fields(self):
        lead = self.member()
        other = self.member('B')
        self.run_until(lead, lambda: lead.is_leader)
        other._step()
        other._step()
        mine = lead.status()
        self.assertEqual('coordinated', mine['mode'])
        self.assertEqual('leader', mine['role'])
        self.assertEqual('A', mine['leader'])
        self.assertEqual(lead.group, mine['group'])
        self.assertEqual(10, mine['lease_timeout'])
        # run_until moved the clock one interval past the renewal.
        self.assertEqual(6.0 - 1.0, mine['lease_remaining'])
        self.assertEqual(1.0, mine['last_heartbeat_age'])
        self.clock.advance(0.5)
        theirs = other.status()
        self.assertEqual('standby', theirs['role'])
        self.assertEqual('connected', theirs['backend_state'])
        self.assertEqual('A', theirs['leader'])   # from group membership
        self.assertEqual(0.5, theirs['last_heartbeat_age'])
        self.assertIsNone(theirs['lease_remaining'])

    def test_leader_unknown_without_groups(self):
        self.store.groups_supported = False
        lead = self.member()
        other = self.member('B')
        self.run_until(lead, lambda: lead.is_leader)
        other._step()
        other._step()
        self.assertIsNone(other.status()['leader'])
        self.assertEqual('A', lead.status()['leader'])


class LeaseTest(LeaderTestCase):

    def test_unreachable_backend_ends_leadership_within_the_lease(self):
        lead = self.member()
        self.run_until(lead, lambda: lead.is_leader)
        lead._deliver_pending()
        self.assertEqual(['elected'], lead.events)
        last_ok = self.clock.now
        self.clock.advance(lead._step())          # one more renewal
        self.store.up = False
        # Renewals fail; the leader keeps leading for 0.6 * 10 s from the
        # start of its last successful renewal, not a tick longer.
        while self.clock.now + lead.interval < last_ok + 6.0:
            self.clock.advance(lead._step())
            self.assertTrue(lead.is_leader)
        self.clock.now = last_ok + 6.0 - 0.001
        self.assertTrue(lead.is_leader)
        self.clock.now = last_ok + 6.0
        self.assertFalse(lead.is_leader)
        # The backend only frees the lock after the full lease: the old
        # leader has stopped 4 s before anyone else can win.
        self.assertEqual('A', self.store.owner())
        self.clock.now = last_ok + 10.0
        self.assertIsNone(self.store.owner())
        for _ in range(5):
            self.assertRaises(exception.EngineNotLeader, lead.assert_leader)
            self.clock.advance(lead._step())
        lead._deliver_pending()
        self.assertEqual(['elected', 'lost'], lead.events)
        self.assertEqual(1, self.logs.output.count('cannot renew'))
        self.assertEqual(1, self.logs.output.count('no longer the leader'))

    def test_assert_leader_checks_the_lease_at_call_time(self):
        lead = self.member()
        self.run_until(lead, lambda: lead.is_leader)
        lead._deliver_pending()
        lead.assert_leader()
        # The election thread stalls: no step runs any more.
        self.clock.advance(6.0)
        err = self.assertRaises(exception.EngineNotLeader,
                                lead.assert_leader)
        self.assertEqual(503, err.status)
        self.assertEqual('valet.engine.not_leader', err.code)
        self.assertEqual('A', err.details['member_id'])
        self.assertIsInstance(err, exception.EngineUnavailable)
        self.assertFalse(lead.is_leader)
        self.assertEqual('standby', lead.status()['role'])
        lead._deliver_pending()
        self.assertEqual(['elected', 'lost'], lead.events)

    def test_stalled_thread_still_gets_on_lost(self):
        lead = self.member(heartbeat_interval=0.05)
        self.run_until(lead, lambda: lead.is_leader)
        lost = threading.Event()
        lead._on_lost = lost.set
        lead._pending.clear()
        # Only the callback thread runs: its watchdog notices the lapse.
        lead._notifier = threading.Thread(target=lead._notify_loop,
                                          daemon=True)
        lead._notifier.start()
        self.addCleanup(lead._notifier.join, 5)
        self.addCleanup(lead.stop)
        self.clock.advance(6.0)
        self.assertTrue(lost.wait(5))

    def test_lock_taken_over_is_noticed_at_the_next_renewal(self):
        lead = self.member()
        self.run_until(lead, lambda: lead.is_leader)
        # The backend lost its data (restart without persistence) and
        # another engine got the lock.
        self.store.locks.clear()
        other = self.member('B')
        self.run_until(other, lambda: other.is_leader)
        lead._step()
        self.assertFalse(lead.is_leader)
        self.assertIn('no longer gives it the lock', self.logs.output)

    def test_kill_without_release_hands_over_after_the_lease(self):
        a = self.member('A')
        b = self.member('B')
        self.run_until(a, lambda: a.is_leader)
        self.clock.advance(b._step())
        self.assertFalse(b.is_leader)
        self.assertEqual('A', self.store.owner())
        a_last_ok = self.clock.now
        a._step()                   # A's last renewal; then it is killed
        while not b.is_leader:
            self.clock.advance(b._step())
            # Never two leaders, even if A's process were merely frozen.
            self.assertFalse(a.is_leader and b.is_leader)
        self.assertGreaterEqual(self.clock.now, a_last_ok + 10.0)
        self.assertLessEqual(self.clock.now, a_last_ok + 10.0 + b.interval)
        self.assertFalse(a.is_leader)
        self.assertEqual('B', self.store.owner())

    def test_session_backend_leads_after_the_takeover_delay(self):
        url = 'mysql://root@127.0.0.1/valet'
        a = self.member('A', url=url, takeover_delay=3.0)
        a._step()                   # connect
        won_at = self.clock.now
        self.clock.advance(a._step())
        self.assertEqual('claiming', a.status()['state'])
        self.assertEqual('standby', a.status()['role'])
        self.assertFalse(a.is_leader)
        self.assertEqual([], list(a._pending))
        self.run_until(a, lambda: a.is_leader)
        self.assertGreaterEqual(self.clock.now, won_at + 3.0)
        self.assertLessEqual(self.clock.now, won_at + 3.0 + a.interval)
        a._deliver_pending()
        self.assertEqual(['elected'], a.events)

    def test_session_lost_while_claiming_gives_up_quietly(self):
        a = self.member('A', url='mysql://db/v')
        self.run_until(a, lambda: a.status()['state'] == 'claiming')
        self.store.locks.clear()    # the session died, the lock with it
        a._step()
        self.assertEqual('standby', a.status()['state'])
        a._deliver_pending()
        self.assertEqual([], a.events)

    def test_term_lost_before_on_elected_ran_calls_neither(self):
        lead = self.member()
        self.run_until(lead, lambda: lead.is_leader)
        self.clock.advance(7.0)
        self.assertFalse(lead.is_leader)
        lead._deliver_pending()
        self.assertEqual([], lead.events)


class BackendTest(LeaderTestCase):

    def test_unreachable_at_start_backs_off_and_logs_once(self):
        self.store.up = False
        lead = self.member()
        delays = [lead._step() for _ in range(7)]
        self.assertEqual([1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0], delays)
        self.assertEqual(1, self.logs.output.count('is unreachable'))
        status = lead.status()
        self.assertEqual('unreachable', status['backend_state'])
        self.assertEqual('standby', status['role'])
        self.assertIsNone(status['last_heartbeat_age'])
        self.assertFalse(lead.is_leader)
        self.store.up = True
        self.run_until(lead, lambda: lead.is_leader)
        self.assertIn('reachable again', self.logs.output)
        self.assertEqual('connected', lead.status()['backend_state'])

    def test_standby_keeps_retrying_when_the_backend_fails(self):
        lead = self.member('A')
        other = self.member('B')
        self.run_until(lead, lambda: lead.is_leader)
        other._step()
        self.store.up = False
        self.assertEqual(1.0, other._step())
        self.assertEqual(2.0, other._step())
        self.assertEqual('unreachable', other.status()['backend_state'])
        self.store.up = True
        self.assertEqual(1.0, other._step())
        self.assertEqual('connected', other.status()['backend_state'])

    def test_on_elected_failure_steps_down_and_lets_others_try(self):
        lead = self.member()
        lead._on_elected = self._fail
        other = self.member('B')
        self.run_until(lead, lambda: lead.is_leader)
        lead._deliver_pending()
        self.assertFalse(lead.is_leader)
        self.assertEqual(['lost'], lead.events)
        self.assertIn('on_elected failed', self.logs.output)
        lead._step()                # releases the lock
        self.assertIsNone(self.store.owner())
        other._step()
        self.run_until(other, lambda: other.is_leader)
        # The failed engine does not grab the lock back at once.
        self.assertGreater(lead._step(), 0)
        self.assertEqual('B', self.store.owner())

    @staticmethod
    def _fail():
        raise RuntimeError('rebuild failed')

    def test_stop_calls_on_lost_then_releases(self):
        lead = self.member()
        other = self.member('B')
        self.run_until(lead, lambda: lead.is_leader)
        lead._deliver_pending()
        seen = []
        lead._on_lost = lambda: seen.append(self.store.owner())
        lead.stop()
        # on_lost ran while the lock was still held, then it was freed.
        self.assertEqual(['A'], seen)
        self.assertIsNone(self.store.owner())
        self.assertRaises(exception.EngineNotLeader, lead.assert_leader)
        self.assertEqual('stopped', lead.status()['role'])
        other._step()
        other._step()
        self.assertTrue(other.is_leader)
        lead.stop()
        self.assertEqual(['A'], seen)
        # The last member out removes the election group.
        self.assertEqual([lead.group.encode()], list(self.store.groups))
        other.stop()
        self.assertEqual({}, self.store.groups)


class ThreadedTest(LeaderTestCase):

    def test_two_members_hand_over_on_stop(self):
        clock = time.monotonic
        members = []
        for name in ('A', 'B'):
            events = []
            lead = leader.Leadership(
                self.conf(lease_timeout=2, heartbeat_interval=0.05),
                member_id=name,
                on_elected=lambda e=events: e.append(('elected', clock())),
                on_lost=lambda e=events: e.append(('lost', clock())),
                coordinator_factory=self.factory)
            lead.events = events
            members.append(lead)
            self.addCleanup(lead.stop)
        self.store.clock = clock
        for lead in members:
            lead.start()
        deadline = clock() + 5
        while clock() < deadline and not any(m.events for m in members):
            time.sleep(0.01)
        time.sleep(0.2)
        leaders = [m for m in members if m.is_leader]
        self.assertEqual(1, len(leaders))
        first = leaders[0]
        second = members[1 - members.index(first)]
        self.assertEqual([], second.events)
        first.stop()
        deadline = clock() + 5
        while clock() < deadline and not second.events:
            time.sleep(0.01)
        self.assertTrue(second.is_leader)
        self.assertFalse(first._thread.is_alive())
        (lost_at,) = [t for e, t in first.events if e == 'lost']
        (elected_at,) = [t for e, t in second.events if e == 'elected']
        self.assertLess(lost_at, elected_at)
        # Released, not expired: well under the 2 s lease.
        self.assertLess(elected_at - lost_at, 1.0)
