"""valet.inventory.block_yaml reads what it accepts as PyYAML's safe
loader over libyaml does, and gives up on the rest."""

import random

import hypothesis
from hypothesis import strategies as st
import testtools
import yaml

from valet.inventory import block_yaml
from valet.tests.unit.inventory import test_fast_yaml

safe_load = test_fast_yaml.safe_load
GAVE_UP = 'gave up'


def block_load(text):
    try:
        return block_yaml.load(text), None
    except block_yaml.GiveUp:
        return GAVE_UP


class _Same:
    def assertReadsAsSafeLoader(self, text, accepted=None):
        # repr tells 1 from 1.0 and True, and shows NaN keys.
        got = block_load(text)
        if got is GAVE_UP:
            self.assertNotEqual(True, accepted, text)
            return
        self.assertNotEqual(False, accepted, text)
        self.assertEqual(repr(safe_load(text)), repr(got), text)


ACCEPTED = [
    'a: 1\nb: [x, y]\nc: {k: v, n: 2}\n',
    'a:\n- 1\n- two\nb: null\n',
    'a:\n  - 1\n  - 2\nb:\n  c: d\n',
    '- a: 1\n  b:\n  - x\n  - y\n- c: 2\n',
    '- {a: 1, b: 2,\n  c: 3}\n- [1, 2,\n  3]\n',
    "a: 'it''s'\nb: \"x: y, z\"\n'q k': {'a, b': 'c: d', e: \"f\"}\n",
    "a: ['1', \"2\", three]\n",
    'a: &x {k: 1}\nb: *x\nc: &y [1]\nd: *y\ne: &s word\nf: *s\n',
    'a: &m\n  k: v\nb: *m\n',
    '- &m\n  k: v\n- *m\n',
    'a:\nb:\n  c:\n',
    '1: a\n2.5: b\ntrue: c\n~: d\nyes: e\n',
    '- 0x1f\n- 0o17\n- 1_000\n- -7\n- +3\n- 012\n- .inf\n- -.Inf\n',
    '- 1.5\n- 6.8523015e+5\n- .nan\n- y\n- n\n- On\n- NULL\n',
    '.nan: 1\n.nan: 2\n',
    'a: 1\na: 2\n',
    'a: {}\nb: []\n',
    'a b: c d\ne: f, g\n',
    '2002-12-14: day\n',
    'a: x\n\n',
]

GIVEN_UP = [
    '', 'plain', '# comment\na: 1\n', 'a: 1 # c\n', 'a: 1\n\nb: 2\n',
    '---\na: 1\n', 'a: 1\n...\n', '--- 1\n--- 2\n', '\ta: 1\n', 'a:\t1\n',
    'a: 2001-12-14t21:59:43.10-05:00\n', 'a: 1:30\n', 'a: b: c\n',
    'a:b\n', 'a:  b\n', 'a: b \n', 'a : b\n', 'a: |\n  x\n', 'a: >\n  x\n',
    'a: !!str 1\n', 'a: !x 1\n', '? k\n: v\n', '<<: {a: 1}\n', '=: 1\n',
    'a: *x\n', 'a: &x [*x]\n', 'a: &x 1\nb: &x 2\n', 'a: &x\nb: 1\n',
    'a: [1, [2]]\n', 'a: {b: {c: d}}\n', 'a: [1,2]\n', 'a: {b:1}\n',
    'a: [1 , 2]\n', 'a: [1, 2\n', 'a: {b: c,\nd: e}\n', 'a: {b: c,\n\n  d: e}\n',
    "a: 'x\n  y'\n", 'a: "x\\ty"\n', 'a: b\n  c\n', 'a:\n  b: 1\n c: 2\n',
    '- a\n  b\n', '-  a\n', '-\n', '- - a\n', 'a: 1\n- b\n', '  a: 1\n',
    'a: ü\n', '\ufeffa: 1\n', 'a: 1\r\n', '- -\n', 'a: ---\n', 'a: ...x\n',
    'a: %x\n', 'a: @x\n', 'a: `x\n', 'a: {x, y}\n', 'a: [a: b]\n',
    'a: x' + 'y' * 1100 + '\n', "a: {'x\n  y': z}\n",
    'a:\n  b: 1\n  \n  c: 2\n', 'a: 1\n \n', '- a\n  \n- b\n',
    'a: {b: c,\n  \n  d: e}\n', 'a: 1\n  ',
]


