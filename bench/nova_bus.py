"""The harness both notification benchmarks share.

Nova's payloads (``valet/tests/functional/nova_notify.py --dump``, run with
the python of a virtualenv that has ``nova``), valet's configuration for a
private exchange, topic and pool, oslo.messaging's publisher, and the real
``NotificationListener`` with a counting ``on_event``. Used by
``bench.notifications`` (the listener phases) and ``bench.engine_follow``
(the engine phase).
"""

import json
import os
import subprocess
import sys
import threading
import time

from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging import opts as messaging_opts

from valet import conf as valet_conf
from valet.inventory.openstack import notifications

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
NOVA_NOTIFY = os.path.join(_REPO, 'valet', 'tests', 'functional',
                           'nova_notify.py')


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


def nova_messages(python, templates):
    """The templates as Nova's objects serialise them."""
    out = subprocess.run([python, NOVA_NOTIFY, '--dump'],
                         input=json.dumps(templates), capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


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


def send(url, exchange, topic, items, ready=None):
    """Publish ``(publisher id, event type, payload)`` items; seconds."""
    conf = make_conf(url, exchange, topic, 'unused')
    transport = messaging.get_notification_transport(conf, url=url)
    notifier = messaging.Notifier(transport, driver='messagingv2',
                                  topics=[topic])
    notifiers = {}
    if ready is not None:
        ready.wait()
    started = time.monotonic()
    for pub, event_type, payload in items:
        if pub not in notifiers:
            notifiers[pub] = notifier.prepare(publisher_id=pub)
        notifiers[pub].info({}, event_type, payload)
    seconds = time.monotonic() - started
    transport.cleanup()
    return seconds


def run_listener(conf, transport, counter):
    listener = notifications.NotificationListener(conf, counter,
                                                  transport=transport)
    started = time.monotonic()
    listener.start()
    return listener, started


def stop(listener):
    listener.stop()
    listener.wait()
