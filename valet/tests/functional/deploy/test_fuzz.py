"""Fuzzing every endpoint of a deployed Valet.

valet-api runs under uwsgi (two worker processes) and valet-engine as a
process of its own, over RabbitMQ, on SQLite (``deployment.Deployment``).
Requests come from two sources: a corpus of inputs that once broke the
service (non-text availability zones, a 5,000-digit microversion, request
targets that are not paths, empty path segments, non-finite numbers,
bad paging parameters, ...) and hypothesis-generated requests to every
endpoint with mutated or random bodies, query strings and headers.

Whatever comes in: no 5xx, every error is one API-SIG error object, and
a rejected request changes nothing (the stored state, read through the
API before and after, is the same). The run is bounded: a fixed number
of generated examples, no shrinking.
"""

import copy
import json
import re
import socket
import time
from urllib import parse

import hypothesis
from hypothesis import strategies as st
import requests
import testtools

from valet.tests.functional.deploy import base
from valet.tests.functional import deployment

V11 = 'workload-placement 1.1'
MEMBER = base.member('p1')
OTHER = base.member('p2')
PERSONAS = [base.ADMIN, MEMBER, OTHER, {}]

# Generated examples per run: enough to cover every endpoint with several
# kinds of bad input, few enough for CI (each costs a handful of requests).
EXAMPLES = 90

NASTY = ['', ' ', 'ünï', '😀', 'a\x00b', 'line\n', '../x', "' OR 1=1 --",
         '%2F', '/', '//', 'a' * 300, '1e400', 'NaN', '-Infinity', 'null',
         'true', '[]', '{}', '9' * 5000]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(
        allow_nan=False, allow_infinity=False) | st.text(max_size=20)
    | st.sampled_from(NASTY),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(max_size=10) | st.sampled_from(NASTY), inner, max_size=3),
    max_leaves=12)


def server(name, **properties):
    return {'name': name, 'type': 'OS::Nova::Server',
            'properties': dict({'flavor': 'm1.small'}, **properties)}


# Every endpoint and method; {g} is the seeded group, {p} the plan's
# stack id, {o} one of its placements' orchestration id.
ENDPOINTS = [
    ('GET', '/'), ('GET', '/v1'), ('GET', '/v1/groups'),
    ('POST', '/v1/groups'), ('GET', '/v1/groups/{g}'),
    ('PUT', '/v1/groups/{g}'), ('DELETE', '/v1/groups/{g}'),
    ('PUT', '/v1/groups/{g}/members'), ('DELETE', '/v1/groups/{g}/members'),
    ('GET', '/v1/groups/{g}/members/p1'),
    ('DELETE', '/v1/groups/{g}/members/p1'),
    ('GET', '/v1/plans'), ('POST', '/v1/plans'), ('GET', '/v1/plans/{p}'),
    ('PUT', '/v1/plans/{p}'), ('DELETE', '/v1/plans/{p}'),
    ('GET', '/v1/placements'), ('GET', '/v1/placements/{o}'),
    ('POST', '/v1/placements/{o}'), ('DELETE', '/v1/placements/{o}'),
    ('GET', '/v1/status'), ('GET', '/v1/resources'),
    ('OPTIONS', '/v1/groups'), ('PATCH', '/v1/plans/{p}'),
]

# Valid bodies to mutate, by (method, path template).
BODIES = {
    ('POST', '/v1/groups'): {'name': 'fz', 'type': 'diversity',
                             'level': 'host', 'description': 'd'},
    ('PUT', '/v1/groups/{g}'): {'description': 'd'},
    ('PUT', '/v1/groups/{g}/members'): {'members': ['p3']},
    ('POST', '/v1/plans'): {
        'plan_name': 'fz', 'stack_id': 'fz-stack',
        'resources': {'fz-a': server('a', availability_zone='az1',
                                     metadata={'valet': {'groups': []}})}},
    ('PUT', '/v1/plans/{p}'): {
        'action': 'update', 'resources': {'orch-a': server('a'),
                                          'orch-b': server('b')}},
    ('POST', '/v1/placements/{o}'): {'action': 'reserve',
                                     'locations': ['z1-r01-h01'],
                                     'resource_id': 'vm-1'},
}


