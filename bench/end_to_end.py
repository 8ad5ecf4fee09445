"""End to end: plans through the all-in-one API against the solver's time.

A static inventory of ``--hosts`` hosts with ``--per-host`` servers
already running on each (``engine_follow.write_inventory``: 5,000 hosts
and 50,000 servers by default) is served by an all-in-one Valet in this
process, on its own SQLite file, engine and HTTP development server on
loopback (``valet.cmd.api``):

``shipped``
    all-in-one as built by ``valet.cmd.api.build``: the engine's endpoint
    called directly (``valet.engine.local``), pooled SQLite connections in
    WAL mode.
``former``
    (``--former``) all-in-one as it was, beside ``shipped`` in this
    process: the API calls the engine through oslo.messaging RPC over the
    in-memory ``fake://`` transport (its listener polls every 50 ms), and
    the SQL driver opens an SQLite connection per transaction (oslo.db's
    ``NullPool``, rollback journal, ``synchronous=FULL``). Off by default:
    its second 5,000-host model and its threads in the same process made
    ``shipped``'s one-server creates about 10 % slower than ``shipped``
    alone, which is how the all-in-one runs.

``deployed``
    (on by default; ``--no-deployed``) the deployed pair: valet-api under
    uwsgi, valet-engine over RabbitMQ, MariaDB; started and asked once
    the others are done. Interleaved with ``shipped``, its processes took
    the same two cores: in one quick run ``shipped``'s one-server creates
    took 4.2 ms (2.1 ms in its solver), against 2.3 ms (1.2 ms) alone.

The same requests go to every variant (those in this process and
``--processes`` interleaved, so that they meet the same machine load):
a one-server plan create (``POST /v1/plans``), a 50-server stack (half
of it in a host diversity group), each deleted again
(``DELETE /v1/plans/{id}``), and ``GET /v1/status``. Each create's time
over HTTP is paired with the solver's own time for that decision
(``solver.decide``, timed inside the engine); the ratio of the two is
what the all-in-one adds. Each create and delete is asked twice, on a
new connection and on one kept open (``... kept``), as Valet's clients
(keystoneauth over requests) keep theirs. Targets: one server at most 2x
the solver, the stack at most 1.3x.

Start-up is measured first, on the same file: the inventory read and the
model build of a first start (YAML read by ``valet.inventory.fast_yaml``;
the parse is then cached), a restart (from the cache), a start without
the cache and the same inventory written as JSON; each against the 3 s
target. The load average is printed at the start
and the end. Records go to ``--out``.

    python -m bench.end_to_end [--hosts 5000] [--per-host 10]
                               [--singles 30] [--stacks 10] [--quick]
                               [--former] [--processes] [--no-deployed]
"""

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from wsgiref import simple_server

from oslo_config import cfg
from oslo_db.sqlalchemy import engines
from oslo_messaging import conffixture

from valet.api import app as api_app
from valet.cmd import api as cmd_api
from valet import conf as valet_conf
from valet.engine import manager
from valet.engine import rpcapi
from valet.engine import translate
from valet.inventory import static
from valet import policy
from valet.storage.sql import driver as sql_driver

from bench import e2e_report
from bench import engine_follow
from bench import generator as gen

DEFAULT_OUT = os.path.join('bench', 'results', 'end_to_end.json')
HEADERS = {'Content-Type': 'application/json', 'X-Project-Id': 'bench',
           'X-User-Id': 'bench', 'X-Roles': 'admin'}


class FormerSqlStorage(sql_driver.SqlStorage):
    """The SQL driver with its former engine.

    oslo.db's defaults on SQLite: a new connection per transaction,
    rollback journal, synchronous=FULL.
    """

    def _create_engine(self):
        db = self.conf.database
        return engines.create_engine(
            self._url, sqlite_fk=True, max_pool_size=db.max_pool_size,
            max_overflow=db.max_overflow, pool_timeout=db.pool_timeout,
            connection_recycle_time=db.connection_recycle_time,
            max_retries=0)


