"""The one membership parser (valet.objects.membership)."""

import json

import hypothesis
from hypothesis import strategies as st
from oslotest import base

from valet.objects import membership as m

SERVER = m.SERVER_TYPE


def server(name, metadata=None):
    props = {'flavor': 'f'}
    if metadata is not None:
        props['metadata'] = metadata
    return {'name': name, 'type': SERVER, 'properties': props}


class MetadataTest(base.BaseTestCase):

    def test_shapes(self):
        self.assertEqual((), m.from_metadata(None))
        self.assertEqual((), m.from_metadata({}))
        self.assertEqual((), m.from_metadata({'valet': ''}))
        self.assertEqual(('a', 'b'), m.from_metadata(
            {'valet': {'groups': ['a', 'b', 'a']}}))
        # nova boot --meta valet='{"groups": [...]}'
        self.assertEqual(('a',), m.from_metadata(
            {'valet': json.dumps({'groups': ['a']})}))
        self.assertEqual(('a', 'b'), m.from_metadata(
            {'valet_groups': ' a, b ,,'}))
        self.assertEqual(('a', 'b', 'c'), m.from_metadata(
            {'valet': {'groups': ['a', 'b']}, 'valet_groups': 'b,c'}))
        self.assertEqual(('a',), m.from_metadata(
            json.dumps({'valet': {'groups': ['a']}})))
        self.assertEqual((), m.from_metadata({'valet': {'groups': None}}))

    def test_bad_shapes(self):
        for bad in ({'valet': 'not json'}, {'valet': '["a"]'},
                    {'valet': {'groups': 'a'}}, {'valet': {'groups': [1]}},
                    {'valet': {'groups': ['bad name!']}},
                    {'valet': {'group': ['a']}}, {'valet': 7},
                    {'valet': {'groups': ['g%d' % i for i in range(65)]}},
                    {'valet_groups': 3}, 'valet', ['x']):
            exc = self.assertRaises(m.MembershipError, m.from_metadata, bad,
                                    'md', 'r1')
            self.assertEqual('r1', exc.resource)
            self.assertIn('md', exc.message)


class ExtraSpecsTest(base.BaseTestCase):

    def test_shapes(self):
        self.assertEqual((), m.from_extra_specs(None))
        self.assertEqual((), m.from_extra_specs({'hw:cpu_policy': 'x'}))
        self.assertEqual(('a', 'b'), m.from_extra_specs(
            {'valet': '{"groups": ["a"]}', 'valet:groups': 'a, b'}))

    def test_bad_shape_names_the_flavor(self):
        exc = self.assertRaises(m.MembershipError, m.from_extra_specs,
                                {'valet': '{"groups": 3}'}, 'm1.x')
        self.assertIn('m1.x', exc.message)