def leaves(value, prefix=()):
    """Every path into a JSON value (containers included)."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from leaves(child, prefix + (i,))


def replaced(value, path, new):
    if not path:
        return new
    value = copy.deepcopy(value)
    target = value
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return value


@st.composite
def requests_to_send(draw):
    method, template = draw(st.sampled_from(ENDPOINTS))
    headers = dict(draw(st.sampled_from(PERSONAS)))
    version = draw(st.sampled_from([None, V11, 'workload-placement 1.0',
                                    'workload-placement 1.' + '9' * 50,
                                    'workload-placement x']))
    if version:
        headers['OpenStack-API-Version'] = version
    suffix = draw(st.sampled_from(['', '', '', '/', '//', '/%2F', '/x']))
    query = ''
    if draw(st.booleans()):
        query = parse.urlencode(draw(st.dictionaries(
            st.sampled_from(['limit', 'marker', 'heat_stack_id', 'reserved',
                             'name', 'x']),
            st.sampled_from(NASTY) | st.text(max_size=8), max_size=3)))
    body = None
    valid = BODIES.get((method, template))
    kind = draw(st.sampled_from(['none', 'mutated', 'mutated', 'random',
                                 'raw']))
    if kind == 'mutated' and valid is not None:
        path = draw(st.sampled_from(list(leaves(valid))))
        body = json.dumps(replaced(valid, path, draw(json_values)))
    elif kind == 'random':
        body = json.dumps(draw(json_values))
    elif kind == 'raw':
        body = draw(st.sampled_from([
            '{"a": 1e400}', '{"description": NaN}', '{', '[]', '""',
            '{"x": ' * 60 + '1' + '}' * 60, '\udcff']))
    return method, template, suffix, query, headers, body


RAW_EXAMPLES = 20


@st.composite
def raw_requests(draw):
    """Request lines and headers as bytes, valid or not."""
    method = draw(st.sampled_from([b'GET', b'DELETE', b'PUT', b'OPTIONS',
                                   b'HEAD', b'BREW', b'', b'get']))
    target = draw(st.sampled_from([
        b'/', b'*', b'v1', b'/v1//groups', b'/v1/groups/seeded/members/',
        b'/v1/groups/seeded/members/%2F', b'http://x/v1/groups',
        b'/v1/plans/%00', b'/v1/%ff', b'/' + b'a' * 5000, b'']))
    version = draw(st.sampled_from([b'HTTP/1.1', b'HTTP/1.0', b'HTTP/9.9',
                                    b'', b'FTP/1.0']))
    headers = draw(st.lists(st.sampled_from([
        b'Host: x', b'X-Roles: admin', b'Content-Length: -1',
        b'Content-Length: x', b'Transfer-Encoding: chunked',
        b'OpenStack-API-Version: workload-placement 1.' + b'9' * 5000,
        b'Bad header', b'X-Roles: \xff']), max_size=4))
    line = b' '.join(part for part in (method, target, version) if part)
    return line + b'\r\n' + b''.join(h + b'\r\n' for h in headers) + \
        b'Connection: close\r\n\r\n'


class DeployedFuzzTest(base.DeploymentTestCase):

    # One deployment for the class: starting uwsgi and an engine costs
    # more than the requests; each test starts from the seeded state.
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shared = deployment.Deployment()
        cls.shared.setUp()

    @classmethod
    def tearDownClass(cls):
        cls.shared.cleanUp()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.dep = self.shared
        self.addOnException(lambda exc_info: self.addDetail(
            'deployment', testtools.content.text_content(self.dep.logs())))
        self.seed()

    # ----------------------------------------------------------- state
    def seed(self):
        """A group with a member, a plan of two servers (project p1)."""
        resp = self.call('POST', '/v1/groups', json={
            'name': 'seeded', 'type': 'diversity', 'level': 'host'})
        if resp.status_code == 201:
            self.call('PUT', '/v1/groups/seeded/members',
                      json={'members': ['p1']})
        self.group_id = self.call('GET', '/v1/groups/seeded').json()[
            'group']['id']
        if self.call('GET', '/v1/plans/seeded-stack').status_code == 404:
            resp = self.call('POST', '/v1/plans', headers=MEMBER, json={
                'plan_name': 'seeded', 'stack_id': 'seeded-stack',
                'resources': {'orch-a': server('a'),
                              'orch-b': server('b')}})
            self.assertEqual(201, resp.status_code, resp.text)

    def snapshot(self):
        """Everything stored, as an administrator reads it."""
        out = {}
        for key in ('groups', 'plans', 'placements'):
            resp = self.call('GET', '/v1/' + key)
            self.assertEqual(200, resp.status_code, resp.text)
            out[key] = sorted(resp.json()[key], key=json.dumps)
        return out

    # -------------------------------------------------------- checking
    def check(self, resp, what):
        """No 5xx; an error is exactly one API-SIG error object."""
        self.assertLess(resp.status_code, 500, '%s: %s' % (what, resp.text))
        if resp.status_code < 400:
            if resp.content:
                json.loads(resp.text, parse_constant=_refuse)
            return
        self.assertEqual('application/json',
                         resp.headers.get('Content-Type', '').split(';')[0],
                         '%s: %s' % (what, resp.text[:300]))
        body = json.loads(resp.text, parse_constant=_refuse)
        self.assertEqual(['errors'], list(body), what)
        self.assertEqual(1, len(body['errors']), what)
        error = body['errors'][0]
        self.assertLessEqual({'status', 'title', 'detail', 'code',
                              'request_id'}, set(error), what)
        self.assertEqual(resp.status_code, error['status'], what)
        self.assertTrue(error['code'].startswith('valet.'), what)

    def send(self, method, path, headers=None, body=None, before=None):
        """Send one request, check it, and check a rejected one changed
        nothing. Returns the response."""
        before = self.snapshot() if before is None else before
        headers = dict(base.ADMIN if headers is None else headers)
        if body is not None:
            headers.setdefault('Content-Type', 'application/json')
            if isinstance(body, str):
                body = body.encode('utf-8', 'surrogatepass')
        resp = requests.request(method, self.dep.url + path,
                                headers=headers, data=body, timeout=60)
        what = '%s %s %r' % (method, path[:120], (body or b'')[:200])
        self.check(resp, what)
        if resp.status_code >= 400:
            self.assertEqual(before, self.snapshot(), what)
        return resp

    def raw(self, data):
        """Raw bytes to uwsgi; the answer, or b'' if it just closes."""
        with socket.create_connection(('127.0.0.1', self.dep.port),
                                      timeout=60) as sock:
            sock.sendall(data)
            chunks = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                text = b''.join(chunks)
                head, sep, rest = text.partition(b'\r\n\r\n')
                length = [line.split(b':', 1)[1] for line in
                          head.lower().split(b'\r\n')
                          if line.startswith(b'content-length:')]
                if sep and length and len(rest) >= int(length[0]):
                    break
            return b''.join(chunks)

    # ---------------------------------------------------------- corpus
    def test_corpus(self):
        g, p = self.group_id, 'seeded-stack'
        for zone in (['az1'], 7, {'a': 'b'}, True):
            body = {'plan_name': 'az', 'stack_id': 'az-stack',
                    'resources': {'az-a': server('a', availability_zone=zone)}}
            self.send('POST', '/v1/plans', MEMBER, json.dumps(body))
            update = {'action': 'update', 'resources': {
                'orch-a': server('a', availability_zone=zone),
                'orch-b': server('b')}}
            self.send('PUT', '/v1/plans/' + p, MEMBER, json.dumps(update))
        huge = {'OpenStack-API-Version': 'workload-placement 1.' + '9' * 5000}
        resp = self.send('GET', '/v1/groups', dict(base.ADMIN, **huge))
        self.assertEqual(406, resp.status_code)
        for path in ('/v1/groups/%s/members/' % g,
                     '/v1/groups/%s/members/%%2F' % g,
                     '/v1/groups/%s/members//' % g,
                     '/v1//groups/%s/members' % g):
            resp = self.send('DELETE', path)
            self.assertEqual(404, resp.status_code, path)
        self.assertEqual(['p1'], self.call('GET', '/v1/groups/seeded')
                         .json()['group']['members'])
        for number in ('1e400', '-1e400', 'NaN', 'Infinity', '-Infinity'):
            body = ('{"plan_name": "n", "stack_id": "n-stack", "resources": '
                    '{"n-a": {"name": "a", "type": "OS::Nova::Server", '
                    '"properties": {"flavor": "m1.small"}, '
                    '"metadata": {"x": %s}}}}' % number)
            resp = self.send('POST', '/v1/plans', MEMBER, body)
            self.assertEqual(400, resp.status_code)
            self.send('PUT', '/v1/groups/' + g, body='{"description": %s}'
                      % number)
            self.send('GET', '/v1/placements?x=' + number)
        for query in ('limit=0', 'limit=x', 'marker=nope', 'limit=' +
                      '9' * 5000, 'marker=', 'limit=1&limit=2'):
            for path in ('/v1/groups', '/v1/plans', '/v1/placements'):
                resp = self.send('GET', '%s?%s' % (path, query),
                                 dict(base.ADMIN,
                                      **{'OpenStack-API-Version': V11}))
                self.assertEqual(400, resp.status_code, (path, query))
        self.send('POST', '/v1/groups', body='{"name": ' * 100)
        self.send('POST', '/v1/groups', body='x' * 200000)
        self.send('POST', '/v1/groups', body=b'{"name": "\xff"}'.decode(
            'latin-1'))

    def test_corpus_raw_targets(self):
        before = self.snapshot()
        bad_target = 'valet.request.bad_target'
        for data, code in (
                (b'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', bad_target),
                (b'GET v1/groups HTTP/1.1\r\nHost: x\r\n\r\n', bad_target),
                (b'DELETE v1/groups/seeded/members HTTP/1.1\r\n'
                 b'Host: x\r\nX-Roles: admin\r\n\r\n', bad_target),
                (b'GARBAGE\r\n\r\n', 'valet.request.malformed'),
                # A body that never arrives: uwsgi's input times out.
                (b'POST /v1/groups HTTP/1.1\r\nHost: x\r\n'
                 b'X-Roles: admin\r\nContent-Type: application/json\r\n'
                 b'Content-Length: 100\r\n\r\n{"name": ',
                 'valet.request.timeout')):
            answer = self.raw(data)
            if not answer:
                continue    # uwsgi closed the connection: no answer at all
            head, _, body = answer.partition(b'\r\n\r\n')
            status = status_of(head)
            self.assertEqual(408 if code == 'valet.request.timeout' else 400,
                             status, answer[:300])
            self.assertIn(b'application/json', head.lower())
            error = json.loads(body)['errors'][0]
            self.assertEqual(code, error['code'])
        self.assertEqual(before, self.snapshot())

    # ------------------------------------------------------- generated
    def test_generated_raw_requests(self):
        before = self.snapshot()

        @hypothesis.settings(
            max_examples=RAW_EXAMPLES, deadline=None, database=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck))
        @hypothesis.given(raw_requests())
        def run(data):
            answer = self.raw(data)
            if not answer:
                return      # closed without an answer: nothing to check
            head, _, body = answer.partition(b'\r\n\r\n')
            status = status_of(head)
            self.assertLess(status, 500, (data[:200], answer[:300]))
            if status >= 400:
                self.assertIn(b'application/json', head.lower(), answer)
                if data.startswith(b'HEAD '):
                    return      # no body, by HTTP
                try:
                    error = json.loads(body, parse_constant=_refuse)[
                        'errors'][0]
                except ValueError:
                    self.fail('not JSON: %r -> %r'
                              % (data[:200], answer[:400]))
                self.assertEqual(status, error['status'])

        run()
        self.assertEqual(before, self.snapshot())

    def test_generated_requests(self):
        state = {'before': self.snapshot()}

        @hypothesis.settings(
            max_examples=EXAMPLES, deadline=None, database=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck))
        @hypothesis.given(requests_to_send())
        def run(request):
            method, template, suffix, query, headers, body = request
            path = template.format(g=self.group_id, p='seeded-stack',
                                   o='orch-a') + suffix
            if query:
                path += '?' + query
            resp = self.send(method, path, headers, body,
                             before=state['before'])
            if resp.status_code < 400 and method not in ('GET', 'OPTIONS'):
                # A legitimate change: put the seeds back and go on.
                self.seed()
                state['before'] = self.snapshot()

        run()


def status_of(head):
    """The status of a raw answer. uwsgi echoes whatever it took for the
    protocol of a request line without one, so look for the code."""
    first = head.split(b'\r\n', 1)[0]
    return int(re.search(rb' ([1-5][0-9][0-9]) ', first + b' ').group(1))


def _refuse(name):
    raise ValueError('%s is not JSON' % name)