def make_conf(workdir, name, inventory):
    conf = cfg.ConfigOpts()
    valet_conf.register_all(conf)
    conf.register_cli_opts(cmd_api.CLI_OPTS)
    # oslo.messaging registers some options on the global CONF only.
    conffixture.ConfFixture(conf).setUp()
    conf(['--all-in-one', '--inventory', inventory], project='valet',
         default_config_files=[])
    state = os.path.join(workdir, name)
    os.makedirs(state, exist_ok=True)
    conf.set_override('state_dir', state)
    conf.set_override('levels', list(gen.LEVELS), group='inventory')
    conf.set_override('static_file', inventory, group='inventory')
    # Each Valet its own in-memory exchange: neither engine can take the
    # other's calls.
    conf.set_override('control_exchange', 'valet-bench-' + name)
    conf.set_override('host', 'bench-' + name, group='engine')
    conf.set_override('rpc_timeout', 120, group='engine')
    return conf


def start_former(conf):
    """All-in-one as it was before the direct client and the pool."""
    policy.init(conf)
    conf.set_override('auth_strategy', 'noauth', group='api')
    conf.set_override('static_cache_dir', '', group='inventory')
    store = FormerSqlStorage(conf)
    store.upgrade()
    transport = rpcapi.get_transport(conf, url=cmd_api.FAKE_TRANSPORT)
    engine = manager.EngineService(
        conf, store, static.StaticInventory(conf), transport)
    engine.start()
    app = api_app.load_app(conf, engine_api=rpcapi.EngineAPI(conf, transport),
                           storage=store)

    def stop():
        engine.stop()
        engine.wait()
    return app, stop, engine.endpoint


def start_shipped(conf):
    """All-in-one as ``valet.cmd.api.build`` makes it."""
    policy.init(conf)
    engine_api, store, engine = cmd_api.start_all_in_one(conf)
    app = api_app.load_app(conf, engine_api=engine_api, storage=store)

    def stop():
        engine_api.close()
        engine.stop()
        engine.wait()
    return app, stop, engine.endpoint


def http_request(host, port, method, path, body=None):
    """(milliseconds, status, decoded answer) of one request on a new
    connection; every variant is asked through this same client."""
    data = json.dumps(body) if body is not None else None
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=300)
    try:
        conn.request(method, path, body=data, headers=HEADERS)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    elapsed = (time.perf_counter() - started) * 1000.0
    return elapsed, resp.status, json.loads(raw) if raw else None


