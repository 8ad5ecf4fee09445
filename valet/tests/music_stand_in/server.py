"""The stand-in's HTTP server: Music's v1 REST surface under /MUSIC/rest.

Run one process per simulated Music host, all on the same SQLite file::

    python -m valet.tests.music_stand_in --port 8080 --db /tmp/music.db

Besides Music's endpoints it answers a few of its own under
``/_stand_in`` so that tests can make it fail the way Music fails:

``POST /_stand_in/fault``  ``{"status": 503}`` answers every Music request
    of this process with that status, ``{"delay": 5}`` answers after that
    many seconds (a timeout for a client that waits less); ``"count": n``
    limits the fault to the next n requests, ``"match": "POST /MUSIC/..."``
    to requests whose method and path contain that text. ``DELETE`` clears
    it (delayed requests wake up at once); ``GET`` tells how many requests
    are held in a delay now.
``POST /_stand_in/locks/force-release/{lockname}``  forces the holder of
    a lock out, as Music does when a lease runs out.
``GET /_stand_in/stats``  counters shared by every process: full table
    scans per table (``full_scan.<table>``), forced lock releases.
"""

import argparse
import http.server
import json
import socket
import sys
import threading
import time
import urllib.parse

from valet.tests.music_stand_in import store as store_mod

PREFIX = '/MUSIC/rest'
VERSION = 'MUSIC:2.x v1 REST surface (Valet test stand-in)'
# How long an atomic operation waits for its key's lock at most.
ATOMIC_WAIT = 15.0


