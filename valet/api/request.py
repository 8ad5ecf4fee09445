"""Decoding request bodies and query strings, safely.

Bodies are bounded in size and nesting depth before anything else looks
at them: a deeply nested array would otherwise blow the interpreter's
recursion limit in a later deep copy, and a lone UTF-16 surrogate could
not be written to a UTF-8 database.
"""

import io
import json
import math
import re

from valet.api import errors

MAX_DEPTH = 32
_JSON_TYPES = ('application/json',)


def check_size(req, limit):
    """413 before reading a body larger than ``limit`` bytes."""
    length = req.content_length
    if length is not None and length > limit:
        raise errors.APIError(
            413, errors.TOO_LARGE,
            'The request body is %d bytes; the limit is %d.'
            % (length, limit))


def read_body(req):
    """Read the whole body now (webob keeps it), or a 408 APIError.

    A client that stops sending its body makes the WSGI server's input
    raise (uwsgi: an OSError after its socket timeout; the development
    server: TimeoutError); that is the client's doing, not a 500.
    """
    environ = req.environ
    length = environ.get('CONTENT_LENGTH') or ''
    if length.isdigit() and int(length) and not environ.get(
            'webob.is_body_seekable'):
        # Its length known (and checked against the limit): read once into
        # memory and handed to webob as its own seekable copy. webob's
        # copy_body takes a dozen property reads to get there, and writes
        # a body over 10 KiB to a temporary file.
        size = int(length)
        try:
            raw = environ['wsgi.input'].read(size)
        except OSError:
            raise _timeout() from None
        if len(raw) < size:
            raise _timeout()
        environ['wsgi.input'] = io.BytesIO(raw)
        environ['webob.is_body_seekable'] = True
        return raw
    if not req.is_body_readable:
        return b''
    try:
        return req.body
    except OSError:
        raise _timeout() from None


def _timeout():
    return errors.APIError(
        408, errors.TIMEOUT,
        'The request body was not received in full in time; send the '
        'whole body (as many bytes as Content-Length says).')


def _reject_constant(name):
    raise ValueError('%s is not valid JSON' % name)


def _finite_float(text):
    # 1e400 is valid JSON syntax but no finite number: stored, it would
    # come back as Infinity, which is not JSON.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError('the number %s is out of range (it is not a '
                         'finite double)' % (text[:40],))
    return value


# A lone surrogate can only come from a \uD800 to \uDFFF escape: UTF-8
# that encodes one does not decode. Text without such an escape needs no
# look at its strings.
_SURROGATE_ESCAPE = re.compile(r'\\u[dD][89a-fA-F]')


def _too_deep():
    return errors.APIError(
        400, errors.MALFORMED,
        'The JSON body is nested more than %d levels deep.' % MAX_DEPTH)


def _check_depth(value):
    """No value deeper than MAX_DEPTH (the body itself is at depth 1),
    level by level, looking only at containers.

    ``value`` is what ``json.loads`` made: its containers are plain dicts
    and lists, so exact type tests do (a few times faster than
    ``isinstance`` in a generator, on every container of every body).
    """
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 1
    while level:
        if depth == MAX_DEPTH:
            # Anything inside these would be one level too deep.
            if any(level):
                raise _too_deep()
            return
        deeper = []
        add = deeper.append
        for item in level:
            for child in (item.values() if type(item) is dict else item):
                if type(child) is dict or type(child) is list:
                    add(child)
        level = deeper
        depth += 1


def _check_tree(value):
    """Depth and string checks without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(item, dict):
            for key, child in item.items():
                _check_string(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_string(item)


def _check_string(text):
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        raise errors.APIError(
            400, errors.MALFORMED,
            'The JSON body contains a lone UTF-16 surrogate (\\ud800 to '
            '\\udfff); send valid Unicode.')


# Made once: json.loads with hooks builds a decoder (and its scanner) on
# every call. A decoder keeps no state between calls.
_STRICT_DECODER = json.JSONDecoder(parse_constant=_reject_constant,
                                   parse_float=_finite_float)


def strict_json(text):
    """``json.loads`` that refuses NaN, Infinity and out-of-range numbers
    (ValueError), as every standard JSON parser would."""
    if not isinstance(text, str) or text.startswith('\ufeff'):
        # json.loads reads bytes too, and words the BOM error.
        return json.loads(text, parse_constant=_reject_constant,
                          parse_float=_finite_float)
    return _STRICT_DECODER.decode(text)


def json_body(req, limit):
    """The request body as a JSON object (dict); APIError otherwise."""
    check_size(req, limit)
    # Content-Length is known here (checked above); without one, the
    # sizelimit filter of the paste pipeline bounds chunked bodies.
    raw = req.body
    if len(raw) > limit:
        raise errors.APIError(
            413, errors.TOO_LARGE,
            'The request body exceeds the limit of %d bytes.' % limit)
    if not raw.strip():
        raise errors.APIError(
            400, errors.MALFORMED,
            'This request needs a JSON object as its body.')
    ctype = (req.content_type or '').lower()
    if ctype not in _JSON_TYPES:
        raise errors.APIError(
            415, errors.UNSUPPORTED_MEDIA,
            'Send the body as application/json (got %r).'
            % (req.content_type or 'no Content-Type'))
    try:
        text = raw.decode('utf-8')
        body = strict_json(text)
    except RecursionError:
        raise errors.APIError(
            400, errors.MALFORMED,
            'The JSON body is nested too deeply.')
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.APIError(
            400, errors.MALFORMED,
            'The request body is not valid UTF-8 JSON: %s' % exc)
    if not isinstance(body, dict):
        raise errors.APIError(
            400, errors.MALFORMED,
            'The request body must be a JSON object, not %s.'
            % type(body).__name__)
    if _SURROGATE_ESCAPE.search(text):
        _check_tree(body)
    else:
        _check_depth(body)
    return body


def query(req):
    """The query string as a dict of strings; a key given twice is 400."""
    try:
        items = list(req.GET.items())
    except UnicodeDecodeError:
        raise errors.APIError(400, errors.MALFORMED,
                              'The query string is not valid UTF-8.')
    params = {}
    for key, value in items:
        if key in params:
            raise errors.APIError(
                400, errors.INVALID,
                'Query parameter %r is given more than once; filters are '
                'exact matches, give each at most once.' % key)
        params[key] = value
    for text in list(params) + list(params.values()):
        _check_string(text)
    return params
