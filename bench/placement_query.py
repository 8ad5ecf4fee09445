"""``placement-query`` phase: ``GET /v1/placements?heat_stack_id=X``.

The lookup Nova's filter makes for every server Heat boots. ``--count``
placements (stacks of ``--stack-size`` servers, each carrying Heat's
scheduler hints as metadata) are stored in the SQL driver on a temporary
SQLite file, then the same requests go through the v1 pecan app twice:

``indexed``
    the SQL driver as shipped: the metadata filter is a join on the
    ``placement_metadata`` index.
``full scan``
    the baseline, the driver's former way: read every placement (and its
    JSON) in the caller's scope and match the metadata in Python.

Both must answer the same placements (checked on every request). Printed:
per variant, the median and 95th percentile of one request, side by side,
and the speed-up; the records go to ``--out``.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time

from oslo_config import cfg
import sqlalchemy as sa
import webob

from valet.api import app as api_app
from valet import conf as valet_conf
from valet import objects
from valet import storage
from valet.storage.sql import driver as sql_driver

DEFAULT_OUT = os.path.join('bench', 'results', 'placement_query.json')
ADMIN = {'X-Project-Id': 'bench', 'X-User-Id': 'bench', 'X-Roles': 'admin'}


class FullScanStorage(sql_driver.SqlStorage):
    """The baseline: metadata filters matched in Python after reading
    every placement the other filters leave."""

    def list_placements(self, filters=None, metadata=None, project_id=None,
                        plan_ids=None, limit=None, marker=None):
        query = self.placements_query(filters, None, project_id, plan_ids)
        if query is None:
            return []
        with self._connect() as conn:
            found = [sql_driver._placement(r) for r in conn.execute(query)]
        found = [p for p in found
                 if storage.placement_matches(p, filters, metadata)]
        return found if limit is None else found[:limit]


def make_conf(connection):
    conf = cfg.ConfigOpts()
    valet_conf.register_all(conf)
    conf([], project='valet', default_config_files=[])
    conf.set_override('connection', connection, group='database')
    conf.set_override('auth_strategy', 'noauth', group='api')
    return conf


def fill(store, count, stack_size, seed):
    """Store ``count`` placements; returns the stack ids."""
    rng = random.Random(seed)
    stacks = []
    for first in range(0, count, stack_size):
        stack = 'stack-%06d' % len(stacks)
        plan = objects.Plan(name='plan-' + stack, stack_id=stack,
                            project_id='p%d' % rng.randrange(20))
        store.create_plan(plan, [objects.Placement(
            name='server-%d' % i, plan_id=plan.id,
            orchestration_id='%s-%04d' % (stack, i),
            location='host-%d' % rng.randrange(1000),
            metadata={'heat_stack_id': stack,
                      'heat_root_stack_id': stack,
                      'heat_resource_uuid': '%s-%04d' % (stack, i),
                      'heat_path_in_stack': 'root'})
            for i in range(min(stack_size, count - first))])
        stacks.append(stack)
    return stacks


def timed_gets(app, paths):
    """(milliseconds per request, answered bodies)."""
    times, bodies = [], []
    for path in paths:
        req = webob.Request.blank(path, headers=ADMIN)
        started = time.perf_counter()
        resp = req.get_response(app)
        times.append((time.perf_counter() - started) * 1000.0)
        if resp.status_int != 200:
            raise RuntimeError('%s answered %s: %s' % (path, resp.status,
                                                       resp.text[:300]))
        bodies.append(resp.json['placements'])
    return times, bodies


def measure(count=10000, stack_size=10, requests=50, seed=1, out=None,
            stream=sys.stdout):
    tmp = tempfile.mkdtemp(prefix='valet-bench-query-')
    conf = make_conf('sqlite:///%s/valet.sqlite' % tmp)
    indexed = sql_driver.SqlStorage(conf)
    full_scan = FullScanStorage(conf)
    try:
        indexed.upgrade()
        started = time.perf_counter()
        stacks = fill(indexed, count, stack_size, seed)
        fill_s = time.perf_counter() - started
        with indexed._connect() as conn:
            conn.execute(sa.text('ANALYZE'))
        rng = random.Random(seed)
        paths = ['/v1/placements?heat_stack_id=%s' % rng.choice(stacks)
                 for _ in range(requests)]
        apps = {
            'indexed': api_app.setup_app(conf, None, indexed, mount='all'),
            'full scan': api_app.setup_app(conf, None, full_scan,
                                           mount='all'),
        }
        results, answers = {}, {}
        for name, app in apps.items():
            timed_gets(app, paths[:5])          # warm up
            results[name], answers[name] = timed_gets(app, paths)
        if answers['indexed'] != answers['full scan']:
            raise RuntimeError('indexed and full-scan answers differ')
        if any(len(a) != stack_size for a in answers['indexed']):
            raise RuntimeError('a lookup did not find its whole stack')
    finally:
        indexed.dispose()
        full_scan.dispose()
    rows = []
    for name, times in results.items():
        times = sorted(times)
        rows.append({'variant': name, 'placements': count,
                     'requests': len(times),
                     'p50_ms': round(statistics.median(times), 3),
                     'p95_ms': round(times[int(0.95 * (len(times) - 1))], 3)})
    print('\nGET /v1/placements?heat_stack_id=X, %d placements stored '
          '(SQLite; filled in %.1f s), %d requests'
          % (count, fill_s, requests), file=stream)
    print('%-10s %12s %12s' % ('', 'indexed', 'full scan'), file=stream)
    by_name = {r['variant']: r for r in rows}
    for key in ('p50_ms', 'p95_ms'):
        print('%-10s %12.2f %12.2f' % (key, by_name['indexed'][key],
                                       by_name['full scan'][key]),
              file=stream)
    speedup = by_name['full scan']['p50_ms'] / max(
        by_name['indexed']['p50_ms'], 1e-9)
    print('speed-up (p50): %.0fx' % speedup, file=stream)
    if out:
        directory = os.path.dirname(out)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(out, 'w') as f:
            json.dump(rows, f, indent=1)
            f.write('\n')
        print('records written to %s' % out, file=stream)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m bench.placement_query',
        description='GET /v1/placements?heat_stack_id=X: indexed query '
                    'against the former full scan.')
    parser.add_argument('--count', type=int, default=10000,
                        help='placements stored [10000]')
    parser.add_argument('--stack-size', type=int, default=10,
                        help='placements per stack [10]')
    parser.add_argument('--requests', type=int, default=50,
                        help='timed requests per variant [50]')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--out', default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    measure(args.count, args.stack_size, args.requests, args.seed,
            args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