class PlanTest(base.BaseTestCase):

    def test_metadata_and_assignments(self):
        resources = {
            'o1': server('a', {'valet': {'groups': ['g1']}}),
            'o2': server('b'),
            'o3': server('c'),
            'grp': {'name': 'G', 'type': m.GROUP_TYPE,
                    'properties': {'name': 'g3'}},
            'x1': {'name': 'x1', 'type': m.ASSIGNMENT_TYPE,
                   'properties': {'group': 'g2', 'resources': [
                       'a', {'get_resource': 'b'}]}},
            'x2': {'name': 'x2', 'type': m.ASSIGNMENT_TYPE,
                   'properties': {'group': {'get_resource': 'G'},
                                  'resources': ['o1', 'c']}},
            'x3': {'name': 'x3', 'type': m.LEGACY_ASSIGNMENT_TYPE,
                   'properties': {'group_name': 'g4',
                                  'resources': ['b']}},
            'vol': {'name': 'v', 'type': 'OS::Cinder::Volume'},
        }
        self.assertEqual({'o1': ('g1', 'g2', 'g3'), 'o2': ('g2', 'g4'),
                          'o3': ('g3',)}, m.from_plan(resources))

    def test_servers_without_groups_are_left_out(self):
        self.assertEqual({}, m.from_plan({'o1': server('a')}))
        self.assertEqual({}, m.from_plan('nope'))

    def test_bad_assignments(self):
        base_resources = {'o1': server('a'), 'vol': {
            'name': 'v', 'type': 'OS::Cinder::Volume'}}
        cases = [
            ({}, "property 'group' must be specified"),
            ({'group': 'g'}, 'must list the servers'),
            ({'group': 'g', 'resources': []}, 'must list the servers'),
            ({'group': 'g', 'resources': ['zz']}, "'zz'"),
            ({'group': 'g', 'resources': ['v']}, 'OS::Cinder::Volume'),
            ({'group': {'get_resource': 'a'}, 'resources': ['a']},
             'not an OS::Valet::Group'),
            ({'group': 5, 'resources': ['a']}, 'group name or id'),
        ]
        for props, words in cases:
            resources = dict(base_resources, x={
                'name': 'x', 'type': m.ASSIGNMENT_TYPE, 'properties': props})
            exc = self.assertRaises(m.MembershipError, m.from_plan,
                                    resources)
            self.assertIn(words, exc.message)
            self.assertEqual('x', exc.resource)
        legacy = dict(base_resources, x={
            'name': 'x', 'type': m.LEGACY_ASSIGNMENT_TYPE,
            'properties': {'group_type': 'affinity', 'resources': ['a']}})
        exc = self.assertRaises(m.MembershipError, m.from_plan, legacy)
        self.assertIn('anonymous groups are not supported', exc.message)


class _Group:
    def __init__(self, name, parents=()):
        self.name, self.parents = name, list(parents)

    def definition(self):
        return {'type': 'diversity', 'level': 'host',
                'parents': self.parents}


