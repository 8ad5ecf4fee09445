"""Route table dispatch under pecan.

Every resource declares its paths and methods explicitly, so the API
answers the same way everywhere: ``OPTIONS`` is 204 with ``Allow``, an
unsupported method is 405 with ``Allow``, an unknown path is a JSON 404,
and ``HEAD`` is served by the ``GET`` handler (WebOb drops the body).

An empty path segment (``//``, an encoded ``%2F`` that decodes to one, or
a trailing slash on a method that changes something) is a 404: dropping
it would make ``DELETE /groups/g/members/`` an alias of
``DELETE /groups/g/members``, which removes every member. Reading methods
keep the one trailing slash of links such as ``/v1/groups/``.
Pecan provides the request/response objects and the hooks.
"""

import json

import pecan
import webob

from valet.api import errors

DEFAULT_STATUS = {'POST': 201, 'PUT': 201, 'DELETE': 204}
_SAFE_METHODS = frozenset(('GET', 'HEAD', 'OPTIONS'))


class Route:
    """A path pattern (``('groups', '{group_id}')``) and its handlers.

    Only the methods in ``query`` take a query string (their handlers
    validate it); any other method given one answers 400.
    """

    def __init__(self, pattern, handlers, query=()):
        self.pattern = tuple(pattern)
        self.handlers = dict(handlers)
        self.query = frozenset(query) | (
            {'HEAD'} if 'GET' in query else set())

    def match(self, segments):
        if len(segments) != len(self.pattern):
            return None
        params = {}
        for want, got in zip(self.pattern, segments):
            if want.startswith('{') and want.endswith('}'):
                if not got:
                    return None
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params

    def allowed(self):
        methods = set(self.handlers) | {'OPTIONS'}
        if 'GET' in methods:
            methods.add('HEAD')
        return ', '.join(sorted(methods))


def _segments(path, method):
    """The segments of ``path``; reading methods drop one trailing
    slash."""
    segments = path.split('/')[1:]
    if segments == ['']:
        return []   # the root itself
    if segments and segments[-1] == '' and method in _SAFE_METHODS:
        segments.pop()
    return segments


def has_empty_segment(path, method):
    """True when ``path`` has an empty segment no route may ignore."""
    return '' in _segments(path or '/', method)


# json.dumps(allow_nan=False) builds an encoder per call; this one is
# the same encoder (json.dumps' defaults), made once. It keeps no state.
_STRICT_ENCODER = json.JSONEncoder(allow_nan=False)


def json_response(status, body=None, headers=None):
    if body is None:
        headerlist = []
        data = b''
    else:
        # Strict JSON: a NaN or Infinity would make the body unreadable
        # to every standard parser, so it fails here instead.
        data = _STRICT_ENCODER.encode(body).encode('utf-8')
        # The header list given whole: WebOb's setters parse and rebuild
        # the Content-Type on each assignment.
        headerlist = [('Content-Type', 'application/json'),
                      ('Content-Length', str(len(data)))]
    resp = webob.Response(body=data, status=status, headerlist=headerlist)
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


class Router:
    """The pecan root object: finds the route and calls its handler.

    Handlers are ``handler(req, **path_params)`` and return a webob
    response, or ``(status, body)``, or just ``body`` (200, or 201/204
    by method).
    """

    def __init__(self, routes):
        self.routes = list(routes)

    def __dir__(self):
        # Pecan lists the root's attributes (dir) on every request, to
        # find custom path segments; the router has none, and listing
        # all that an object has took longer than routing.
        return ['_route', 'dispatch', 'routes']

    @pecan.expose()
    def _route(self, args, request=None):
        # Take over routing from pecan: every path ends at `dispatch`.
        return self.dispatch, args

    @pecan.expose(content_type='application/json')
    def dispatch(self, *args, **kwargs):
        # The request itself, not pecan's thread-local proxy to it: the
        # handlers read a dozen attributes, each a lookup through the
        # proxy otherwise.
        req = pecan.core.state.request
        # Pecan drops empty segments from ``args``; the path keeps them.
        segments = _segments(req.path_info or '/', req.method)
        if '' in segments:
            raise errors.APIError(
                404, errors.NOT_FOUND,
                'There is no resource at %s: the path has an empty '
                'segment; remove the extra or trailing slash.' % req.path)
        for route in self.routes:
            params = route.match(segments)
            if params is None:
                continue
            return self._call(req, route, params)
        raise errors.APIError(
            404, errors.NOT_FOUND,
            'There is no resource at %s; GET / lists the API versions.'
            % req.path)

    def _call(self, req, route, params):
        method = req.method
        if method == 'OPTIONS':
            return json_response(204, headers={'Allow': route.allowed()})
        handler = route.handlers.get(method)
        if handler is None and method == 'HEAD':
            handler = route.handlers.get('GET')
        if handler is None:
            raise errors.APIError(
                405, errors.METHOD_NOT_ALLOWED,
                '%s is not allowed on %s; allowed: %s.'
                % (method, req.path, route.allowed()),
                headers={'Allow': route.allowed()})
        if req.query_string and method not in route.query:
            raise errors.APIError(
                400, errors.INVALID,
                '%s %s takes no query parameters.' % (method, req.path))
        result = handler(req, **params)
        if isinstance(result, webob.Response):
            return result
        if isinstance(result, tuple):
            status, body = result
        else:
            status, body = DEFAULT_STATUS.get(method, 200), result
        return json_response(status, None if status == 204 else body)


def prefixed(prefix, routes):
    """The same routes mounted under ``prefix`` (a tuple of segments)."""
    return [Route(tuple(prefix) + r.pattern, r.handlers, r.query)
            for r in routes]
