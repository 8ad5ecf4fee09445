"""Nova notification burst: how fast the listener delivers, the engine applies.

Usage (RabbitMQ on 127.0.0.1:5672, nova in the OpenStack venv)::

    python -m bench.notifications [--count 10000] [--url rabbit://...]
        [--openstack-venv .tox/openstack] [--skip-nova]
        [--phases parse,drain,live,nova,engine] [--engine-count N]
        [--hosts 5000] [--servers-per-host 2] [--planned 1000]
        [--plan-size 100] [--seed 1] [--profile] [--out FILE]

Payloads are real: ``valet/tests/functional/nova_notify.py --dump`` builds
them once with Nova's own notification objects. Then, on a private exchange,
topic and pool:

``parse``
    ``to_event`` alone, in process, over the same messages (no broker).
``drain``
    COUNT notifications are queued while no listener runs (published with
    oslo.messaging's ``messagingv2`` driver), then a listener starts: the
    time from its start to the last record delivered. The listener's own
    ceiling: broker to ``on_event``.
``live``
    A separate process publishes COUNT notifications with oslo.messaging
    while the listener runs: first publish to last delivery.
``nova``
    ``nova_notify.py`` emits COUNT notifications through Nova's own code
    (objects built and serialised for every message) while the listener
    runs. Nova's emit time is reported by the script itself.

``on_event`` only counts in these phases: they are the listener's numbers,
not the engine's cost of applying each record. That cost is measured by
the ``engine`` phase (and its ``engine+plans`` variant), in
``bench.engine_follow``: a real ``EngineEndpoint`` on a model of
``--hosts`` hosts with SQLite storage applies a seeded burst of
``--engine-count`` Nova notifications, directly and drained from the
broker, and its model is checked against the burst's expected result: a
wrong result prints FAIL and exits non-zero.
"""

import argparse
import copy
import json
import multiprocessing
import os
import subprocess
import sys
import time
import uuid

import kombu
import oslo_messaging as messaging

from valet.inventory.openstack import notifications

from bench.engine_follow import measure_engine
from bench.nova_bus import Counter
from bench.nova_bus import make_conf
from bench.nova_bus import NOVA_NOTIFY
from bench.nova_bus import nova_messages
from bench.nova_bus import nova_python
from bench.nova_bus import run_listener
from bench.nova_bus import send
from bench.nova_bus import stop

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
DEFAULT_OUT = os.path.join('bench', 'results', 'notifications.json')
KEYS = ('phase', 'messages', 'seconds', 'per_s', 'check', 'note')
PHASES = ('parse', 'drain', 'live', 'nova', 'engine')
FLAVOR = {'name': 'm1.medium', 'vcpus': 2, 'memory_mb': 4096,
          'root_gb': 40, 'extra_specs': {'resources:CUSTOM_X': '1'}}
# One burst's mix: what a busy cloud's computes send, all of it followed.
TEMPLATES = [
    {'event_type': 'instance.create.end', 'host': 'cmp1',
     'node': 'cmp1', 'flavor': FLAVOR, 'metadata': {'valet_groups': 'a'}},
    {'event_type': 'instance.resize_finish.end', 'host': 'cmp2',
     'node': 'cmp2', 'flavor': FLAVOR, 'state': 'resized'},
    {'event_type': 'instance.live_migration_post_dest.end', 'host': 'cmp3',
     'node': 'cmp3', 'flavor': FLAVOR},
    {'event_type': 'instance.delete.end', 'host': 'cmp3', 'node': 'cmp3',
     'flavor': FLAVOR, 'state': 'deleted'},
    {'event_type': 'service.update', 'host': 'cmp4', 'disabled': True},
]


def burst(messages, count):
    """COUNT messages cycling through the templates, each its own server."""
    for i in range(count):
        msg = messages[i % len(messages)]
        payload = dict(msg['payload'])
        data = dict(payload['nova_object.data'])
        if 'uuid' in data and msg['event_type'].startswith('instance.'):
            data['uuid'] = str(uuid.UUID(int=i + 1))
        payload['nova_object.data'] = data
        yield msg, payload


def publish(url, exchange, topic, messages, count, ready=None):
    return send(url, exchange, topic,
                ((msg['publisher_id'], msg['event_type'], payload)
                 for msg, payload in burst(messages, count)), ready)


def _publish_child(url, exchange, topic, messages, count, start_at, out):
    while time.time() < start_at:
        time.sleep(0.001)
    out.put((time.monotonic(), publish(url, exchange, topic, messages,
                                       count)))


