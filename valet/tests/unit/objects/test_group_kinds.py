"""The group vocabulary's table, and a kind added to it alone going
through the API, storage, the static inventory and the engine's group
definitions: the proof that those carry parameters generically."""

import os
import fixtures
import testtools

from valet.engine import translate
from valet.inventory import base as inventory_base
from valet.inventory import static
from valet import objects
from valet.objects import group_kinds
from valet.storage.sql import driver as sql_driver
from valet.tests.unit.api import base as api_base
from valet.tests.unit.inventory import test_static
from valet.tests.unit.storage import test_sql_sqlite


class VocabularyTest(testtools.TestCase):

    def test_table_declares_kinds_and_parameters(self):
        self.assertEqual(('affinity', 'diversity', 'exclusivity', 'at-most',
                          'spread', 'soft-affinity', 'soft-diversity'),
                         group_kinds.KINDS)
        self.assertEqual(['max_per_domain', 'max_skew', 'weight'],
                         list(group_kinds.PARAMETERS))
        self.assertEqual(('soft-affinity', 'soft-diversity'),
                         group_kinds.WEIGHTED_KINDS)
        self.assertEqual((1, 100, 1), (group_kinds.WEIGHT_MIN,
                                       group_kinds.WEIGHT_MAX,
                                       group_kinds.WEIGHT_DEFAULT))

    def test_every_kind_comes_with_a_microversion_of_the_api(self):
        from valet.api import microversion
        for kind in group_kinds.TABLE:
            self.assertIn(kind.since, microversion.VERSIONS, kind.name)

    def test_required_and_optional_parameters(self):
        error = group_kinds.parameters_error
        self.assertIsNone(error('at-most', {'max_per_domain': 2}))
        self.assertIn('needs max_per_domain', error('at-most', {}))
        # weight is optional: a soft group without it is fine.
        self.assertIsNone(error('soft-affinity', {}))
        self.assertIn('takes weight, a whole number from 1 to 100, not 0',
                      error('soft-affinity', {'weight': 0}))
        self.assertEqual('weight applies only to groups of type '
                         'soft-affinity, soft-diversity',
                         error('affinity', {'weight': 2}))
        self.assertIn('no parameter', error('affinity', {'colour': 1}))
        self.assertEqual([('max_skew', 'max_skew applies only to groups of '
                           'type spread')],
                         list(group_kinds.problems(
                             'at-most', {'max_per_domain': 2,
                                         'max_skew': 1})))

    def test_one_parameter_errors(self):
        self.assertIsNone(group_kinds.weight_error('soft-diversity', None))
        self.assertIsNone(group_kinds.weight_error('affinity', None))
        self.assertIn('not True',
                      group_kinds.weight_error('soft-diversity', True))
        self.assertIn('needs max_skew',
                      group_kinds.skew_error('spread', None))
        self.assertIsNone(group_kinds.limit_error('spread', None))
        self.assertIn('max_per_domain', group_kinds.parameter_error(
            'spread', max_per_domain=2, max_skew=1))

    def test_defaults(self):
        self.assertEqual({'weight': 1},
                         group_kinds.with_defaults('soft-affinity', {}))
        self.assertEqual({'max_skew': 2},
                         group_kinds.with_defaults('spread', {'max_skew': 2}))
        self.assertEqual(1, group_kinds.default('soft-diversity', 'weight'))
        self.assertIsNone(group_kinds.default('at-most', 'max_per_domain'))

    def test_objects_group_parameters_as_attributes(self):
        group = objects.Group(name='g', type='at-most', max_per_domain=2)
        self.assertEqual({'max_per_domain': 2}, group.parameters)
        self.assertEqual(2, group.max_per_domain)
        self.assertIsNone(group.weight)
        self.assertRaises(AttributeError, getattr, group, 'colour')
        self.assertRaises(TypeError, objects.Group, name='g',
                          type='affinity', colour=2)
        # An older peer's flat parameters are read too.
        portable = dict(group.portable(), parameters={}, max_per_domain=3)
        self.assertEqual({'max_per_domain': 3},
                         objects.Group.from_portable(portable).parameters)


# A kind only this test knows: at least ``min_per_domain`` members in any
# domain that has one.
AT_LEAST = group_kinds.Kind('at-least', '1.7', (group_kinds.Parameter(
    'min_per_domain', 1, 50, meaning='members a used domain holds'),))


