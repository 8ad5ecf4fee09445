"""Nova notification burst: how fast the listener parses and delivers.

Usage (RabbitMQ on 127.0.0.1:5672, nova in the OpenStack venv)::

    python -m bench.notifications [--count 10000] [--url rabbit://...]
        [--openstack-venv .tox/openstack] [--skip-nova]

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

``on_event`` only counts: these are the listener's numbers, not the
engine's cost of applying each record.
"""

import argparse
import copy
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import uuid

import kombu
from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging import opts as messaging_opts

from valet import conf as valet_conf
from valet.inventory.openstack import notifications

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
NOVA_NOTIFY = os.path.join(_REPO, 'valet', 'tests', 'functional',
                           'nova_notify.py')
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


class Counter:
    def __init__(self, target):
        self.target = target
        self.count = 0
        self.first = self.last = None
        self.done = threading.Event()

    def __call__(self, event):
        now = time.monotonic()
        if self.first is None:
            self.first = now
        self.count += 1
        self.last = now
        if self.count >= self.target:
            self.done.set()


def nova_python(venv):
    python = os.path.join(venv, 'bin', 'python')
    if not os.path.exists(python):
        sys.exit('no python in %s: run tools/install-openstack.sh' % venv)
    return python


def nova_messages(python):
    """The templates as Nova's objects serialise them."""
    out = subprocess.run([python, NOVA_NOTIFY, '--dump'],
                         input=json.dumps(TEMPLATES), capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


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


def make_conf(url, exchange, topic, pool):
    conf = cfg.ConfigOpts()
    valet_conf.register_all(conf)
    for group, opts in messaging_opts.list_opts():
        conf.register_opts(opts, group=group)
    conf([], project='valet')
    for name, value in (('exchange', exchange), ('topics', [topic]),
                        ('pool', pool)):
        conf.set_override(name, value, group='nova_notifications')
    # Valet's own publisher (drain, live) uses the control exchange.
    conf.set_override('control_exchange', exchange)
    return conf


def publish(url, exchange, topic, messages, count, ready=None):
    conf = make_conf(url, exchange, topic, 'unused')
    transport = messaging.get_notification_transport(conf, url=url)
    notifier = messaging.Notifier(transport, driver='messagingv2',
                                  topics=[topic])
    notifiers = {}
    if ready is not None:
        ready.wait()
    started = time.monotonic()
    for msg, payload in burst(messages, count):
        pub = msg['publisher_id']
        if pub not in notifiers:
            notifiers[pub] = notifier.prepare(publisher_id=pub)
        notifiers[pub].info({}, msg['event_type'], payload)
    seconds = time.monotonic() - started
    transport.cleanup()
    return seconds


def _publish_child(url, exchange, topic, messages, count, start_at, out):
    while time.time() < start_at:
        time.sleep(0.001)
    out.put((time.monotonic(), publish(url, exchange, topic, messages,
                                       count)))


def run_listener(conf, transport, counter):
    listener = notifications.NotificationListener(conf, counter,
                                                  transport=transport)
    started = time.monotonic()
    listener.start()
    return listener, started


def stop(listener):
    listener.stop()
    listener.wait()


def measure(args):
    unique = uuid.uuid4().hex[:10]
    exchange, topic, pool = ('bench-nova-' + unique,
                             'bench-versioned-' + unique,
                             'bench-pool-' + unique)
    conf = make_conf(args.url, exchange, topic, pool)
    transport = messaging.get_notification_transport(conf, url=args.url)
    python = nova_python(args.openstack_venv)
    messages = nova_messages(python)
    results = {}

    started = time.monotonic()
    for msg, payload in burst(messages, args.count):
        notifications.to_event(msg['event_type'], payload)
    results['parse'] = (args.count, time.monotonic() - started)

    try:
        # drain: declare the pool queue, fill it, then listen.
        stop(run_listener(conf, transport, Counter(1))[0])
        seconds = publish(args.url, exchange, topic, messages, args.count)
        results['publish (oslo.messaging)'] = (args.count, seconds)
        counter = Counter(args.count)
        listener, started = run_listener(conf, transport, counter)
        counter.done.wait(args.timeout)
        results['drain'] = (counter.count, counter.last - started)
        stop(listener)

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
        results['live publish'] = (args.count, pub_seconds)
        results['live end-to-end'] = (counter.count, counter.last - began)
        stop(listener)

        if not args.skip_nova:
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
                                                emitted['seconds'])
            # Nova's import and set-up come before its first message.
            results['nova end-to-end'] = (counter.count,
                                          counter.last - counter.first)
            results['nova incl. start-up'] = (counter.count,
                                              counter.last - began)
            stop(listener)
    finally:
        transport.cleanup()
        with kombu.Connection('amqp://' + args.url.split('://', 1)[1]) as c:
            channel = c.channel()
            for queue in (pool, topic + '.info', topic + '.error'):
                channel.queue_delete(queue)
            channel.exchange_delete(exchange)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--count', type=int, default=10000)
    parser.add_argument('--url', default=os.environ.get(
        'VALET_TEST_TRANSPORT_URL', 'rabbit://guest:guest@127.0.0.1:5672/'))
    parser.add_argument('--openstack-venv', default=os.environ.get(
        'VALET_OPENSTACK_VENV', os.path.join(_REPO, '.tox', 'openstack')))
    parser.add_argument('--timeout', type=float, default=600)
    parser.add_argument('--skip-nova', action='store_true',
                        help='leave out the burst through Nova\'s own code')
    args = parser.parse_args(argv)
    results = measure(args)
    print('%-26s %8s %9s %10s' % ('phase', 'messages', 'seconds', 'per s'))
    for phase, (count, seconds) in results.items():
        print('%-26s %8d %9.2f %10.0f' % (phase, count, seconds,
                                          count / seconds if seconds else 0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
