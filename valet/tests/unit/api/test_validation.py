"""The compiled schema check says "valid" exactly when jsonschema does.

Every schema of ``valet.api.schemas`` that compiles is checked on
thousands of generated instances, mostly near-valid (built from the
schema, then perturbed), against jsonschema with Valet's pattern rule.
"""

import importlib
import pkgutil
import random

from oslotest import base as oslo_base

from valet.api import errors
from valet.api import schemas
from valet.api.schemas import plans
from valet.api import validation

STRINGS = ['', 'a', 'abc-1.x~y:z', 'x' * 255, 'x' * 256, 'x' * 1025,
           'two words', 'line\n', 'ctrl\x07', 'h\u00e9llo', 'host@dc',
           '$', 'update', 'migrate', 'OS::Nova::Server', '0' * 64,
           '0' * 65, 'm1.small']
SCALARS = [None, True, False, 0, 1, -1, 1.0, 1.5, 2 ** 40, 'x']


def all_schemas():
    for info in pkgutil.iter_modules(schemas.__path__):
        module = importlib.import_module('valet.api.schemas.' + info.name)
        for name in sorted(dir(module)):
            value = getattr(module, name)
            if name.isupper() and isinstance(value, dict):
                yield '%s.%s' % (info.name, name), value


def generate(schema, rng, depth=0):
    """A value near ``schema``: usually of its shape, sometimes not."""
    if rng.random() < 0.08 or depth > 6 or not isinstance(schema, dict):
        return rng.choice(SCALARS + STRINGS + [[], {}, ['a'], {'a': 1}])
    if 'const' in schema and rng.random() < 0.8:
        return schema['const']
    if 'enum' in schema and rng.random() < 0.8:
        return rng.choice(schema['enum'])
    if 'anyOf' in schema:
        return generate(rng.choice(schema['anyOf']), rng, depth + 1)
    kinds = schema.get('type', rng.choice(['string', 'object']))
    kind = rng.choice(kinds) if isinstance(kinds, list) else kinds
    if kind == 'string':
        return rng.choice(STRINGS)
    if kind in ('number', 'integer', 'boolean', 'null'):
        return rng.choice(SCALARS)
    if kind == 'array':
        items = schema.get('items', {})
        count = rng.choice([0, 1, 1, 2, 3])
        return [generate(items, rng, depth + 1) for _ in range(count)]
    out = {}
    for name, sub in (schema.get('properties') or {}).items():
        if name in schema.get('required', ()) or rng.random() < 0.4:
            out[name] = generate(sub, rng, depth + 1)
    extra = schema.get('additionalProperties', True)
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        out[rng.choice(STRINGS)] = generate(
            extra if isinstance(extra, dict) else {}, rng, depth + 1)
    if out and rng.random() < 0.15:
        del out[rng.choice(sorted(out))]
    return out


class CompiledCheckTest(oslo_base.BaseTestCase):

    def test_same_verdict_as_jsonschema(self):
        rng = random.Random(20261203)
        compiled = 0
        counts = {True: 0, False: 0}
        for name, schema in all_schemas():
            check = validation.compile_schema(schema, schemas._compiled)
            if check is None:
                continue
            compiled += 1
            reference = schemas._Validator(schema)
            for _ in range(400):
                instance = generate(schema, rng)
                expected = reference.is_valid(instance)
                counts[expected] += 1
                self.assertEqual(expected, check(instance),
                                 '%s on %r' % (name, instance))
        self.assertGreater(compiled, 20)
        # Both answers, many times each: the instances test both ways.
        self.assertGreater(min(counts.values()), 1000, counts)

    def test_the_plan_schema_compiles(self):
        self.assertIsNotNone(validation.compile_schema(plans.CREATE,
                                                       schemas._compiled))

    def test_keywords_it_does_not_know_are_left_to_jsonschema(self):
        for schema in ({'type': 'array', 'uniqueItems': True},
                       {'minimum': 1},
                       {'enum': [1, 2]},
                       {'const': True},
                       {'type': 'object', 'patternProperties': {},
                        'additionalProperties': False},
                       {'properties': {'a': {'format': 'date'}}}):
            self.assertIsNone(
                validation.compile_schema(schema, schemas._compiled), schema)

    def test_tricky_values(self):
        def valid(schema, instance):
            check = validation.compile_schema(schema, schemas._compiled)
            expected = schemas._Validator(schema).is_valid(instance)
            self.assertEqual(expected, check(instance), (schema, instance))
            return expected

        self.assertTrue(valid({'type': 'integer'}, 1.0))
        self.assertFalse(valid({'type': 'integer'}, True))
        self.assertFalse(valid({'type': 'number'}, False))
        self.assertFalse(valid({'enum': ['1']}, 1))
        self.assertFalse(valid({'const': 'a'}, ['a']))
        self.assertFalse(valid({'pattern': '^[a-z]+$'}, 'abc\n'))
        self.assertTrue(valid({'pattern': '^[a-z]+$'}, 5))
        self.assertFalse(valid({'properties': {'a': {}},
                                'additionalProperties': False}, {'x': 1}))
        self.assertTrue(valid({'maxLength': 1}, ['a', 'b']))

    def test_an_invalid_body_still_gets_jsonschemas_error(self):
        body = {'plan_name': 'p', 'stack_id': 's', 'resources': {
            'a': {'name': 'x', 'type': 'bad type'}}}
        error = self.assertRaises(errors.APIError, schemas.validate, body,
                                  plans.CREATE)
        self.assertIn('resources.a.type', error.detail)
        self.assertIn("does not match", error.detail)
