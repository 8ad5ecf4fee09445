"""Run every instance through every solver, validate, time and report."""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from bench import end_to_end
from bench import at_most
from bench import exact
from bench import exclusivity_scale
from bench import generator as gen
from bench import greedy
from bench import original
from bench import placement_query
from bench import rack_affinity
from bench import slowed
from bench import storage_share
from bench import view as view_mod

try:
    from valet.engine.solver import decide as _decide
    from valet.engine.solver import SolverOptions
except ImportError as exc:          # the engine is still being written
    _decide = None
    _DECIDE_ERROR = exc
try:
    from valet.engine.solver.validator import soft_violations as _soft
    from valet.engine.solver.validator import validate as _validate
except ImportError as exc:
    _validate = _soft = None
    _VALIDATE_ERROR = exc

SOLVERS = ('valet', 'greedy', 'original', 'exact')
KEYS = ('instance', 'hosts', 'servers', 'solver', 'feasible', 'optimal',
        'hosts_used', 'p50_ms', 'p99_ms', 'violations', 'soft')
DEFAULT_OUT = os.path.join('bench', 'results', 'engine.json')

# Timing repetitions per instance kind: (quick, full).
# Small and hard ones take a few ms each: 60 repetitions, not 30, whose
# medians moved by up to 10 % from run to run on a shared machine (the
# ratios closest to original's speed flipped).
REPS = {'small': (5, 60), 'hard': (5, 60), 'medium': (3, 10),
        'large': (5, 50), 'growth': (3, 20)}
GROWTH = (1000, 2000, 5000, 10000, 20000)
LARGE_HOSTS = 5000


class Outcome:
    def __init__(self, assignment, optimal=None, note='', claimed=None):
        self.assignment = assignment
        self.optimal = optimal
        self.note = note
        self.claimed = claimed      # the solver's own count of new hosts


def run_valet(dc, request, options=None):
    decision = _decide(dc, request, options=options or SolverOptions())
    if not decision.feasible:
        return Outcome(None, note='infeasible')
    note = 'timed out' if decision.stats.get('timed_out') else ''
    return Outcome(dict(decision.assignment), note=note,
                   claimed=decision.objective.get('new_hosts'))


def run_greedy(dc, request):
    assignment, _ = greedy.solve(dc, request)
    return Outcome(assignment)


def run_original(dc, request):
    assignment, _ = original.solve(dc, request)
    return Outcome(assignment)


def make_exact(time_limit, workers):
    def run_exact(dc, request):
        assignment, info = exact.solve(dc, request, time_limit=time_limit,
                                       workers=workers)
        return Outcome(assignment, optimal=bool(info.get('optimal')),
                       note=info.get('status', ''))
    return run_exact


