"""Leader election between valet-engine processes, through tooz.

Exactly one engine of a deployment may decide placements. The engines
compete for one tooz lock; the holder is the leader, the others stand by
and try again every ``heartbeat_interval``.

Safety rests on lease accounting done here: the leader notes the monotonic
time *before* each request that renewed (or won) the lock and stops leading
once it is older than ``lease_safety_fraction * lease_timeout``; the
backend cannot hand the lock on before the full lease ran out, so the old
leader has always stopped first. ``assert_leader()`` checks this at call
time: a stalled background thread cannot leave a stale leader deciding.
Session-bound locks (MySQL, PostgreSQL, ZooKeeper) are freed the moment the
session dies, while the old leader learns it only at its next check: there
the winner waits ``takeover_delay`` (default: one lease) before leading.

tooz's election API (``watch_elected_as_leader``) is not used: the MySQL
and PostgreSQL drivers lack it, and where it exists it neither reports a
lost election nor says whether a renewal really extended the lock.

Without a backend (``[coordination] backend_url`` empty) the engine runs
alone and is always the leader; tooz is not even imported.
"""

import collections
import hashlib
import os
import re
import socket
import threading
import time
from urllib import parse
import uuid

from oslo_log import log as logging
from oslo_utils import strutils

from valet.common import exception

LOG = logging.getLogger(__name__)

NotLeader = exception.EngineNotLeader

STOPPED = 'stopped'
STANDBY = 'standby'
CLAIMING = 'claiming'    # won the lock, waiting out takeover_delay
LEADER = 'leader'

BACKEND_NOT_USED = 'not used'
BACKEND_CONNECTING = 'connecting'
BACKEND_CONNECTED = 'connected'
BACKEND_UNREACHABLE = 'unreachable'

# The password of any "scheme://user:password@" in an error message.
_USERINFO = re.compile(r'(://[^:/@\s]*:)[^@\s]+@')

# MySQL's GET_LOCK() refuses longer names; other backends do not care.
MAX_NAME = 64


class _LockLost(Exception):
    """The backend says for certain that the lock is no longer ours."""


class _Backend:
    """How Valet drives one family of tooz drivers."""

    #: True when the backend frees a lock only once its lease ran out.
    lease_based = True

    def options(self, lease, io_timeout, query):
        """Driver options (they override the URL's query string)."""
        return {}

    def tune(self, coordinator):
        """Adjust a started coordinator."""

    def renew(self, lock):
        """Extend or verify the lock.

        Returns if it is held for another lease counted from before the
        call; raises _LockLost if it is certainly lost, anything else if
        that is unknown (try again).
        """
        raise NotImplementedError


class _Redis(_Backend):

    def options(self, lease, io_timeout, query):
        # The driver int()s lock_timeout: lease_timeout is an IntOpt.
        opts = {'lock_timeout': lease, 'membership_timeout': float(lease)}
        # Without these one call to a hung server blocks for 30 s.
        for key in ('socket_timeout', 'socket_connect_timeout'):
            if key not in query:
                opts[key] = io_timeout
        return opts

    def tune(self, coordinator):
        # tooz retries a call that met a connection error 15 times, and
        # redis-py (8.x: 10 retries with back-off) retries each of those:
        # a dead server would block the election thread for a minute.
        client = getattr(coordinator, '_client', None)
        if client is not None and hasattr(client, 'set_retry'):
            from redis import backoff
            from redis import retry
            client.set_retry(retry.Retry(backoff.NoBackoff(), 1))

    def renew(self, lock):
        try:
            # PEXPIRE if the token still matches, else LockNotOwnedError.
            renewed = lock.heartbeat()
        except Exception as exc:
            if _caused_by_redis_lock_error(exc):
                raise _LockLost(str(exc))
            raise
        if not renewed:
            raise _LockLost('the lock is not held')


class _Etcd(_Backend):

    def options(self, lease, io_timeout, query):
        opts = {'lock_timeout': lease, 'membership_timeout': lease}
        if 'timeout' not in query:
            opts['timeout'] = max(1, int(io_timeout))
        return opts

    def renew(self, lock):
        # Refreshes the lock's etcd lease; tooz does not report a lease
        # etcd already expired, but that needs a full lease without any
        # successful refresh, by which time we have stepped down.
        if not lock.heartbeat():
            raise _LockLost('the lock is not held')


