"""Valet's solver from two source trees, side by side in one run.

A refactoring of the solver must not make it slower or worse. This runs
the engine benchmark's instances (``bench.runner.plan``) through
``valet.engine.solver.decide`` of a *baseline* tree (an older commit
exported with ``git archive``) and of the tree this module belongs to,
alternating decision by decision between the two, so that the load of a
shared machine falls on both alike. Each tree runs in its own worker
process (the two ``valet`` packages cannot share one interpreter); the
benchmark's generator and validator come from this tree in both.

Usage::

    git archive <commit> | tar -x -C /tmp/valet-old
    python -m bench.solver_compare --baseline /tmp/valet-old [--quick] \
        [--time-budget 120]
    python -m bench.solver_compare --baseline-commit <commit> [--quick]

``tox -e bench`` runs it (quick) against the last commit before the
group rules became plug-ins, after the engine benchmark.

The default time budget (2 s) is a wall-clock safety net: on a busy
machine it cuts the larger searches at different points in the two trees.
With a large ``--time-budget`` only the deterministic node budget stops a
search, so both trees must search alike and the times compare equal work.

Printed per instance: decision p50 (ms, wall clock and CPU time of the
worker process, which a busy machine disturbs less), search nodes, new
hosts used and validator violations of the baseline and of this tree, the
ratio of the CPU-time p50s, and
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
import tempfile
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
    models = {}
    for line in sys.stdin:
        # "N": one timed decision of instance N (its model built once).
        index = int(line)
        inst = cases[index][0]
        out = {'instance': inst.name, 'kind': inst.kind,
               'hosts': inst.hosts, 'servers': inst.servers}
        try:
            if index not in models:
                models = {index: inst.make_dc()}
            dc = models[index]
            start, cpu = time.perf_counter(), time.process_time()
            decision = decide(dc, inst.request, options)
            out['ms'] = (time.perf_counter() - start) * 1000.0
            out['cpu_ms'] = (time.process_time() - cpu) * 1000.0
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
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError('a worker stopped (exit status %s)' % proc.poll())
    return json.loads(line)


def _cell(rec):
    if 'error' in rec:
        return '%9s %9s %7s %4s %4s' % ('-', '-', '-', '-', '-')
    if not rec['feasible']:
        return '%9.2f %9.2f %7d %4s %4s' % (
            rec['p50_ms'], rec['cpu_p50_ms'], rec['nodes'], 'no', '-')
    return '%9.2f %9.2f %7d %4d %4d' % (
        rec['p50_ms'], rec['cpu_p50_ms'], rec['nodes'], rec['new_hosts'],
        rec['violations'])


def _same(a, b):
    if 'error' in a or 'error' in b:
        return '-'
    keys = ('feasible', 'nodes', 'placement')
    return 'yes' if all(a.get(k) == b.get(k) for k in keys) else 'NO'


def compare(baseline, seed, quick, time_budget=None, out=sys.stdout):
    sys.path.insert(0, HERE)
    from bench import runner
    cases = runner.plan(seed, quick)
    old = _start(baseline, seed, quick, time_budget)
    new = _start(HERE, seed, quick, time_budget)
    records = []
    out.write('%-30s %-39s %-39s %6s %4s\n' % (
        'instance', '  baseline p50   cpu p50   nodes  new viol',
        ' this tree p50   cpu p50   nodes  new viol', 'cpu', 'same'))
    try:
        for index, (_, reps) in enumerate(cases):
            # Alternate decision by decision: load spikes hit both trees.
            pairs = [(_ask(old, index), _ask(new, index))
                     for _ in range(reps)]
            a, b = pairs[-1]
            for rec, k in ((a, 0), (b, 1)):
                if 'error' not in rec:
                    for key in ('ms', 'cpu_ms'):
                        rec[key.replace('ms', 'p50_ms')] = round(
                            statistics.median(pair[k][key]
                                              for pair in pairs), 3)
            ratio = (b['cpu_p50_ms'] / a['cpu_p50_ms']
                     if 'error' not in a and 'error' not in b
                     and a['cpu_p50_ms'] else None)
            out.write('%-30s %39s %39s %6s %4s\n' % (
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
        out.write('\nthis tree / baseline CPU-time p50: median %.2f, '
                  'geometric mean '
                  '%.2f, max %.2f over %d instances; more new hosts on: '
                  '%s; searched differently on: %s\n'
                  % (statistics.median(ratios),
                     statistics.geometric_mean(ratios), max(ratios),
                     len(ratios), ', '.join(worse) or 'none',
                     ', '.join(differ) or 'none'))
    return records


def _export(commit, into):
    """``commit`` of this repository as a source tree under ``into``."""
    archive = subprocess.run(['git', '-C', HERE, 'archive', commit],
                             check=True, capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', into], input=archive, check=True)
    return into


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.solver_compare')
    parser.add_argument('--baseline', help='source tree of the baseline')
    parser.add_argument('--baseline-commit',
                        help='or a commit of this repository, exported '
                             'with git archive into a temporary tree')
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
    if bool(args.baseline) == bool(args.baseline_commit):
        parser.error('give --baseline or --baseline-commit')
    with tempfile.TemporaryDirectory(prefix='valet-baseline-') as tmp:
        baseline = args.baseline
        if args.baseline_commit:
            baseline = _export(args.baseline_commit, tmp)
        records = compare(os.path.abspath(baseline), args.seed, args.quick,
                          args.time_budget)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(records, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