# ------------------------------------------------------------------- plan
def plan(seed, quick):
    """(instance, repetitions) in the order they run."""
    k = 0 if quick else 1
    out = []
    n_small = 10 if quick else 30
    for inst in gen.small_instances(seed, n_small):
        out.append((inst, REPS['small'][k]))
    for inst in gen.hard_instances():
        out.append((inst, REPS['hard'][k]))
    # At-most groups (bench/at_most.py): small ones against exact, and
    # one of 500 hosts.
    for inst in at_most.instances(seed, 6 if quick else 16):
        out.append((inst, REPS['small'][k]))
    for inst in at_most.instances(seed, 1, hosts=(500, 500),
                                  servers=(100, 100), prefix='most-m'):
        out.append((inst, REPS['medium'][k]))
    # Spread groups with a max skew, the same way.
    for inst in at_most.instances(seed + 1, 4 if quick else 12,
                                  prefix='spread', kind=at_most.SPREAD):
        out.append((inst, REPS['small'][k]))
    # Soft affinity/diversity groups (preferences), the same way.
    for inst in at_most.instances(seed + 2, 4 if quick else 12,
                                  prefix='soft', kind=at_most.SOFT):
        out.append((inst, REPS['small'][k]))
    sizes = ([(100, 20), (1000, 200), (2000, 500)] if quick else
             [(100, 50), (500, 100), (1000, 300), (2000, 500),
              (5000, 500)])
    for inst in gen.medium_instances(seed, sizes):
        out.append((inst, REPS['medium'][k]))
    specs = {hosts: gen.large_spec(seed, hosts) for hosts in GROWTH}
    # 500 servers on the loaded 10,000-host data centre (with seed 1, a
    # case valet once answered "infeasible" while original placed it).
    out.append((gen.Instance('medium-10000h-500s', 'medium', specs[10000],
                             gen.make_request(seed * 4 + 1, specs[10000],
                                              500)), REPS['medium'][k]))
    for hosts in GROWTH:
        spec = specs[hosts]
        stack = gen.stack_request(seed, spec)
        if hosts == LARGE_HOSTS:
            # The large case is also the 5,000-host row of the growth table.
            out.append((gen.Instance('large-%dh-stack50' % hosts, 'large',
                                     spec, stack), REPS['large'][k]))
            out.append((gen.Instance('large-%dh-single' % hosts, 'large',
                                     spec, gen.single_server(spec)),
                        REPS['large'][k]))
            # A 500-server stack on the same data centre.
            out.append((gen.Instance(
                'large-%dh-stack500' % hosts, 'large', spec,
                gen.stack_request(seed, spec, n_servers=500)),
                REPS['medium'][k]))
        else:
            reps = REPS['growth'][k]
            if hosts >= 10000:
                reps = 2 if quick else 10
            out.append((gen.Instance('growth-%dh-stack50' % hosts, 'growth',
                                     spec, stack), reps))
    return out


# ---------------------------------------------------------------- running
class _Runs:
    """One solver's repetitions on one instance: the first outcome, the
    times and the model (as the decision left it, i.e. unchanged).

    The decision must not change the model; that is checked after every
    run, and the model is rebuilt when it did (so later runs and the
    validation see the state before the decision). A solver that raises
    is not run again; ``error`` keeps what it raised.
    """

    def __init__(self, fn, inst):
        self.fn, self.inst = fn, inst
        self.dc = inst.make_dc()
        self.times, self.first = [], None
        self.mutated = False
        self.error = None

    def once(self):
        if self.error is not None:
            return
        dc, request = self.dc, self.inst.request
        before = dc.generation
        try:
            start = time.perf_counter()
            outcome = self.fn(dc, request)
            self.times.append((time.perf_counter() - start) * 1000.0)
        except Exception as exc:    # reported with the records
            self.error = exc
            return
        if self.first is None:
            self.first = outcome
        elif outcome.assignment != self.first.assignment:
            # The contract wants the same placement for the same input.
            self.first.note = (self.first.note + ' non-deterministic').strip()
        if dc.generation != before:
            self.mutated = True
            self.dc = self.inst.make_dc()

    def outcome(self):
        if self.mutated:
            self.first.note = (self.first.note + ' model-mutated').strip()
        return self.first


def time_side_by_side(inst, table, reps):
    """{solver: _Runs} of every solver of ``table`` on ``inst``.

    The repetitions take turns (valet, greedy, original, valet, ...)
    rather than one solver's all before the next's: a shared machine's
    speed drifts over seconds (other processes, the CPU's clock), and
    taking turns lets each solver's median meet the same drift. The exact
    model, a time-limited search, runs once, after the others.
    """
    runs = {solver: _Runs(fn, inst) for solver, fn in table}
    for _ in range(reps):
        for solver, _fn in table:
            if solver != 'exact':
                runs[solver].once()
    if 'exact' in runs:
        runs['exact'].once()
    return runs


