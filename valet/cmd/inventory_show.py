"""``valet-manage inventory show``: the data centre as the engine sees it.

The model is built exactly as ``valet-engine`` builds it at start-up
(``reconcile.build``: the inventory plus every stored placement), so what
this prints is what the next placement decision would start from.

Gathering (:func:`gather`, a pure function of the model) is kept apart
from formatting (:func:`format_table`, :func:`format_json`), so that
tests and other tools can use the data without parsing text.

The JSON document (``--format json``) has these keys; numbers are
integers when whole, resource amounts are dicts keyed by resource class
(``VCPU``, ``MEMORY_MB`` in MiB, ``DISK_GB`` in GiB, custom classes):

``levels``
    Topology levels, lowest (``host``) first.
``resource_classes``
    The resource classes of the model, in column order.
``summary``
    ``hosts``, ``enabled_hosts``, ``servers``, and ``usable`` / ``used`` /
    ``free`` summed over every host.
``domains``
    ``{level: [domain]}`` for every level above ``host``; a domain is
    ``name``, ``hosts``, ``enabled_hosts``, ``servers`` and ``usable`` /
    ``used`` / ``free`` summed over all its hosts, disabled ones included.
``hosts``
    ``[host]``: ``name``, ``domains`` (``{level: domain name}``),
    ``enabled``, ``servers`` (a count), ``usable``, ``used``, ``free``.
``unmapped``
    ``{level: [host name]}``: hosts the inventory could not map to a
    domain at that level (every level above ``host`` is a key).
``host``
    With ``--host`` only (and then instead of ``summary``, ``domains``,
    ``hosts`` and ``unmapped``): the host's entry plus
    ``availability_zone``, ``aggregates``, ``traits``, ``capacity`` (raw
    totals), ``reserved``, ``allocation_ratios``, ``standby_percent`` and
    ``server_list`` (``id``, ``name``, ``project``, ``stack``, ``groups``,
    ``demand``).

``--level LEVEL`` keeps ``domains`` and ``unmapped`` of that level and
drops ``hosts``; ``--level host`` keeps ``hosts`` and drops the others.
Free capacity is ``usable - used``; it goes negative on an over-committed
host. Disabled hosts keep their capacity in the sums: the ``enabled``
counts tell how much of it new placements cannot use.
"""

import json
import logging
import re
import sys

import numpy as np

from valet.engine.model import errors as model_errors
from valet.engine import reconcile
from valet import inventory
from valet.inventory import base as inventory_base
from valet import storage
from valet.storage import base as storage_base

FORMATS = ('table', 'json')


class ShowError(Exception):
    """A request the model cannot answer (unknown level or host)."""


# What the command turns into a one-line error and exit code 1.
ERRORS = (ShowError, inventory_base.InventoryError, model_errors.EngineError)


# ------------------------------------------------------------------ command
def add_arguments(parser):
    parser.add_argument('--format', dest='show_format', choices=FORMATS,
                        default='table',
                        help='Output format: aligned text tables (default) '
                             'or one JSON document.')
    only = parser.add_mutually_exclusive_group()
    only.add_argument('--level', dest='show_level', metavar='LEVEL',
                      help='Show only the domains of this level (or, for '
                           '"host", only the hosts).')
    only.add_argument('--host', dest='show_host', metavar='NAME',
                      help="Show one host in detail, with its servers.")


def _has_schema(store):
    try:
        return store.version() is not None
    except storage_base.StorageError:
        return True  # unreachable: the original error says more


def show(conf):
    """Build the engine's model and print it."""
    store = storage.get_storage(conf)
    try:
        with _quiet(conf):
            snapshot = inventory.get_inventory(conf).load()
            # The engine's own model building, without its storage repairs:
            # show runs beside the leader and never writes behind its back.
            dc = reconcile.build(snapshot, store.list_placements(),
                                 store.list_groups(), {}, 0.0).dc
    except storage_base.StorageError as exc:
        if _has_schema(store):
            raise
        raise ShowError('%s; the storage has no schema yet: run valet-manage '
                        'db_sync' % exc) from exc
    finally:
        dispose = getattr(store, 'dispose', None)
        if dispose is not None:
            dispose()
    report = gather(dc, snapshot.unmapped, level=conf.command.show_level,
                    host=conf.command.show_host)
    if conf.command.show_format == 'json':
        sys.stdout.write(format_json(report))
    else:
        sys.stdout.write(format_table(report))