class ResolveTest(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.stored = {'g1': _Group('g1', ['outer']), 'g2': _Group('g2'),
                       'outer': _Group('outer'), 'id-2': _Group('g2')}
        self.resources = {
            'o1': server('a', {'valet': {'groups': ['g1']},
                               'valet_groups': 'id-2', 'keep': {'x': 1}}),
            'o2': server('b'),
            'o3': server('c'),
            'x1': {'name': 'x1', 'type': m.ASSIGNMENT_TYPE,
                   'properties': {'group': 'g2', 'resources': ['c']}},
            'vol': {'name': 'v', 'type': 'OS::Cinder::Volume',
                    'properties': {'size': 1}},
        }

    def resolve(self, resources):
        def require(ref, orch_id, resource):
            self.assertIs(resources[orch_id], resource)
            return self.stored[ref]
        return m.resolve(resources, require, self.stored.get)

    def test_servers_list_their_groups_by_name(self):
        resolved, definitions = self.resolve(self.resources)
        self.assertEqual(set(self.resources), set(resolved))
        self.assertEqual({'valet': {'groups': ['g1', 'g2']},
                          'keep': {'x': 1}},
                         resolved['o1']['properties']['metadata'])
        self.assertEqual({'valet': {'groups': ['g2']}},
                         resolved['o3']['properties']['metadata'])
        self.assertEqual({'flavor': 'f', 'metadata': {
            'valet': {'groups': ['g2']}}}, resolved['o3']['properties'])
        self.assertEqual(self.resources['o2'], resolved['o2'])
        self.assertEqual(self.resources['x1'], resolved['x1'])
        self.assertEqual(['g1', 'g2', 'outer'], sorted(definitions))

    def test_input_is_not_changed(self):
        before = json.loads(json.dumps(self.resources))
        resolved, _ = self.resolve(self.resources)
        self.assertEqual(before, self.resources)
        # The servers it rewrote are new down to their metadata: changing
        # them (as a caller may) does not reach the input.
        for orch_id in ('o1', 'o3'):
            server_copy = resolved[orch_id]
            self.assertIsNot(self.resources[orch_id], server_copy)
            server_copy['name'] = 'changed'
            server_copy['properties']['flavor'] = 'changed'
            server_copy['properties']['metadata']['valet'] = 'changed'
        del resolved['x1']
        self.assertEqual(before, self.resources)

    def test_servers_naming_their_groups_by_name_are_kept(self):
        resources = {'o1': server('a', {'valet': {'groups': ['g1']}}),
                     'o2': server('b', {'valet': {'groups': ['g1', 'g2']},
                                        'keep': 1}),
                     'o3': server('c', {'valet': {'groups': ['id-2']}}),
                     'o4': server('d', {'valet': {'groups': ['g2']},
                                        'valet_groups': 'g2'})}
        resolved, _ = self.resolve(resources)
        self.assertIs(resources['o1'], resolved['o1'])
        self.assertIs(resources['o2'], resolved['o2'])
        # By id, or with the other key: rewritten as before.
        self.assertIsNot(resources['o3'], resolved['o3'])
        self.assertEqual({'valet': {'groups': ['g2']}},
                         resolved['o3']['properties']['metadata'])
        self.assertIsNot(resources['o4'], resolved['o4'])
        self.assertEqual({'valet': {'groups': ['g2']}},
                         resolved['o4']['properties']['metadata'])

    def test_server_without_properties_joins_by_assignment(self):
        resources = {'o1': {'name': 'a', 'type': SERVER},
                     'x1': {'name': 'x1', 'type': m.ASSIGNMENT_TYPE,
                            'properties': {'group': 'g2',
                                           'resources': ['a']}}}
        resolved, _ = self.resolve(resources)
        self.assertEqual({'metadata': {'valet': {'groups': ['g2']}}},
                         resolved['o1']['properties'])
        self.assertNotIn('properties', resources['o1'])


_NAME = st.one_of(
    st.sampled_from(['a', 'web', 'g-1', 'x.y', ' a', 'a ', 'a\n', '', 'a b',
                     'a/b', 'é', 'z' * 256]),
    st.text(alphabet='ab:~_ \n', max_size=4))
_GROUPS = st.one_of(st.none(), st.integers(), st.text(max_size=3),
                    st.lists(st.one_of(_NAME, st.integers()), max_size=4),
                    st.lists(st.just('g'), min_size=64, max_size=66))
_VALET = st.one_of(
    st.none(), st.just(''), st.just('{"groups": ["a"]}'), st.integers(),
    st.dictionaries(st.sampled_from(['groups', 'other']), _GROUPS,
                    max_size=2))
_METADATA = st.one_of(
    st.none(), st.just(''), st.just([]), st.just('{"valet": 1}'),
    st.fixed_dictionaries({}, optional={
        'valet': _VALET,
        'valet_groups': st.one_of(st.none(), st.just(''), st.just('a,b'),
                                  st.just(['a'])),
        'other': st.just('x')}))


class CommonShapeTest(base.BaseTestCase):
    """The common-shape shortcut gives what the full parse gives, and
    leaves every other shape (and every error) to it."""

    @hypothesis.settings(max_examples=600, deadline=None)
    @hypothesis.given(_METADATA)
    def test_shortcut_agrees_with_the_full_parse(self, metadata):
        try:
            full = m.from_metadata(metadata, 'where', 'r1')
        except m.MembershipError:
            full = 'error'
        quick = m._common_refs(metadata)
        if quick is not None:
            self.assertEqual(full, quick)
        resource = {'type': SERVER, 'properties': {'metadata': metadata}}
        try:
            got = m.server_metadata_refs('r1', resource)
        except m.MembershipError:
            got = 'error'
        self.assertEqual(full, got)

    def test_common_shapes_take_the_shortcut(self):
        self.assertEqual((), m._common_refs(None))
        self.assertEqual((), m._common_refs({'other': 1}))
        self.assertEqual(('a', 'b'), m._common_refs(
            {'valet': {'groups': ['a', 'b', 'a']}}))
        # Anything unusual goes the long way, where errors are worded.
        self.assertIsNone(m._common_refs({'valet': {'groups': [' a']}}))
        self.assertIsNone(m._common_refs({'valet': '{"groups": ["a"]}'}))
        self.assertIsNone(m._common_refs({'valet_groups': 'a'}))

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(st.lists(_METADATA, min_size=1, max_size=6))
    def test_remembered_lists_agree_with_the_full_parse(self, many):
        # Each twice: the second read of a list comes from the memo.
        m._PLAIN_LISTS.clear()
        for metadata in many + many:
            try:
                full = m.from_metadata(metadata, 'where', 'r1')
            except m.MembershipError:
                full = 'error'
            quick = m._common_refs(metadata)
            if quick is not None:
                self.assertEqual(full, quick)

    def test_only_plain_name_lists_are_remembered(self):
        m._PLAIN_LISTS.clear()
        self.assertEqual(('a', 'b'), m._plain_names(['a', 'b', 'a']))
        self.assertEqual({('a', 'b', 'a'): ('a', 'b')}, m._PLAIN_LISTS)
        self.assertIsNone(m._plain_names([' a']))
        self.assertIsNone(m._plain_names([1]))
        self.assertIsNone(m._plain_names([{'a': 1}]))
        self.assertIsNone(m._plain_names(['g'] * (m.MAX_GROUPS + 1)))
        self.assertEqual(1, len(m._PLAIN_LISTS))

    def test_the_memo_is_bounded(self):
        m._PLAIN_LISTS.clear()
        for i in range(m._MAX_PLAIN_LISTS * 2 + 3):
            self.assertEqual(('g%d' % i,), m._plain_names(['g%d' % i]))
        self.assertLessEqual(len(m._PLAIN_LISTS), m._MAX_PLAIN_LISTS)


class OrderTest(base.BaseTestCase):

    def test_ids_sorted_as_text_whatever_their_type(self):
        self.assertEqual(['10', '2', 'a'], m._sorted_ids({'2': 0, 'a': 0,
                                                          '10': 0}))
        self.assertEqual([10, 2, 'a'], m._sorted_ids({2: 0, 'a': 0, 10: 0}))
        self.assertEqual([10, 2], m._sorted_ids({2: 0, 10: 0}))


def _former_from_plan(resources):
    # from_plan as it was written before its plain loop: every server's
    # references and its assignments', made unique.
    if not isinstance(resources, dict):
        return {}
    if any(isinstance(r, dict) and r.get('type') in m.ASSIGNMENT_TYPES
           for r in resources.values()):
        assigned = m.from_assignments(resources)
    else:
        assigned = {}
    out = {}
    for orch_id in m._sorted_ids(resources):
        resource = resources[orch_id]
        if not isinstance(resource, dict) or \
                resource.get('type') != SERVER:
            continue
        refs = m.server_metadata_refs(orch_id, resource) + \
            assigned.get(orch_id, ())
        if refs:
            out[orch_id] = m._unique(refs)
    return out


_RESOURCE = st.one_of(
    st.builds(lambda md: {'type': SERVER, 'name': 'n',
                          'properties': {'metadata': md}}, st.one_of(
        _METADATA, st.builds(lambda g: {'valet': {'groups': g}}, st.lists(
            st.sampled_from(['a', 'web', 'g']), max_size=3)))),
    st.builds(lambda group, members: {
        'type': m.ASSIGNMENT_TYPE,
        'properties': {'group': group, 'resources': members}},
        st.sampled_from(['a', 'web', 'g']),
        st.lists(st.sampled_from(['s0', 's1', 's2', 'n']), min_size=1,
                 max_size=3)),
    st.just({'type': 'OS::Other'}), st.just('not a mapping'))


class FromPlanTest(base.BaseTestCase):

    @hypothesis.settings(max_examples=400, deadline=None)
    @hypothesis.given(st.dictionaries(
        st.sampled_from(['s0', 's1', 's2', 'a0', 'a1']), _RESOURCE,
        max_size=5))
    def test_same_as_the_former_loop(self, resources):
        def outcome(parse):
            try:
                return parse(resources)
            except m.MembershipError as exc:
                return ('error', exc.message, exc.resource)
        self.assertEqual(outcome(_former_from_plan), outcome(m.from_plan))
