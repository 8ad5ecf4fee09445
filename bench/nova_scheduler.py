"""Nova scheduling with and without ValetFilter, side by side on one cloud.

Usage (MariaDB, RabbitMQ, and the venvs of tools/install-keystone.sh,
install-openstack.sh and install-glance.sh)::

    python -m bench.nova_scheduler [--sequential 10] [--burst 20]
        [--rounds 1] [--out bench/results/nova_scheduler.json]

It starts the functional compute cloud once
(``valet/tests/functional/compute_cloud.py``: real Keystone, Placement,
Glance, Nova with four fake-driver computes, Valet; a Neutron stand-in)
and then, ``--rounds`` times, for nova-scheduler **without** and **with**
ValetFilter (the scheduler is restarted between the two; everything else
stays up):

``select_destinations``
    ``--sequential`` servers booted one after the other, each waited
    ACTIVE. The scheduler's time per request comes from Nova's own
    versioned notifications ``scheduler.select_destinations.start`` and
    ``.end`` (their timestamps, taken in nova-scheduler): host states,
    filters (ValetFilter's REST round trip to Valet and the engine's
    decision included), weighers and the Placement claim. Placement's
    candidate query before it is the same in both modes.
``boot-to-ACTIVE``
    ``--burst`` servers requested at once (separate POSTs, no waiting):
    the wall time from the first POST to the last server ACTIVE, and each
    server's POST-to-ACTIVE time (polled every 0.25 s). The
    ``select_destinations`` time of each burst request is reported too:
    its longest is what the filter's ``[valet] timeout`` must allow.

The servers are booted ad hoc (nobody planned them), so with the filter
Valet makes a one-server plan for each, in the server's project. The
filter runs with its default ``timeout`` unless ``--filter-timeout`` sets
one: a burst waits for one engine's decisions in turn, so a request that
outlasts the budget fails the bench (NoValidHost) and says the default is
too short for such a burst. Servers are deleted (and gone from Nova)
between the measurements. Every boot must end ACTIVE: an ERROR prints
FAIL and exits non-zero.
"""

import argparse
import collections
import datetime
import json
import os
import statistics
import sys
import threading
import time
import uuid

from oslo_config import cfg
import oslo_messaging as messaging

from valet.plugins.nova import conf as filter_conf
from valet.tests.functional import compute_cloud

EVENT = r'^scheduler\.select_destinations\.(start|end)$'


