"""Shared fakes (no tests here): a keystoneauth adapter with canned answers."""

import json
import urllib.parse

from valet.inventory.openstack import client

ENDPOINT = 'http://api.example.org:8778'


class FakeResponse:

    def __init__(self, status_code, body, url):
        self.status_code = status_code
        self.url = url
        if isinstance(body, (dict, list)):
            self.text = json.dumps(body)
        else:
            self.text = body or ''
        self.content = self.text.encode()

    def json(self):
        return json.loads(self.text)


class FakeAdapter:
    """``routes``: {path or path?query: body | (status, body) | exception}.

    Lookups try the path with its sorted query first, then the bare path.
    """

    def __init__(self, routes, endpoint=ENDPOINT):
        self.routes = routes
        self.endpoint = endpoint
        self.calls = []

    def get_endpoint(self):
        return self.endpoint

    def get(self, path, params=None):
        query = urllib.parse.urlencode(sorted((params or {}).items()))
        self.calls.append(path + ('?' + query if query else ''))
        answer = self.routes.get(path + '?' + query) if query else None
        if answer is None:
            answer = self.routes.get(path, (404, {'errors': [{
                'status': 404, 'title': 'Not Found',
                'detail': 'No resource at %s' % path}]}))
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            answer = answer(params)
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        url = self.endpoint + path + ('?' + query if query else '')
        return FakeResponse(status, body, url)


def fake_client(routes, label='Placement'):
    return client.ServiceClient(label, FakeAdapter(routes))
