"""Place hosts in the topology: a domain per level, from configuration.

``[inventory] level_sources`` is a list of ``LEVEL:SOURCE[=ARGUMENT]``
entries; for each level above ``host`` its entries are tried in order and
the first that yields a value is the host's domain at that level:

``aggregate_metadata=KEY``  value of KEY in a Nova aggregate holding the host
``trait=PREFIX``            suffix of a trait PREFIX<SUFFIX>, lower case
``availability_zone``       the host's availability zone
``constant=VALUE``          VALUE, for every host
``hostname=rack|region``    the original Valet host-name convention

A host no source maps at some level is *unmapped* there; it is reported,
and ``[inventory] unmapped_hosts`` says whether it is left out or gets a
domain of its own.
"""

import dataclasses
import re

from oslo_log import log as logging

from valet.inventory import base

LOG = logging.getLogger(__name__)

AGGREGATE_METADATA = 'aggregate_metadata'
TRAIT = 'trait'
AVAILABILITY_ZONE = 'availability_zone'
CONSTANT = 'constant'
HOSTNAME = 'hostname'
# source -> does it take an argument?
SOURCES = {AGGREGATE_METADATA: True, TRAIT: True, AVAILABILITY_ZONE: False,
           CONSTANT: True, HOSTNAME: True}
SYNTAX = ('LEVEL:aggregate_metadata=KEY, LEVEL:trait=PREFIX, '
          'LEVEL:availability_zone, LEVEL:constant=VALUE, '
          'LEVEL:hostname=rack|region')
HOSTNAME_PARTS = ('rack', 'region')
TRAIT_PATTERN = re.compile(r'^[A-Z0-9_]+$')

EXCLUDE = 'exclude'
ISOLATE = 'isolate'
ISOLATED_PREFIX = 'unmapped:'
# How many host names a warning quotes.
EXAMPLES = 5


@dataclasses.dataclass(frozen=True)
class LevelSource:
    level: str
    kind: str
    argument: str | None = None

    def __str__(self):
        if self.argument is None:
            return '%s:%s' % (self.level, self.kind)
        return '%s:%s=%s' % (self.level, self.kind, self.argument)


def _bad(entry, message):
    raise base.InventoryError(
        '[inventory] level_sources: entry %r: %s; entries look like %s' % (
            entry, message, SYNTAX))


def parse_entry(entry, levels):
    """One ``LEVEL:SOURCE[=ARGUMENT]`` entry -> LevelSource."""
    level, sep, rest = entry.strip().partition(':')
    level = level.strip()
    if not sep or not level or not rest.strip():
        _bad(entry, 'expected LEVEL:SOURCE')
    if level == 'host':
        _bad(entry, 'the host level is the host itself and takes no source')
    if level not in levels:
        _bad(entry, 'unknown level %r; [inventory] levels are %s' % (
            level, ', '.join(levels)))
    kind, sep, argument = rest.partition('=')
    kind, argument = kind.strip(), argument.strip()
    if kind not in SOURCES:
        _bad(entry, 'unknown source %r; sources are %s' % (
            kind, ', '.join(sorted(SOURCES))))
    if not SOURCES[kind]:
        if sep:
            _bad(entry, 'source %s takes no argument' % kind)
        return LevelSource(level, kind)
    if kind == HOSTNAME and not sep and level in HOSTNAME_PARTS:
        argument = level
    if not argument:
        _bad(entry, 'source %s needs an argument' % kind)
    if kind == TRAIT and not TRAIT_PATTERN.match(argument):
        _bad(entry, 'a trait prefix is upper case letters, digits and '
             'underscores, e.g. CUSTOM_RACK_')
    if kind == HOSTNAME and argument not in HOSTNAME_PARTS:
        _bad(entry, 'the host-name convention gives %s, not %r' % (
            ' or '.join(HOSTNAME_PARTS), argument))
    return LevelSource(level, kind, argument)


