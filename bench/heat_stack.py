"""A Heat stack of N servers to CREATE_COMPLETE, with and without Valet.

Usage (MariaDB, RabbitMQ, and the venvs of tools/install-keystone.sh,
install-openstack.sh, install-glance.sh and install-heat.sh)::

    python -m bench.heat_stack [--servers 20] [--rounds 1]
        [--out bench/results/heat_stack.json]

It starts the functional compute cloud once
(``valet/tests/functional/compute_cloud.py``) and a real Heat on it
(``valet/tests/functional/heat/heat_fixture.py``: heat-engine with the
default convergence engine, heat-api), then, ``--rounds`` times, creates
the same stack — a ResourceGroup of ``--servers`` servers in no group, so
that both modes can place it — with nova-scheduler **without** ValetFilter and
**with** it (restarted between the two; everything else stays up), and
measures the wall time from the stack create request to CREATE_COMPLETE.
With the filter, the first server makes Valet read the stack from Heat and
plan all of its servers at once; the others find their placements. Each
stack is deleted (and its servers gone from Nova) before the next.
"""

import argparse
import json
import os
import statistics
import sys
import time
import uuid

from valet.tests.functional import compute_cloud
from valet.tests.functional.heat import heat_fixture

TEMPLATE = '''
heat_template_version: 2021-04-16
resources:
  servers:
    type: OS::Heat::ResourceGroup
    properties:
      count: %(count)d
      resource_def:
        type: OS::Nova::Server
        properties:
          flavor: valet.small
          image: %(image)s
          networks: [{allocate_network: none}]
'''


def one_stack(cloud, heat, count, label):
    """(seconds to a settled stack, status, status reason)."""
    client = heat.client('alpha-member')
    started = time.monotonic()
    stack_id = client.create('bench-%s-%s' % (label, uuid.uuid4().hex[:6]),
                             TEMPLATE % {'count': count,
                                         'image': cloud.image_id})
    stack = client.wait(stack_id, seconds=900)
    seconds = time.monotonic() - started
    status = stack['stack_status']
    reason = stack.get('stack_status_reason')
    client.delete(stack_id)
    client.wait(stack_id, seconds=900)
    cloud.delete_all_servers()
    if status != 'CREATE_COMPLETE':
        print('FAIL: %s: %s %s' % (label, status, reason), file=sys.stderr)
    return seconds, status, reason


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--servers', type=int, default=20)
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'heat_stack.json'))
    parser.add_argument('--dir', help='keep the cloud\'s files and logs '
                        'here (removed at the end otherwise)')
    args = parser.parse_args(argv)
    results = {'without_valet': [], 'with_valet': []}
    failures = []
    with compute_cloud.ComputeCloud(base_dir=args.dir) as cloud:
        catalog = {'compute': cloud.endpoint, 'image': cloud.glance.url}
        with heat_fixture.HeatFixture(cloud.keystone,
                                      services=catalog) as heat:
            for _round in range(args.rounds):
                for label, with_filter in (('without_valet', False),
                                           ('with_valet', True)):
                    # The first server waits while Valet reads the
                    # stack from Heat and plans it.
                    cloud.configure_scheduler(with_filter, timeout='90')
                    seconds, status, reason = one_stack(
                        cloud, heat, args.servers, label)
                    results[label].append(seconds)
                    if status != 'CREATE_COMPLETE':
                        failures.append({'mode': label, 'status': status,
                                         'reason': reason})
    summary = {
        'servers': args.servers, 'rounds': args.rounds,
        'heat_engine': 'convergence',
        # Seconds from the create request until the stack settled
        # (CREATE_COMPLETE, or CREATE_FAILED for the runs in failures).
        'create_complete_seconds': {
            label: {'runs': [round(s, 2) for s in runs],
                    'median': round(statistics.median(runs), 2)}
            for label, runs in results.items()},
        'failures': failures}
    text = json.dumps(summary, indent=2)
    print(text)
    with open(args.out, 'w') as handle:
        handle.write(text + '\n')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
