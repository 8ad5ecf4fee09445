"""Shared pieces of the ``openstack valet`` commands."""

import json

from osc_lib import exceptions
import yaml

from valet.client import exceptions as valet_exc


def client(app):
    return app.client_manager.workload_placement


def call(func, *args, **kwargs):
    """Run a client call; Valet's errors become clean CLI errors."""
    try:
        return func(*args, **kwargs)
    except valet_exc.ValetClientError as err:
        raise exceptions.CommandError(str(err))


def load_document(path):
    """A JSON or YAML file (``-`` is stdin) as Python data."""
    import sys
    text = sys.stdin.read() if path == '-' else open(path).read()
    try:
        return json.loads(text)
    except ValueError:
        return yaml.safe_load(text)


def table(header, rows):
    """Plain aligned text, for the explanation of a refused plan."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]
    lines = [header, ['-' * w for w in widths]] + rows
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(line, widths))
                     .rstrip() for line in lines)


def explain(error):
    """The explanation of a refused plan (409 valet.placement.none) as
    two tables, servers and groups, for a person to read."""
    explanation = {}
    for entry in error.errors:
        if isinstance(entry.get('explanation'), dict):
            explanation = entry['explanation']
    return explanation_text(explanation) or error.detail


def explanation_text(explanation):
    """An explanation (of a 409 or of a dry run's decision) as tables."""
    explanation = explanation or {}
    parts = []
    servers = explanation.get('servers') or []
    if servers:
        parts.append(table(
            ['server', 'hosts', 'ruled out by', 'remaining'],
            [[s.get('server'), s.get('hosts'),
              ', '.join('%s (%s)' % (r.get('filter'), r.get('hosts'))
                        for r in s.get('ruled_out') or []) or '-',
              s.get('remaining')] for s in servers]))
    groups = explanation.get('groups') or []
    if groups:
        parts.append(table(
            ['group', 'kind', 'level', 'why'],
            [[g.get('group'), g.get('kind'), g.get('level'),
              g.get('reason')] for g in groups]))
    conflict = explanation.get('conflict') or {}
    if conflict.get('groups'):
        parts.append('Conflicting groups: %s' % ', '.join(conflict['groups']))
    return '\n\n'.join(parts)


def place(app, func, *args, **kwargs):
    """create/update a plan; a refusal prints its explanation table."""
    try:
        return func(*args, **kwargs)
    except valet_exc.NoPlacement as err:
        app.stdout.write('No placement exists.\n\n%s\n' % explain(err))
        raise exceptions.CommandError('%s (request %s)' % (
            err.code, err.request_id))
    except valet_exc.ValetClientError as err:
        raise exceptions.CommandError(str(err))
