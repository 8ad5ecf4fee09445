"""Valet's solver from two source trees, side by side in one run.

A refactoring of the solver must not make it slower or worse. This runs
the engine benchmark's instances (``bench.runner.plan``) through
``valet.engine.solver.decide`` of a *baseline* tree (an older commit
exported with ``git archive``) and of the tree this module belongs to,
instance by instance and alternating between the two, so that the load of
a shared machine falls on both alike. Each tree runs in its own worker
process (the two ``valet`` packages cannot share one interpreter); the
benchmark's generator and validator come from this tree in both.

Usage::

    git archive <commit> | tar -x -C /tmp/valet-old
    python -m bench.solver_compare --baseline /tmp/valet-old [--quick] \
        [--time-budget 120]

The default time budget (2 s) is a wall-clock safety net: on a busy
machine it cuts the larger searches at different points in the two trees.
With a large ``--time-budget`` only the deterministic node budget stops a
search, so both trees must search alike and the times compare equal work.

Printed per instance: decision p50 (ms), search nodes, new hosts used and
validator violations of the baseline and of this tree, the p50 ratio, and
whether both searched alike (same feasibility, nodes and placement). A
case the baseline cannot express (a group kind it lacks) shows ``-``.
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _worker(tree, seed, quick, time_budget):
    """Answer instance numbers on stdin with one JSON line each."""
    sys.path.insert(0, tree)
    import valet  # noqa: F401  (binds the package to ``tree``)
    from valet.engine.solver import decide
    from valet.engine.solver import SolverOptions
    from valet.engine.solver import validator
    sys.path.append(HERE)
    from bench import runner
    from bench import view as view_mod
    assert valet.__file__.startswith(tree), valet.__file__
    cases = runner.plan(seed, quick)
    options = SolverOptions()
    if time_budget:
        options = SolverOptions(time_budget=time_budget)
    for line in sys.stdin:
        inst, reps = cases[int(line)]
        out = {'instance': inst.name, 'kind': inst.kind,
               'hosts': inst.hosts, 'servers': inst.servers}
        try:
            dc = inst.make_dc()
            times, decision = [], None
            for _ in range(reps):
                start = time.perf_counter()
                decision = decide(dc, inst.request, options)
                times.append((time.perf_counter() - start) * 1000.0)
            out['p50_ms'] = round(statistics.median(times), 3)
            out['feasible'] = decision.feasible
            # Search nodes do not depend on the machine's load: equal
            # nodes and placement mean the same search.
            out['nodes'] = decision.stats.get('nodes')
            out['placement'] = hashlib.sha1(json.dumps(
                sorted(decision.assignment.items())).encode()).hexdigest()[:8]
            if decision.feasible:
                out['new_hosts'] = view_mod.new_hosts(dc, decision.assignment)
                out['violations'] = len(validator.validate(
                    dc, inst.request, decision.assignment,
                    decision.removed))
                out['optimal'] = decision.optimal
        except Exception as exc:        # a kind the baseline lacks
            out['error'] = repr(exc)[:80]
        print(json.dumps(out), flush=True)


def _start(tree, seed, quick, time_budget):
    return subprocess.Popen(
        [sys.executable, '-m', 'bench.solver_compare', '--worker', tree,
         '--seed', str(seed), '--time-budget', str(time_budget or 0)] +
        (['--quick'] if quick else []),
        cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _ask(proc, index):
    proc.stdin.write('%d\n' % index)
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def _cell(rec):
    if 'error' in rec:
        return '%9s %7s %4s %4s' % ('-', '-', '-', '-')
    if not rec['feasible']:
        return '%9.2f %7d %4s %4s' % (rec['p50_ms'], rec['nodes'], 'no',
                                      '-')
    return '%9.2f %7d %4d %4d' % (rec['p50_ms'], rec['nodes'],
                                  rec['new_hosts'], rec['violations'])


def _same(a, b):
    if 'error' in a or 'error' in b:
        return '-'
    keys = ('feasible', 'nodes', 'placement')
    return 'yes' if all(a.get(k) == b.get(k) for k in keys) else 'NO'


def compare(baseline, seed, quick, time_budget=None, out=sys.stdout):
    sys.path.insert(0, HERE)
    from bench import runner
    count = len(runner.plan(seed, quick))
    old = _start(baseline, seed, quick, time_budget)
    new = _start(HERE, seed, quick, time_budget)
    records = []
    out.write('%-30s %-29s %-29s %6s %4s\n' % (
        'instance', '   baseline p50   nodes  new viol',
        '  this tree p50   nodes  new viol', 'ratio', 'same'))
    try:
        for index in range(count):
            a, b = _ask(old, index), _ask(new, index)
            ratio = (b['p50_ms'] / a['p50_ms']
                     if 'error' not in a and 'error' not in b
                     and a['p50_ms'] else None)
            out.write('%-30s %29s %29s %6s %4s\n' % (
                b['instance'][:30], _cell(a), _cell(b),
                '-' if ratio is None else '%.2f' % ratio, _same(a, b)))
            out.flush()
            records.append({'baseline': a, 'tree': b, 'ratio': ratio})
    finally:
        for proc in (old, new):
            proc.stdin.close()
            proc.wait()
    ratios = [r['ratio'] for r in records if r['ratio'] is not None]
    worse = [r['tree']['instance'] for r in records
             if 'error' not in r['baseline'] and 'error' not in r['tree']
             and (r['tree'].get('new_hosts') or 0) >
             (r['baseline'].get('new_hosts') or 0)]
    differ = [r['tree']['instance'] for r in records
              if _same(r['baseline'], r['tree']) == 'NO']
    if ratios:
        out.write('\nthis tree / baseline p50: median %.2f, geometric mean '
                  '%.2f, max %.2f over %d instances; more new hosts on: '
                  '%s; searched differently on: %s\n'
                  % (statistics.median(ratios),
                     statistics.geometric_mean(ratios), max(ratios),
                     len(ratios), ', '.join(worse) or 'none',
                     ', '.join(differ) or 'none'))
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.solver_compare')
    parser.add_argument('--baseline', help='source tree of the baseline')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--out', help='write the records here (JSON)')
    parser.add_argument('--time-budget', type=float, default=0,
                        help='seconds per decision instead of the default '
                             '(a large one leaves only the node budget, '
                             'so both trees do the same work)')
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(os.path.abspath(args.worker), args.seed, args.quick,
                       args.time_budget)
    if not args.baseline:
        parser.error('--baseline is required')
    records = compare(os.path.abspath(args.baseline), args.seed, args.quick,
                      args.time_budget)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(records, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