def parse_level_sources(levels, entries):
    """{level: [LevelSource]} for every level above host; checked."""
    levels = tuple(levels)
    if not levels or levels[0] != 'host':
        raise base.InventoryError(
            '[inventory] levels: the lowest level must be "host", got %s'
            % ', '.join(levels))
    if len(set(levels)) != len(levels):
        raise base.InventoryError(
            '[inventory] levels: names must be unique: %s' % ', '.join(levels))
    by_level = {level: [] for level in levels[1:]}
    for entry in entries:
        if entry.strip():
            source = parse_entry(entry, levels)
            by_level[source.level].append(source)
    missing = [level for level, sources in by_level.items() if not sources]
    if missing:
        raise base.InventoryError(
            '[inventory] level_sources: no source for level(s) %s; add an '
            'entry for each, e.g. %s:constant=%s' % (
                ', '.join(missing), missing[0], missing[0] + '1'))
    return by_level


class HostnameConvention:
    """``<region><rack code><rack digits><node code><node digits>[.domain]``.

    The region is ``num_of_region_chars`` letters and then digits, e.g.
    ``pdk15r05c001`` -> region ``pdk15``, rack ``pdk15r05``.
    """

    def __init__(self, region_chars=3, rack_codes=('r',),
                 node_codes=('a', 'c', 'u', 'f', 'o', 'p', 's')):
        for option, codes in (('rack_code_list', rack_codes),
                              ('node_code_list', node_codes)):
            bad = [c for c in codes if len(c) != 1 or c.isdigit()]
            if bad or not codes:
                raise base.InventoryError(
                    '[inventory] %s: each code is one non-digit character, '
                    'got %s' % (option, ', '.join(codes) or '(none)'))
        self.pattern = re.compile(
            r'^(?P<region>[A-Za-z]{%d}\d+)(?P<rack>[%s]\d+)[%s]\d+(\..*)?$' % (
                region_chars, ''.join(map(re.escape, rack_codes)),
                ''.join(map(re.escape, node_codes))))

    def parse(self, name):
        """{'region': ..., 'rack': ...}, or None if the name does not fit."""
        match = self.pattern.match(name)
        if not match:
            return None
        region = match.group('region')
        return {'region': region, 'rack': region + match.group('rack')}


@dataclasses.dataclass
class MappingResult:
    hosts: list                 # HostSpec with domains, unmapped handled
    unmapped: dict              # level -> [host names]
    excluded: list              # names of hosts left out
    ambiguous: dict             # level -> [host names] with several values
    split: dict = dataclasses.field(default_factory=dict)
    # level -> [domains whose hosts sit in several parent domains]


def _first(values):
    """The first of several candidate values; (value, ambiguous)."""
    distinct = sorted(set(values))
    if not distinct:
        return None, False
    return distinct[0], len(distinct) > 1