class KeptConnection:
    """The same client on one connection kept open, as Valet's real
    clients (keystoneauth over requests) keep theirs: a new one only when
    the server closed the last (a server without keep-alive pays a
    connection per request here too)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.conn = None

    def request(self, method, path, body=None):
        data = json.dumps(body) if body is not None else None
        started = time.perf_counter()
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=300)
            try:
                self.conn.request(method, path, body=data, headers=HEADERS)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError):
                # Closed while idle: once more on a new connection.
                self.close()
                if attempt == 2:
                    raise
        if resp.will_close:
            self.close()
        elapsed = (time.perf_counter() - started) * 1000.0
        return elapsed, resp.status, json.loads(raw) if raw else None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Serving:
    """One app behind the development server on a loopback port."""

    def __init__(self, app):
        self.server = simple_server.make_server(
            '127.0.0.1', 0, app, server_class=cmd_api._ThreadingServer,
            handler_class=Quiet)
        self.port = self.server.server_address[1]
        self.kept = KeptConnection('127.0.0.1', self.port)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def request(self, method, path, body=None, kept=False):
        """(milliseconds, status, decoded answer); ``kept``: on the
        connection kept open."""
        if kept:
            return self.kept.request(method, path, body)
        return http_request('127.0.0.1', self.port, method, path, body)

    def stop(self):
        self.kept.close()
        self.server.shutdown()
        self.server.server_close()


class Quiet(cmd_api._Handler):
    def log_message(self, fmt, *args):
        pass


class DecisionClock:
    """Times every ``solver.decide`` call of an engine endpoint."""

    def __init__(self, endpoint):
        self.last_ms = None
        decide = endpoint._decide

        def timed(request):
            started = time.perf_counter()
            try:
                return decide(request)
            finally:
                self.last_ms = (time.perf_counter() - started) * 1000.0
        endpoint._decide = timed


def resources(rng, count, group=None):
    out = {}
    for i in range(count):
        props = {'flavor': rng.choice(engine_follow.ENGINE_FLAVORS)}
        if group and i % 2 == 0:
            props['metadata'] = {'valet': {'groups': [group]}}
        out['%032x' % rng.getrandbits(128)] = {
            'name': 'server-%03d' % i, 'type': translate.SERVER_TYPE,
            'properties': props}
    return out


class Variant:
    def __init__(self, name, app, stop, endpoint):
        self.name, self.stop_app = name, stop
        self.serving = Serving(app)
        self.clock = DecisionClock(endpoint)
        self.times = {}             # kind -> [(api ms, decision ms|None)]
        self.failures = []

    def record(self, kind, api_ms, decision_ms=None):
        self.times.setdefault(kind, []).append((api_ms, decision_ms))

    def plan(self, kind, body, timed=True, kept=False):
        """Create and delete; ``kept``: on the kept connection, recorded
        as ``<kind> kept`` and ``delete kept``."""
        suffix = ' kept' if kept else ''
        kind += suffix
        self.clock.last_ms = None
        api_ms, status, answer = self.serving.request('POST', '/v1/plans',
                                                      body, kept=kept)
        if status != 201:
            self.failures.append('%s %s: %s %s' % (self.name, kind, status,
                                                   str(answer)[:300]))
            return
        placements = answer['plan']['placements']
        if len(placements) != len(body['resources']):
            self.failures.append('%s %s: %d of %d placed' % (
                self.name, kind, len(placements), len(body['resources'])))
        if timed:
            self.record(kind, api_ms, self.clock.last_ms)
        api_ms, status, _ = self.serving.request(
            'DELETE', '/v1/plans/%s' % answer['plan']['id'], kept=kept)
        if status != 204:
            self.failures.append('%s delete: %s' % (self.name, status))
        elif timed:
            self.record('delete' + suffix, api_ms)

    def status(self):
        api_ms, status, _ = self.serving.request('GET', '/v1/status')
        if status != 200:
            self.failures.append('%s status: %s' % (self.name, status))
        self.record('status', api_ms)

    def stop(self):
        self.serving.stop()
        self.stop_app()


STARTUP_TARGET_S = 3.0
CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     'startup_child.py')
TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_child(tree, inventory, state, cache):
    """One all-in-one start of the code in ``tree``, in a new process."""
    env = dict(os.environ, PYTHONPATH=tree)
    done = subprocess.run(
        [sys.executable, CHILD, inventory, state, cache, ','.join(gen.LEVELS)],
        cwd=tree, env=env, capture_output=True, text=True, timeout=1800)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise RuntimeError('start-up child failed (%s): %s' % (
            done.returncode, done.stderr[-2000:]))
    record = json.loads(lines[-1])
    # The inventory is read inside the engine's rebuild.
    record['model_s'] = round(record['build_s'] - record['read_s'], 3)
    return record


def startup(workdir, inventory, args):
    """All-in-one start-up, each in a process of its own, as a restart
    is: rows per way of reading the inventory (and per tree, with
    ``--old-tree``)."""
    as_json = os.path.join(workdir, 'inventory.json')
    with open(inventory, 'rb') as handle:
        document = static.load_document(handle.read(), inventory)
    with open(as_json, 'w') as handle:
        json.dump(document, handle)
    trees = [('', TREE)]
    if args.e2e_old_tree:
        trees.insert(0, ('old tree: ', os.path.abspath(args.e2e_old_tree)))
    rows = []
    for label, tree in trees:
        base = os.path.join(workdir, 'start-' + str(len(rows)))
        state, cache = base + '-state', base + '-cache'
        for variant, path, cache_dir in (
                ('first start (YAML; cache written)', inventory, cache),
                ('restart (parse cache)', inventory, cache),
                ('YAML every start (no cache)', inventory, ''),
                ('JSON inventory (no cache)', as_json, '')):
            record = start_child(tree, path, state, cache_dir)
            record.update(phase='start-up', variant=label + variant)
            if not label:
                # Every way this tree starts: a first start as well as
                # a restart.
                record['target_s'] = STARTUP_TARGET_S
            rows.append(record)
    return rows


def run(args, stream=sys.stdout, out=None):
    """Both variants; (rows, failures)."""
    settle(args)
    out = out if out is not None else args.out
    load_before = os.getloadavg()
    workdir = tempfile.mkdtemp(prefix='valet-bench-e2e-')
    variants = []
    try:
        inventory = os.path.join(workdir, 'inventory.yaml')
        started = time.perf_counter()
        engine_follow.write_inventory(inventory, args.seed, args.e2e_hosts,
                                      args.e2e_per_host)
        print('inventory: %d hosts, %d servers, %.1f MB, written in %.1f s'
              % (args.e2e_hosts, args.e2e_hosts * args.e2e_per_host,
                 os.path.getsize(inventory) / 1e6,
                 time.perf_counter() - started), file=stream)
        rows = startup(workdir, inventory, args)
        builds = {}
        in_process = [('shipped', start_shipped)]
        if args.e2e_former:
            in_process.insert(0, ('former', start_former))
        for name, start in in_process:
            conf = make_conf(workdir, name, inventory)
            started = time.perf_counter()
            app, stop, endpoint = start(conf)
            builds[name] = time.perf_counter() - started
            variants.append(Variant(name, app, stop, endpoint))
            if name == 'shipped':
                cache_dir = conf.inventory.static_cache_dir
        if args.e2e_processes:
            variants += start_processes(args, workdir, inventory, cache_dir,
                                        stream)
        for name, seconds in builds.items():
            rows.append({'phase': 'start-up', 'variant':
                         'in this process: %s (YAML)' % name,
                         'start_s': round(seconds, 2)})
        requests(variants, args)
        if args.e2e_deployed:
            # Started and asked once the others are done: its processes
            # would otherwise share the cores with the all-in-one.
            pair = start_deployed(inventory, cache_dir, stream)
            if pair is not None:
                variants.append(pair)
                requests([pair], args)
        rows += e2e_report.summarise(variants)
    finally:
        for variant in variants:
            variant.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()
    failures = [f for v in variants for f in v.failures]
    e2e_report.report(rows, load_before, load_after, args, stream)
    for failure in failures[:10]:
        print('FAIL %s' % failure, file=stream)
    if out:
        directory = os.path.dirname(out)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(out, 'w') as handle:
            json.dump({'load_before': load_before, 'load_after': load_after,
                       'rows': rows, 'failures': failures}, handle, indent=1)
            handle.write('\n')
        print('records written to %s' % out, file=stream)
    return rows, failures


class HttpServing:
    """A Valet API at ``url`` (the deployed pair, a process), asked like
    ``Serving`` (the same client: its cost is the same for all)."""

    def __init__(self, url):
        self.url = url
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip('/')
        self.kept = KeptConnection(self.host, self.port)

    def request(self, method, path, body=None, kept=False):
        if kept:
            return self.kept.request(method, self.prefix + path, body)
        return http_request(self.host, self.port, method,
                            self.prefix + path, body)


class LoggedDecisions:
    """The solver time the engine logs for each plan.

    The line is ``Plan <id> (stack <stack>): ... <ms> ms``, in the
    engine's log file.
    """

    def __init__(self, deployment):
        self.deployment = deployment
        self.last_ms = None

    def find(self, plan_id):
        pattern = re.compile(r'Plan %s \(stack [^)]*\): .*, ([0-9.]+) ms'
                             % re.escape(plan_id))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = pattern.findall(self.deployment.engine_log(whole=True))
            if found:
                return float(found[-1])
            time.sleep(0.05)
        return None


class DeployedVariant(Variant):
    """valet-api under uwsgi and valet-engine over RabbitMQ, MariaDB."""

    def __init__(self, deployment, database):
        self.name = 'deployed'
        self.deployment, self.database = deployment, database
        self.serving = HttpServing(deployment.url)
        self.clock = LoggedDecisions(deployment)
        self.times, self.failures = {}, []

    def plan(self, kind, body, timed=True, kept=False):
        suffix = ' kept' if kept else ''
        kind += suffix
        api_ms, status, answer = self.serving.request('POST', '/v1/plans',
                                                      body, kept=kept)
        if status != 201:
            self.failures.append('%s %s: %s %s' % (self.name, kind, status,
                                                   str(answer)[:300]))
            return
        if timed:
            self.record(kind, api_ms, self.clock.find(answer['plan']['id']))
        api_ms, status, _ = self.serving.request(
            'DELETE', '/v1/plans/%s' % answer['plan']['id'], kept=kept)
        if status != 204:
            self.failures.append('%s delete: %s' % (self.name, status))
        elif timed:
            self.record('delete' + suffix, api_ms)

    def stop(self):
        self.serving.kept.close()
        self.deployment.cleanUp()
        self.database.cleanUp()


class ProcessVariant(DeployedVariant):
    """``valet-api --all-in-one`` of a tree (this one, or an older commit's
    worktree) in a process of its own, on the same inventory and parse
    cache; the solver time from its log, as for the deployed pair."""

    def __init__(self, name, tree, workdir, inventory, cache_dir):
        self.name = name
        self.times, self.failures = {}, []
        base = os.path.join(workdir, name.replace(' ', '-'))
        os.makedirs(base, exist_ok=True)
        self.log = os.path.join(base, 'valet-api.log')
        config = os.path.join(base, 'valet.conf')
        with open(config, 'w') as handle:
            handle.write(
                '[DEFAULT]\ndebug = false\nstate_dir = %s\nlog_file = %s\n'
                '[inventory]\nlevels = %s\nstatic_cache_dir = %s\n'
                '[engine]\nrpc_timeout = 120\n' % (
                    base, self.log, ','.join(gen.LEVELS), cache_dir))
        with socket.socket() as probe:
            probe.bind(('127.0.0.1', 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'valet.cmd.api', '--config-file', config,
             '--all-in-one', '--inventory', inventory, '--port', str(port)],
            cwd=tree, env=dict(os.environ, PYTHONPATH=tree),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.serving = HttpServing('http://127.0.0.1:%d' % port)
        self.clock = LoggedDecisions(self)
        deadline = time.monotonic() + 900
        while True:
            if self.process.poll() is not None:
                raise RuntimeError('valet-api of %s exited: %s' % (
                    tree, self.engine_log(whole=True)[-2000:]))
            try:
                if self.serving.request('GET', '/')[1] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('valet-api of %s did not start' % tree)
            time.sleep(0.5)

    def engine_log(self, whole=True):
        try:
            with open(self.log) as handle:
                return handle.read()
        except OSError:
            return ''

    def stop(self):
        self.serving.kept.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_processes(args, workdir, inventory, cache_dir, stream):
    """``--processes``: this tree's valet-api and, with ``--old-tree``, the
    older one's, each in its own process."""
    trees = [('process', TREE)]
    if args.e2e_old_tree:
        trees.insert(0, ('old process', os.path.abspath(args.e2e_old_tree)))
    out = []
    for name, tree in trees:
        try:
            out.append(ProcessVariant(name, tree, workdir, inventory,
                                      cache_dir))
        except Exception as exc:
            print('%s: not measured (%s)' % (name, exc), file=stream)
    return out