class _ZooKeeper(_Backend):
    # The lock is an ephemeral node that lives as long as the session,
    # whose timeout the server may negotiate: treat it as a session.
    lease_based = False

    def options(self, lease, io_timeout, query):
        return {'timeout': float(lease)}

    def renew(self, lock):
        if not lock.is_still_owner():
            raise _LockLost('the lock node is gone')


class _SQL(_Backend):
    # GET_LOCK() and pg_advisory_lock() last as long as the connection
    # that took them: the lock is ours exactly while that connection is.
    lease_based = False

    def renew(self, lock):
        # tooz offers no ownership check for these drivers; ask the lock's
        # own connection whether its session is still alive.
        conn = getattr(lock, '_conn', None)
        if conn is None or not getattr(lock, 'acquired', False):
            raise _LockLost('the lock is not held')
        try:
            if hasattr(conn, 'ping'):          # PyMySQL
                conn.ping(reconnect=False)     # a new session holds nothing
                return
            with conn.cursor() as cur:         # psycopg2
                cur.execute('SELECT 1')
                cur.fetchone()
            # End the implicit transaction (session locks survive it) so
            # the connection is not "idle in transaction" all term long.
            conn.rollback()
        except Exception as exc:
            # The driver drops a connection that failed: its session, and
            # the lock with it, is gone or going.
            raise _LockLost('lock session failed: %s' % exc)


_BACKENDS = {'redis': _Redis, 'etcd3+http': _Etcd, 'etcd3+https': _Etcd,
             'zookeeper': _ZooKeeper, 'kazoo': _ZooKeeper,
             'mysql': _SQL, 'postgresql': _SQL}


def _caused_by_redis_lock_error(exc):
    from redis import exceptions as redis_exc   # tooz's redis driver did
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, redis_exc.LockError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _import_tooz():
    """tooz and tooz.coordination, imported on first use.

    Call it from the thread that starts the election, not from a worker:
    tooz imports eventlet (through futurist), and importing eventlet in a
    non-main thread leaves that thread impossible to join.
    """
    import tooz
    from tooz import coordination
    return tooz, coordination


def _tooz_coordinator(url, member_id, options):
    return _import_tooz()[1].get_coordinator(url, member_id, **options)


def default_member_id(conf):
    """``<[engine] host>@<hostname>:<pid>:<random>``: unique per process."""
    return '%s@%s:%d:%s' % (conf.engine.host, socket.gethostname(),
                            os.getpid(), uuid.uuid4().hex[:8])


def group_name(conf):
    """The election's name: [coordination] group_name or <topic>.leader."""
    name = conf.coordination.group_name or '%s.leader' % conf.engine.topic
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(name.encode('utf-8')).hexdigest()[:16]
        name = '%s-%s' % (name[:MAX_NAME - 17], digest)
    return name


def safe_backend(url):
    """``scheme://host:port`` of a backend URL: no credentials, no query."""
    if not url:
        return None
    parts = parse.urlsplit(url)
    host = parts.hostname or ''
    if ':' in host:
        host = '[%s]' % host
    try:
        host = '%s:%d' % (host, parts.port) if host and parts.port else host
    except ValueError:          # a port that is not a number
        pass
    return '%s://%s' % (parts.scheme, host)


def _scrubbed(text, url):
    text = _USERINFO.sub(r'\1***@', strutils.mask_password(str(text)))
    parts = parse.urlsplit(url)
    secrets = [url, parts.password, parts.query]
    secrets += [v for vs in parse.parse_qs(parts.query).values() for v in vs]
    for secret in secrets:
        if secret and len(secret) > 2:
            text = text.replace(secret, '***')
    return text[:300]


