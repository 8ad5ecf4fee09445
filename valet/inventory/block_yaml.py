"""Block YAML as PyYAML's dumper writes it, read line by line.

A large inventory is generated, and a generated file uses a handful of
YAML's forms: block mappings and sequences (indented, or a sequence
level with its key), one-line plain or quoted scalars, anchors and
aliases, and flow collections of scalars (which the dumper may wrap
after a comma). ``load`` reads exactly those with a few regular
expressions per line instead of libyaml's event per value, several
times faster. Every plain scalar is resolved and constructed by PyYAML's
own resolver and safe constructor, once per distinct text.

Everything else raises ``GiveUp`` and ``valet.inventory.fast_yaml``
reads the document instead: any character outside printable ASCII, a
comment, a blank line, tabs, tags, block or multi-line scalars, escapes,
nested flow collections, complex keys, a ``:`` in a plain scalar, an
anchor named twice or used inside itself, merge keys, odd indentation
or spacing. What is accepted means the same to every YAML 1.1 reader,
so the answer is PyYAML safe_load's.
"""

import itertools
import operator
import re

from yaml import constructor as yaml_constructor
from yaml import nodes
from yaml import resolver as yaml_resolver

_STR = 'tag:yaml.org,2002:str'
_SCALAR_TAGS = frozenset('tag:yaml.org,2002:' + name for name in (
    'str', 'int', 'float', 'bool', 'null', 'timestamp'))

# A plain scalar may not start with an indicator; '-' and '.' only when a
# number follows ('-1', '.5': never '- ', '---' or '...').
_PLAIN_START = (r"(?:[^\-?:,\[\]{}#&*!|>'\"%@` .\n]|-(?=[0-9.])"
                r"|\.(?=[0-9A-Za-z]))")
# No ':' (a key's end, a timestamp), no '#', no brackets, no trailing
# space; in a flow collection no ','.
_BLOCK_PLAIN = _PLAIN_START + r"(?:[^:#\[\]{}\n]*[^:#\[\]{} \n])?"
_FLOW_PLAIN = _PLAIN_START + r"(?:[^:#\[\]{},\n]*[^:#\[\]{}, \n])?"
_SINGLE = r"'(?:[^'\n]|'')*'"
_DOUBLE = r'"[^"\\\n]*"'       # without escapes
_FLOW_SCALAR = '(?:%s|%s|%s)' % (_FLOW_PLAIN, _SINGLE, _DOUBLE)
# Entries are separated by ', ' or, where the dumper wrapped, ',\n'.
_SEP = r',[ \n]'
_FLOW_MAP = re.compile(r'\{(?:%(s)s: %(s)s(?:%(sep)s%(s)s: %(s)s)*)?\}' % {
    's': _FLOW_SCALAR, 'sep': _SEP})
_FLOW_SEQ = re.compile(r'\[(?:%(s)s(?:%(sep)s%(s)s)*)?\]' % {
    's': _FLOW_SCALAR, 'sep': _SEP})
_FLOW_ENTRY = re.compile(r'(%s): (%s)(?:%s)?' % (
    _FLOW_SCALAR, _FLOW_SCALAR, _SEP))
_FLOW_ITEM = re.compile(r'(%s)(?:%s)?' % (_FLOW_SCALAR, _SEP))
_BLOCK_PLAIN_RE = re.compile(_BLOCK_PLAIN)
_QUOTES = frozenset('\'"')
# First characters of a sequence item that is not a mapping 'key: ...'
# with a plain key.
_NOT_KEYS = frozenset('{[\'"&*')
# A flow collection without quotes, split into words at ', ' and ': '
# (each word is then checked as a plain scalar).
_FLOW_MAP_WORDS = re.compile(r'[^:,\n]+: [^:,\n]+(?:,[ \n][^:,\n]+: [^:,\n]+)*')
_FLOW_SEQ_WORDS = re.compile(r'[^:,\n]+(?:,[ \n][^:,\n]+)*')
_SINGLE_RE = re.compile(_SINGLE)
_DOUBLE_RE = re.compile(_DOUBLE)
# 'key:' or 'key: value'.
_KEY = re.compile(r'(%s|%s|%s):(?: (.*))?' % (
    _BLOCK_PLAIN, _SINGLE, _DOUBLE))