class Fault:
    """The failure this process injects, if any.

    ``match`` (a substring of ``"METHOD /path"``) limits it to some
    requests; a delayed request waits until the delay ran out or the fault
    was cleared, then answers ``status`` if there is one, else proceeds.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.spec = None
        self.cleared = threading.Event()
        self.waiting = 0

    def set(self, spec):
        with self.lock:
            self.cleared.set()
            self.cleared = threading.Event()
            self.spec = dict(spec) if spec else None

    def take(self, request):
        with self.lock:
            spec = self.spec
            if spec is None or spec.get('match', '') not in request:
                return None, None
            if spec.get('count') is not None:
                spec['count'] -= 1
                if spec['count'] <= 0:
                    self.spec = None
            return dict(spec), self.cleared

    def delay(self, seconds, cleared):
        with self.lock:
            self.waiting += 1
        try:
            cleared.wait(seconds)
        finally:
            with self.lock:
                self.waiting -= 1


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'MusicStandIn/1'

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's
        # algorithm and delayed ACKs add 40 ms to every answer.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            super().log_message(fmt, *args)

    # ------------------------------------------------------------ plumbing
    def _answer(self, status, body=None, text=False):
        if body is None:
            data = b''
        elif text:
            data = str(body).encode()
        else:
            data = json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header('Content-Type', 'text/plain' if text
                             else 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        if not length:
            return {}
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            raise store_mod.BadRequest('The body is not JSON')
        if not isinstance(body, dict):
            raise store_mod.BadRequest('The body must be a JSON object')
        return body

    def _dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in url.path.split('/') if p]
        params = dict(urllib.parse.parse_qsl(url.query,
                                             keep_blank_values=True))
        try:
            body = self._body()
            if parts[:1] == ['_stand_in']:
                return self._control(method, parts[1:], body)
            if '/'.join(parts[:2]) != PREFIX.strip('/'):
                return self._answer(404, {'error': 'Not found'})
            fault, cleared = self.server.fault.take(
                '%s %s' % (method, url.path))
            if fault:
                if fault.get('delay'):
                    self.server.fault.delay(fault['delay'], cleared)
                if fault.get('status'):
                    return self._answer(fault['status'], {
                        'error': 'Injected fault'})
            return self._music(method, parts[2:], params, body)
        except store_mod.BadRequest as e:
            return self._answer(400, {'status': 'FAILURE', 'error': str(e)})
        except Exception as e:  # a stand-in bug: say so, as a 500
            self.server.errors.append(repr(e))
            return self._answer(500, {'status': 'FAILURE',
                                      'error': 'Stand-in error: %r' % e})

    def do_GET(self):
        self._dispatch('GET')

    def do_POST(self):
        self._dispatch('POST')

    def do_PUT(self):
        self._dispatch('PUT')

    def do_DELETE(self):
        self._dispatch('DELETE')

    # --------------------------------------------------------------- music
    def _music(self, method, parts, params, body):
        store = self.server.store
        route = (method, parts[0] if parts else '', len(parts))
        if route == ('GET', 'version', 1):
            return self._answer(200, VERSION, text=True)
        if parts[:1] == ['locks'] and len(parts) == 3:
            return self._locks(method, parts[1], parts[2], body)
        if parts[:1] != ['keyspaces'] or len(parts) < 2:
            return self._answer(404, {'error': 'Not found'})
        ks = parts[1]
        if len(parts) == 2:
            if method == 'POST':
                info = body.get('replicationInfo')
                if not isinstance(info, dict) or 'class' not in info:
                    raise store_mod.BadRequest('replicationInfo with a '
                                               '"class" is required')
                store.create_keyspace(ks, info)
                return self._answer(204)
            if method == 'DELETE':
                store.drop_keyspace(ks)
                return self._answer(204)
        if len(parts) < 4 or parts[2] != 'tables':
            return self._answer(404, {'error': 'Not found'})
        table = parts[3]
        if len(parts) == 4:
            if method == 'POST':
                if not isinstance(body.get('fields'), dict):
                    raise store_mod.BadRequest('"fields" is required')
                store.create_table(ks, table, body['fields'])
                return self._answer(204)
            if method == 'DELETE':
                store.drop_table(ks, table)
                return self._answer(204)
        if parts[4:] == ['rows']:
            return self._rows(method, ks, table, params, body)
        if parts[4:] == ['rows', 'criticalget'] and method == 'PUT':
            rows = self._consistent(
                body, ks, table, params,
                lambda lock: store.select(ks, table, params, lock=lock))
            return self._answer(200, _rows(rows))
        return self._answer(404, {'error': 'Not found'})

    def _rows(self, method, ks, table, params, body):
        store = self.server.store
        if method == 'GET':
            return self._answer(200, _rows(store.select(ks, table, params)))
        if method == 'POST':
            values = body.get('values')
            if not isinstance(values, dict):
                raise store_mod.BadRequest('"values" is required')
            self._consistent(body, ks, table, values, lambda lock:
                             store.insert(ks, table, values, lock=lock))
            return self._answer(204)
        if method == 'PUT':
            values = body.get('values')
            if not isinstance(values, dict):
                raise store_mod.BadRequest('"values" is required')
            done = self._consistent(body, ks, table, params, lambda lock:
                                    store.update(ks, table, params, values,
                                                 body.get('conditions'),
                                                 lock=lock))
            return self._answer(200, _result(done, 'Update'), text=True)
        if method == 'DELETE':
            done = self._consistent(body, ks, table, params, lambda lock:
                                    store.delete(ks, table, params,
                                                 body.get('conditions'),
                                                 lock=lock))
            return self._answer(200, _result(done, 'Delete'), text=True)
        return self._answer(405, {'error': 'Method not allowed'})

    def _consistent(self, body, ks, table, keys, operation):
        """Run ``operation(lock)`` under the rules of ``consistencyInfo``."""
        info = body.get('consistencyInfo') or {}
        kind = info.get('type', 'eventual')
        if kind == 'eventual':
            if body.get('conditions'):
                raise store_mod.BadRequest('Conditions need critical or '
                                           'atomic consistency')
            return operation(None)
        if kind == 'critical':
            if not info.get('lockId'):
                raise store_mod.BadRequest('critical needs a lockId')
            return operation(info['lockId'])
        if kind == 'atomic':
            return self._atomic(ks, table, keys, operation)
        raise store_mod.BadRequest('Unknown consistency %r' % kind)

    def _atomic(self, ks, table, keys, operation):
        # Music takes the key's lock itself, writes, and lets it go.
        store = self.server.store
        pk = store.primary_key(ks, table)
        if len(pk) != 1 or keys.get(pk[0]) is None:
            raise store_mod.BadRequest('atomic needs a single-column '
                                       'primary key and its value')
        pk = keys[pk[0]]
        lockid = store.create_lock('%s.%s.%s' % (ks, table, pk))
        try:
            deadline = time.monotonic() + ATOMIC_WAIT
            while not store.acquire(lockid):
                if time.monotonic() > deadline:
                    raise store_mod.BadRequest('atomic: timed out waiting '
                                               'for the lock')
                time.sleep(0.005)
            return operation(lockid)
        finally:
            store.release(lockid)

    def _locks(self, method, action, arg, body):
        store = self.server.store
        if (method, action) == ('POST', 'create'):
            return self._answer(200, store.create_lock(arg), text=True)
        if (method, action) == ('GET', 'acquire'):
            try:
                held = store.acquire(arg)
            except store_mod.NotHolder:
                held = False
            return self._answer(200, 'true' if held else 'false', text=True)
        if (method, action) == ('POST', 'acquire-with-lease'):
            lease = body.get('leasePeriod')
            if not isinstance(lease, (int, float)) or lease <= 0:
                raise store_mod.BadRequest('leasePeriod (seconds) needed')
            try:
                held = store.acquire(arg, float(lease))
            except store_mod.NotHolder as e:
                return self._answer(200, {'status': 'FAILURE',
                                          'message': str(e)})
            return self._answer(200, {
                'status': 'SUCCESS' if held else 'FAILURE',
                'message': 'acquired' if held else 'not the lock holder'})
        if (method, action) == ('GET', 'enquire'):
            return self._answer(200, {'lock': {
                'lock': arg, 'lock-holder': store.holder(arg)}})
        if (method, action) == ('DELETE', 'release'):
            store.release(arg)
            return self._answer(204)
        if (method, action) == ('DELETE', 'delete'):
            store.delete_lock(arg)
            return self._answer(204)
        return self._answer(404, {'error': 'Not found'})

    # ------------------------------------------------------------- control
    def _control(self, method, parts, body):
        if parts == ['fault']:
            if method == 'GET':
                return self._answer(200, {'fault': self.server.fault.spec,
                                          'waiting': self.server.fault.waiting})
            self.server.fault.set(body if method == 'POST' else None)
            return self._answer(204)
        if parts[:2] == ['locks', 'force-release'] and len(parts) == 3:
            freed = self.server.store.force_release(parts[2])
            return self._answer(200, {'released': freed})
        if parts == ['stats']:
            return self._answer(200, dict(self.server.store.stats(),
                                          errors=self.server.errors))
        return self._answer(404, {'error': 'Not found'})


def _rows(rows):
    return {'row %d' % i: row for i, row in enumerate(rows)}


def _result(done, what):
    if done:
        return 'SUCCESS: %s performed' % what
    return 'FAILURE: %s not performed: condition not satisfied' % what


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, store, verbose=False):
        super().__init__(address, Handler)
        self.store = store
        self.fault = Fault()
        self.errors = []
        self.verbose = verbose


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--db', required=True, help='SQLite file')
    parser.add_argument('--default-lease', type=float, default=10.0,
                        help='Lease of a lock reference that never asked '
                             'for one (seconds)')
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args(argv)
    store = store_mod.Store(args.db, default_lease=args.default_lease)
    server = Server((args.host, args.port), store, verbose=args.verbose)
    print('music stand-in listening on %s:%d' % (args.host, args.port),
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