def measure(args):
    unique = uuid.uuid4().hex[:10]
    exchange, topic, pool = ('bench-nova-' + unique,
                             'bench-versioned-' + unique,
                             'bench-pool-' + unique)
    conf = make_conf(args.url, exchange, topic, pool)
    transport = messaging.get_notification_transport(conf, url=args.url)
    python = nova_python(args.openstack_venv)
    messages = nova_messages(python, TEMPLATES)
    phases = args.phases
    # phase -> (messages, seconds, check[, note]); check: None, 'ok: ...' or
    # 'FAIL: ...'
    results = {}

    if 'parse' in phases:
        started = time.monotonic()
        for msg, payload in burst(messages, args.count):
            notifications.to_event(msg['event_type'], payload)
        results['parse'] = (args.count, time.monotonic() - started, None)

    try:
        if 'drain' in phases:
            # drain: declare the pool queue, fill it, then listen.
            stop(run_listener(conf, transport, Counter(1))[0])
            seconds = publish(args.url, exchange, topic, messages,
                              args.count)
            results['publish (oslo.messaging)'] = (args.count, seconds,
                                                   None)
            counter = Counter(args.count)
            listener, started = run_listener(conf, transport, counter)
            counter.done.wait(args.timeout)
            results['drain'] = (counter.count, counter.last - started, None)
            stop(listener)

        if 'live' in phases:
            # live: a separate publisher process, listener running.
            counter = Counter(args.count)
            listener, _ = run_listener(conf, transport, counter)
            # spawn, not fork: this process already runs listener threads.
            context = multiprocessing.get_context('spawn')
            out = context.Queue()
            child = context.Process(
                target=_publish_child,
                args=(args.url, exchange, topic, messages, args.count,
                      time.time() + 2, out))
            child.start()
            counter.done.wait(args.timeout)
            began, pub_seconds = out.get(timeout=args.timeout)
            child.join()
            results['live publish'] = (args.count, pub_seconds, None)
            results['live end-to-end'] = (counter.count,
                                          counter.last - began, None)
            stop(listener)

        if 'nova' in phases:
            counter = Counter(args.count)
            listener, _ = run_listener(conf, transport, counter)
            per = args.count // len(TEMPLATES)
            specs = []
            for i, spec in enumerate(TEMPLATES):
                spec = copy.deepcopy(spec)
                spec['repeat'] = per + (
                    1 if i < args.count % len(TEMPLATES) else 0)
                specs.append(spec)
            began = time.monotonic()
            out = subprocess.run(
                [python, NOVA_NOTIFY, '--url', args.url, '--exchange',
                 exchange, '--topic', topic], input=json.dumps(specs),
                capture_output=True, text=True, check=True)
            emitted = json.loads(out.stdout)
            counter.done.wait(args.timeout)
            results['nova emit (own timer)'] = (emitted['emitted'],
                                                emitted['seconds'], None)
            # Nova's import and set-up come before its first message.
            results['nova end-to-end'] = (counter.count,
                                          counter.last - counter.first,
                                          None)
            results['nova incl. start-up'] = (counter.count,
                                              counter.last - began, None)
            stop(listener)

        if 'engine' in phases:
            measure_engine(args, conf, transport, exchange, topic, python,
                           results)
    finally:
        transport.cleanup()
        with kombu.Connection('amqp://' + args.url.split('://', 1)[1]) as c:
            channel = c.channel()
            for queue in (pool, topic + '.info', topic + '.error'):
                channel.queue_delete(queue)
            channel.exchange_delete(exchange)
    return results


def records_of(results):
    """The JSON records, one per phase."""
    out = []
    for phase, (count, seconds, check, *note) in results.items():
        out.append(dict(zip(KEYS, (
            phase, count, round(seconds, 3),
            round(count / seconds, 1) if seconds else None, check,
            note[0] if note else None))))
    return out


def _phases(text):
    phases = [p.strip() for p in text.split(',') if p.strip()]
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        raise argparse.ArgumentTypeError(
            'unknown phase(s) %s; phases are %s' % (
                ', '.join(unknown), ', '.join(PHASES)))
    return phases


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--count', type=int, default=10000,
                        help='notifications per listener phase')
    parser.add_argument('--url', default=os.environ.get(
        'VALET_TEST_TRANSPORT_URL', 'rabbit://guest:guest@127.0.0.1:5672/'))
    parser.add_argument('--openstack-venv', default=os.environ.get(
        'VALET_OPENSTACK_VENV', os.path.join(_REPO, '.tox', 'openstack')))
    parser.add_argument('--timeout', type=float, default=600)
    parser.add_argument('--phases', type=_phases, default=list(PHASES),
                        help='comma-separated phases to run (default: %s)'
                        % ','.join(PHASES))
    parser.add_argument('--skip-nova', action='store_true',
                        help='leave out the burst through Nova\'s own code')
    engine = parser.add_argument_group('engine phase')
    engine.add_argument('--engine-count', type=int, default=10000,
                        help='notifications in each engine burst')
    engine.add_argument('--hosts', type=int, default=5000,
                        help='hosts in the engine\'s model')
    engine.add_argument('--servers-per-host', type=int, default=2,
                        help='servers already running per host')
    engine.add_argument('--planned', type=int, default=1000,
                        help='servers planned through create_plan for the '
                        'engine+plans variant (0: leave it out)')
    engine.add_argument('--plan-size', type=int, default=100,
                        help='servers per plan')
    engine.add_argument('--seed', type=int, default=1)
    engine.add_argument('--profile', action='store_true',
                        help='cProfile the direct handle_event runs')
    parser.add_argument('--out', default=DEFAULT_OUT,
                        help='where to write the records (JSON; "" for '
                        'nowhere)')
    args = parser.parse_args(argv)
    if args.skip_nova:
        args.phases = [p for p in args.phases if p != 'nova']
    started = time.monotonic()
    results = measure(args)
    print('%-36s %8s %9s %10s  %s'
          % ('phase', 'messages', 'seconds', 'per s', 'check'))
    for phase, (count, seconds, check, *note) in results.items():
        print('%-36s %8d %9.2f %10.0f  %s' % (
            phase, count, seconds, count / seconds if seconds else 0,
            check or ''))
        if note and note[0]:
            print('    ' + note[0])
    print('total run time: %.0f s' % (time.monotonic() - started))
    if args.out:
        directory = os.path.dirname(args.out)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(args.out, 'w') as handle:
            json.dump(records_of(results), handle, indent=1)
            handle.write('\n')
        print('records written to %s' % args.out)
    failed = [phase for phase, (_c, _s, check, *_n) in results.items()
              if check and not check.startswith('ok')]
    for phase in failed:
        print('FAIL: %s: the engine\'s model is not what the burst should '
              'leave behind' % phase)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