_ANCHOR = re.compile(r'&([0-9A-Za-z_-]+)(?: (.+))?')
_ALIAS = re.compile(r'\*([0-9A-Za-z_-]+)')
# Printable ASCII and line feeds, without '#' (comments) or tabs.
_UNHANDLED = re.compile(r'[^\n !-"$-~]')
# The ASCII characters _UNHANDLED finds: controls (but the line feed),
# DEL and '#'. A search for each one alone runs at memory speed.
_UNHANDLED_ASCII = tuple(
    chr(code) for code in list(range(32)) + [127] if code != 10) + ('#',)
# libyaml refuses a key over 1024 characters; keep clear of it.
_MAX_LINE = 1000


class GiveUp(Exception):
    """This reader does not handle the document."""


class _PlainScalars(dict):
    """Plain scalar text -> its value, resolved and constructed once."""

    def __init__(self):
        super().__init__()
        self.resolver = yaml_resolver.Resolver()
        self.constructor = yaml_constructor.SafeConstructor()
        # Resolver.resolve's rule for a plain scalar, without its
        # generality: the first character picks the regular expressions
        # to try, and no match is a string. Only while nothing has added
        # wildcard or path resolvers (PyYAML adds none).
        implicit = self.resolver.yaml_implicit_resolvers
        self.non_strings = set()    # texts whose value is not a string
        self.by_first = None
        if None not in implicit and not self.resolver.yaml_path_resolvers:
            self.by_first = implicit
        self.surely_str = _surely_str(self.by_first)

    def __missing__(self, text):
        # Most distinct texts (ids, names) are plain strings: one regular
        # expression says so, instead of the check and resolve below.
        if self.surely_str is not None and self.surely_str.fullmatch(text):
            self[text] = text
            return text
        return self.resolved(text)

    def resolved(self, text):
        # Every plain scalar read passes here once: check it is one.
        if not _BLOCK_PLAIN_RE.fullmatch(text):
            raise GiveUp()
        if self.by_first is None:
            tag = self.resolver.resolve(nodes.ScalarNode, text, (True, False))
        else:
            tag = _STR
            for candidate, pattern in self.by_first.get(text[0], ()):
                if pattern.match(text):
                    tag = candidate
                    break
        if tag == _STR:
            # The safe constructor's string is the text itself.
            self[text] = text
            return text
        if tag not in _SCALAR_TAGS:
            raise GiveUp()      # a merge key, a value key
        value = self.constructor.yaml_constructors[tag](
            self.constructor, nodes.ScalarNode(tag, text))
        # Immutable: one object may stand for every occurrence (PyYAML's
        # own NaN is one shared object too).
        self[text] = value
        self.non_strings.add(text)
        return value


def _surely_str(by_first):
    """A regular expression that fully matches only plain scalars none of
    the implicit resolvers ``by_first`` (first character -> [(tag,
    regexp)]) matches: their value is the text itself. None when the
    resolvers' expressions cannot be combined.

    Each resolver's own expression is tried, as Resolver.resolve does,
    only on a text whose first character it is registered under.
    """
    if by_first is None:
        return None
    first_chars = {}        # id(regexp) -> (regexp, its first characters)
    for first, candidates in by_first.items():
        for _tag, regexp in candidates:
            if not isinstance(regexp, re.Pattern) or \
                    not isinstance(regexp.pattern, str) or \
                    regexp.flags & ~(re.VERBOSE | re.UNICODE):
                return None
            first_chars.setdefault(id(regexp), (regexp, set()))[1].add(first)
    tried = []
    for regexp, firsts in first_chars.values():
        firsts.discard('')      # the empty text is no plain scalar here
        if not firsts:
            continue
        body = regexp.pattern
        if regexp.flags & re.VERBOSE:
            body = '(?x:%s)' % body
        else:
            body = '(?:%s)' % body
        tried.append('(?=[%s])%s' % (
            ''.join(map(re.escape, sorted(firsts))), body))
    if not tried:
        return re.compile(_BLOCK_PLAIN)
    return re.compile('(?!%s)%s' % ('|'.join(tried), _BLOCK_PLAIN))


