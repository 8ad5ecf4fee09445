"""A single-server decision against the number of stored exclusivity groups.

Every exclusivity group stored in the model keeps outsiders out of its
domains, so each decision must know where their members run; that must
not make a one-server decision grow with the number of groups. This takes
the 5,000-host data centre of the engine benchmark (10 servers per host),
adds 0 or N host-exclusivity groups of two placed members each (on hosts
of their own), and times ``decide`` for one ad-hoc server on the same
model (the model is built once; ``decide`` does not change it).

Usage::

    python -m bench.exclusivity_scale [--groups 200] [--reps 20]
"""

import argparse
import random
import statistics
import sys
import time

from valet.engine.model import datacenter
from valet.engine.model import groups as g

from bench import generator as gen

HOSTS = 5000


def with_groups(spec, count, seed=1):
    """A fresh model of ``spec`` with ``count`` stored exclusivity groups
    of two members each, on hosts that hold nothing else."""
    dc = spec.build()
    rng = random.Random(seed)
    empty = sorted(h for h in dc.hosts if not dc.servers_on(h)
                   and dc.hosts[h].enabled)
    hosts = rng.sample(empty, min(count, len(empty)))
    for k, host in enumerate(hosts):
        group = g.Group('bench-ex-%03d' % k, g.EXCLUSIVITY, 'host')
        dc.define_group(group)
        for m in range(2):
            dc.place(datacenter.PlacedServer(
                id='bench-ex-%03d-%d' % (k, m), host=host,
                demand=dict(gen.DEMAND['m1.small']), groups=(group.name,),
                stack='bench-ex'))
    return dc


def measure(seed=1, counts=(0, 200), reps=20, decide=None, hosts=HOSTS):
    """{count: p50 ms} of one single-server decision."""
    if decide is None:
        from valet.engine.solver import decide
    spec = gen.large_spec(seed, hosts)
    request = gen.single_server(spec)
    models = {count: with_groups(spec, count, seed) for count in counts}
    times = {count: [] for count in counts}
    for count, dc in models.items():
        decide(dc, request)                 # warm caches, as a service is
    # Taking turns, so that a busy machine slows every count alike.
    for _ in range(reps):
        for count, dc in models.items():
            start = time.perf_counter()
            decision = decide(dc, request)
            times[count].append((time.perf_counter() - start) * 1000.0)
            assert decision.feasible, decision.explanation
    return {count: statistics.median(times[count]) for count in counts}


def report(result, out=sys.stdout):
    counts = sorted(result)
    base = result[counts[0]]
    out.write('\n== Single-server decision, %d hosts, stored host-'
              'exclusivity groups: p50 ms ==\n' % HOSTS)
    for count in counts:
        out.write('  %4d groups  %7.2f ms  %.2fx\n' % (
            count, result[count], result[count] / max(base, 1e-9)))


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.exclusivity_scale')
    parser.add_argument('--groups', type=int, default=200)
    parser.add_argument('--reps', type=int, default=20)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)
    report(measure(args.seed, (0, args.groups), args.reps))
    return 0


if __name__ == '__main__':
    sys.exit(main())
