"""The one membership parser (valet.objects.membership)."""

import json

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