def start_deployed(inventory, cache_dir, stream):
    """The deployed pair on the same inventory, or None (and why)."""
    try:
        from valet.tests.functional import databases
        from valet.tests.functional import deployment as deploy
        database = databases.DatabaseFixture(databases.MySQLServer())
        database.setUp()
    except Exception as exc:        # no MariaDB here: say so, go on
        print('deployed pair: not measured (MariaDB: %s)' % exc,
              file=stream)
        return None
    pair = deploy.Deployment(
        connection=database.url, inventory=inventory, rpc_timeout=120,
        extra_config={'DEFAULT': {'debug': 'false'},
                      'inventory': {'levels': ','.join(gen.LEVELS),
                                    'static_cache_dir': cache_dir}})
    try:
        pair.setUp()
    except Exception as exc:
        database.cleanUp()
        print('deployed pair: not measured (%s)' % exc, file=stream)
        return None
    return DeployedVariant(pair, database)


def requests(variants, args):
    rng = random.Random(args.seed)
    group = 'bench-spread'
    for variant in variants:
        variant.serving.request('POST', '/v1/groups', {
            'name': group, 'type': 'diversity', 'level': 'host'})
        # Warm up: first calls import and compile what later calls reuse.
        for _ in range(3):
            variant.plan('single', {'plan_name': 'warm', 'stack_id': 'warm',
                                    'resources': resources(rng, 1)},
                         timed=False)
        variant.plan('stack', {'plan_name': 'warm', 'stack_id': 'warm',
                               'resources': resources(
                                   rng, args.e2e_stack_size, group)},
                     timed=False)
    # Each request twice: on a new connection and on the kept one, the
    # two alternated (first one, then the other) so both meet the same
    # load.
    for i in range(args.e2e_singles):
        body = {'plan_name': 'one-%d' % i, 'stack_id': 'one-%d' % i,
                'resources': resources(rng, 1)}
        for variant in variants:
            for kept in (bool(i % 2), not i % 2):
                variant.plan('single', body, kept=kept)
            variant.status()
    for i in range(args.e2e_stacks):
        body = {'plan_name': 'stack-%d' % i, 'stack_id': 'stack-%d' % i,
                'resources': resources(rng, args.e2e_stack_size, group)}
        for variant in variants:
            for kept in (bool(i % 2), not i % 2):
                variant.plan('stack%d' % args.e2e_stack_size, body,
                             kept=kept)