class TestCases(testtools.TestCase, _Same):

    def test_accepted_documents_read_as_the_safe_loader(self):
        for text in ACCEPTED:
            self.assertReadsAsSafeLoader(text, accepted=True)

    def test_documents_it_gives_up_on(self):
        for text in GIVEN_UP:
            self.assertReadsAsSafeLoader(text, accepted=False)

    def test_fast_yaml_cases(self):
        for text in test_fast_yaml.EDGE_CASES:
            self.assertReadsAsSafeLoader(text)

    def test_aliases_share_repeated_flows_do_not(self):
        doc = block_yaml.load('a: &x {k: 1}\nb: *x\nc: {k: 1}\nd: {k: 1}\n')
        self.assertIs(doc['a'], doc['b'])
        self.assertIsNot(doc['c'], doc['d'])

    def test_a_generated_inventory_is_read_here(self):
        data = {'flavors': {'m1': {'vcpus': 1, 'id': '1', 'ram': 512}},
                'hosts': [{'name': 'h%d' % i, 'vcpus': 64, 'enabled': True,
                           'ratios': {'vcpus': 4.0}, 'traits': ['A', 'B'],
                           'zone': None} for i in range(30)],
                'servers': [{'name': 's%d' % i, 'host': 'h%d' % i,
                             'flavor': 'm1', 'id': 'id-%d' % i,
                             'project': 'p'} for i in range(30)]}
        data['hosts'][1]['ratios'] = data['hosts'][0]['ratios']
        text = yaml.safe_dump(data, default_flow_style=None, width=40)
        self.assertIn(',\n', text)      # wrapped flow collections
        self.assertIn('*id001', text)
        self.assertReadsAsSafeLoader(text, accepted=True)

    def test_seeded_mutations_of_an_inventory(self):
        base = yaml.safe_dump(
            {'hosts': [{'name': 'h%d' % i, 'a b': [1, 'x y', True],
                        'q': "it's", 'r': {'k': 1.5, 'n': None}}
                       for i in range(4)],
             'shared': [{'k': 'v'}] * 2}, default_flow_style=None, width=30)
        alphabet = " \n-:,.'\"#&*![]{}?|>~01xy\t"
        rng = random.Random(20261205)
        for _ in range(1500):
            chars = list(base)
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(chars))
                if rng.random() < 0.5:
                    chars.insert(at, rng.choice(alphabet))
                else:
                    del chars[at]
            self.assertReadsAsSafeLoader(''.join(chars))


_WORDS = st.one_of(
    st.text(alphabet=' abz019-.:,\'"_~+', min_size=0, max_size=8),
    st.sampled_from(['yes', 'No', '0x10', '1_000', '.5', '~', '-1', '-.inf',
                     '2001-01-01', '<<', '=', '012', 'null', '1e3', '+.5',
                     '.nan', '0o7', '0b11', '1.0e+3', '..', '-', '.']))
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 6, 10 ** 6),
                     st.floats(allow_nan=False, width=32), _WORDS)
_DATA = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(_WORDS, st.integers()), inner,
                        max_size=5)),
    max_leaves=25)


class TestGenerated(testtools.TestCase, _Same):

    @hypothesis.given(_DATA, st.sampled_from([None, True, False]),
                      st.booleans(), st.sampled_from([20, 80]))
    def test_dumped_data(self, data, flow, shared, width):
        if shared:
            data = {'first': data, 'again': data, 'list': [data, data]}
        self.assertReadsAsSafeLoader(yaml.safe_dump(
            data, default_flow_style=flow, width=width))

    @hypothesis.given(st.lists(st.sampled_from([
        'a: 1\n', '- x\n', '  - y\n', '- k: v\n', '  k: w\n', 'b: &n 2\n',
        'c: *n\n', 'd: &m\n', '  e: f\n', '- &p\n', '  g: h\n', '- *p\n',
        'e:\n', '  f: g\n', '    h: [1, 2,\n', '      3]\n', '- {a: b,\n',
        '  c: d}\n', "i: 'x,\n", "  y'\n", 'j: {k: l}\n', '  - z\n',
        'k: [a, b]\n', ' l: 1\n', '-\n', 'm: .nan\n', '.nan: n\n', 'o: p q\n',
        'r: "s"\n', "'t': u\n", 'v: -\n', '- - w\n', ' \n', '  \n']),
        max_size=8))
    def test_fragments(self, lines):
        self.assertReadsAsSafeLoader(''.join(lines))


def _all_keys_strings(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _all_keys_strings(v)
                   for k, v in value.items())
    if isinstance(value, list):
        return all(map(_all_keys_strings, value))
    return True


