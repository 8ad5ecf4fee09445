"""Music's v1 REST API over HTTP, with failover across hosts.

``Transport`` sends one request to the first host that answers: a host
that refuses the connection, times out or answers 5xx is skipped for the
next; after a round over every host it waits (doubling the wait each
round) and tries again, ``retries`` rounds in all, then raises
``Unavailable``. The host that answered last is tried first next time.

``MusicClient`` is the operations Valet uses, on one keyspace: tables,
rows in the three consistency types (eventual, critical with a lock id,
atomic) and lock references. A retried write is harmless: every write is
a whole-row upsert or a delete, so applying it twice changes nothing.
"""

import json
import logging
import threading
import time
import urllib.parse

import requests
from requests import adapters

from valet.storage import base

LOG = logging.getLogger(__name__)


class MusicRequestError(base.StorageError):
    """Music refused a request (4xx): the request, not the host, is wrong."""

    def __init__(self, status, message):
        super().__init__('Music answered %s: %s' % (status, message))
        self.status = status
        self.message = message


def base_url(host, port, path):
    """``http://host:port/path`` for a ``hosts`` entry (``host``,
    ``host:port``, an IPv6 address or ``[v6]:port``)."""
    host = host.strip()
    if host.startswith('['):
        netloc = host if ']:' in host else '%s:%d' % (host, port)
    elif host.count(':') == 1:
        netloc = host
    elif ':' in host:
        netloc = '[%s]:%d' % (host, port)
    else:
        netloc = '%s:%d' % (host, port)
    return 'http://%s/%s' % (netloc, path.strip('/'))


class Transport:

    def __init__(self, hosts, port, path='/MUSIC/rest', connect_timeout=3.0,
                 request_timeout=10.0, retries=3, retry_interval=0.5,
                 pool_size=10, sleep=time.sleep):
        if not hosts:
            raise base.StorageError('[music] hosts is empty')
        self.urls = [base_url(h, port, path) for h in hosts]
        self.timeout = (connect_timeout, request_timeout)
        self.retries = retries
        self.retry_interval = retry_interval
        self._sleep = sleep
        self._preferred = 0
        self._lock = threading.Lock()
        self.requests_sent = 0      # for benchmarks; not exact under threads
        self.session = requests.Session()
        adapter = adapters.HTTPAdapter(pool_connections=len(self.urls),
                                       pool_maxsize=pool_size,
                                       max_retries=0)
        self.session.mount('http://', adapter)

    @property
    def current_url(self):
        return self.urls[self._preferred]

    def close(self):
        self.session.close()

    def request(self, method, path, params=None, body=None,
                repeatable=True):
        """The ``requests.Response`` of the first host that answers < 500.

        ``MusicRequestError`` for a 4xx answer; ``Unavailable`` when no
        host answered within ``retries`` rounds. A request that is not
        ``repeatable`` is not sent again once a host may have received it
        and not answered in time (it is only retried when no connection
        was made).
        """
        errors = []
        self.requests_sent += 1
        for attempt in range(self.retries):
            if attempt:
                self._sleep(self.retry_interval * 2 ** (attempt - 1))
            start = self._preferred
            for offset in range(len(self.urls)):
                index = (start + offset) % len(self.urls)
                url = self.urls[index]
                try:
                    resp = self.session.request(
                        method, url + path, params=params,
                        data=None if body is None else json.dumps(body),
                        headers={'Content-Type': 'application/json'},
                        timeout=self.timeout)
                except requests.ConnectTimeout:
                    errors.append('%s: connection timed out' % url)
                    continue
                except requests.Timeout:
                    errors.append('%s timed out' % url)
                    if not repeatable:
                        raise base.Unavailable(
                            'Music unavailable: %s %s not answered in time '
                            '(%s); not sent again' % (method, path, url))
                    continue
                except requests.RequestException as e:
                    errors.append('%s: %s' % (url, type(e).__name__))
                    continue
                if resp.status_code >= 500:
                    errors.append('%s answered %d' % (url, resp.status_code))
                    continue
                if index != self._preferred:
                    with self._lock:
                        self._preferred = index
                    LOG.warning('Music: switched to %s (%s)', url,
                                '; '.join(errors[-len(self.urls):]))
                if resp.status_code >= 400:
                    raise MusicRequestError(resp.status_code,
                                            _error_text(resp))
                return resp
        raise base.Unavailable(
            'Music unavailable: no host answered %s %s after %d rounds '
            '(%s)' % (method, path, self.retries, '; '.join(errors[-4:])))