def _has_unhandled(text):
    """``_UNHANDLED.search(text)`` as a truth value, several times faster
    on a large text."""
    return not text.isascii() or any(
        char in text for char in _UNHANDLED_ASCII)


def _unquote(text):
    if text[0] == "'":
        return text[1:-1].replace("''", "'")
    if text[0] == '"':
        return text[1:-1]
    return None


class _Reader:

    def __init__(self, text):
        if _has_unhandled(text):
            raise GiveUp()
        lines = text.split('\n')
        while lines and not lines[-1]:
            lines.pop()
        if not lines or '' in lines or any(map(str.isspace, lines)):
            raise GiveUp()      # blank lines
        self.lines = lines
        # Each line's indent, worked out in C: its length less its
        # length without leading spaces.
        self.indents = list(map(operator.sub, map(len, lines), map(
            len, map(str.lstrip, lines, itertools.repeat(' ', len(lines))))))
        if max(map(len, lines)) > _MAX_LINE or self.indents[0]:
            raise GiveUp()
        self.plain = _PlainScalars()
        self.anchors = {}
        self.open_anchors = set()
        self.string_keys = True     # no key is a number, null, date...

    def document(self):
        value, end = self.node(0, 0)
        if end != len(self.lines):
            raise GiveUp()
        return value

    def node(self, i, indent):
        """The block collection starting on line ``i`` at ``indent``."""
        if self.lines[i].startswith('- ', indent):
            return self.sequence(i, indent)
        return self.mapping(i, indent, self.lines[i][indent:])

    def nested(self, i, indent):
        """The value of ``key:`` at ``indent``: the block below, or null."""
        if i < len(self.lines):
            below = self.indents[i]
            if below > indent:
                return self.node(i, below)
            if below == indent and self.lines[i].startswith('- ', indent):
                return self.sequence(i, indent)
        return None, i      # an empty plain scalar: null

    def mapping(self, i, indent, content):
        out = {}
        lines, indents, plain = self.lines, self.indents, self.plain
        end = len(lines)
        while True:
            if content[0] in _QUOTES:
                match = _KEY.fullmatch(content)
                if match is None:
                    raise GiveUp()
                key, rest = match.groups()
                key = _unquote(key)
            else:
                # A plain key holds no ':' (the cache checks it is plain).
                key, colon, rest = content.partition(':')
                if not colon:
                    raise GiveUp()
                key = plain[key]
                if key.__class__ is not str:
                    self.string_keys = False
                if not rest:
                    rest = None
                elif rest[0] == ' ':
                    rest = rest[1:]
                else:
                    raise GiveUp()
            if rest is None:
                out[key], i = self.nested(i + 1, indent)
            else:
                out[key], i = self.inline(rest, i, indent)
            if i == end:
                return out, i
            if indents[i] != indent:
                if indents[i] > indent:
                    raise GiveUp()      # a continued scalar, odd indent
                return out, i
            content = lines[i][indent:]
            if content.startswith('- '):
                raise GiveUp()

    def sequence(self, i, indent):
        out = []
        lines, indents = self.lines, self.indents
        end = len(lines)
        while True:
            content = lines[i][indent + 2:]
            if content[:1] in ('', ' '):
                raise GiveUp()
            if content[0] == '{':
                value, i = self.flow(content, i, indent)
            elif (':' in content and content[0] not in _NOT_KEYS) or (
                    content[0] in _QUOTES and _KEY.fullmatch(content)):
                value, i = self.mapping(i, indent + 2, content)
            else:
                value, i = self.inline(content, i, indent)
            out.append(value)
            if i == end:
                return out, i
            if indents[i] != indent:
                if indents[i] > indent:
                    raise GiveUp()
                return out, i
            if not lines[i].startswith('- ', indent):
                return out, i

    def inline(self, text, i, indent):
        """The value written ``text`` on line ``i`` of a block at
        ``indent``, and the line after it."""
        first = text[:1]
        if first == '{' or first == '[':
            return self.flow(text, i, indent)
        if first == '*':
            match = _ALIAS.fullmatch(text)
            if match is None or match.group(1) not in self.anchors:
                raise GiveUp()      # undefined, or inside its own node
            return self.anchors[match.group(1)], i + 1
        if first == '&':
            return self.anchored(text, i, indent)
        if first == "'":
            if not _SINGLE_RE.fullmatch(text):
                raise GiveUp()
            return _unquote(text), i + 1
        if first == '"':
            if not _DOUBLE_RE.fullmatch(text):
                raise GiveUp()
            return text[1:-1], i + 1
        if not text:
            raise GiveUp()
        return self.plain[text], i + 1

    def anchored(self, text, i, indent):
        match = _ANCHOR.fullmatch(text)
        if match is None:
            raise GiveUp()
        name, rest = match.groups()
        if name in self.anchors or name in self.open_anchors:
            raise GiveUp()
        self.open_anchors.add(name)
        if rest is not None:
            if rest[0] in '&*':
                raise GiveUp()
            value, i = self.inline(rest, i, indent)
        elif i + 1 < len(self.lines) and self.indents[i + 1] > indent:
            value, i = self.node(i + 1, self.indents[i + 1])
        else:
            raise GiveUp()
        self.open_anchors.discard(name)
        self.anchors[name] = value
        return value, i

    def flow(self, text, i, indent):
        """A flow collection of scalars, with its wrapped lines."""
        lines, indents = self.lines, self.indents
        if text[-1] == ',':
            parts = [text]
            while parts[-1].endswith(','):
                i += 1
                if i == len(lines) or indents[i] <= indent:
                    raise GiveUp()
                parts.append(lines[i][indents[i]:])
            text = '\n'.join(parts)
        plain = self.plain
        # Entries are separated by ', ' or ',\n' (see _SEP).
        if text[-1] != ('}' if text[0] == '{' else ']'):
            raise GiveUp()
        quoted = "'" in text or '"' in text
        if text[0] == '{':
            out = {}
            if quoted:
                if not _FLOW_MAP.fullmatch(text):
                    raise GiveUp()
                for key, value in _FLOW_ENTRY.findall(text, 1, len(text) - 1):
                    quoted = _unquote(key)
                    key = plain[key] if quoted is None else quoted
                    if key.__class__ is not str:
                        self.string_keys = False
                    quoted = _unquote(value)
                    out[key] = plain[value] if quoted is None else quoted
            elif len(text) > 2:
                # No quotes: a word holds neither ', ' nor ': ', so the
                # words alternate key, value.
                if not _FLOW_MAP_WORDS.fullmatch(text, 1, len(text) - 1):
                    raise GiveUp()
                words = text[1:-1].replace(',\n', ', ').replace(
                    ': ', ', ').split(', ')
                get = plain.__getitem__
                keys = words[::2]
                out = dict(zip(map(get, keys), map(get, words[1::2])))
                if not plain.non_strings.isdisjoint(keys):
                    self.string_keys = False
            return out, i + 1
        if quoted:
            if not _FLOW_SEQ.fullmatch(text):
                raise GiveUp()
            out = []
            for item in _FLOW_ITEM.findall(text, 1, len(text) - 1):
                quoted = _unquote(item)
                out.append(plain[item] if quoted is None else quoted)
        elif len(text) > 2:
            if not _FLOW_SEQ_WORDS.fullmatch(text, 1, len(text) - 1):
                raise GiveUp()
            out = list(map(plain.__getitem__,
                           text[1:-1].replace(',\n', ', ').split(', ')))
        else:
            out = []
        return out, i + 1


def read(text):
    """``(document, string_keys)``: the document in ``text`` as PyYAML's
    safe loader reads it, and whether every mapping key in it is a string.

    Raises ``GiveUp`` for a document outside the forms described above.
    """
    try:
        reader = _Reader(text)
        return reader.document(), reader.string_keys
    except RecursionError:
        raise GiveUp() from None


def load(text):
    """The document in ``text`` (see ``read``)."""
    return read(text)[0]
