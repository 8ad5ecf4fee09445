"""The static inventory: the data centre described in one YAML file.

Used by all-in-one deployments, tests, simulations and small clouds without
Placement. The file's shape is in DESIGN.md ("The static inventory file");
every error names the file, the host (or flavor, server, group) and the key
at fault, so that an operator can fix it without reading code.
"""

import contextlib
import gc
import hashlib
import json
import os

from oslo_log import log as logging
import yaml

from valet.engine.model import datacenter
from valet.engine.model import host as host_mod
from valet.engine.model import resources
from valet.inventory import base
from valet.inventory import fast_yaml
from valet import objects
from valet.objects import flavor as flavor_rule
from valet.objects import group_kinds
from valet.objects import membership

LOG = logging.getLogger(__name__)

# Host capacity keys and the resource classes they fill.
CAPACITY_KEYS = {'vcpus': resources.VCPU, 'memory_mb': resources.MEMORY_MB,
                 'disk_gb': resources.DISK_GB}
HOST_KEYS = frozenset(CAPACITY_KEYS) | {
    'name', 'resources', 'allocation_ratios', 'reserved', 'standby_percent',
    'availability_zone', 'aggregates', 'traits', 'enabled', 'description'}
FLAVOR_NUMBERS = ('vcpus', 'ram', 'disk', 'ephemeral', 'swap')
FLAVOR_KEYS = frozenset(FLAVOR_NUMBERS) | {
    'id', 'extra_specs', 'description', 'is_public', 'rxtx_factor'}
SERVER_KEYS = frozenset(
    {'name', 'id', 'host', 'flavor', 'groups', 'project', 'stack'})
# Beside these, a group's parameters (max_per_domain, ...: the group
# vocabulary's) are keys of their own.
GROUP_KEYS = frozenset(
    {'name', 'type', 'level', 'parents', 'description', 'members'})
TOP_KEYS = frozenset(
    {'levels', 'flavors', 'hosts', 'servers', 'groups', 'name',
     'description'})
# Nova's default availability zone for hosts in none.
DEFAULT_AZ = 'nova'

# Files from this size on have what was parsed from them cached.
CACHE_MIN_BYTES = 1 << 20
CACHE_FORMAT = 1


class StaticInventory(base.Inventory):
    """Reads ``[inventory] static_file`` (or ``path``) on every load."""

    def __init__(self, conf, path=None):
        super().__init__(conf)
        self.path = path
        self._last = None        # (sha256, document) of the last load

    @property
    def file(self):
        return self.path or self.conf.inventory.static_file

    def load(self):
        path = self.file
        with _no_collection():
            data = self._document(path)
            snapshot = parse(data, path, self.conf.inventory.levels)
        if list(snapshot.levels) != list(self.conf.inventory.levels):
            # The API checks group levels against [inventory] levels; a
            # group at a level only one side knows fails later, at plan time.
            LOG.warning('Inventory %s names levels %s but [inventory] levels '
                        'is %s; the API accepts groups at the latter. Make '
                        'them agree.', path, ', '.join(snapshot.levels),
                        ', '.join(self.conf.inventory.levels))
        LOG.info('Static inventory %s: %d hosts, %d flavors, %d servers',
                 path, len(snapshot.hosts), len(snapshot.flavors),
                 len(snapshot.servers))
        return snapshot

    # ------------------------------------------------------------- reading
    def _document(self, path):
        """The parsed document of ``path``.

        Unchanged content (same SHA-256) is parsed once per process, and
        a large file once per content at all: the parse is cached as JSON
        in ``[inventory] static_cache_dir``.
        """
        try:
            with open(path, 'rb') as handle:
                raw = handle.read()
        except OSError as exc:
            raise base.InventoryError(
                'inventory %s: cannot be read: %s; set [inventory] '
                'static_file to an existing YAML file' % (
                    path, exc.strerror or exc))
        digest = hashlib.sha256(raw).hexdigest()
        if self._last is not None and self._last[0] == digest:
            return self._last[1]
        cache = self._cache_file(path) if len(raw) >= CACHE_MIN_BYTES \
            else None
        data = _read_cache(cache, digest) if cache else None
        if data is None:
            data, string_keys = _load_document(raw, path)
            if cache:
                _write_cache(cache, digest, data, string_keys)
        self._last = (digest, data)
        return data

    def _cache_file(self, path):
        directory = self.conf.inventory.static_cache_dir
        if not directory:
            return None
        key = hashlib.sha256(
            os.path.abspath(path).encode('utf-8')).hexdigest()[:32]
        return os.path.join(directory, key + '.json')