def _error_text(resp):
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()[:500]
    if isinstance(body, dict):
        return str(body.get('error') or body.get('message') or body)[:500]
    return str(body)[:500]


def _q(value):
    return urllib.parse.quote(str(value), safe='')


def _rows(resp):
    """Rows of a select answer ``{"row 0": {...}, "row 1": {...}}``."""
    body = resp.json() or {}
    keys = sorted(body, key=lambda k: int(k.split()[-1])
                  if k.split()[-1].isdigit() else 0)
    return [body[k] for k in keys]


def _succeeded(resp):
    # Updates and deletes answer a string with the result type first.
    return not resp.text.strip().upper().startswith('FAILURE')


class MusicClient:
    """Music operations on ``keyspace``."""

    EVENTUAL = {'type': 'eventual'}
    ATOMIC = {'type': 'atomic'}

    def __init__(self, transport, keyspace):
        self.transport = transport
        self.keyspace = keyspace
        self._ks = '/keyspaces/%s' % _q(keyspace)

    @staticmethod
    def critical(lockid):
        return {'type': 'critical', 'lockId': lockid}

    def lock_name(self, table, key):
        return '%s.%s.%s' % (self.keyspace, table, key)

    # ------------------------------------------------------------ schema
    def version(self):
        return self.transport.request('GET', '/version').text.strip()

    def create_keyspace(self, replication_factor):
        self.transport.request('POST', self._ks, body={
            'replicationInfo': {'class': 'SimpleStrategy',
                                'replication_factor': replication_factor},
            'durabilityOfWrites': True,
            'consistencyInfo': self.EVENTUAL})

    def create_table(self, table, fields):
        self.transport.request('POST', '%s/tables/%s' % (self._ks, table),
                               body={'fields': fields,
                                     'consistencyInfo': self.EVENTUAL})

    # -------------------------------------------------------------- rows
    def select(self, table, **keys):
        """Rows whose key columns equal ``keys`` (every row without)."""
        return _rows(self.transport.request(
            'GET', '%s/tables/%s/rows' % (self._ks, table), params=keys))

    def critical_get(self, table, lockid, **keys):
        """The rows of ``keys``, read while holding ``lockid``."""
        return _rows(self.transport.request(
            'PUT', '%s/tables/%s/rows/criticalget' % (self._ks, table),
            params=keys, body={'consistencyInfo': self.critical(lockid)}))

    def atomic_get(self, table, **keys):
        """The rows of ``keys`` read at quorum under a lock Music takes
        and releases itself."""
        return _rows(self.transport.request(
            'PUT', '%s/tables/%s/rows/criticalget' % (self._ks, table),
            params=keys, body={'consistencyInfo': self.ATOMIC}))

    def insert(self, table, values, consistency=None):
        self.transport.request(
            'POST', '%s/tables/%s/rows' % (self._ks, table),
            body={'values': values,
                  'consistencyInfo': consistency or self.EVENTUAL})

    def update(self, table, keys, values, consistency, conditions=None):
        """True when written (False: ``conditions`` did not hold)."""
        body = {'values': values, 'consistencyInfo': consistency}
        if conditions:
            body['conditions'] = conditions
        return _succeeded(self.transport.request(
            'PUT', '%s/tables/%s/rows' % (self._ks, table), params=keys,
            body=body))

    def delete(self, table, keys, consistency=None, conditions=None):
        """True when deleted (False: ``conditions`` did not hold)."""
        body = {'consistencyInfo': consistency or self.EVENTUAL}
        if conditions:
            body['conditions'] = conditions
        return _succeeded(self.transport.request(
            'DELETE', '%s/tables/%s/rows' % (self._ks, table), params=keys,
            body=body))

    # ------------------------------------------------------------- locks
    def create_lock(self, name):
        """A new lock reference at the tail of ``name``'s queue."""
        # Not repeated after a timeout: a second reference would queue
        # behind a first one nobody holds, until its lease ran out.
        return self.transport.request(
            'POST', '/locks/create/%s' % _q(name),
            repeatable=False).text.strip()

    def acquire(self, lockid, lease):
        """True when ``lockid`` heads its queue (it holds the lock)."""
        resp = self.transport.request(
            'POST', '/locks/acquire-with-lease/%s' % _q(lockid),
            body={'leasePeriod': lease})
        try:
            body = resp.json()
        except ValueError:
            return resp.text.strip().lower() == 'true'
        return str(body.get('status', '')).upper() == 'SUCCESS'

    def release(self, lockid):
        self.transport.request('DELETE', '/locks/release/%s' % _q(lockid))
