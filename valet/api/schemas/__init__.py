"""JSON Schemas of every request body and query string, one module per
resource, and the one place that checks them.

Patterns use ECMA-262 semantics (what the api-ref promises): ``$`` ends
the string, so ``"name\\n"`` does not slip past ``^[a-z]+$`` the way it
would with Python's ``re.search``.
"""

import functools
import re

import jsonschema
from jsonschema import validators

from valet.api import errors
from valet.api import validation


@functools.lru_cache(maxsize=256)
def _compiled(pattern):
    # An unescaped final '$' means end of string in ECMA-262.
    if pattern.endswith('$') and not pattern.endswith('\\$'):
        pattern = pattern[:-1] + r'\Z'
    return re.compile(pattern)


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, 'string') and \
            not _compiled(pattern).search(instance):
        yield jsonschema.ValidationError(
            '%r does not match %r' % (instance, pattern))


_Validator = validators.extend(jsonschema.Draft202012Validator,
                               {'pattern': _pattern})


# Validators by id(schema), with the schema (kept alive, so the id stays
# its own). Most schemas are module constants; a list's query schema is
# built per request, so the cache is bounded.
_VALIDATORS = {}
_MAX_VALIDATORS = 128


def _validators(schema):
    """(jsonschema's validator, the compiled check or None) of
    ``schema``, built once per schema."""
    found = _VALIDATORS.get(id(schema))
    if found is None or found[0] is not schema:
        if len(_VALIDATORS) >= _MAX_VALIDATORS:
            _VALIDATORS.clear()
        found = _VALIDATORS[id(schema)] = (
            schema, _Validator(schema),
            validation.compile_schema(schema, _compiled))
    return found[1], found[2]


def _where(error):
    path = '.'.join(str(p) for p in error.absolute_path)
    return path or '(top level)'


def validate(instance, schema, what='request body'):
    """Raise a 400 APIError saying what is wrong and how to fix it."""
    validator, valid = _validators(schema)
    # The compiled check's yes is enough; its no, jsonschema explains.
    if valid is not None and valid(instance):
        return instance
    error = jsonschema.exceptions.best_match(
        validator.iter_errors(instance))
    if error is None:
        return instance
    hint = error.schema.get('description') if isinstance(
        error.schema, dict) else None
    detail = 'Invalid %s at %s: %s.' % (what, _where(error), error.message)
    if hint:
        detail += ' Expected: %s.' % hint
    raise errors.APIError(400, errors.INVALID, detail)
