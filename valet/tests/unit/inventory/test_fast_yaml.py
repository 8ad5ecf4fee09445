"""valet.inventory.fast_yaml reads every document as PyYAML's safe
loader over libyaml does: the same value, or the same error."""

import datetime
from unittest import mock

import hypothesis
from hypothesis import strategies as st
import testtools
import yaml

from valet.inventory import block_yaml
from valet.inventory import fast_yaml


# libyaml's loader; its errors can differ from the pure loader's (which
# error a broken document meets first).
SAFE_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def safe_load(text):
    """(value, None) or (None, error class) of the safe loader."""
    try:
        return yaml.load(text, Loader=SAFE_LOADER), None
    except yaml.YAMLError as exc:
        return None, type(exc)


def fast_load(text):
    try:
        return fast_yaml.load(text), None
    except yaml.YAMLError as exc:
        return None, type(exc)


EDGE_CASES = [
    '',
    '# only a comment\n',
    '---\n...\n',
    'plain',
    '- 1\n- 0x1f\n- 0o17\n- 1_000\n- 190:20:30\n- -7\n- +3\n- 012\n',
    '- 1.5\n- .inf\n- -.Inf\n- 6.8523015e+5\n- 1_0.5\n- 190:20:30.15\n',
    '- yes\n- No\n- on\n- OFF\n- true\n- False\n- y\n- n\n',
    '- ~\n- null\n- Null\n-\n- ""\n- "~"\n',
    "- '12'\n- \"true\"\n- '1.0'\n- |\n  12\n- >\n  null\n",
    'when: 2001-12-14t21:59:43.10-05:00\nday: 2002-12-14\n',
    'a: &x [1, 2]\nb: *x\nc: &y {k: v}\nd: *y\n',
    'a: &s 12\nb: *s\n',
    'base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n',
    '"<<": 1\n',
    'a: 1\na: 2\n',
    '? [1, 2]\n: list key\n',
    '? {a: 1}\n: map key\n',
    '1: int key\n2.5: float key\ntrue: bool key\n~: null key\n',
    'a: !!str 12\nb: !!int "12"\n',
    'a: !custom 1\n',
    'a: !!binary aGVsbG8=\n',
    'a: !!set {x, y}\n',
    '--- 1\n--- 2\n',
    'a: *undefined\n',
    'a: &x [*x]\n',
    'a: &x 1\nb: &x 2\n',
    'a: &x [1, &x 2]\n',
    'a: [1, 2\n',
    'a: b: c\n',
    '\t- tab\n',
    '= : value key\n',
    'key: value # comment\nother: "quoted # not comment"\n',
]


class TestEdgeCases(testtools.TestCase):

    def test_each_reads_as_the_safe_loader_reads(self):
        for text in EDGE_CASES:
            # repr: a recursive value compares by it, and it tells
            # 1 from 1.0 and True.
            self.assertEqual(repr(safe_load(text)), repr(fast_load(text)),
                             text)

    def test_aliases_share_the_anchored_object(self):
        doc = fast_yaml.load('a: &x [1]\nb: *x\nc: &m {k: 1}\nd: *m\n')
        self.assertIs(doc['a'], doc['b'])
        self.assertIs(doc['c'], doc['d'])

    def test_repeated_containers_are_distinct(self):
        # Only scalars are shared; two equal lists stay two lists.
        doc = fast_yaml.load('a: [1]\nb: [1]\n')
        self.assertIsNot(doc['a'], doc['b'])

    def test_a_plain_document_never_needs_the_safe_loader(self):
        text = yaml.safe_dump({'hosts': [
            {'name': 'h%d' % i, 'vcpus': 64, 'enabled': True,
             'ratio': 4.0, 'rack': None} for i in range(20)]})
        with mock.patch.object(yaml, 'load',
                               side_effect=AssertionError('fell back')):
            doc = fast_yaml.load(text)
        self.assertEqual(64, doc['hosts'][19]['vcpus'])

    def test_a_fault_of_the_line_reader_falls_back(self):
        # A bug in block_yaml (not a GiveUp) must not fail a valid file.
        text = 'hosts:\n- {name: h0, vcpus: 64}\n'
        with mock.patch.object(block_yaml, 'read',
                               side_effect=IndexError('a reader bug')):
            doc = fast_yaml.load(text)
        self.assertEqual(yaml.safe_load(text), doc)

    def test_timestamp_values(self):
        doc = fast_yaml.load('a: 2002-12-14\nb: 2002-12-14\n')
        self.assertEqual(datetime.date(2002, 12, 14), doc['b'])


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10 ** 12, 10 ** 12),
    st.floats(allow_nan=False), st.text(max_size=12),
    st.sampled_from(['yes', 'no', '0x10', '1_000', '1:30', '.5', '~',
                     '2001-01-01', '<<', '=', '012', '-', '?', ':',
                     '#', '&a', '*a', '!x', '{', '[', '"', "'"]))
_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers(),
                                  st.booleans()), inner, max_size=5)),
    max_leaves=25)


class TestGenerated(testtools.TestCase):

    @hypothesis.given(_DATA, st.sampled_from([None, True, False]),
                      st.booleans())
    def test_dumped_data_reads_the_same(self, data, flow, shared):
        if shared:
            # The dumper writes anchors and aliases for a shared object.
            data = {'first': data, 'again': data, 'list': [data, data]}
        text = yaml.safe_dump(data, default_flow_style=flow,
                              allow_unicode=True)
        self.assertEqual(repr(safe_load(text)), repr(fast_load(text)))

    @hypothesis.given(st.lists(st.sampled_from([
        'a: 1\n', '- x\n', '  - y\n', 'b: &n 2\n', 'c: *n\n', '<<: {z: 1}\n',
        '? k\n', ': v\n', '---\n', '...\n', 'd: [1, {e: f}]\n', '"q": !!str 3\n',
        'e: |\n  text\n', '  f: g\n', '#c\n', '\t\n', 'x: y: z\n', '{a: 1}\n',
        '[1, 2]\n', 'h: &m [*m]\n', 'i: 2001-01-01\n', 'j: .nan\n']),
        max_size=8))
    def test_fragments_read_the_same(self, lines):
        # Valid or not: the same value, or the same kind of error.
        text = ''.join(lines)
        self.assertEqual(repr(safe_load(text)), repr(fast_load(text)))
