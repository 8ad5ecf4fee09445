"""A fast yes for valid request bodies; jsonschema for everything else.

jsonschema walks a schema generically, keyword by keyword, for every
value: on a 50-server stack that took milliseconds per request. A schema
made only of the keywords below is compiled here once into closures that
answer one question, "is this instance valid?", with jsonschema's
(Draft 2020-12) meaning of each keyword. ``valet.api.schemas.validate``
trusts a yes; on a no, or for a schema with any other keyword
(``compile_schema`` returns None), it asks jsonschema, whose error the
caller gets, so answers and error messages are jsonschema's own.
"""

_ANNOTATIONS = frozenset({'description', 'title', '$comment', 'examples',
                          'default'})


class Unsupported(Exception):
    """A keyword (or a use of one) this module does not compile."""


def compile_schema(schema, search):
    """A function ``instance -> bool`` (True only when ``instance`` is
    valid), or None when ``schema`` uses what is not compiled here.

    ``search(pattern)`` is the ``pattern`` keyword's compiled regular
    expression (its ``search`` method decides).
    """
    try:
        return _compile(schema, search)
    except Unsupported:
        return None


def _always(instance):
    return True


def _never(instance):
    return False


def _type_check(name):
    if name == 'string':
        return lambda x: isinstance(x, str)
    if name == 'object':
        return lambda x: isinstance(x, dict)
    if name == 'array':
        return lambda x: isinstance(x, list)
    if name == 'boolean':
        return lambda x: isinstance(x, bool)
    if name == 'null':
        return lambda x: x is None
    if name == 'number':
        return lambda x: isinstance(x, (int, float)) and not isinstance(
            x, bool)
    if name == 'integer':
        return lambda x: not isinstance(x, bool) and (
            isinstance(x, int) or (isinstance(x, float) and x.is_integer()))
    raise Unsupported('type %r' % (name,))


def _compile(schema, search):
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict):
        raise Unsupported('schema %r' % (schema,))
    kind = schema.get('type')
    shaped = _SHAPED.get(kind) if isinstance(kind, str) else None
    if shaped is not None and _ANNOTATIONS.union(shaped[0]).issuperset(
            schema):
        return shaped[1](schema, search)
    checks = []
    for key, value in schema.items():
        if key in _ANNOTATIONS or key == 'additionalProperties':
            continue
        maker = _KEYWORDS.get(key)
        if maker is None:
            raise Unsupported(key)
        checks.append(maker(value, schema, search))
    if 'additionalProperties' in schema:
        checks.append(_additional(schema['additionalProperties'], schema,
                                  search))
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    return _all_of(tuple(checks))


def _all_of(checks):
    # A loop, not all() over a generator: this runs for every value of
    # every request body.
    def check(x):
        for one in checks:
            if not one(x):
                return False
        return True
    return check


def _limit(schema, key):
    limit = schema.get(key)
    if limit is not None and (not isinstance(limit, int)
                              or isinstance(limit, bool)):
        raise Unsupported('%s %r' % (key, limit))
    return limit


def _object(schema, search):
    """An object schema's keywords as one check: the type tested once
    and the instance's keys walked once (a resource of a 50-server plan
    went through five checks, each testing the type again)."""
    properties = schema.get('properties') or {}
    if not isinstance(properties, dict):
        raise Unsupported('properties %r' % (properties,))
    subs = {name: _compile(sub, search) for name, sub in properties.items()}
    extra = schema.get('additionalProperties', True)
    closed = extra is False
    extra = None if closed or extra is True or extra == {} else _compile(
        extra, search)
    names = schema.get('propertyNames')
    names = None if names is None else _compile(names, search)
    required = tuple(schema.get('required') or ())
    most = _limit(schema, 'maxProperties')
    least = _limit(schema, 'minProperties')
    if most is None and least is None and names is None and (
            closed or extra is not None):
        return _record(subs, required, closed, extra)
    if names is None and not closed and extra is None:
        return _open_object(subs, required, most, least)

    def check(x):
        if not isinstance(x, dict):
            return False
        if (most is not None and len(x) > most) or (
                least is not None and len(x) < least):
            return False
        for name in required:
            if name not in x:
                return False
        for name, item in x.items():
            if names is not None and not names(name):
                return False
            sub = subs.get(name)
            if sub is None:
                if closed or (extra is not None and not extra(item)):
                    return False
            elif not sub(item):
                return False
        return True
    return check


# The two object shapes every plan's resources have, each checked by a
# loop that tests only what its schema asks (a 50-server plan has a
# hundred of them).

def _record(subs, required, closed, extra):
    """An object whose every key is checked: by its property's schema,
    else refused (``closed``) or checked by ``extra``."""
    def check(x):
        if not isinstance(x, dict):
            return False
        for name in required:
            if name not in x:
                return False
        get = subs.get
        for name, item in x.items():
            sub = get(name)
            if sub is None:
                if closed or not extra(item):
                    return False
            elif not sub(item):
                return False
        return True
    return check


def _open_object(subs, required, most, least):
    """An object whose keys beyond its properties may hold anything:
    only the properties it has are looked at."""
    known = tuple(subs.items())

    def check(x):
        if not isinstance(x, dict):
            return False
        if (most is not None and len(x) > most) or (
                least is not None and len(x) < least):
            return False
        for name in required:
            if name not in x:
                return False
        for name, sub in known:
            if name in x and not sub(x[name]):
                return False
        return True
    return check