class _quiet:
    """Keep INFO narration (a rebuild, oslo.service loading) off the terminal.

    Warnings (a placement on a host the inventory lost) still show; with
    ``--debug`` everything does. The root level is restored afterwards,
    since tests run the command in-process.
    """

    def __init__(self, conf):
        self.enabled = not conf.debug
        self.logger = logging.getLogger()
        self.level = None

    def __enter__(self):
        if self.enabled:
            self.level = self.logger.level
            if self.level < logging.WARNING:
                self.logger.setLevel(logging.WARNING)
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.logger.setLevel(self.level)


# ---------------------------------------------------------------- gathering
def natural_key(name):
    """Sort ``h2`` before ``h10``."""
    return [int(part) if part.isdigit() else part
            for part in re.split(r'(\d+)', str(name))]


def number(value):
    """An int when whole, else a float rounded to 3 decimals."""
    value = float(value)
    if value.is_integer():
        return int(value)
    return round(value, 3)


def _by_class(classes, row):
    return {rc: number(v) for rc, v in zip(classes, row)}


def gather(dc, unmapped=None, level=None, host=None):
    """The report of a DataCenter as a JSON-ready dict (see module doc).

    ``unmapped`` is ``{level: [host name]}``. ``level`` and ``host``
    narrow the report; ShowError when the model has no such level or host.
    """
    levels = list(dc.topology.levels)
    classes = list(dc.resource_classes)
    upper = levels[1:]
    unmapped = _unmapped(unmapped or {}, upper)
    report = {'levels': levels, 'resource_classes': classes}
    if host is not None:
        report['host'] = _host_detail(dc, host, classes, unmapped)
        return report
    if level is not None and level not in levels:
        raise ShowError('unknown level %r; levels are %s' % (
            level, ', '.join(levels)))

    arrays = dc.arrays()
    slots = np.flatnonzero(arrays.present)
    usable = arrays.capacity[slots]
    used = arrays.used[slots]
    enabled = arrays.enabled[slots]
    count = arrays.count[slots]
    report['summary'] = {
        'hosts': int(len(slots)), 'enabled_hosts': int(enabled.sum()),
        'servers': int(count.sum()),
        'usable': _by_class(classes, usable.sum(axis=0)),
        'used': _by_class(classes, used.sum(axis=0)),
        'free': _by_class(classes, (usable - used).sum(axis=0))}
    if level is None or level != 'host':
        shown = upper if level is None else [level]
        report['domains'] = {
            lvl: _domains(dc, levels.index(lvl), arrays, slots, classes)
            for lvl in shown}
        # Every level is a key; levels only the inventory names stay too.
        report['unmapped'] = (unmapped if level is None
                              else {level: unmapped.get(level, [])})
    if level is None or level == 'host':
        report['hosts'] = _hosts(dc, arrays, slots, classes, upper)
    return report


def _unmapped(unmapped, upper):
    out = {lvl: [] for lvl in upper}
    for lvl, names in unmapped.items():
        out[str(lvl)] = sorted({str(n) for n in names or ()},
                               key=natural_key)
    return out


def _domains(dc, li, arrays, slots, classes):
    ids = arrays.domain[li, slots]
    size = dc.domain_count(li)
    hosts = np.bincount(ids, minlength=size)
    enabled = np.bincount(ids, weights=arrays.enabled[slots], minlength=size)
    servers = np.bincount(ids, weights=arrays.count[slots], minlength=size)
    # One weighted bincount per resource class sums every domain at once.
    usable = np.column_stack([
        np.bincount(ids, weights=arrays.capacity[slots, i], minlength=size)
        for i in range(len(classes))]) if classes else np.zeros((size, 0))
    used = np.column_stack([
        np.bincount(ids, weights=arrays.used[slots, i], minlength=size)
        for i in range(len(classes))]) if classes else np.zeros((size, 0))
    out = []
    for did in range(size):
        if not hosts[did]:
            continue  # a domain whose last host left the model
        out.append({
            'name': dc.domain_name(li, did),
            'hosts': int(hosts[did]), 'enabled_hosts': int(enabled[did]),
            'servers': int(servers[did]),
            'usable': _by_class(classes, usable[did]),
            'used': _by_class(classes, used[did]),
            'free': _by_class(classes, usable[did] - used[did])})
    out.sort(key=lambda d: natural_key(d['name']))
    return out


