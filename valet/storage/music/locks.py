"""Music locks held around critical reads and writes.

A Music lock is named ``keyspace.table.key`` and guards that row: a
critical read or write of the row is accepted only from the reference at
the head of the lock's queue. ``Locks.hold(table, keys)`` takes the locks
of several rows of one table in sorted order (so two writers never wait
for each other in a cycle), waits at most ``lock_wait`` seconds in all,
and releases them on exit. Writers take tables in one fixed order too
(see ``driver.py``).

Each acquisition asks for a lease: a holder that dies keeps others out
for at most ``lock_lease`` seconds, after which Music forces the lock
free for the next writer. A holder that outlives its lease loses the lock
and its next critical write is refused (``LockLost``), so it can never
overwrite what the next holder wrote.
"""

import contextlib
import logging
import time

from valet.storage import base
from valet.storage.music import transport

LOG = logging.getLogger(__name__)

_FIRST_POLL = 0.002
_MAX_POLL = 0.05


class LockTimeout(base.Unavailable):
    """Another writer held a lock longer than ``lock_wait`` allows."""


class LockLost(base.Conflict):
    """Music refused a critical operation: the lock was no longer ours."""


class Held:
    """The lock ids held on rows of one table, by key."""

    def __init__(self, table):
        self.table = table
        self.ids = {}

    def __getitem__(self, key):
        return self.ids[key]


class Locks:

    def __init__(self, client, wait, lease, clock=time.monotonic,
                 sleep=time.sleep, executor=None):
        self.client = client
        self._executor = executor
        self.wait = wait
        self.lease = lease
        self._clock = clock
        self._sleep = sleep

    @contextlib.contextmanager
    def hold(self, table, keys):
        """Hold the locks of rows ``keys`` of ``table``; yields ``Held``."""
        held = Held(table)
        started = self._clock()
        deadline = started + self.wait
        try:
            for key in sorted(set(keys)):
                held.ids[key] = self._acquire(table, key, deadline)
            if len(held.ids) > 1 and \
                    self._clock() - started > self.lease / 3:
                # The first locks' leases ran while waiting for the last.
                self._renew(held)
            yield held
        finally:
            self._release_all(held)

    def _acquire(self, table, key, deadline):
        name = self.client.lock_name(table, key)
        lockid = self.client.create_lock(name)
        delay = _FIRST_POLL
        try:
            while not self.client.acquire(lockid, self.lease):
                if self._clock() > deadline:
                    raise LockTimeout(
                        'Music lock %s stayed held by another writer for '
                        'more than %.1f s ([music] lock_wait); nothing was '
                        'changed, retry later' % (name, self.wait))
                self._sleep(delay)
                delay = min(delay * 2, _MAX_POLL)
        except BaseException:
            self._release(lockid)
            raise
        return lockid

    def _renew(self, held):
        for key, lockid in held.ids.items():
            if not self.client.acquire(lockid, self.lease):
                raise LockLost(
                    'Lost the Music lock %s while waiting for other locks '
                    '(its lease ran out); nothing was changed, retry'
                    % self.client.lock_name(held.table, key))

    def _release_all(self, held):
        lockids = list(held.ids.values())
        if self._executor is None or len(lockids) < 2:
            for lockid in lockids:
                self._release(lockid)
            return
        # Releasing in any order is safe; at once is faster.
        for future in [self._executor.submit(self._release, lockid)
                       for lockid in lockids]:
            future.result()

    def _release(self, lockid):
        try:
            self.client.release(lockid)
        except base.StorageError as e:
            # The lease frees it in the end; nothing else to do.
            LOG.warning('Could not release Music lock %s: %s', lockid, e)


@contextlib.contextmanager
def translated(what):
    """Turn Music's refusal of a critical operation into ``LockLost``."""
    try:
        yield
    except transport.MusicRequestError as e:
        if 'lock' in e.message.lower():
            raise LockLost(
                'Lost the Music lock while %s (its lease ran out or it was '
                'forced free); read again and retry: %s' % (what, e.message)
            ) from e
        raise
