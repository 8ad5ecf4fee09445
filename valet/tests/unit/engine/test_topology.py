"""Tests of the topology levels."""

from oslotest import base

from valet.engine.model import errors
from valet.engine.model import topology


class TopologyTest(base.BaseTestCase):

    def test_default_levels(self):
        topo = topology.Topology()
        self.assertEqual(('host', 'rack', 'zone', 'region'), topo.levels)
        self.assertEqual(('rack', 'zone', 'region'), topo.upper_levels)
        self.assertEqual(4, len(topo))
        self.assertEqual(['host', 'rack', 'zone', 'region'], list(topo))

    def test_index(self):
        topo = topology.Topology()
        for i, level in enumerate(topology.DEFAULT_LEVELS):
            self.assertEqual(i, topo.index(level))

    def test_unknown_level(self):
        topo = topology.Topology(('host', 'rack'))
        for level in ('zone', None, ['rack']):
            exc = self.assertRaises(errors.InvalidRequest, topo.index, level)
            self.assertEqual('valet.request.unknown_level', exc.code)
            self.assertEqual(level, exc.details['level'])
            self.assertEqual(['host', 'rack'], exc.details['levels'])

    def test_contains(self):
        topo = topology.Topology(('host', 'pod'))
        self.assertIn('pod', topo)
        self.assertIn('host', topo)
        self.assertNotIn('rack', topo)

    def test_custom_levels(self):
        topo = topology.Topology(['host', 'chassis', 'rack', 'row', 'site'])
        self.assertEqual(('chassis', 'rack', 'row', 'site'), topo.upper_levels)
        self.assertEqual(3, topo.index('row'))

    def test_host_only(self):
        topo = topology.Topology(('host',))
        self.assertEqual((), topo.upper_levels)
        self.assertEqual(1, len(topo))

    def test_lowest_level_must_be_host(self):
        for levels in ((), ('rack', 'host'), ('node', 'rack')):
            exc = self.assertRaises(errors.ModelError, topology.Topology,
                                    levels)
            self.assertEqual('valet.model.levels', exc.code)
            self.assertIsInstance(exc, errors.EngineError)

    def test_levels_must_be_unique(self):
        exc = self.assertRaises(errors.ModelError, topology.Topology,
                                ('host', 'rack', 'rack'))
        self.assertEqual('valet.model.levels', exc.code)
        self.assertEqual(('host', 'rack', 'rack'), exc.details['levels'])

    def test_equality_and_hash(self):
        a = topology.Topology(('host', 'rack'))
        b = topology.Topology(['host', 'rack'])
        c = topology.Topology(('host', 'zone'))
        self.assertEqual(a, b)
        self.assertEqual(hash(a), hash(b))
        self.assertNotEqual(a, c)
        self.assertNotEqual(a, ('host', 'rack'))
        self.assertEqual(1, len({a, b}))

    def test_repr(self):
        self.assertEqual("Topology(('host', 'rack'))",
                         repr(topology.Topology(('host', 'rack'))))


class ErrorsTest(base.BaseTestCase):

    def test_to_dict(self):
        exc = errors.ModelError('boom', code='valet.model.x', host='h1')
        self.assertEqual({'code': 'valet.model.x', 'message': 'boom',
                          'details': {'host': 'h1'}}, exc.to_dict())
        self.assertEqual('boom', str(exc))

    def test_default_codes(self):
        self.assertEqual('valet.model.invalid', errors.ModelError('m').code)
        self.assertEqual('valet.request.invalid',
                         errors.InvalidRequest('m').code)
        self.assertEqual('valet.engine.error', errors.EngineError('m').code)

    def test_to_dict_copies_details(self):
        exc = errors.InvalidRequest('m', code='valet.request.y', a=1)
        doc = exc.to_dict()
        doc['details']['a'] = 2
        self.assertEqual({'a': 1}, exc.details)