class TestStringKeys(testtools.TestCase):

    def test_cases(self):
        for text, expected in [
                ('a: 1\n', True), ('1: a\n', False), ('a: {1: b}\n', False),
                ("a: {'1': b}\n", True), ('a: {b: 1}\n', True),
                ('- {b: 1, null: c}\n', False), ('a:\n  true: 1\n', False),
                ('"1": [1, 2]\n', True), ("a: {'x': 1, 2: y}\n", False)]:
            self.assertEqual(expected, block_yaml.read(text)[1], text)

    @hypothesis.given(_DATA, st.sampled_from([None, True, False]))
    def test_string_keys_tells_the_truth(self, data, flow):
        text = yaml.safe_dump({'d': data}, default_flow_style=flow)
        try:
            value, string_keys = block_yaml.read(text)
        except block_yaml.GiveUp:
            return
        self.assertEqual(_all_keys_strings(value), string_keys)


# Texts near every implicit resolver's: numbers, dates, booleans, nulls,
# merge and value keys, with the characters that make or break them.
_NEAR_RESOLVED = st.one_of(
    st.text(alphabet='0123456789-+._:eExXbBoOaAfF ', min_size=1,
            max_size=12),
    st.text(alphabet='yYeEsSnNoOtTrRuUfFaAlLlL~<=.iIN-', min_size=1,
            max_size=7),
    st.sampled_from([
        '2001-12-14', '2001-12-14t21:59:43.10-05:00', '1_000', '0b101',
        '0o17', '017', '0x1F', '190:20:30', '1e3', '1.0e+3', '.inf', '-.Inf',
        '.NaN', '~', 'null', 'Null', 'NULL', 'yes', 'No', 'ON', 'off',
        'true', 'False', '<<', '=', 'old-000001', 'z00-r000-h00',
        '30547859-ba10-4e1f-9980-d5fe33a8fa8d']),
    st.text(min_size=1, max_size=10))


def _resolved_plainly(text):
    """The value of ``text`` as a plain scalar, by the general path."""
    scalars = block_yaml._PlainScalars()
    try:
        return scalars.resolved(text)
    except block_yaml.GiveUp:
        return GAVE_UP


class TestPlainScalarShortcut(testtools.TestCase):
    """The one-expression shortcut for plain strings (surely_str) agrees
    with the check and resolver it skips."""

    def test_the_shortcut_is_built(self):
        self.assertIsNotNone(block_yaml._PlainScalars().surely_str)

    def test_cases(self):
        surely_str = block_yaml._PlainScalars().surely_str
        for text in ['abc', 'old-000001', 'z00-r000-h00', 'nothing', 'Yesx',
                     'e5', 'c4ca4238-a0b9-3382-8dcc-509a6f75849b']:
            self.assertTrue(surely_str.fullmatch(text), text)
        for text in ['1', '-1', '1.5', '.inf', 'yes', 'Off', 'null', '~',
                     '2001-12-14', '0x1F', '1_0', '<<', '=', '- a', 'a:b',
                     'a ', '#a', '']:
            self.assertFalse(surely_str.fullmatch(text), text)

    @hypothesis.given(_NEAR_RESOLVED)
    @hypothesis.settings(max_examples=400)
    def test_shortcut_only_for_strings_the_resolver_agrees_on(self, text):
        surely_str = block_yaml._PlainScalars().surely_str
        if surely_str.fullmatch(text):
            self.assertEqual(text, _resolved_plainly(text))
        # And through the cache, shortcut or not, the same answer.
        scalars = block_yaml._PlainScalars()
        try:
            got = scalars[text]
        except block_yaml.GiveUp:
            got = GAVE_UP
        self.assertEqual(repr(_resolved_plainly(text)), repr(got))

    @hypothesis.given(_NEAR_RESOLVED)
    def test_plain_strings_take_the_shortcut(self, text):
        # Not only exact: it must also catch what it was made for.
        if _resolved_plainly(text) == text and text.isascii() and \
                text[0] not in '-+.0123456789FNOTYfnoty~':
            self.assertTrue(block_yaml._PlainScalars().surely_str.fullmatch(
                text), text)

    @hypothesis.given(st.text(max_size=6))
    def test_unhandled_characters(self, text):
        self.assertEqual(bool(block_yaml._UNHANDLED.search(text)),
                         block_yaml._has_unhandled(text))

    def test_unhandled_characters_one_by_one(self):
        for code in range(0x200):
            text = 'a: b' + chr(code)
            self.assertEqual(bool(block_yaml._UNHANDLED.search(text)),
                             block_yaml._has_unhandled(text), code)