def _hosts(dc, arrays, slots, classes, upper):
    names = {}
    for li, lvl in enumerate(upper, start=1):
        names[lvl] = [dc.domain_name(li, did) for did in
                      range(dc.domain_count(li))]
    # Plain lists: per-element numpy access is slow over 10,000 hosts.
    usable = arrays.capacity[slots].tolist()
    used = arrays.used[slots].tolist()
    enabled = arrays.enabled[slots].tolist()
    count = arrays.count[slots].tolist()
    domains = arrays.domain[:, slots].tolist()
    out = []
    for i, slot in enumerate(slots.tolist()):
        out.append({
            'name': dc.host_name(slot),
            'domains': {lvl: names[lvl][domains[li][i]]
                        for li, lvl in enumerate(upper, start=1)},
            'enabled': enabled[i],
            'servers': count[i],
            'usable': _by_class(classes, usable[i]),
            'used': _by_class(classes, used[i]),
            'free': _by_class(classes, [a - b for a, b in
                                        zip(usable[i], used[i])])})
    out.sort(key=lambda h: natural_key(h['name']))
    return out


def _host_detail(dc, name, classes, unmapped):
    if name not in dc.hosts:
        levels = sorted(lvl for lvl, names in unmapped.items()
                        if name in names)
        if levels:
            raise ShowError(
                'host %s is not in the model: the inventory could not map '
                'it to a domain at level(s) %s' % (name, ', '.join(levels)))
        raise ShowError('unknown host %s; the model has %d hosts' % (
            name, len(dc.hosts)))
    spec = dc.hosts[name]
    arrays = dc.arrays()
    slot = dc.slot_of(name)
    usable = arrays.capacity[slot]
    used = arrays.used[slot]
    servers = []
    for sid in dc.servers_on(name):
        server = dc.servers[sid]
        servers.append({
            'id': server.id, 'name': server.name, 'project': server.project,
            'stack': server.stack, 'groups': sorted(server.groups),
            'demand': {rc: number(server.demand.get(rc, 0))
                       for rc in classes}})
    return {
        'name': name,
        'domains': {lvl: dc.domain_of(name, lvl)
                    for lvl in dc.topology.upper_levels},
        'enabled': bool(arrays.enabled[slot]),
        'servers': len(servers),
        'usable': _by_class(classes, usable),
        'used': _by_class(classes, used),
        'free': _by_class(classes, usable - used),
        'availability_zone': spec.availability_zone,
        'aggregates': {agg: dict(meta or {}) for agg, meta in
                       sorted(spec.aggregates.items())},
        'traits': sorted(spec.traits),
        'capacity': {rc: number(spec.capacity.get(rc, 0)) for rc in classes},
        'reserved': {rc: number(spec.reserved.get(rc, 0)) for rc in classes},
        'allocation_ratios': {rc: number(spec.allocation_ratios.get(rc, 1.0))
                              for rc in classes},
        'standby_percent': {rc: number(spec.standby_percent.get(rc, 0))
                            for rc in classes},
        'server_list': servers}


# --------------------------------------------------------------- formatting
def format_json(report):
    return json.dumps(report, indent=2, sort_keys=True) + '\n'


def text(value):
    """A cell: numbers without a useless ``.0``, None as ``-``."""
    if value is None:
        return '-'
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, float):
        if value.is_integer():
            return '%d' % value
        return ('%.3f' % value).rstrip('0').rstrip('.')
    return str(value)


def render(columns, rows, groups=None):
    """Fixed-width text table.

    ``columns`` are ``(title, align)`` with align ``'l'`` or ``'r'``;
    ``rows`` are lists of cell strings; ``groups`` are optional
    ``(label, span)`` covering the columns left to right, printed above
    the titles (a resource class over its usable/used/free columns).
    """
    widths = [len(title) for title, _ in columns]
    for row in rows:
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    spans = []
    if groups:
        start = 0
        for label, span in groups:
            inner = sum(widths[start:start + span]) + 2 * (span - 1)
            if len(label) > inner:
                widths[start + span - 1] += len(label) - inner
            spans.append((label, start, span))
            start += span

    def line(cells):
        out = []
        for (_, align), width, cell in zip(columns, widths, cells):
            out.append(cell.rjust(width) if align == 'r'
                       else cell.ljust(width))
        return '  '.join(out).rstrip()

    lines = []
    if spans:
        top = []
        for label, start, span in spans:
            inner = sum(widths[start:start + span]) + 2 * (span - 1)
            top.append(label.center(inner) if label else ' ' * inner)
        lines.append('  '.join(top).rstrip())
    lines.append(line([title for title, _ in columns]))
    lines.append(line(['-' * w for w in widths]))
    lines.extend(line(row) for row in rows)
    return '\n'.join(lines)


def _amount_columns(classes, kinds):
    columns = [(kind, 'r') for _ in classes for kind in kinds]
    groups = [(rc, len(kinds)) for rc in classes]
    return columns, groups


