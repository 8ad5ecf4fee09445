"""One member of a leader election, as a process of its own.

The functional tests start several of these and kill them (SIGKILL for a
crash, SIGTERM for a clean stop)::

    VALET_TEST_COORDINATION_URL=redis://127.0.0.1:6379 \\
        python -m valet.tests.functional.engine.leader_member \\
        --member A --group test-1 --lease 3 --interval 0.3

The URL comes from the environment, not the command line, where any user
could read a password. Each event is one JSON line on stdout:
``{"event": "ready"|"elected"|"lost"|"stopped", "member": ..., "t": ...}``
with ``t`` from ``time.monotonic()``, a system-wide clock on Linux, so the
test can order events of different processes. Logs go to stderr.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time

from oslo_config import cfg

from valet import conf as valet_conf
from valet.engine import leader

URL_ENV = 'VALET_TEST_COORDINATION_URL'


def parse(argv):
    parser = argparse.ArgumentParser(prog='leader_member')
    parser.add_argument('--member', required=True)
    parser.add_argument('--group', required=True)
    parser.add_argument('--lease', type=int, default=3)
    parser.add_argument('--interval', type=float, default=0.3)
    parser.add_argument('--max-retry', type=float, default=1.0)
    parser.add_argument('--takeover-delay', type=float)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO,
        format='%(asctime)s ' + args.member + ' %(threadName)s '
               '%(levelname)s %(name)s %(message)s')
    conf = cfg.ConfigOpts()
    valet_conf.register_all(conf)
    conf([], project='valet', default_config_files=[])
    overrides = {'backend_url': os.environ.get(URL_ENV, ''),
                 'group_name': args.group,
                 'lease_timeout': args.lease,
                 'heartbeat_interval': args.interval,
                 'max_retry_interval': args.max_retry,
                 'takeover_delay': args.takeover_delay}
    for key, value in overrides.items():
        conf.set_override(key, value, group='coordination')

    out = threading.Lock()

    def emit(event, **extra):
        line = dict(extra, event=event, member=args.member,
                    t=time.monotonic())
        with out:
            sys.stdout.write(json.dumps(line) + '\n')
            sys.stdout.flush()

    member = leader.Leadership(conf, member_id=args.member,
                               on_elected=lambda: emit('elected'),
                               on_lost=lambda: emit('lost'))
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    member.start()
    emit('ready', takeover_delay=member.takeover_delay)
    while not stopping.wait(0.05):
        pass
    member.stop()
    emit('stopped')
    return 0


if __name__ == '__main__':
    sys.exit(main())