def add_arguments(parser, prefix=''):
    """Options as ``--hosts`` (alone) or ``--e2e-hosts`` (in ``bench``)."""
    def option(name, **kwargs):
        parser.add_argument('--%s%s' % (prefix, name),
                            dest='e2e_' + name.replace('-', '_'), **kwargs)
    option('hosts', type=int, default=5000, help='hosts [5000]')
    option('per-host', type=int, default=10,
           help='servers already running per host [10]')
    option('singles', type=int, default=None,
           help='one-server plans per variant [30; quick 10]')
    option('stacks', type=int, default=None,
           help='stacks per variant [10; quick 4]')
    option('stack-size', type=int, default=50, help='servers per stack [50]')
    option('old-tree', default=None,
           help='also start up the all-in-one of this tree (a worktree '
                'of an older commit) for a side-by-side before/after')
    option('processes', action=argparse.BooleanOptionalAction,
           default=False,
           help='also measure valet-api --all-in-one in a process of its '
                'own, of this tree and of --old-tree [off]')
    option('former', action=argparse.BooleanOptionalAction, default=False,
           help='also measure the all-in-one as it was before the direct '
                'client and the connection pool, in this process beside '
                'shipped (its second model and threads slow shipped down) '
                '[off]')
    option('deployed', action=argparse.BooleanOptionalAction, default=True,
           help='also measure the deployed pair: valet-api under uwsgi, '
                'valet-engine over RabbitMQ, MariaDB [on]')


def settle(args):
    """Fill in the counts ``--quick`` decides."""
    quick = getattr(args, 'quick', False)
    if args.e2e_singles is None:
        args.e2e_singles = 10 if quick else 30
    if args.e2e_stacks is None:
        args.e2e_stacks = 4 if quick else 10


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m bench.end_to_end',
        description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--out', default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    _rows, failures = run(args)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