def record_of(inst, solver, runs):
    """(record, note) of one solver's runs on ``inst``."""
    if runs.error is not None:
        record = dict.fromkeys(KEYS)
        record.update(instance=inst.name, hosts=inst.hosts,
                      servers=inst.servers, solver=solver, feasible=False)
        return record, 'error: %r' % runs.error
    outcome, times, dc = runs.outcome(), runs.times, runs.dc
    feasible = outcome.assignment is not None
    violations = None
    if feasible and _validate is not None:
        violations = len(_validate(dc, inst.request, outcome.assignment))
    used = view_mod.new_hosts(dc, outcome.assignment) if feasible else None
    # Weighted soft violations, where the request has soft groups (greedy
    # and original ignore them; their placements are counted all the same).
    soft = None
    if feasible and _soft is not None and any(
            g.kind in view_mod.SOFT_KINDS for g in inst.request.groups):
        soft = sum(c['weight'] * c['violations'] for c in _soft(
            dc, inst.request, outcome.assignment).values())
    note = outcome.note
    if outcome.claimed is not None and outcome.claimed != used:
        note = (note + ' claims %s new hosts' % outcome.claimed).strip()
    record = {
        'instance': inst.name,
        'hosts': inst.hosts,
        'servers': inst.servers,
        'solver': solver,
        'feasible': feasible,
        'optimal': outcome.optimal if solver == 'exact' else None,
        'hosts_used': used,
        'p50_ms': round(float(np.percentile(times, 50)), 3),
        'p99_ms': round(float(np.percentile(times, 99)), 3),
        'violations': violations,
        'soft': soft,
    }
    return record, note


def solvers_for(inst, exact_fn):
    table = []
    if _decide is not None:
        table.append(('valet', run_valet))
    table.append(('greedy', run_greedy))
    table.append(('original', run_original))
    if exact.fits(inst):
        table.append(('exact', exact_fn))
    return table


def load_time(seed, reps=3):
    """Seconds to build the 5,000-host / 50,000-server model (median)."""
    spec = gen.large_spec(seed, LARGE_HOSTS)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        dc = spec.build()
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(dc.hosts), len(dc.servers)


# ---------------------------------------------------------------- reports
def _fmt(value, width, digits=1):
    if value is None:
        text = '-'
    elif isinstance(value, bool):
        text = 'yes' if value else 'no'
    elif isinstance(value, float):
        text = '%.*f' % (digits, value)
    else:
        text = str(value)
    return text.rjust(width)


def print_table(records, out=sys.stdout):
    head = ('instance', 'hosts', 'srv', 'solver', 'feas', 'opt', 'new',
            'viol', 'soft', 'p50_ms', 'p99_ms')
    widths = (34, 6, 4, 8, 5, 4, 5, 5, 5, 9, 9)
    out.write(' '.join(h.rjust(w) if i else h.ljust(w)
                       for i, (h, w) in enumerate(zip(head, widths))) + '\n')
    for rec in records:
        row = [rec['instance'].ljust(widths[0]), _fmt(rec['hosts'], 6),
               _fmt(rec['servers'], 4), rec['solver'].rjust(8),
               _fmt(rec['feasible'], 5), _fmt(rec['optimal'], 4),
               _fmt(rec['hosts_used'], 5), _fmt(rec['violations'], 5),
               _fmt(rec.get('soft'), 5), _fmt(rec['p50_ms'], 9, 2), _fmt(rec['p99_ms'], 9, 2)]
        out.write(' '.join(row) + '\n')


def _valid(rec):
    return bool(rec and rec['feasible'] and rec['violations'] == 0)