@contextlib.contextmanager
def _no_collection():
    """No cyclic garbage collection while a document is read.

    Reading allocates a million objects and frees almost none; each full
    collection it would trigger walks every object of the process (an
    engine's whole model) for nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_document(raw, path='<inventory>'):
    """The YAML (or JSON) document in the bytes ``raw``.

    A document that is JSON (YAML's subset; tools that generate large
    inventories can write it) is read by the JSON parser, much faster
    than any YAML loader; anything else as libyaml's safe loader reads it
    (``valet.inventory.fast_yaml``).
    """
    return _load_document(raw, path)[0]


def _load_document(raw, path):
    """``(document, string_keys)``: string_keys is True when every mapping
    key in the document is known to be a string."""
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise base.InventoryError(
            'inventory %s: is not UTF-8 text: %s' % (path, exc))
    if text.lstrip().startswith('{'):
        try:
            return json.loads(text), True
        except ValueError:
            pass        # YAML flow style, or an error YAML words better
    try:
        return fast_yaml.read(text)
    except yaml.YAMLError as exc:
        raise base.InventoryError(
            'inventory %s: is not valid YAML: %s' % (path, exc))


def _read_cache(cache, digest):
    try:
        with open(cache, encoding='utf-8') as handle:
            stored = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get('format') != CACHE_FORMAT \
            or stored.get('sha256') != digest:
        return None
    return stored.get('data')


def _write_cache(cache, digest, data, string_keys=False):
    """Keep ``data`` for the next start, if JSON holds it unchanged.

    ``string_keys``: every mapping key in ``data`` is known to be a string.
    """
    stored = {'format': CACHE_FORMAT, 'sha256': digest, 'data': data}
    try:
        text = None
        if string_keys:
            # The readers that know their keys (JSON, block_yaml) give
            # only mappings, lists, strings, numbers, booleans, nulls and
            # dates (which fail to dump). Under string keys JSON gives
            # these back as they went in: no need to read the text back
            # to compare. NaN and infinities are compared below.
            try:
                # Nor can they hold a cycle (block_yaml refuses an alias
                # inside its own anchor): no need to look for one.
                text = json.dumps(stored, allow_nan=False,
                                  check_circular=False)
            except ValueError:
                pass
        if text is None:
            text = json.dumps(stored)
            # YAML may hold what JSON cannot (dates, non-string keys).
            if json.loads(text)['data'] != data:
                return
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        partial = '%s.%d.tmp' % (cache, os.getpid())
        with open(partial, 'w', encoding='utf-8') as handle:
            handle.write(text)
        os.replace(partial, cache)
    except (OSError, TypeError, ValueError) as exc:
        LOG.info('Static inventory not cached in %s: %s', cache, exc)


def parse(data, path='<inventory>', default_levels=None):
    """An InventorySnapshot from the parsed YAML document ``data``."""
    return _Parser(path).parse(data, default_levels)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Parser:

    def __init__(self, path):
        self.path = path

    def fail(self, where, message):
        prefix = 'inventory %s' % self.path
        if where:
            prefix += ': ' + where
        raise base.InventoryError('%s: %s' % (prefix, message))

    def known_keys(self, where, spec, known):
        unknown = sorted(set(spec) - known)
        if unknown:
            self.fail(where, 'unknown key(s) %s; known keys are %s' % (
                ', '.join(map(str, unknown)), ', '.join(sorted(known))))

    # ------------------------------------------------------------- document
    def parse(self, data, default_levels):
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail('', 'the document must be a mapping with keys '
                      'levels, flavors, hosts, servers')
        unknown = sorted(set(data) - TOP_KEYS)
        if unknown:
            self.fail('', 'unknown top-level key(s) %s; known keys are %s' % (
                ', '.join(map(str, unknown)), ', '.join(sorted(TOP_KEYS))))
        levels = self.levels(data.get('levels', default_levels))
        flavors = self.flavors(data.get('flavors') or {})
        hosts = self.hosts(data.get('hosts'), levels)
        groups = self.groups(data.get('groups') or {}, levels)
        servers = self.servers(data.get('servers') or [], hosts, flavors)
        return base.InventorySnapshot(
            levels=levels, hosts=list(hosts.values()), flavors=flavors,
            servers=servers, groups=groups)

    def levels(self, levels):
        levels = list(levels or group_kinds.DEFAULT_LEVELS)
        if not all(isinstance(lvl, str) and lvl for lvl in levels):
            self.fail('levels', 'levels must be a list of names')
        if levels[0] != 'host':
            self.fail('levels', 'the lowest level must be "host", not %r' %
                      levels[0])
        if len(set(levels)) != len(levels):
            self.fail('levels', 'level names must be unique: %s' %
                      ', '.join(levels))
        return tuple(levels)

    # -------------------------------------------------------------- flavors
    def flavors(self, flavors):
        if not isinstance(flavors, dict):
            self.fail('flavors', 'must be a mapping of flavor name to '
                      '{vcpus, ram, disk}')
        out = {}
        for name, spec in flavors.items():
            where = 'flavor %s' % name
            if not isinstance(spec, dict):
                self.fail(where, 'must be a mapping with vcpus, ram, disk')
            self.known_keys(where, spec, FLAVOR_KEYS)
            flavor = {'name': str(name), 'id': str(spec.get('id', name))}
            for key in FLAVOR_NUMBERS:
                value = spec.get(key, 0)
                if not _is_number(value) or value < 0:
                    self.fail('%s: key %s' % (where, key),
                              'must be a non-negative number, not %r' % (
                                  value,))
                flavor[key] = value
            extra = spec.get('extra_specs') or {}
            if not isinstance(extra, dict):
                self.fail('%s: key extra_specs' % where, 'must be a mapping')
            flavor['extra_specs'] = {str(k): str(v) for k, v in extra.items()}
            out[str(name)] = flavor
        return out

    # ---------------------------------------------------------------- hosts
    def hosts(self, hosts, levels):
        if not isinstance(hosts, list):
            self.fail('hosts', 'must be a list of hosts (each with name, '
                      'vcpus, memory_mb, disk_gb and its %s)' % (
                          ', '.join(levels[1:]) or 'levels'))
        out = {}
        parent_of = [dict() for _ in levels]  # domain -> (parent, host)
        for index, entry in enumerate(hosts):
            if not isinstance(entry, dict) or not entry.get('name'):
                self.fail('hosts[%d]' % index, 'each host is a mapping with '
                          'at least a name')
            name = str(entry['name'])
            if name in out:
                self.fail('host %s' % name, 'duplicate host name')
            spec = self.host(name, entry, levels)
            self.check_nesting(spec, levels, parent_of)
            out[name] = spec
        return out

    def host(self, name, entry, levels):
        where = 'host %s' % name
        upper = levels[1:]
        for key in entry:
            if key not in HOST_KEYS and key not in upper:
                self.fail('%s: key %s' % (where, key),
                          'unknown key; levels above host are %s, host '
                          'fields are %s' % (
                              ', '.join(upper) or '(none)',
                              ', '.join(sorted(HOST_KEYS))))
        domains = {}
        for level in upper:
            value = entry.get(level)
            if value is None or value == '':
                self.fail('%s: key %s' % (where, level),
                          'missing ancestor: every host names its %s '
                          '(levels are %s)' % (level, ', '.join(levels)))
            domains[level] = str(value)
        capacity = {}
        for key, rc in CAPACITY_KEYS.items():
            if key not in entry:
                self.fail('%s: key %s' % (where, key), 'missing capacity')
            capacity[rc] = self.amount(where, key, entry[key])
        for rc, value in self.mapping(where, entry, 'resources').items():
            capacity[rc] = self.amount(where, 'resources.%s' % rc, value)
        ratios = self.per_class(where, entry, 'allocation_ratios', positive=True)
        reserved = self.per_class(where, entry, 'reserved')
        standby = self.per_class(where, entry, 'standby_percent')
        for rc, value in standby.items():
            if value > 100:
                self.fail('%s: key standby_percent.%s' % (where, rc),
                          'must be between 0 and 100, not %r' % value)
        aggregates = {}
        for agg, meta in self.mapping(where, entry, 'aggregates').items():
            if meta is None:
                meta = {}
            if not isinstance(meta, dict):
                self.fail('%s: key aggregates.%s' % (where, agg),
                          'aggregate metadata must be a mapping')
            aggregates[str(agg)] = {str(k): str(v) for k, v in meta.items()}
        traits = entry.get('traits') or []
        if not isinstance(traits, list):
            self.fail('%s: key traits' % where, 'must be a list of names')
        enabled = entry.get('enabled', True)
        if not isinstance(enabled, bool):
            self.fail('%s: key enabled' % where, 'must be true or false')
        return host_mod.HostSpec(
            name=name, capacity=capacity, domains=domains,
            allocation_ratios=ratios, reserved=reserved,
            standby_percent=standby, enabled=enabled,
            availability_zone=str(entry.get('availability_zone') or
                                  DEFAULT_AZ),
            aggregates=aggregates, traits=frozenset(map(str, traits)))

    def amount(self, where, key, value):
        if not _is_number(value):
            self.fail('%s: key %s' % (where, key),
                      'must be a number, not %r' % (value,))
        if value < 0:
            self.fail('%s: key %s' % (where, key),
                      'negative capacity %r' % (value,))
        return value

    def mapping(self, where, entry, key):
        value = entry.get(key) or {}
        if not isinstance(value, dict):
            self.fail('%s: key %s' % (where, key), 'must be a mapping')
        return value

    def per_class(self, where, entry, key, positive=False):
        """``{vcpus|memory_mb|disk_gb|RESOURCE_CLASS: number}`` by class."""
        out = {}
        for field, value in self.mapping(where, entry, key).items():
            label = '%s: key %s.%s' % (where, key, field)
            if not _is_number(value) or value < 0 or (
                    positive and value == 0):
                self.fail(label, 'must be a %s number, not %r' % (
                    'positive' if positive else 'non-negative', value))
            out[CAPACITY_KEYS.get(field, str(field))] = value
        return out

    def check_nesting(self, spec, levels, parent_of):
        """A domain sits in one parent domain (a rack is in one zone)."""
        upper = levels[1:]
        for i, level in enumerate(upper[:-1]):
            above = upper[i + 1]
            domain, parent = spec.domains[level], spec.domains[above]
            known = parent_of[i].setdefault(domain, (parent, spec.name))
            if known[0] != parent:
                self.fail('host %s: key %s' % (spec.name, above),
                          '%s %s is in %s %s here but in %s %s on host %s' % (
                              level, domain, above, parent, above, known[0],
                              known[1]))

    # --------------------------------------------------------------- groups
    def groups(self, groups, levels):
        if isinstance(groups, list):
            try:
                groups = {g['name']: g for g in groups}
            except (TypeError, KeyError):
                self.fail('groups', 'a list of groups needs a name on each')
        if not isinstance(groups, dict):
            self.fail('groups', 'must be a mapping of group name to '
                      '{type, level}')
        out = []
        for name, spec in groups.items():
            where = 'group %s' % name
            if not isinstance(spec, dict):
                self.fail(where, 'must be a mapping with type and level')
            self.known_keys(where, spec,
                            GROUP_KEYS | set(group_kinds.PARAMETERS))
            kind = spec.get('type')
            if kind not in group_kinds.KINDS:
                self.fail('%s: key type' % where, 'must be one of %s, not '
                          '%r' % (', '.join(group_kinds.KINDS), kind))
            level = spec.get('level', group_kinds.DEFAULT_LEVEL)
            if level not in levels:
                self.fail('%s: key level' % where, 'unknown level %r; levels '
                          'are %s' % (level, ', '.join(levels)))
            parameters = group_kinds.picked(spec)
            for key, problem in group_kinds.problems(kind, parameters):
                self.fail('%s: key %s' % (where, key), problem)
            out.append(objects.Group(
                name=str(name), type=kind, level=level,
                description=str(spec.get('description') or ''),
                members=list(spec.get('members') or []),
                parents=[str(p) for p in spec.get('parents') or []],
                parameters=group_kinds.with_defaults(kind, parameters)))
        names = {g.name for g in out}
        for group in out:
            for parent in group.parents:
                if parent not in names:
                    self.fail('group %s: key parents' % group.name,
                              'unknown parent group %s' % parent)
        return out

    # -------------------------------------------------------------- servers
    def servers(self, servers, hosts, flavors):
        if not isinstance(servers, list):
            self.fail('servers', 'must be a list of {name, host, flavor}')
        snapshot = base.InventorySnapshot(levels=(), flavors=flavors)
        out, seen = [], set()
        # Tens of thousands of servers share a few flavors: each flavor
        # reference is looked up, and its demand worked out, once.
        by_ref = {}         # flavor reference -> (flavor, demand)
        demands = {}        # flavor name -> demand
        placed = datacenter.PlacedServer
        append, add = out.append, seen.add
        for index, entry in enumerate(servers):
            if not isinstance(entry, dict) or not entry.get('name'):
                self.fail('servers[%d]' % index, 'each server is a mapping '
                          'with at least a name, host and flavor')
            # str() of a str is itself: only other values are converted.
            name = entry['name']
            if name.__class__ is not str:
                name = str(name)
            if not SERVER_KEYS.issuperset(entry):
                self.known_keys('server %s' % name, entry, SERVER_KEYS)
            sid = entry.get('id') or name
            if sid.__class__ is not str:
                sid = str(sid)
            if sid in seen:
                self.fail('server %s' % name, 'duplicate server id %s' % sid)
            add(sid)
            host = entry.get('host')
            if host not in hosts:
                self.fail('server %s: key host' % name,
                          'unknown host %r' % (host,))
            if host.__class__ is not str:
                host = str(host)
            ref = entry.get('flavor')
            known = by_ref.get(ref) if isinstance(ref, str) else None
            if known is None:
                flavor = snapshot.find_flavor(ref)
                if flavor is None:
                    self.fail('server %s: key flavor' % name, 'unknown '
                              'flavor %r; known flavors are %s' % (
                                  ref, ', '.join(sorted(flavors)) or
                                  '(none)'))
                demand = None
            else:
                flavor, demand = known
            groups = entry.get('groups')
            if groups is not None:
                try:
                    groups = membership.group_list(groups, 'groups')
                except membership.MembershipError as exc:
                    self.fail('server %s' % name, exc.message)
            if demand is None:
                demand = demands.get(flavor['name'])
                if demand is None:
                    try:
                        demand = resources.flavor_demand(flavor)
                    except flavor_rule.FlavorError as exc:
                        self.fail('server %s: key flavor' % name, str(exc))
                    demands[flavor['name']] = demand
                if isinstance(ref, str):
                    by_ref[ref] = (flavor, demand)
            # PlacedServer's fields in order: id, host, demand, groups,
            # project, stack, name.
            append(placed(sid, host, dict(demand), groups or (),
                          entry.get('project'), entry.get('stack'), name))
        return out
