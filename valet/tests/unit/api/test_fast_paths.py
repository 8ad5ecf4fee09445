"""Shortcuts of the request path answer what the plain path answers."""

import json
import random

import hypothesis
from hypothesis import strategies as st
from oslotest import base as oslo_base

from valet.api import request as api_request
from valet.api import schemas
from valet.api import validation


def _plain_strict_json(text):
    return json.loads(text, parse_constant=api_request._reject_constant,
                      parse_float=api_request._finite_float)


def _outcome(parse, text):
    try:
        return 'ok', parse(text)
    except ValueError as exc:
        return type(exc).__name__, str(exc)


_JSON_TEXT = st.one_of(
    st.text(alphabet='{}[]":,0123456789.eE-+ tfalsenuNIiy\ufeff\\u',
            max_size=30),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(),
                  st.floats(allow_nan=True, allow_infinity=True),
                  st.text(max_size=5)),
        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                st.dictionaries(st.text(max_size=3), inner,
                                                max_size=3)),
        max_leaves=8).map(json.dumps),
    st.sampled_from(['\ufeff{}', '{"a": NaN}', '[1e400]', '-Infinity',
                     '{"a": 1} x', '', ' ', '"\\ud800"']))


class StrictJsonTest(oslo_base.BaseTestCase):
    """The decoder made once decodes and refuses as json.loads does."""

    @hypothesis.settings(max_examples=500, deadline=None)
    @hypothesis.given(_JSON_TEXT)
    def test_same_answer_and_error_as_json_loads(self, text):
        self.assertEqual(_outcome(_plain_strict_json, text),
                         _outcome(api_request.strict_json, text))

    def test_bytes_and_bom_go_through_json_loads(self):
        self.assertEqual({'a': 1}, api_request.strict_json(b'{"a": 1}'))
        error = self.assertRaises(ValueError, api_request.strict_json,
                                  '\ufeff{}')
        self.assertIn('BOM', str(error))


def _value(rng, depth=0):
    kinds = ['str', 'id', 'int', 'none', 'list', 'dict']
    kind = rng.choice(kinds if depth < 3 else kinds[:4])
    if kind == 'str':
        return rng.choice(['', 'a', 'x' * 12, 'two words', 'ctl\x07'])
    if kind == 'id':
        return rng.choice(['abc', 'a-1', 'a:b', 'é'])
    if kind == 'int':
        return rng.choice([0, 1, True, 1.5])
    if kind == 'none':
        return None
    if kind == 'list':
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(['a', 'b', 'c', 'd']): _value(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}


_ID = {'type': 'string', 'pattern': '^[a-z0-9:-]{1,8}$'}
_TEXT = {'type': 'string', 'minLength': 1, 'maxLength': 10,
         'pattern': '^[^\\x00-\\x1f]*$'}
# Object shapes with a check of their own (validation._record,
# validation._open_object) and string shapes (pattern only, pattern with
# limits, limits only).
SHAPES = [
    {'type': 'object', 'properties': {'a': _ID, 'b': _TEXT},
     'required': ['a'], 'additionalProperties': False},
    {'type': 'object', 'properties': {'a': _ID},
     'additionalProperties': _TEXT},
    {'type': 'object', 'properties': {'a': _ID, 'b': {}},
     'required': ['b'], 'additionalProperties': {'type': 'integer'}},
    {'type': 'object', 'properties': {'a': _ID, 'c': _TEXT}},
    {'type': 'object', 'maxProperties': 2, 'minProperties': 1,
     'properties': {'a': _ID}, 'required': ['a']},
    {'type': 'object'},
    {'type': 'string', 'maxLength': 3},
    {'type': 'string', 'minLength': 2, 'pattern': '^[a-z]+$'},
    {'type': 'string', 'maxLength': 3, 'pattern': 'a'},
    _ID, _TEXT,
]


class CompiledShapesTest(oslo_base.BaseTestCase):
    """Each specialised check agrees with jsonschema."""

    def test_shapes_agree_with_jsonschema(self):
        rng = random.Random(20261205)
        for schema in SHAPES:
            check = validation.compile_schema(schema, schemas._compiled)
            self.assertIsNotNone(check, schema)
            reference = schemas._Validator(schema)
            verdicts = set()
            for _ in range(1500):
                instance = _value(rng)
                if rng.random() < 0.5 and schema.get('type') == 'object':
                    instance = {k: rng.choice(
                        [_value(rng, 2), 'abc', 'a b', 3])
                        for k in rng.sample(['a', 'b', 'c', 'z'],
                                            rng.randint(0, 4))}
                expected = reference.is_valid(instance)
                verdicts.add(expected)
                self.assertEqual(expected, check(instance),
                                 '%r on %r' % (schema, instance))
            self.assertEqual({True, False}, verdicts, schema)


class PlanVersionTest(oslo_base.BaseTestCase):
    """at_least, which parses each version string once, answers as a
    fresh parse of it would."""

    def test_same_as_at_least(self):
        from valet.api import microversion

        served = [None] + [microversion.Version.parse(v)
                           for v in microversion.VERSIONS]
        for version in served:
            environ = {} if version is None else {
                microversion.ENVIRON_KEY: version}
            for text in microversion.VERSIONS:
                # Twice: the second answer comes from the memo.
                for _ in range(2):
                    self.assertEqual(
                        (version or microversion.MIN_VERSION) >=
                        microversion.Version.parse(text),
                        microversion.at_least(environ, text),
                        (version, text))


class ResolverMemoTest(oslo_base.BaseTestCase):
    """The resolver's per-request memo of allowed groups answers as a
    lookup and check per server would."""

    def _storage(self):
        from valet.objects import group as group_mod
        from valet.storage import base as storage_base
        groups = {
            'open': group_mod.Group('open', 'diversity', id='id-open'),
            'mine': group_mod.Group('mine', 'diversity', id='id-mine',
                                    members=['p1']),
            'theirs': group_mod.Group('theirs', 'diversity',
                                      id='id-theirs', members=['p2']),
        }

        class Storage:
            def get_group(self, ref):
                for g in groups.values():
                    if ref in (g.name, g.id):
                        return g
                raise storage_base.NotFound(ref)
        return Storage()

    def _answer(self, resolve):
        from valet.api import errors
        try:
            return resolve()
        except errors.APIError as exc:
            return exc.status, exc.code, exc.detail

    def test_same_as_a_check_per_server(self):
        from valet.api import resolver
        from valet.objects import membership
        rng = random.Random(7)
        names = ['open', 'mine', 'theirs', 'id-open', 'gone']
        storage = self._storage()
        for _ in range(300):
            resources = {}
            for i in range(rng.randint(1, 6)):
                picked = rng.sample(names, rng.randint(0, 2))
                props = {'flavor': 'f'}
                if picked:
                    props['metadata'] = {'valet': {'groups': picked}}
                resources['o%d' % i] = {'name': 's%d' % i,
                                        'type': membership.SERVER_TYPE,
                                        'properties': props}
            fast = resolver.GroupResolver(storage, 'p1')

            def plain_resolve():
                plain = resolver.GroupResolver(storage, 'p1')
                plain._allowed = _Forgetful()
                return plain.resolve(resources)
            self.assertEqual(
                self._answer(plain_resolve),
                self._answer(lambda: fast.resolve(resources)), resources)


class _Forgetful(dict):
    """A memo that never remembers (the plain path)."""

    def __setitem__(self, key, value):
        pass