class Leadership:
    """This engine's part in the election of the deciding engine.

    ``on_elected()`` and ``on_lost()`` run in a dedicated thread, one at a
    time and in order, so the renewals go on while the engine rebuilds its
    model; every ``on_elected`` is followed by exactly one ``on_lost``
    (also on ``stop()``, and when ``on_elected`` raises). A term that ends
    before its ``on_elected`` ran calls neither. In single-engine mode
    ``start()`` calls ``on_elected`` itself and lets its errors through.
    """

    def __init__(self, conf, member_id=None, on_elected=None, on_lost=None,
                 clock=time.monotonic, coordinator_factory=None):
        opts = conf.coordination
        self.member_id = member_id or default_member_id(conf)
        self.group = group_name(conf)
        self._on_elected = on_elected
        self._on_lost = on_lost
        self._clock = clock
        self._url = (opts.backend_url or '').strip()
        self.single = not self._url
        self.backend = safe_backend(self._url)
        self.lease = opts.lease_timeout
        self.safe_window = self.lease * opts.lease_safety_fraction
        self.interval = opts.heartbeat_interval
        if self.interval > self.safe_window / 3:
            LOG.warning('[coordination] heartbeat_interval %.2f s leaves '
                        'too few renewals within %.2f s; using %.2f s',
                        self.interval, self.safe_window,
                        self.safe_window / 3)
            self.interval = self.safe_window / 3
        self.max_retry = max(opts.max_retry_interval, self.interval)
        self.takeover_delay = 0.0
        if not self.single:
            scheme = parse.urlsplit(self._url).scheme
            if scheme not in _BACKENDS:
                raise ValueError(
                    '[coordination] backend_url: unsupported backend %r; '
                    'use one of %s' % (scheme, ', '.join(sorted(_BACKENDS))))
            self._backend = _BACKENDS[scheme]()
            delay = opts.takeover_delay
            if delay is None:
                delay = 0.0 if self._backend.lease_based else self.lease
            self.takeover_delay = float(delay)
            self._factory = coordinator_factory or _tooz_coordinator
        self._mutex = threading.RLock()
        self._cond = threading.Condition(self._mutex)
        self._pending = collections.deque()    # callbacks to deliver
        self._closing = False
        self._started = False
        self._state = STOPPED
        self._term = 0
        self._valid_until = 0.0
        self._claim_until = 0.0
        self._cooldown_until = 0.0
        self._last_contact = None
        self._backend_state = (BACKEND_NOT_USED if self.single
                               else BACKEND_CONNECTING)
        self._backend_error = None
        self._retry_delay = self.interval
        self._renew_failing = False
        self._leader_id = None
        # Only the election thread touches these (and stop(), after it).
        self._coordinator = None
        self._lock = None
        self._lock_held = False
        self._tooz = None
        self._groups = True
        self._joined = False
        self._advertised = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = None
        self._notifier = None

    # ------------------------------------------------------------ public
    def start(self):
        self._begin()
        if self.single:
            return
        self._notifier = threading.Thread(
            target=self._notify_loop, name='valet-leader-callbacks',
            daemon=True)
        self._notifier.start()
        self._thread = threading.Thread(
            target=self._run, name='valet-leader-election', daemon=True)
        self._thread.start()

    def _begin(self):
        """start() without the threads (tests drive _step themselves)."""
        with self._mutex:
            if self._started:
                raise RuntimeError('Leadership already started')
            self._started = True
        if self.single:
            LOG.info('No coordination backend configured: engine %s runs '
                     'alone and is the leader', self.member_id)
            with self._mutex:
                self._state = LEADER
                self._term = 1
                self._leader_id = self.member_id
            if self._on_elected is not None:
                try:
                    self._on_elected()
                except Exception:
                    with self._mutex:
                        self._state = STOPPED
                    raise
            return
        LOG.info('Engine %s joins leader election %s on %s (lease %d s, '
                 'takeover delay %.1f s)', self.member_id, self.group,
                 self.backend, self.lease, self.takeover_delay)
        self._tooz = _import_tooz()         # here, not in our threads
        with self._mutex:
            self._state = STANDBY

    def stop(self):
        """Step down (on_lost first), then release the lock and leave."""
        with self._mutex:
            if not self._started or self._state == STOPPED:
                return
            was_leader = self._state == LEADER
            self._state = STOPPED
            self._leader_id = None
            if was_leader:
                LOG.info('Engine %s steps down: stopping', self.member_id)
        if self.single:
            if was_leader and self._on_lost is not None:
                self._on_lost()
            return
        with self._cond:
            if was_leader:
                self._queue_locked('lost')
            self._closing = True
            self._cond.notify_all()
        self._stopping.set()
        self._wake.set()
        if self._notifier is None:
            self._deliver_pending()
        current = threading.current_thread()
        # on_lost must have returned before the lock goes, so the next
        # leader never overlaps with our last decisions; past one lease
        # the lock would be gone anyway.
        for thread in (self._notifier, self._thread):
            if thread is not None and thread is not current:
                thread.join(self.lease)
        if self._thread is not None and self._thread.is_alive():
            LOG.warning('Leader election thread of %s is stuck in a backend '
                        'call; leadership lapses when its lease runs out',
                        self.member_id)
            return
        if self._lock is not None:
            self._release()
        if self._coordinator is not None:
            self._leave_group()
            try:
                self._coordinator.stop()
            except Exception as exc:
                LOG.debug('Coordinator stop failed: %s',
                          _scrubbed(exc, self._url))
            self._coordinator = None
        LOG.info('Engine %s left leader election %s', self.member_id,
                 self.group)

    @property
    def is_leader(self):
        """True while this engine may decide (checked at call time)."""
        with self._mutex:
            return self._leading_locked()

    def assert_leader(self):
        """Raise EngineNotLeader (503) unless this engine may decide now."""
        with self._mutex:
            if self._leading_locked():
                return
            details = {'member_id': self.member_id,
                       'leader': self._leader_id, 'state': self._state}
        raise NotLeader(details=details)

    def status(self):
        """This member's view of the election, for GET /v1/status."""
        with self._mutex:
            now = self._clock()
            leading = self._leading_locked()
            role = ('leader' if leading else
                    'stopped' if self._state == STOPPED else 'standby')
            age = (None if self._last_contact is None
                   else round(max(0.0, now - self._last_contact), 3))
            backend_state = self._backend_state
            if (backend_state == BACKEND_CONNECTED and age is not None
                    and age > max(self.safe_window, 3 * self.interval)):
                # The election thread is stuck in a call: no news is bad.
                backend_state = BACKEND_UNREACHABLE
            remaining = (round(self._valid_until - now, 3)
                         if leading and not self.single else None)
            return {
                'mode': 'single' if self.single else 'coordinated',
                'backend': self.backend,
                'backend_state': backend_state,
                'backend_error': self._backend_error,
                'group': None if self.single else self.group,
                'member_id': self.member_id,
                'role': role,
                'state': self._state,
                'leader': self.member_id if leading else self._leader_id,
                'term': self._term,
                'last_heartbeat_age': age,
                'lease_timeout': None if self.single else self.lease,
                'lease_remaining': remaining,
                'takeover_delay': None if self.single
                else self.takeover_delay,
            }

    # ------------------------------------------------ state (mutex held)
    def _leading_locked(self):
        if self._state != LEADER:
            return False
        if self.single:
            return True
        now = self._clock()
        if now < self._valid_until:
            return True
        self._lose_locked('no successful renewal for %.1f s'
                          % (now - self._valid_until + self.safe_window))
        return False

    def _lose_locked(self, reason):
        if self._state == LEADER:
            LOG.warning('Engine %s is no longer the leader of %s: %s',
                        self.member_id, self.group, reason)
            self._state = STANDBY
            self._leader_id = None
            self._queue_locked('lost')
        elif self._state == CLAIMING:
            LOG.info('Engine %s gives up its claim on %s: %s',
                     self.member_id, self.group, reason)
            self._state = STANDBY
        self._wake.set()      # the election thread releases the lock

    def _elect_locked(self):
        self._state = LEADER
        self._term += 1
        self._leader_id = self.member_id
        LOG.info('Engine %s is now the leader of %s (term %d)',
                 self.member_id, self.group, self._term)
        self._queue_locked('elected')

    def _queue_locked(self, name):
        if name == 'lost' and self._pending and self._pending[-1] == 'elected':
            # The term ended before on_elected ran: nothing to undo.
            self._pending.pop()
            return
        self._pending.append(name)
        self._cond.notify_all()

    # ------------------------------------------------------- callbacks
    def _notify_loop(self):
        while True:
            with self._cond:
                if not self._pending and not self._closing:
                    self._cond.wait(self.interval)
                if not self._pending:
                    if self._closing:
                        return
                    # Watchdog: a leader whose renewals stalled loses here
                    # even if nobody calls is_leader.
                    self._leading_locked()
                    continue
                name = self._pending.popleft()
            self._run_callback(name)

    def _deliver_pending(self):
        # Callbacks without the callback thread (tests, stop()).
        while True:
            with self._mutex:
                if not self._pending:
                    return
                name = self._pending.popleft()
            self._run_callback(name)

    def _run_callback(self, name):
        func = self._on_elected if name == 'elected' else self._on_lost
        if func is None:
            return
        try:
            func()
        except Exception:
            LOG.exception('Leadership callback on_%s of engine %s failed',
                          name, self.member_id)
            if name == 'elected':
                with self._mutex:
                    self._lose_locked('on_elected failed')
                    # Let another engine try before we do again.
                    self._cooldown_until = self._clock() + self.max_retry

    # ------------------------------------------------- election thread
    def _run(self):
        delay = 0.0
        while True:
            self._wake.wait(delay)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                delay = self._step()
            except Exception:
                # Never let the election thread die.
                LOG.exception('Leader election step of %s failed',
                              self.member_id)
                delay = self.interval

    def _step(self):
        """One round of the election; returns seconds until the next."""
        if self._coordinator is None:
            return self._connect()
        with self._mutex:
            self._leading_locked()          # expire a lapsed lease
            state = self._state
        if state == STOPPED:
            return self.interval
        if self._lock_held and state not in (LEADER, CLAIMING):
            self._release()
            self._beat_member()
            return self.interval
        if state in (LEADER, CLAIMING):
            return self._renew()
        return self._contend()

    def _connect(self):
        query = parse.parse_qs(parse.urlsplit(self._url).query)
        io_timeout = min(5.0, max(0.5, self.safe_window / 3))
        options = self._backend.options(self.lease, io_timeout, query)
        for key, value in options.items():
            if key in query and query[key][-1] != str(value):
                LOG.warning('[coordination] backend_url sets %s; using %s '
                            'from lease_timeout instead', key, value)
        try:
            coordinator = self._factory(self._url,
                                        self.member_id.encode('utf-8'),
                                        options)
            coordinator.start(start_heart=False)
        except Exception as exc:
            return self._backend_failed(exc)
        try:
            self._backend.tune(coordinator)
        except Exception as exc:
            LOG.debug('Could not tune the %s client: %s', self.backend, exc)
        self._coordinator = coordinator
        self._groups, self._joined, self._advertised = True, False, None
        self._backend_ok()
        self._beat_member()
        return 0.0

    def _contend(self):
        now = self._clock()
        if now < self._cooldown_until:
            return self._cooldown_until - now
        try:
            if self._lock is None:
                self._lock = self._coordinator.get_lock(
                    self.group.encode('utf-8'))
            started = self._clock()
            won = self._lock.acquire(blocking=False)
        except Exception as exc:
            # A fresh lock object next time: SQL ones keep stale state.
            self._lock = None
            return self._backend_failed(exc)
        self._backend_ok()
        if not won:
            self._beat_member()
            return self.interval
        with self._mutex:
            self._lock_held = True
            if self._state != STANDBY:      # stopped meanwhile
                return self.interval
        if self._clock() >= started + self.safe_window:
            self._release()                 # won too late to lead safely
            return self.interval
        with self._mutex:
            self._valid_until = started + self.safe_window
            if self.takeover_delay > 0:
                self._state = CLAIMING
                self._claim_until = started + self.takeover_delay
                LOG.info('Engine %s won election %s; leads in %.1f s unless '
                         'it loses the lock first', self.member_id,
                         self.group, self.takeover_delay)
            else:
                self._elect_locked()
        self._beat_member()
        return self._next_renewal()

    def _renew(self):
        started = self._clock()
        try:
            self._backend.renew(self._lock)
        except _LockLost as exc:
            with self._mutex:
                self._renew_failing = False
                self._lose_locked('the backend no longer gives it the '
                                  'lock (%s)' % _scrubbed(exc, self._url))
            return 0.0
        except Exception as exc:
            err = _scrubbed(exc, self._url)
            with self._mutex:
                first = not self._renew_failing
                self._renew_failing = True
                left = self._valid_until - self._clock()
            if first:
                LOG.warning('Engine %s cannot renew its claim on %s (%s); '
                            'it stops leading in %.1f s unless a renewal '
                            'succeeds', self.member_id, self.group, err,
                            max(0.0, left))
            self._backend_failed(exc, backoff=False, log=False)
            return self.interval
        with self._mutex:
            if self._state not in (LEADER, CLAIMING):
                return 0.0                  # lost meanwhile: release
            self._valid_until = started + self.safe_window
            if self._renew_failing:
                LOG.info('Engine %s renews its claim on %s again',
                         self.member_id, self.group)
                self._renew_failing = False
            if self._state == CLAIMING and started >= self._claim_until:
                self._elect_locked()
        self._backend_ok()
        self._beat_member()
        return self._next_renewal()

    def _next_renewal(self):
        with self._mutex:
            if self._state == CLAIMING:
                wait = self._claim_until - self._clock()
                return max(0.0, min(self.interval, wait))
        return self.interval

    def _release(self):
        lock, held = self._lock, self._lock_held
        self._lock, self._lock_held = None, False
        if lock is None or not held:
            return
        try:
            lock.release()
        except Exception as exc:
            # Gone with the session or the lease: nothing left to free.
            LOG.debug('Releasing the lock of %s failed: %s', self.group,
                      _scrubbed(exc, self._url))

    def _backend_ok(self):
        with self._mutex:
            was = self._backend_state
            self._backend_state = BACKEND_CONNECTED
            self._backend_error = None
            self._last_contact = self._clock()
            self._retry_delay = self.interval
        if was == BACKEND_UNREACHABLE:
            LOG.info('Coordination backend %s is reachable again',
                     self.backend)
        elif was == BACKEND_CONNECTING:
            LOG.info('Engine %s connected to coordination backend %s',
                     self.member_id, self.backend)

    def _backend_failed(self, exc, backoff=True, log=True):
        err = '%s: %s' % (type(exc).__name__, _scrubbed(exc, self._url))
        with self._mutex:
            was = self._backend_state
            self._backend_state = BACKEND_UNREACHABLE
            self._backend_error = err
            delay = self._retry_delay if backoff else self.interval
            if backoff:
                self._retry_delay = min(self._retry_delay * 2,
                                        self.max_retry)
        if log and was != BACKEND_UNREACHABLE:
            LOG.warning('Coordination backend %s is unreachable (%s); '
                        'engine %s retries with back-off up to every '
                        '%.1f s and does not lead meanwhile', self.backend,
                        err, self.member_id, self.max_retry)
        elif log:
            LOG.debug('Coordination backend %s still unreachable: %s',
                      self.backend, err)
        return delay

    def _beat_member(self):
        """Keep the membership alive and learn who leads (best effort)."""
        coordinator = self._coordinator
        try:
            if coordinator.requires_beating:
                coordinator.heartbeat()
        except Exception as exc:
            LOG.debug('Membership heartbeat failed: %s',
                      _scrubbed(exc, self._url))
        if not self._groups:
            return
        tooz, coordination = self._tooz
        group = self.group.encode('utf-8')
        with self._mutex:
            role = 'leader' if self._state == LEADER else 'standby'
        try:
            if not self._joined:
                # Not join_group_create(): it sleeps and retries forever.
                try:
                    coordinator.join_group(group, {'role': role}).get()
                    self._advertised = role
                except coordination.GroupNotCreated:
                    try:
                        coordinator.create_group(group).get()
                    except coordination.GroupAlreadyExist:
                        pass
                    return                  # join at the next round
                except coordination.MemberAlreadyExist:
                    self._advertised = None     # ours from before
                self._joined = True
            if role != self._advertised:
                coordinator.update_capabilities(group, {'role': role}).get()
                self._advertised = role
            if role == 'standby':
                self._learn_leader(coordinator, group)
        except tooz.NotImplemented:
            self._groups = False        # MySQL, PostgreSQL: no groups
        except Exception as exc:
            self._joined = False        # rejoin next time
            LOG.debug('Election group %s: %s', self.group,
                      _scrubbed(exc, self._url))

    def _leave_group(self):
        # The last member out deletes the group: no litter on a backend
        # shared with others (GroupNotEmpty is the usual answer).
        if not (self._groups and self._joined):
            return
        group = self.group.encode('utf-8')
        try:
            self._coordinator.leave_group(group).get()
            self._coordinator.delete_group(group).get()
        except Exception as exc:
            LOG.debug('Leaving election group %s: %s', self.group, exc)

    def _learn_leader(self, coordinator, group):
        leaders = []
        for member in coordinator.get_members(group).get():
            name = (member.decode('utf-8', 'replace')
                    if isinstance(member, bytes) else str(member))
            if name == self.member_id:
                continue
            caps = coordinator.get_member_capabilities(group, member).get()
            if isinstance(caps, dict) and caps.get('role') == 'leader':
                leaders.append(name)
        with self._mutex:
            if self._state != LEADER:
                # A dead leader's entry lingers until its membership
                # expires: only a single claimant is an answer.
                self._leader_id = leaders[0] if len(leaders) == 1 else None
