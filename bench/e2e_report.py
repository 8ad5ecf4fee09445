"""The end-to-end bench's summary: per variant and request kind the
p50s over HTTP and in the solver and their ratio, the table printed and
each target's verdict (``bench/end_to_end.py`` measures).

The targets are the all-in-one's: one server at most 2x the solver, a
50-server stack at most 1.3x. The deployed pair is printed beside them
with no verdict.
"""

import statistics

TARGETS = {'single': 2.0, 'stack': 1.3}


def _p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]


def _base(kind):
    """``single``, ``stack`` of ``single kept``, ``stack50``..."""
    return kind.split()[0].rstrip('0123456789')


def summarise(variants):
    rows = []
    for variant in variants:
        for kind, pairs in sorted(variant.times.items()):
            api = [a for a, _ in pairs]
            row = {'phase': 'requests', 'variant': variant.name,
                   'kind': kind, 'count': len(api),
                   'api_p50_ms': round(statistics.median(api), 2),
                   'api_p90_ms': round(_p(api, 0.9), 2)}
            decided = [(a, d) for a, d in pairs if d]
            if decided:
                row['decision_p50_ms'] = round(
                    statistics.median(d for _, d in decided), 2)
                row['ratio_p50'] = round(
                    statistics.median(a / d for a, d in decided), 2)
                row['target'] = TARGETS.get(_base(kind))
            rows.append(row)
    return rows


def report(rows, load_before, load_after, args, stream):
    w = stream.write
    w('\n== End to end, all-in-one: %d hosts, %d servers running '
      '(load average %.2f %.2f %.2f before, %.2f %.2f %.2f after)\n'
      % ((args.e2e_hosts, args.e2e_hosts * args.e2e_per_host) + tuple(load_before)
         + tuple(load_after)))
    w('\nStart-up of the all-in-one, each in a new process (s): imports, '
      'inventory read, model build, the whole valet-api build (storage, '
      'engine, API; imports it makes late included), the process\n')
    w('%-44s %7s %7s %7s %7s %8s %7s  %s\n' % (
        '', 'import', 'read', 'model', 'start', 'process', 'cpu', 'target'))
    for r in rows:
        if r['phase'] != 'start-up':
            continue
        target = r.get('target_s')
        verdict = ''
        if target:
            verdict = '<= %.0f s %s' % (
                target, 'ok' if r['start_s'] <= target else 'MISSED')
        w('%-44s %7s %7s %7s %7.2f %8s %7s  %s\n' % (
            r['variant'][:44], r.get('import_s', ''), r.get('read_s', ''),
            r.get('model_s', ''), r['start_s'], r.get('process_s', ''),
            r.get('cpu_s', ''), verdict))
    by = {(r['variant'], r['kind']): r for r in rows
          if r['phase'] == 'requests'}
    names = [n for n in ('former', 'shipped', 'old process', 'process',
                         'deployed')
             if any(v == n for v, _ in by)]
    w('\nRequests through the API: p50 ms over HTTP | p50 ms in the '
      'solver | median of (API / solver) per request\n')
    w('(kept: on one connection kept open, as Valet\'s clients do; the '
      'others on a new connection each)\n')
    w('%-14s' % 'request' + ''.join('| %-27s' % n for n in names)
      + '| target\n')
    stack = 'stack%d' % args.e2e_stack_size
    for kind in ('single', 'single kept', stack, stack + ' kept', 'delete',
                 'delete kept', 'status'):
        cells = []
        for name in names:
            r = by.get((name, kind))
            if r is None:
                cells.append('| %-27s' % '-')
                continue
            cells.append('| %8.1f %8s %8s ' % (
                r['api_p50_ms'], r.get('decision_p50_ms', '-'),
                ('%.2fx' % r['ratio_p50']) if 'ratio_p50' in r else '-'))
        target = TARGETS.get(_base(kind))
        verdict = ''
        shipped = by.get(('shipped', kind)) or {}
        if target and 'ratio_p50' in shipped:
            verdict = ('<= %.1fx %s' % (target, 'ok' if shipped['ratio_p50']
                                        <= target else 'MISSED'))
        w('%-14s' % kind + ''.join(cells) + '| ' + verdict + '\n')
    w('\nTargets (all-in-one, shipped), load average %.2f before and %.2f '
      'after:\n' % (load_before[0], load_after[0]))
    for line in verdicts(rows, args):
        w('  %s\n' % line)


def verdicts(rows, args):
    """One line per target: measured against wanted."""
    lines = []
    by = {(r['variant'], r.get('kind')): r for r in rows}
    stack = 'stack%d' % args.e2e_stack_size
    for kind, label in (
            ('single kept', 'one server, kept conn.'),
            ('single', 'one server, new conn.'),
            (stack + ' kept', '%d-server stack, kept' % args.e2e_stack_size),
            (stack, '%d-server stack, new' % args.e2e_stack_size)):
        target = TARGETS[_base(kind)]
        for name in ('shipped', 'old process', 'process', 'deployed'):
            r = by.get((name, kind))
            if not r or 'ratio_p50' not in r:
                continue
            if name == 'deployed':
                # The targets are the all-in-one's; the deployed pair
                # (uwsgi, RabbitMQ, MariaDB) is measured beside them.
                lines.append('%-30s %-11s %6.2fx the solver (p50)  no '
                             'target (printed beside the all-in-one)' % (
                                 label, name, r['ratio_p50']))
                continue
            lines.append('%-30s %-11s %6.2fx the solver (p50)  target '
                         '<= %.1fx  %s' % (
                             label, name, r['ratio_p50'], target,
                             'ok' if r['ratio_p50'] <= target
                             else 'MISSED'))
    for r in rows:
        if r['phase'] == 'start-up' and r.get('target_s'):
            lines.append('%-34s %6.2f s  target <= %.0f s  %s' % (
                r['variant'], r['start_s'], r['target_s'],
                'ok' if r['start_s'] <= r['target_s'] else 'MISSED'))
    return lines