def summarise(records, kinds, load, out=sys.stdout):
    by = {(r['instance'], r['solver']): r for r in records}
    names = list(dict.fromkeys(r['instance'] for r in records))
    w = out.write

    w('\n== Quality on small instances (new hosts; gap = (x - exact) / '
      'max(exact, 1)) ==\n')
    small = [n for n in names if kinds[n] in ('small', 'hard')]
    for solver in ('valet', 'original', 'greedy'):
        gaps, missed, invalid, unproven = [], 0, 0, 0
        for n in small:
            ref, rec = by.get((n, 'exact')), by.get((n, solver))
            if rec is None or not _valid(ref):
                continue
            if not ref['optimal']:
                unproven += 1
            if not rec['feasible']:
                missed += 1
            elif rec['violations']:
                invalid += 1
            else:
                gaps.append((rec['hosts_used'] - ref['hosts_used'])
                            / max(ref['hosts_used'], 1))
        if not gaps and not missed and not invalid:
            continue
        median = statistics.median(gaps) if gaps else None
        worst = max(gaps) if gaps else None
        equal = sum(1 for x in gaps if x <= 0)
        w('  %-8s valid on %d/%d: median gap %s, worst gap %s, '
          'equal to exact on %d; no answer %d, with violations %d'
          '%s\n' % (solver, len(gaps), len(gaps) + missed + invalid,
                    _pct(median), _pct(worst), equal, missed, invalid,
                    ' (exact not proven optimal on %d)' % unproven
                    if unproven else ''))
        better = [n for n in small if _valid(by.get((n, solver)))
                  and _valid(by.get((n, 'exact')))
                  and by[(n, solver)]['hosts_used']
                  < by[(n, 'exact')]['hosts_used']]
        if better:
            w('    !! %s beat the exact model on %s (exact model or '
              'validator is wrong)\n' % (solver, ', '.join(better)))

    w('\n== Hard set: valid placements (feasible, 0 violations) ==\n')
    hard = [n for n in names if kinds[n] == 'hard']
    for solver in SOLVERS:
        recs = [by.get((n, solver)) for n in hard]
        if not any(recs):
            continue
        ok = [n for n, rec in zip(hard, recs) if _valid(rec)]
        failed = [n.replace('hard-', '') for n in hard if n not in ok]
        w('  %-8s %d/%d%s\n' % (solver, len(ok), len(hard),
                                '  failed: ' + ', '.join(failed)
                                if failed else ''))

    w('\n== Large (%d hosts, 10 servers per host placed): latency ms '
      '(p50 / p99) ==\n' % LARGE_HOSTS)
    for n in names:
        if kinds[n] != 'large':
            continue
        cells = []
        for solver in ('valet', 'original', 'greedy'):
            rec = by.get((n, solver))
            if rec and rec['p50_ms'] is not None:
                cells.append('%s %.1f / %.1f%s' % (
                    solver, rec['p50_ms'], rec['p99_ms'],
                    '' if _valid(rec) else ' (invalid)'))
        w('  %-26s %s\n' % (n, '   '.join(cells)))

    w('\n== Growth: 50-server stack, 10 servers per host placed: p50 ms '
      '(new hosts) ==\n')
    w('  %7s %18s %18s %18s\n' % ('hosts', 'valet', 'original', 'greedy'))
    for hosts in GROWTH:
        n = ('large-%dh-stack50' % hosts if hosts == LARGE_HOSTS
             else 'growth-%dh-stack50' % hosts)
        if n not in kinds:
            continue
        cells = []
        for solver in ('valet', 'original', 'greedy'):
            rec = by.get((n, solver))
            if rec is None or rec['p50_ms'] is None:
                cells.append('-')
            elif not rec['feasible']:
                cells.append('%.1f (none)' % rec['p50_ms'])
            else:
                cells.append('%.1f (%d%s)' % (
                    rec['p50_ms'], rec['hosts_used'],
                    '' if _valid(rec) else ', invalid'))
        w('  %7d %18s %18s %18s\n' % (hosts, *cells))

    speed_summary(records, kinds, out)

    if load is None:
        return
    seconds, n_hosts, n_servers = load
    w('\n== Model load: DataCenter.build of %d hosts / %d servers: %.2f s '
      '(median of 3) ==\n' % (n_hosts, n_servers, seconds))


# Kinds compared for speed with original (issue 14: every one of them).
SPEED_KINDS = ('small', 'hard')
SPEED_PREFIXES = ('most-', 'spread-', 'soft-')


