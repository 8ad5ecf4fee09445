"""The same answer at full speed and on a slowed machine.

A decision must not depend on how busy the machine is: the search is
bounded by work (nodes), not by the clock, and the clock only cuts an
improvement phase as a last-resort safety net. This runs every instance of
the engine benchmark through ``valet.engine.solver.decide`` twice: once at
full speed, and once with the process pinned to one CPU that busy
neighbour processes (spinning, pinned to the same CPU) share with it, so
that the solver gets a fraction of that CPU. Every instance must get the
same answer both times (feasibility and the hash of the assignment).

Usage::

    python -m bench.slowed [--quick] [--seed N] [--neighbours 2]

The load average is printed before and after; a differing answer is a
FAIL (exit status 1).
"""

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time

from bench import runner

try:
    from valet.engine.solver import decide as _decide
except ImportError:             # the engine is being written
    _decide = None


def answer(decision):
    """What must not change: feasibility and the placement's hash."""
    digest = hashlib.sha1(json.dumps(
        sorted(decision.assignment.items())).encode()).hexdigest()[:10]
    return ('yes' if decision.feasible else 'no') + ':' + digest


def _spin(cpu):
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        pass
    while True:
        pass


class Neighbours:
    """Busy processes pinned to the CPU this process is pinned to."""

    def __init__(self, count):
        self.count = count
        self.procs = []
        self.saved = None
        self.cpu = None

    def __enter__(self):
        if hasattr(os, 'sched_setaffinity'):
            self.saved = os.sched_getaffinity(0)
            self.cpu = min(self.saved)
            os.sched_setaffinity(0, {self.cpu})
        ctx = multiprocessing.get_context('fork')
        for _ in range(self.count):
            proc = ctx.Process(target=_spin, args=(self.cpu or 0,),
                               daemon=True)
            proc.start()
            self.procs.append(proc)
        time.sleep(0.2)         # let the scheduler share the CPU out
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.join()
        if self.saved is not None:
            os.sched_setaffinity(0, self.saved)


def _decide_all(cases, label):
    out = {}
    for inst, _ in cases:
        dc = inst.make_dc()
        start = time.perf_counter()
        decision = _decide(dc, inst.request)
        ms = (time.perf_counter() - start) * 1000.0
        out[inst.name] = (answer(decision), ms,
                          bool(decision.stats.get('timed_out')))
        print('%-34s %-6s %s %9.1f ms' % (inst.name, label,
                                          out[inst.name][0], ms),
              file=sys.stderr, flush=True)
    return out


def run(seed=1, quick=False, neighbours=2, out=sys.stdout):
    """Both runs and the table; returns the instances that differ."""
    if _decide is None:
        out.write('valet.engine.solver is not importable; skipped\n')
        return []
    cases = runner.plan(seed, quick)
    load_before = os.getloadavg()
    fast = _decide_all(cases, 'full')
    with Neighbours(neighbours):
        slow = _decide_all(cases, 'slowed')
    load_after = os.getloadavg()
    w = out.write
    w('\n== Same answer at full speed and slowed (%d busy neighbours on '
      'the solver\'s CPU) ==\n' % neighbours)
    w('load average before %.2f %.2f %.2f, after %.2f %.2f %.2f\n' % (
        load_before + load_after))
    w('%-34s %-14s %9s %9s %6s %s\n' % (
        'instance', 'answer', 'full ms', 'slow ms', 'slower', 'same'))
    differ = []
    for inst, _ in cases:
        a, b = fast[inst.name], slow[inst.name]
        same = a[0] == b[0]
        if not same:
            differ.append(inst.name)
        w('%-34s %-14s %9.1f %9.1f %5.1fx %s%s\n' % (
            inst.name, a[0], a[1], b[1], b[1] / max(a[1], 1e-6),
            'yes' if same else 'FAIL (%s)' % b[0],
            ' (timed out)' if a[2] or b[2] else ''))
    w('%d of %d instances got the same answer\n' % (
        len(cases) - len(differ), len(cases)))
    return differ


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.slowed')
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--neighbours', type=int, default=2)
    args = parser.parse_args(argv)
    differ = run(args.seed, args.quick, args.neighbours)
    for name in differ:
        print('FAIL %s: another answer when slowed' % name)
    return 1 if differ else 0


if __name__ == '__main__':
    sys.exit(main())