class TopologyMapper:
    """Gives each host its domain at every level above host."""

    def __init__(self, levels, sources, convention=None, unmapped=EXCLUDE):
        self.levels = tuple(levels)
        self.sources = sources
        self.convention = convention or HostnameConvention()
        if unmapped not in (EXCLUDE, ISOLATE):
            raise base.InventoryError(
                '[inventory] unmapped_hosts: %r is neither %s nor %s' % (
                    unmapped, EXCLUDE, ISOLATE))
        self.unmapped_policy = unmapped

    @classmethod
    def from_conf(cls, conf):
        opts = conf.inventory
        sources = parse_level_sources(opts.levels, opts.level_sources)
        convention = HostnameConvention(opts.num_of_region_chars,
                                        opts.rack_code_list,
                                        opts.node_code_list)
        return cls(opts.levels, sources, convention, opts.unmapped_hosts)

    def domain(self, source, host):
        """(domain or None, ambiguous) of ``host`` from one source."""
        if source.kind == CONSTANT:
            return source.argument, False
        if source.kind == AVAILABILITY_ZONE:
            return host.availability_zone or None, False
        if source.kind == AGGREGATE_METADATA:
            return _first(
                meta[source.argument].strip()
                for meta in host.aggregates.values()
                if (meta or {}).get(source.argument, '').strip())
        if source.kind == TRAIT:
            prefix = source.argument
            return _first(t[len(prefix):].lower() for t in host.traits
                          if t.startswith(prefix) and len(t) > len(prefix))
        parts = self.convention.parse(host.name)
        return (parts[source.argument] if parts else None), False

    def domains(self, host):
        """({level: domain}, [unmapped levels], [ambiguous levels])."""
        found, unmapped, ambiguous = {}, [], []
        for level in self.levels[1:]:
            for source in self.sources[level]:
                value, unsure = self.domain(source, host)
                if value:
                    found[level] = value
                    if unsure:
                        ambiguous.append(level)
                    break
            else:
                unmapped.append(level)
        return found, unmapped, ambiguous

    def map_hosts(self, hosts):
        """Set ``domains`` on each HostSpec; report what could not be."""
        result = MappingResult(hosts=[], unmapped={}, excluded=[],
                               ambiguous={})
        for host in hosts:
            found, unmapped, ambiguous = self.domains(host)
            for level in ambiguous:
                result.ambiguous.setdefault(level, []).append(host.name)
            for level in unmapped:
                result.unmapped.setdefault(level, []).append(host.name)
                found[level] = ISOLATED_PREFIX + host.name
            if unmapped and self.unmapped_policy == EXCLUDE:
                result.excluded.append(host.name)
                continue
            host.domains = found
            result.hosts.append(host)
        result.split = self.split_domains(result.hosts)
        self._warn(result)
        return result

    def split_domains(self, hosts):
        """Domains whose hosts disagree on the domain one level up.

        The model tolerates it, but a rack in two zones usually means a
        mistagged host, and it weakens constraints at the upper level.
        """
        upper = self.levels[1:]
        split = {}
        for level, above in zip(upper, upper[1:]):
            parents = {}
            for host in hosts:
                parents.setdefault(host.domains[level], set()).add(
                    host.domains[above])
            bad = sorted(d for d, p in parents.items() if len(p) > 1)
            if bad:
                split[level] = bad
        return split

    def _warn(self, result):
        if result.unmapped:
            names = sorted({n for v in result.unmapped.values() for n in v})
            LOG.warning(
                '%(count)d hosts map to no domain at level(s) %(levels)s '
                '(e.g. %(examples)s) and are %(fate)s ([inventory] '
                'unmapped_hosts = %(policy)s); check [inventory] '
                'level_sources %(sources)s',
                {'count': len(names),
                 'levels': ', '.join('%s (%d)' % (lvl, len(result.unmapped[
                     lvl])) for lvl in self.levels if lvl in result.unmapped),
                 'examples': ', '.join(names[:EXAMPLES]),
                 'fate': ('left out of the model'
                          if self.unmapped_policy == EXCLUDE
                          else 'each given a domain of their own'),
                 'policy': self.unmapped_policy,
                 'sources': ', '.join(
                     str(s) for lvl in self.levels
                     if lvl in result.unmapped for s in self.sources[lvl])})
        if result.ambiguous:
            names = sorted({n for v in result.ambiguous.values() for n in v})
            LOG.warning(
                '%(count)d hosts have several candidate domains at level(s) '
                '%(levels)s (e.g. %(examples)s); the first in name order is '
                'used. A host should carry one rack trait or sit in one '
                'aggregate with the metadata key.',
                {'count': len(names),
                 'levels': ', '.join(sorted(result.ambiguous)),
                 'examples': ', '.join(names[:EXAMPLES])})
        for level, domains in sorted(result.split.items()):
            above = self.levels[self.levels.index(level) + 1]
            LOG.warning('%(count)d %(level)s domains hold hosts of several '
                        '%(above)s domains (e.g. %(examples)s); check the '
                        'sources of both levels',
                        {'count': len(domains), 'level': level,
                         'above': above,
                         'examples': ', '.join(domains[:EXAMPLES])})