def _string(schema, search):
    """A string schema's keywords as one check."""
    longest = _limit(schema, 'maxLength')
    shortest = _limit(schema, 'minLength')
    pattern = schema.get('pattern')
    if pattern is not None and not isinstance(pattern, str):
        raise Unsupported('pattern %r' % (pattern,))
    regex = None if pattern is None else search(pattern)
    if regex is not None and longest is None and shortest is None:
        # An id or a name: only its pattern (the commonest string).
        find = regex.search
        return lambda x: isinstance(x, str) and find(x) is not None
    if regex is not None:
        find = regex.search
        longest = float('inf') if longest is None else longest
        shortest = 0 if shortest is None else shortest
        return lambda x: isinstance(x, str) and (
            shortest <= len(x) <= longest) and find(x) is not None

    def check(x):
        return isinstance(x, str) and (
            longest is None or len(x) <= longest) and (
            shortest is None or len(x) >= shortest)
    return check


def _type(value, schema, search):
    names = value if isinstance(value, list) else [value]
    tests = tuple(_type_check(name) for name in names)
    if len(tests) == 1:
        return tests[0]
    return lambda x: any(test(x) for test in tests)


def _string_length(limit, longest):
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise Unsupported('length %r' % (limit,))
    if longest:
        return lambda x: not isinstance(x, str) or len(x) <= limit
    return lambda x: not isinstance(x, str) or len(x) >= limit


def _count(kind, limit, largest):
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise Unsupported('count %r' % (limit,))
    if largest:
        return lambda x: not isinstance(x, kind) or len(x) <= limit
    return lambda x: not isinstance(x, kind) or len(x) >= limit


def _pattern(value, schema, search):
    if not isinstance(value, str):
        raise Unsupported('pattern %r' % (value,))
    regex = search(value)
    return lambda x: not isinstance(x, str) or regex.search(x) is not None


def _properties(value, schema, search):
    subs = {name: _compile(sub, search) for name, sub in value.items()}

    def check(x):
        if not isinstance(x, dict):
            return True
        # Walk the instance: a resource has a few of its schema's keys.
        for name, item in x.items():
            sub = subs.get(name)
            if sub is not None and not sub(item):
                return False
        return True
    return check


def _additional(value, schema, search):
    if 'patternProperties' in schema:
        raise Unsupported('patternProperties')
    known = frozenset(schema.get('properties') or ())
    if value is True or value == {}:
        return _always
    if value is False:
        return lambda x: not isinstance(x, dict) or known.issuperset(x)
    sub = _compile(value, search)

    def check(x):
        if not isinstance(x, dict):
            return True
        for name, item in x.items():
            if name not in known and not sub(item):
                return False
        return True
    return check


def _property_names(value, schema, search):
    sub = _compile(value, search)

    def check(x):
        if isinstance(x, dict):
            for name in x:
                if not sub(name):
                    return False
        return True
    return check


def _required(value, schema, search):
    names = tuple(value)
    return lambda x: not isinstance(x, dict) or all(n in x for n in names)


def _items(value, schema, search):
    if 'prefixItems' in schema:
        raise Unsupported('prefixItems')
    sub = _compile(value, search)

    def check(x):
        if isinstance(x, list):
            for item in x:
                if not sub(item):
                    return False
        return True
    return check


def _any_of(value, schema, search):
    subs = tuple(_compile(sub, search) for sub in value)
    return lambda x: any(sub(x) for sub in subs)


def _enum(value, schema, search):
    # jsonschema's equality tells True from 1 and compares containers
    # deeply; only lists of strings, where it is plain ==, are compiled.
    if not isinstance(value, list) or not all(isinstance(v, str)
                                              for v in value):
        raise Unsupported('enum %r' % (value,))
    members = frozenset(value)
    return lambda x: isinstance(x, str) and x in members


def _const(value, schema, search):
    if not isinstance(value, str):
        raise Unsupported('const %r' % (value,))
    return lambda x: isinstance(x, str) and x == value


def _unique(value, schema, search):
    if value is not False:
        raise Unsupported('uniqueItems')
    return _always


_KEYWORDS = {
    'type': _type,
    'maxLength': lambda v, s, f: _string_length(v, True),
    'minLength': lambda v, s, f: _string_length(v, False),
    'pattern': _pattern,
    'maxProperties': lambda v, s, f: _count(dict, v, True),
    'minProperties': lambda v, s, f: _count(dict, v, False),
    'maxItems': lambda v, s, f: _count(list, v, True),
    'minItems': lambda v, s, f: _count(list, v, False),
    'properties': _properties,
    'required': _required,
    'propertyNames': _property_names,
    'items': _items,
    'anyOf': _any_of,
    'enum': _enum,
    'const': _const,
    'uniqueItems': _unique,
}

# Schemas of one type made only of these keywords are checked by one
# function each.
_SHAPED = {
    'object': (frozenset({'type', 'properties', 'additionalProperties',
                          'required', 'maxProperties', 'minProperties',
                          'propertyNames'}), _object),
    'string': (frozenset({'type', 'maxLength', 'minLength', 'pattern'}),
               _string),
}