def _amount_cells(entry, classes, kinds):
    return [text(entry[kind][rc]) for rc in classes for kind in kinds]


def format_table(report):
    """The report as text tables, one section after another."""
    classes = report['resource_classes']
    out = ['Levels: %s' % ' < '.join(report['levels'])]
    if 'host' in report:
        out.extend(_host_tables(report['host'], report['levels'], classes))
        return '\n'.join(out) + '\n'
    summary = report['summary']
    out.append('Hosts: %d (%d enabled), servers: %d' % (
        summary['hosts'], summary['enabled_hosts'], summary['servers']))
    out.append('')
    kinds = ('usable', 'used', 'free')
    out.append(render(
        [('RESOURCE', 'l')] + [(k.upper(), 'r') for k in kinds],
        [[rc] + [text(summary[k][rc]) for k in kinds] for rc in classes]))
    for lvl, domains in report.get('domains', {}).items():
        out.append('')
        out.append('Domains at level %s (%d)' % (lvl, len(domains)))
        amounts, groups = _amount_columns(classes, ('usable', 'free'))
        columns = [('NAME', 'l'), ('HOSTS', 'r'), ('ENABLED', 'r'),
                   ('SERVERS', 'r')] + amounts
        rows = [[d['name'], text(d['hosts']), text(d['enabled_hosts']),
                 text(d['servers'])] + _amount_cells(d, classes,
                                                     ('usable', 'free'))
                for d in domains]
        out.append(render(columns, rows, [('', 4)] + groups))
    if 'hosts' in report:
        upper = report['levels'][1:]
        hosts = report['hosts']
        out.append('')
        out.append('Hosts (%d)' % len(hosts))
        amounts, groups = _amount_columns(classes, kinds)
        columns = ([('NAME', 'l')] + [(lvl.upper(), 'l') for lvl in upper] +
                   [('ENABLED', 'l'), ('SERVERS', 'r')] + amounts)
        rows = [[h['name']] + [h['domains'][lvl] for lvl in upper] +
                [text(h['enabled']), text(h['servers'])] +
                _amount_cells(h, classes, kinds) for h in hosts]
        out.append(render(columns, rows, [('', 3 + len(upper))] + groups))
    if 'unmapped' in report:
        rows = [[lvl, name] for lvl, names in report['unmapped'].items()
                for name in names]
        out.append('')
        if rows:
            out.append('Hosts the inventory could not map (%d)' % len(rows))
            out.append(render([('LEVEL', 'l'), ('HOST', 'l')], rows))
        else:
            out.append('Hosts the inventory could not map: none')
    return '\n'.join(out) + '\n'


def _host_tables(host, levels, classes):
    aggregates = ', '.join(
        '%s (%s)' % (agg, ', '.join('%s=%s' % kv for kv in
                                    sorted(meta.items())))
        if meta else agg for agg, meta in host['aggregates'].items())
    fields = [('host', host['name'])]
    fields += [(lvl, host['domains'][lvl]) for lvl in levels[1:]]
    fields += [('enabled', text(host['enabled'])),
               ('availability zone', text(host['availability_zone'])),
               ('aggregates', aggregates or '-'),
               ('traits', ', '.join(host['traits']) or '-'),
               ('servers', text(host['servers']))]
    width = max(len(k) for k, _ in fields) + 1
    out = ['']
    out.extend(('%s:' % k).ljust(width) + '  ' + v for k, v in fields)
    out.append('')
    kinds = ('capacity', 'reserved', 'allocation_ratios', 'standby_percent',
             'usable', 'used', 'free')
    titles = ('TOTAL', 'RESERVED', 'RATIO', 'STANDBY%', 'USABLE', 'USED',
              'FREE')
    out.append(render(
        [('RESOURCE', 'l')] + [(t, 'r') for t in titles],
        [[rc] + [text(host[k][rc]) for k in kinds] for rc in classes]))
    servers = host['server_list']
    out.append('')
    out.append('Servers on %s (%d)' % (host['name'], len(servers)))
    columns = [('ID', 'l'), ('NAME', 'l'), ('PROJECT', 'l'), ('STACK', 'l'),
               ('GROUPS', 'l')] + [(rc, 'r') for rc in classes]
    rows = [[s['id'], text(s['name']), text(s['project']), text(s['stack']),
             ', '.join(s['groups']) or '-'] +
            [text(s['demand'][rc]) for rc in classes] for s in servers]
    out.append(render(columns, rows))
    return out
