"""The rules a group's ``parents`` must follow (group_state.resolve_parents).

They are the solver's nesting rules, checked when a group is created or
changed so that no stored nesting can make every later plan fail.
"""

import testtools

from valet.common import exception
from valet.engine import group_state
from valet import objects

LEVELS = ('host', 'rack', 'zone')


class ResolveParentsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.groups = {}
        for name, kind, level, parents in (
                ('zone-div', 'diversity', 'zone', []),
                ('rack-aff', 'affinity', 'rack', ['zone-div']),
                ('host-aff', 'affinity', 'host', ['rack-aff']),
                ('rack-ex', 'exclusivity', 'rack', []),
                ('closed', 'diversity', 'zone', [])):
            self.groups[name] = objects.Group(
                name=name, type=kind, level=level, parents=parents,
                id='id-' + name)
        self.groups['closed'].members = ['p1']

    def find(self, ref):
        for group in self.groups.values():
            if ref in (group.name, group.id):
                return group
        return None

    def resolve(self, group, refs, project_id=None):
        return group_state.resolve_parents(group, refs, self.find, LEVELS,
                                           project_id)

    def refused(self, group, refs, code, project_id=None):
        exc = self.assertRaises(exception.ValetException, self.resolve,
                                group, refs, project_id)
        self.assertEqual(code, exc.code)
        return exc

    def new(self, kind='affinity', level='host', name='new'):
        return objects.Group(name=name, type=kind, level=level)

    def test_names_and_ids_resolve_to_names_once(self):
        self.assertEqual(['rack-aff', 'zone-div'], self.resolve(
            self.new(), ['id-rack-aff', 'zone-div', 'rack-aff']))
        self.assertEqual([], self.resolve(self.new(), []))

    def test_allowed_kinds(self):
        # Affinity in anything; anything in affinity.
        for kind in ('affinity', 'diversity', 'exclusivity'):
            self.resolve(self.new(kind), ['rack-aff'])
        self.resolve(self.new('affinity'), ['rack-ex'])
        for kind in ('diversity', 'exclusivity'):
            for parent in ('zone-div', 'rack-ex'):
                exc = self.refused(self.new(kind), [parent],
                                   'valet.group.nesting_kind')
                self.assertEqual(400, exc.status)

    def test_child_level_not_above_parent(self):
        self.resolve(self.new(level='rack'), ['rack-aff'])
        exc = self.refused(self.new(level='zone'), ['rack-aff'],
                           'valet.group.nesting_level')
        self.assertIn('level zone', exc.message)

    def test_self_unknown_and_cycles(self):
        group = self.groups['zone-div']
        self.refused(group, ['zone-div'], 'valet.group.parent_self')
        self.refused(group, ['id-zone-div'], 'valet.group.parent_self')
        self.refused(self.new(), ['ghost'], 'valet.group.parent_not_found')
        # zone-div is above host-aff: nesting it there closes a loop,
        # whatever the levels say.
        exc = self.refused(self.groups['zone-div'], ['host-aff'],
                           'valet.group.nesting_cycle')
        self.assertEqual(['zone-div', 'host-aff', 'rack-aff', 'zone-div'],
                         exc.details['groups'])
        # A parent's parent that is gone is not followed.
        self.groups['rack-aff'].parents = ['gone', 'zone-div']
        self.resolve(self.new(), ['host-aff'])

    def test_a_closed_parent_needs_membership(self):
        exc = self.refused(self.new(), ['closed'],
                           'valet.group.parent_not_member', project_id='p2')
        self.assertEqual(409, exc.status)
        self.assertEqual(['closed'],
                         self.resolve(self.new(), ['closed'], 'p1'))
        self.assertEqual(['closed'], self.resolve(self.new(), ['closed']))

    def test_children_of(self):
        groups = self.groups
        self.assertEqual(['rack-aff'], group_state.children_of(
            groups['zone-div'], groups.values()))
        self.assertEqual([], group_state.children_of(
            groups['host-aff'], groups.values()))
        groups['rack-ex'].parents = ['id-zone-div']
        self.assertEqual(['rack-aff', 'rack-ex'], group_state.children_of(
            groups['zone-div'], groups.values()))
