"""``limit``/``marker`` paging of list endpoints (microversion 1.1).

A list asked for at 1.1 or later comes a page at a time: at most
``limit`` objects (``[api] max_limit`` when not given, and never more),
after the object whose id is ``marker``. The answer carries API-SIG
``links``: a ``next`` link, with the same filters, while more objects may
follow. At 1.0 lists are whole, as in the original API, and ``limit`` and
``marker`` mean nothing special (to placements they are metadata keys).
"""

from urllib import parse

from valet.api import errors
from valet.api import microversion
from valet.api import request as api_request
from valet.api import schemas
from valet.api.schemas import common

VERSION = '1.1'

QUERY_PROPERTIES = {
    'limit': {'type': 'string', 'pattern': '^[1-9][0-9]{0,8}$',
              'description': 'a whole number from 1 (the most objects a '
                             'page holds)'},
    'marker': dict(common.ID, description='the id of the last object of '
                                          'the previous page'),
}

# A list that takes nothing but paging parameters.
QUERY = {'type': 'object', 'properties': QUERY_PROPERTIES,
         'additionalProperties': False,
         'description': 'only "limit" and "marker"'}


class Page:
    """What one list request asked for: its filters and its page."""

    def __init__(self, req, max_limit, params, paged):
        self.req = req
        self.paged = paged
        self.params = dict(params)
        self.limit = self.marker = None
        if paged:
            self.limit = min(int(self.params.pop('limit', max_limit)),
                             max_limit)
            self.marker = self.params.pop('marker', None)

    @property
    def fetch(self):
        """How many objects to read: one more than a page, to know
        whether a next page exists (None: all)."""
        return None if self.limit is None else self.limit + 1

    def render(self, key, items, to_dict):
        """The list body: ``{key: [...]}`` plus ``links`` when paged."""
        items = list(items)
        if not self.paged:
            return {key: [to_dict(i) for i in items]}
        more = len(items) > self.limit
        items = items[:self.limit]
        links = []
        if more and items:
            query = dict(self.params, limit=str(self.limit),
                         marker=items[-1].id)
            links.append({'rel': 'next', 'href': '%s?%s' % (
                self.req.path_url, parse.urlencode(sorted(query.items())))})
        return {key: [to_dict(i) for i in items], 'links': links}


def from_request(req, max_limit, schema=None):
    """The Page of a list request, its query checked against ``schema``
    (None: the list takes no filters, only paging at 1.1)."""
    paged = microversion.at_least(req.environ, VERSION)
    params = api_request.query(req)
    if schema is None:
        if not paged and params:
            raise errors.APIError(
                400, errors.INVALID,
                '%s %s takes no query parameters (limit and marker need '
                'microversion %s or later).' % (req.method, req.path,
                                                VERSION))
        schema = QUERY
    elif paged:
        schema = dict(schema, properties=dict(
            schema.get('properties', {}), **QUERY_PROPERTIES))
    schemas.validate(params, schema, what='query string')
    return Page(req, max_limit, params, paged)
