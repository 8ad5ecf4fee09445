"""A faster reader of plain YAML documents, with libyaml's answer.

libyaml's safe loader spends most of a large inventory's read building a
node (with two position marks) for every scalar and then constructing
each scalar again through the resolver's regular expressions, although
an inventory repeats the same few hundred words (flavors, zones, ``64``,
``true``) tens of thousands of times. ``load`` builds the document from
libyaml's event stream instead: each distinct plain scalar is resolved
and constructed once (by PyYAML's own resolver and safe constructor) and
reused; aliases share the anchored object, as PyYAML's do.

Anything this reader does not handle exactly as PyYAML would (explicit
tags, merge keys, recursive or duplicate anchors, an unhashable key,
several documents, any YAML error) makes it give up; the document is
then read by ``yaml.load`` with the safe loader, whose answer (or error)
is the one returned. On a 5,000-host inventory it reads in about half
the time of the safe loader.

Before all that, ``load`` lets ``valet.inventory.block_yaml`` try: a
generated file (block YAML as PyYAML's dumper writes it) is read line
by line there, in about half the time again.
"""

import yaml
from yaml import constructor as yaml_constructor
from yaml import events
from yaml import nodes
from yaml import resolver as yaml_resolver

from valet.inventory import block_yaml

_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
# Resolved tags whose values are immutable (so one object may stand for
# every occurrence) and which the safe constructor builds from the text
# alone.
_SCALAR_TAGS = frozenset('tag:yaml.org,2002:' + name for name in (
    'str', 'int', 'float', 'bool', 'null', 'timestamp'))
_NON_SPECIFIC = (None, '!')


class _GiveUp(Exception):
    """The safe loader must read this document."""


class _Reader:
    def __init__(self, loader):
        self.next_event = loader.get_event
        self.resolver = yaml_resolver.Resolver()
        self.constructor = yaml_constructor.SafeConstructor()
        self.plain = {}          # plain scalar text -> its value
        self.anchors = {}        # anchor -> the value it names
        self.open_anchors = set()

    def scalar(self, event):
        if event.tag not in _NON_SPECIFIC:
            raise _GiveUp()
        if not event.implicit[0]:
            # Quoted (or a block scalar): always a string.
            return event.value
        value = event.value
        try:
            return self.plain[value]
        except KeyError:
            pass
        tag = self.resolver.resolve(nodes.ScalarNode, value, (True, False))
        if tag not in _SCALAR_TAGS:
            raise _GiveUp()     # a merge key, a value key
        construct = self.constructor.yaml_constructors[tag]
        result = self.plain[value] = construct(
            self.constructor, nodes.ScalarNode(tag, value))
        return result

    def value(self, event):
        kind = type(event)
        if kind is events.ScalarEvent:
            self.opening(event.anchor)
            result = self.scalar(event)
        elif kind is events.AliasEvent:
            try:
                return self.anchors[event.anchor]
            except KeyError:
                raise _GiveUp() from None   # undefined or recursive
        elif kind is events.MappingStartEvent:
            result = self.mapping(event)
        elif kind is events.SequenceStartEvent:
            result = self.sequence(event)
        else:
            raise _GiveUp()
        if event.anchor is not None:
            self.name(event.anchor, result)
        return result

    def mapping(self, start):
        if start.tag not in _NON_SPECIFIC:
            raise _GiveUp()
        self.opening(start.anchor)
        out = {}
        next_event = self.next_event
        while True:
            event = next_event()
            if type(event) is events.MappingEndEvent:
                return out
            key = self.value(event)
            try:
                out[key] = self.value(next_event())
            except TypeError:
                raise _GiveUp() from None   # an unhashable key

    def sequence(self, start):
        if start.tag not in _NON_SPECIFIC:
            raise _GiveUp()
        self.opening(start.anchor)
        out = []
        next_event = self.next_event
        while True:
            event = next_event()
            if type(event) is events.SequenceEndEvent:
                return out
            out.append(self.value(event))

    def opening(self, anchor):
        # An alias met inside its own anchor's node is a recursive
        # structure, an anchor named twice an error: both left to PyYAML.
        if anchor is not None:
            if anchor in self.anchors or anchor in self.open_anchors:
                raise _GiveUp()
            self.open_anchors.add(anchor)

    def name(self, anchor, value):
        self.open_anchors.discard(anchor)
        self.anchors[anchor] = value

    def document(self):
        expect = self.expect
        expect(events.StreamStartEvent)
        event = self.next_event()
        if type(event) is events.StreamEndEvent:
            return None
        if type(event) is not events.DocumentStartEvent:
            raise _GiveUp()
        result = self.value(self.next_event())
        expect(events.DocumentEndEvent)
        expect(events.StreamEndEvent)   # a second document: PyYAML's error
        return result

    def expect(self, kind):
        if type(self.next_event()) is not kind:
            raise _GiveUp()


def load(text):
    """``yaml.load(text, Loader=CSafeLoader)``'s answer (or error)."""
    return read(text)[0]


def read(text):
    """``(load(text), string_keys)``: ``string_keys`` is True when every
    mapping key in the document is known to be a string (False: unknown).
    """
    try:
        return block_yaml.read(text)
    except block_yaml.GiveUp:
        pass
    except Exception:
        # A fault of the line reader must not stop a start on a valid
        # file: the readers below give libyaml's answer (or error).
        # block_yaml's own tests call it directly and still see it.
        pass
    loader = _LOADER(text)
    try:
        return _Reader(loader).document(), False
    except (_GiveUp, yaml.YAMLError, RecursionError):
        pass
    finally:
        loader.dispose()
    return yaml.load(text, Loader=_LOADER), False