class SelectTimes:
    """Notification endpoint: start/end timestamps per instance UUID."""

    filter_rule = messaging.NotificationFilter(event_type=EVENT)

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = collections.defaultdict(dict)

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        data = payload.get('nova_object.data', {})
        instance = data.get('instance_uuid')
        stamp = datetime.datetime.fromisoformat(metadata['timestamp'])
        with self.lock:
            self.seen[instance][event_type.rsplit('.', 1)[1]] = stamp
        return messaging.NotificationResult.HANDLED

    def duration(self, instance, seconds=120):
        """Seconds between the start and end of ``instance``'s request."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                found = self.seen.get(instance, {})
                if 'start' in found and 'end' in found:
                    return (found['end'] - found['start']).total_seconds()
            time.sleep(0.1)
        raise RuntimeError('no select_destinations start/end for %s'
                           % instance)


def _listen(cloud, endpoint):
    conf = cfg.ConfigOpts()
    conf([], project='valet-bench')
    transport = messaging.get_notification_transport(
        conf, url=cloud.transport_url)
    listener = messaging.get_notification_listener(
        transport, [messaging.Target(topic='versioned_notifications',
                                     exchange='nova')],
        [endpoint], pool='valet-bench-%s' % uuid.uuid4().hex[:8])
    listener.start()
    return listener, transport


def _filter_complaints(cloud, lines=5):
    """The filter's last errors and warnings in nova-scheduler's log."""
    path = os.path.join(cloud.tmp, 'logs', 'nova-scheduler.log')
    with open(path, errors='replace') as f:
        found = [line for line in f if 'valet' in line and
                 (' ERROR ' in line or ' WARNING ' in line)]
    return ''.join(found[-lines:])


def _fail(message):
    print('FAIL: %s' % message, file=sys.stderr)
    raise SystemExit(1)


def sequential(cloud, times, count, label):
    durations = []
    for index in range(count):
        body = cloud.boot('bench-%s-seq-%d' % (label, index))
        server = cloud.wait_server(body['server']['id'])
        if server['status'] != 'ACTIVE':
            _fail('%s: %s is %s: %s\n%s' % (
                label, server['name'], server['status'],
                (server.get('fault') or {}).get('message'),
                _filter_complaints(cloud)))
        durations.append(times.duration(server['id']))
    cloud.delete_all_servers()
    return durations


def burst(cloud, times, count, label):
    started = {}
    first = time.monotonic()
    for index in range(count):
        body = cloud.boot('bench-%s-burst-%d' % (label, index))
        started[body['server']['id']] = time.monotonic()
    active = {}
    deadline = time.monotonic() + 600
    while len(active) < count:
        if time.monotonic() > deadline:
            _fail('%s: only %d of %d servers ACTIVE after 600 s'
                  % (label, len(active), count))
        now = time.monotonic()
        for server in cloud.compute(
                'GET', '/servers/detail?all_tenants=1').json()['servers']:
            sid = server['id']
            if sid not in started or sid in active:
                continue
            if server['status'] == 'ERROR':
                _fail('%s: %s ERROR: %s\n%s' % (
                    label, server['name'],
                    (server.get('fault') or {}).get('message'),
                    _filter_complaints(cloud)))
            if server['status'] == 'ACTIVE':
                active[sid] = now - started[sid]
        time.sleep(0.25)
    wall = time.monotonic() - first
    selects = [times.duration(sid) for sid in started]
    cloud.delete_all_servers()
    return wall, list(active.values()), selects


def _p(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sequential', type=int, default=10)
    parser.add_argument('--burst', type=int, default=20)
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--filter-timeout', type=float, default=None,
                        help='[valet] timeout of the filter (default: the '
                             "filter's own default)")
    parser.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'nova_scheduler.json'))
    args = parser.parse_args(argv)
    args.timeout_used = (args.filter_timeout if args.filter_timeout
                         is not None else filter_conf.DEFAULT_TIMEOUT)

    started = time.monotonic()
    cloud = compute_cloud.ComputeCloud()
    cloud.setUp()
    try:
        if not cloud.filter_enabled:
            _fail('the tree has no ValetFilter to measure')
        print('cloud up in %.1f s (%s)' % (cloud.startup_seconds,
                                           cloud.timings), file=sys.stderr)
        times = SelectTimes()
        listener, transport = _listen(cloud, times)
        results = {label: {'select': [], 'walls': [], 'active': [],
                           'burst_select': []}
                   for label in ('without', 'with')}
        try:
            for round_ in range(args.rounds):
                for label, with_filter in (('without', False),
                                           ('with', True)):
                    if with_filter:
                        # Not the cloud's own (shorter) test budget.
                        cloud.configure_scheduler(
                            True, timeout=str(args.timeout_used))
                    else:
                        cloud.configure_scheduler(False)
                    res = results[label]
                    res['select'] += sequential(cloud, times,
                                                args.sequential, label)
                    wall, each, selects = burst(cloud, times, args.burst,
                                                label)
                    res['walls'].append(wall)
                    res['active'] += each
                    res['burst_select'] += selects
                    print('round %d %-7s select p50 %.0f ms, burst of %d '
                          'ACTIVE in %.1f s' % (
                              round_ + 1, label,
                              1000 * statistics.median(res['select']),
                              args.burst, wall), file=sys.stderr)
        finally:
            listener.stop()
            listener.wait()
            transport.cleanup()
    finally:
        cloud.cleanUp()
    report(results, args, time.monotonic() - started)


def report(results, args, total):
    rows = []
    summary = {}
    for label in ('without', 'with'):
        res = results[label]
        summary[label] = {
            'select_destinations_ms': {
                'p50': 1000 * statistics.median(res['select']),
                'p90': 1000 * _p(res['select'], 0.9),
                'samples': len(res['select'])},
            'burst_wall_s': {'median': statistics.median(res['walls']),
                             'all': res['walls']},
            'boot_to_active_s': {'p50': statistics.median(res['active']),
                                 'p90': _p(res['active'], 0.9),
                                 'samples': len(res['active'])},
            'burst_select_destinations_s': {
                'p50': statistics.median(res['burst_select']),
                'p90': _p(res['burst_select'], 0.9),
                'max': max(res['burst_select']),
                'samples': len(res['burst_select'])},
        }
    w, v = summary['without'], summary['with']
    rows.append(('select_destinations p50 (ms)',
                 w['select_destinations_ms']['p50'],
                 v['select_destinations_ms']['p50']))
    rows.append(('select_destinations p90 (ms)',
                 w['select_destinations_ms']['p90'],
                 v['select_destinations_ms']['p90']))
    rows.append(('%d servers to ACTIVE, wall (s)' % args.burst,
                 w['burst_wall_s']['median'], v['burst_wall_s']['median']))
    rows.append(('boot-to-ACTIVE p50 (s)', w['boot_to_active_s']['p50'],
                 v['boot_to_active_s']['p50']))
    rows.append(('boot-to-ACTIVE p90 (s)', w['boot_to_active_s']['p90'],
                 v['boot_to_active_s']['p90']))
    for key in ('p50', 'max'):
        rows.append(('burst select_destinations %s (s)' % key,
                     w['burst_select_destinations_s'][key],
                     v['burst_select_destinations_s'][key]))
    print('\nNova scheduling, %d rounds (%d sequential boots and a burst of '
          '%d per round and mode), [valet] timeout %s s, %.0f s in all\n'
          % (args.rounds, args.sequential, args.burst, args.timeout_used,
             total))
    print('%-34s %14s %14s %12s' % ('', 'without filter', 'with filter',
                                    'added'))
    for name, without, with_ in rows:
        print('%-34s %14.1f %14.1f %+12.1f' % (name, without, with_,
                                               with_ - without))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump({'rounds': args.rounds, 'sequential': args.sequential,
                   'burst': args.burst, 'filter_timeout': args.timeout_used,
                   'results': summary,
                   'when': time.strftime('%Y-%m-%dT%H:%M:%SZ',
                                         time.gmtime())}, f, indent=2)
    print('\nwritten to %s' % args.out)


if __name__ == '__main__':
    main()