def speed_summary(records, kinds, out=sys.stdout, worst=6):
    """Valet's p50 against original's on the small, hard and new-kind
    instances, and valet's proofs of impossibility against the exact
    model's time."""
    by = {(r['instance'], r['solver']): r for r in records}
    names = [n for n in dict.fromkeys(r['instance'] for r in records)
             if kinds[n] in SPEED_KINDS or n.startswith(SPEED_PREFIXES)]
    ratios = []
    for n in names:
        mine, theirs = by.get((n, 'valet')), by.get((n, 'original'))
        if mine and theirs and mine['p50_ms'] and theirs['p50_ms']:
            ratios.append((theirs['p50_ms'] / mine['p50_ms'], n))
    if not ratios:
        return
    slower = sorted(r for r in ratios if r[0] < 1.0)
    w = out.write
    w('\n== Speed: original p50 / valet p50 on %d small, hard and new-kind '
      'instances (above 1: valet faster) ==\n' % len(ratios))
    w('  valet slower on %d; median ratio %.2f; worst: %s\n' % (
        len(slower), statistics.median(r for r, _ in ratios),
        ', '.join('%s %.2f' % (n, r) for r, n in slower[:worst]) or '-'))
    # What the time bought: on each slower instance, both placements by
    # the contract's order (weighted soft violations, then new hosts).
    if slower:
        w('  where valet is slower (soft violations / new hosts, valet '
          'against original):\n')
        for r, n in slower:
            w('    %-30s %.2f  %s\n' % (n, r, _compare(
                by[(n, 'valet')], by[(n, 'original')])))
    proofs = []
    for n in names:
        mine, ref = by.get((n, 'valet')), by.get((n, 'exact'))
        if (mine and ref and not mine['feasible'] and not ref['feasible']
                and ref['p50_ms']):
            proofs.append((mine['p50_ms'] / ref['p50_ms'], n))
    if proofs:
        w('  infeasible, valet p50 / exact time (target at most 2): %s\n'
          % ', '.join('%s %.2f' % (n, r) for r, n in sorted(proofs)))


def _compare(mine, theirs):
    """Valet's placement against original's, in the contract's order."""
    def key(rec):
        return (rec.get('soft') or 0, rec['hosts_used'])

    def say(rec):
        if not rec['feasible']:
            return 'none'
        if rec['violations']:
            return 'breaks %d rule%s' % (
                rec['violations'], '' if rec['violations'] == 1 else 's')
        return '%d / %d' % key(rec)

    text = 'valet %s, original %s' % (say(mine), say(theirs))
    if _valid(mine) and _valid(theirs):
        a, b = key(mine), key(theirs)
        text += ': valet %s' % (
            'better' if a < b else 'the same' if a == b else 'worse')
    return text


def _pct(value):
    return '-' if value is None else '%.0f%%' % (100.0 * value)