def _with_kind(test, kind):
    """The vocabulary with ``kind`` added, for the rest of ``test``."""
    table = group_kinds.TABLE + (kind,)
    by_name = {k.name: k for k in table}
    parameters = {p.name: p for k in table for p in k.parameters}
    for name, value in (('TABLE', table), ('BY_NAME', by_name),
                        ('KINDS', tuple(by_name)),
                        ('PARAMETERS', parameters)):
        test.useFixture(fixtures.MockPatchObject(group_kinds, name, value))


class NewKindAPITest(api_base.APITestCase):
    """Adding AT_LEAST to the table is all the API needs."""

    def setUp(self):
        super().setUp()
        _with_kind(self, AT_LEAST)

    def test_created_validated_and_shown(self):
        v17 = dict(api_base.ADMIN,
                   **{'OpenStack-API-Version': 'workload-placement 1.7'})
        v16 = dict(api_base.ADMIN,
                   **{'OpenStack-API-Version': 'workload-placement 1.6'})
        body = {'name': 'g', 'type': 'at-least', 'level': 'rack',
                'min_per_domain': 2}
        self.assertEqual(2, self.post('/v1/groups', body, headers=v17,
                                      status=201).json['min_per_domain'])
        self.assertEqual(2, self.storage.get_group('g').min_per_domain)
        self.assertNotIn('min_per_domain', self.get(
            '/v1/groups/g', headers=v16).json['group'])
        for bad in ({'min_per_domain': 51}, {'min_per_domain': None},
                    {'type': 'affinity'}):
            resp = self.post('/v1/groups', dict(body, name='h', **bad),
                             headers=v17)
            self.assertError(resp, 400, 'valet.request.invalid')
        resp = self.post('/v1/groups', dict(body, name='h'), headers=v16)
        self.assertError(resp, 400, 'valet.request.invalid')


class NewKindStorageTest(testtools.TestCase):
    """... and all storage, the static inventory and the engine's group
    definitions need."""

    def setUp(self):
        super().setUp()
        _with_kind(self, AT_LEAST)

    def test_sql_keeps_it(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'valet.sqlite')
        store = sql_driver.SqlStorage(
            test_sql_sqlite.make_conf('sqlite:///' + path))
        self.addCleanup(store.dispose)
        store.upgrade()
        store.create_group(objects.Group(name='g', type='at-least',
                                         min_per_domain=3))
        self.assertEqual({'min_per_domain': 3},
                         store.get_group('g').parameters)

    def test_static_inventory_and_engine_definitions(self):
        snap = static.parse(test_static.document(groups={
            'g': {'type': 'at-least', 'min_per_domain': 2}}))
        group = snap.groups[0]
        self.assertEqual({'min_per_domain': 2}, group.parameters)
        self.assertRaisesRegex(
            inventory_base.InventoryError, 'key min_per_domain',
            static.parse, test_static.document(groups={
                'g': {'type': 'at-least'}}))
        model = translate.group_model(group)
        self.assertEqual(2, model.min_per_domain)
        spec = {'group_definitions': translate.group_definitions(
            ['g'], [model])}
        self.assertEqual({'type': 'at-least', 'level': 'host',
                          'parents': [], 'min_per_domain': 2},
                         spec['group_definitions']['g'])
        self.assertEqual([model], translate.groups_from_spec(spec))


class ModelGroupTest(testtools.TestCase):

    def test_parameters_are_attributes_with_defaults(self):
        from valet.engine.model import groups
        soft = groups.Group('near', groups.SOFT_AFFINITY, 'rack')
        self.assertEqual((1, None, None), (soft.weight, soft.max_per_domain,
                                           soft.max_skew))
        self.assertEqual(soft, groups.Group('near', groups.SOFT_AFFINITY,
                                            'rack', weight=1))
        limited = groups.Group('db', groups.AT_MOST, parameters={
            'max_per_domain': 2})
        self.assertEqual(2, limited.max_per_domain)
        self.assertEqual((('max_per_domain', 2),), limited.parameters)
        # Hashable, like every other field of the model's groups.
        self.assertEqual(1, len({limited, limited}))
