"""Validators are built once per schema, and still check each one."""

from unittest import mock

from oslotest import base as oslo_base

from valet.api import errors
from valet.api import schemas

SCHEMA = {'type': 'object', 'properties': {'n': {'type': 'integer'}},
          'additionalProperties': False}


class ValidatorCacheTest(oslo_base.BaseTestCase):

    def setUp(self):
        super().setUp()
        schemas._VALIDATORS.clear()
        self.addCleanup(schemas._VALIDATORS.clear)

    def test_one_validator_per_schema(self):
        with mock.patch.object(schemas, '_Validator',
                               wraps=schemas._Validator) as build:
            for n in range(3):
                schemas.validate({'n': n}, SCHEMA)
            self.assertRaises(errors.APIError, schemas.validate,
                              {'n': 'x'}, SCHEMA)
        self.assertEqual(1, build.call_count)

    def test_an_equal_schema_is_its_own(self):
        other = dict(SCHEMA, additionalProperties=True)
        schemas.validate({'n': 1, 'm': 2}, other)
        self.assertRaises(errors.APIError, schemas.validate,
                          {'n': 1, 'm': 2}, SCHEMA)

    def test_schemas_built_per_request_do_not_pile_up(self):
        for n in range(3 * schemas._MAX_VALIDATORS):
            schemas.validate({'n': n}, dict(SCHEMA))
        self.assertLessEqual(len(schemas._VALIDATORS),
                             schemas._MAX_VALIDATORS)