# ------------------------------------------------------------------- main
def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m bench',
        description='Benchmark valet against greedy, original and exact.')
    parser.add_argument('--quick', action='store_true',
                        help='fewer instances and repetitions (< 5 min)')
    parser.add_argument('--out', default=DEFAULT_OUT,
                        help='where to write the records (JSON)')
    parser.add_argument('--seed', type=int, default=1,
                        help='seed of the generated instances')
    parser.add_argument('--exact-time-limit', type=float, default=20.0)
    parser.add_argument('--exact-workers', type=int, default=2)
    parser.add_argument('--storage', choices=('on', 'off', 'only'),
                        default='on',
                        help='the storage phase (SQL vs Music, see '
                             'bench/storage_share.py): after the engine '
                             'phase, not at all, or alone')
    storage_share.add_arguments(parser)
    parser.add_argument('--end-to-end', choices=('on', 'off', 'only'),
                        default='on',
                        help='the end-to-end phase (all-in-one API against '
                             'the solver, see bench/end_to_end.py): last, '
                             'not at all, or alone')
    end_to_end.add_arguments(parser, prefix='e2e-')
    parser.add_argument('--slowed', choices=('on', 'off', 'only'),
                        default='on',
                        help='the same-answer phase (every instance at '
                             'full speed and with busy neighbours on the '
                             'solver\'s CPU, see bench/slowed.py): after '
                             'the engine phase, not at all, or alone')
    parser.add_argument('--only', default=None,
                        help='comma-separated instance name prefixes: the '
                             'engine phase runs only those (and skips the '
                             'model load and later phases\' extras)')
    parser.add_argument('--rack-affinity', type=int, default=None,
                        help='rack-affinity instances compared with the '
                             'exact model (bench/rack_affinity.py; 9 with '
                             '--quick, 30 otherwise; 0 skips them)')
    args = parser.parse_args(argv)
    if args.rack_affinity is None:
        args.rack_affinity = 9 if args.quick else 30
    if args.slowed == 'only':
        return 1 if slowed.run(args.seed, args.quick) else 0
    if args.end_to_end == 'only':
        return _end_to_end_phase(args)
    if args.storage == 'only':
        return _storage_phase(args)

    if _decide is None:
        print('warning: valet.engine.solver.decide is not importable (%s); '
              'valet is skipped' % _DECIDE_ERROR, file=sys.stderr)
    if _validate is None:
        print('warning: the validator is not importable (%s); violations '
              'are not counted' % _VALIDATE_ERROR, file=sys.stderr)
    started = time.perf_counter()
    exact_fn = make_exact(args.exact_time_limit, args.exact_workers)
    records, kinds = [], {}
    prefixes = tuple(args.only.split(',')) if args.only else None
    for inst, reps in plan(args.seed, args.quick):
        if prefixes and not inst.name.startswith(prefixes):
            continue
        kinds[inst.name] = inst.kind
        table = solvers_for(inst, exact_fn)
        runs = time_side_by_side(inst, table, reps)
        for solver, _fn in table:
            try:
                record, note = record_of(inst, solver, runs[solver])
            except Exception as exc:    # report it, keep benchmarking
                record = dict.fromkeys(KEYS)
                record.update(instance=inst.name, hosts=inst.hosts,
                              servers=inst.servers, solver=solver,
                              feasible=False)
                note = 'error: %r' % exc
            records.append(record)
            print('%-34s %-8s feasible=%-5s new=%-4s viol=%-4s p50=%.2fms'
                  '%s' % (inst.name, solver, record['feasible'],
                          record['hosts_used'], record['violations'],
                          record['p50_ms'] or 0.0,
                          ' [%s]' % note if note else ''),
                  file=sys.stderr, flush=True)
    load = None if prefixes else load_time(args.seed)
    scaling = exclusivity_scale.measure(
        args.seed, reps=5 if args.quick else 20) if (
            _decide and not prefixes) else None

    print()
    print('load average %.2f %.2f %.2f (a shared machine: timings vary)' %
          os.getloadavg())
    print_table(records)
    summarise(records, kinds, load)
    if scaling:
        exclusivity_scale.report(scaling)
    if prefixes:
        # A partial run never replaces the full run's records.
        if args.out != DEFAULT_OUT:
            _write(args.out, records)
        return 0
    if _decide is not None and args.rack_affinity:
        print('\n== Rack affinity: new hosts against the exact optimum ==')
        try:
            rack_affinity.summary(rack_affinity.measure(
                args.seed, args.rack_affinity, args.exact_time_limit))
        except ImportError as exc:      # OR-Tools missing: no reference
            print('skipped: %s' % exc)
    # The API's placement lookup Nova's filter depends on, indexed against
    # the former full scan (bench/placement_query.py).
    placement_query.measure(requests=20 if args.quick else 50,
                            seed=args.seed,
                            out=placement_query.DEFAULT_OUT)
    print('\ntotal run time: %.0f s' % (time.perf_counter() - started))
    _write(args.out, records)
    differ = slowed.run(args.seed, args.quick) if args.slowed == 'on' else []
    status = _storage_phase(args) if args.storage == 'on' else 0
    if args.end_to_end == 'on':
        status = _end_to_end_phase(args) or status
    return 1 if differ else status


def _write(path, records):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, 'w') as f:
        json.dump([{k: rec.get(k) for k in KEYS} for rec in records], f,
                  indent=1)
        f.write('\n')
    print('records written to %s' % path)


def _end_to_end_phase(args):
    out = os.path.join(os.path.dirname(args.out) or '.', 'end_to_end.json')
    _rows, failures = end_to_end.run(args, out=out)
    return 1 if failures else 0


def _storage_phase(args):
    records, failures = storage_share.run(args)
    storage_share.print_table(records)
    out = os.path.join(os.path.dirname(args.out) or '.', 'storage.json')
    storage_share.write(records, out)
    print('storage records written to %s' % out)
    for failure in failures:
        print('FAIL %s' % failure)
    return 1 if failures else 0
