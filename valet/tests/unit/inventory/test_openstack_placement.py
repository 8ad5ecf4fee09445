"""Placement JSON (shaped as the Placement API reference shows it) to hosts."""

import threading

from oslotest import base

from valet.inventory import base as inventory_base
from valet.inventory.openstack import client
from valet.inventory.openstack import placement
from valet.tests.unit.inventory import test_openstack_fakes as fakes

CN1 = '4e8e5957-649f-477b-9e5b-f1f75b21c03c'
CN2 = '7b6ff3a0-4a6c-4b51-8d7c-0f1f0ad2e1a1'
NUMA0 = '0e3cbd2b-6a4c-46f4-9b8d-3a5d1f0c2a10'
NUMA1 = '0e3cbd2b-6a4c-46f4-9b8d-3a5d1f0c2a11'
SHARED = 'd9d2a2a8-5f0b-4f4a-a6a9-9d0a2f6a1b7e'
EMPTY = '5c2f2a3a-0f3d-4a50-8d6e-0c6c0a1e9f00'
VM1 = '56785a3f-6f1c-4fb2-aba2-4f8d7f2cbb3c'
VM2 = '9a5b0c1e-2f55-4c23-8a55-9b0a5f2c1d77'
AGG = '42896e0d-205d-4fe3-bd1e-100924931787'
# Placement-only aggregates: shared storage, and one nothing else knows.
STORAGE = '8c1e4d6a-3b2f-4e5a-9c7d-6f0a1b2c3d4e'
LONE = 'f3a2b1c0-9d8e-4f7a-8b6c-5d4e3f2a1b0c'


def provider(uuid, name, root=None, parent=None):
    return {'generation': 1, 'uuid': uuid, 'name': name,
            'links': [{'href': '/resource_providers/%s' % uuid,
                       'rel': 'self'}],
            'parent_provider_uuid': parent,
            'root_provider_uuid': root or uuid}


def inventory(total, reserved=0, ratio=1.0):
    return {'allocation_ratio': ratio, 'max_unit': total, 'min_unit': 1,
            'reserved': reserved, 'step_size': 1, 'total': total}


NAMES = {CN1: 'cn1', NUMA0: 'cn1_numa0', NUMA1: 'cn1_numa1',
         CN2: 'cn2.example.org', SHARED: 'shared-storage', EMPTY: 'empty'}
ROOTS = {NUMA0: CN1, NUMA1: CN1}


def members(*uuids):
    return {'resource_providers': [
        provider(u, NAMES[u], root=ROOTS.get(u), parent=ROOTS.get(u))
        for u in uuids]}


def routes():
    base_path = '/resource_providers/%s'
    return {
        '/resource_providers': {'resource_providers': [
            provider(CN1, 'cn1'),
            provider(NUMA0, 'cn1_numa0', root=CN1, parent=CN1),
            provider(NUMA1, 'cn1_numa1', root=CN1, parent=CN1),
            provider(CN2, 'cn2.example.org'),
            provider(SHARED, 'shared-storage'),
            provider(EMPTY, 'empty'),
        ]},
        base_path % CN1 + '/inventories': {
            'resource_provider_generation': 7,
            'inventories': {'DISK_GB': inventory(1000, 10),
                            'VCPU': inventory(4, ratio=16.0)}},
        base_path % NUMA0 + '/inventories': {
            'resource_provider_generation': 3,
            'inventories': {'VCPU': inventory(16, 2, 4.0),
                            'MEMORY_MB': inventory(65536, 2048, 1.5)}},
        base_path % NUMA1 + '/inventories': {
            'resource_provider_generation': 3,
            'inventories': {'VCPU': inventory(16, 0, 2.0),
                            'MEMORY_MB': inventory(65536, 0, 1.5)}},
        base_path % CN2 + '/inventories': {
            'resource_provider_generation': 2,
            'inventories': {'VCPU': inventory(32, 0, 4.0),
                            'MEMORY_MB': inventory(131072, 4096, 1.0),
                            'DISK_GB': inventory(2000)}},
        base_path % SHARED + '/inventories': {
            'resource_provider_generation': 1,
            'inventories': {'DISK_GB': inventory(100000)}},
        base_path % EMPTY + '/inventories': {
            'resource_provider_generation': 0, 'inventories': {}},
        base_path % CN1 + '/allocations': {
            'resource_provider_generation': 7,
            'allocations': {VM1: {'resources': {'DISK_GB': 20}}}},
        base_path % NUMA0 + '/allocations': {
            'resource_provider_generation': 3,
            'allocations': {VM1: {'resources': {'VCPU': 2,
                                                'MEMORY_MB': 2048}}}},
        base_path % NUMA1 + '/allocations': {
            'resource_provider_generation': 3,
            'allocations': {VM1: {'resources': {'VCPU': 2}},
                            VM2: {'resources': {'VCPU': 1,
                                                'MEMORY_MB': 512}}}},
        base_path % CN2 + '/allocations': {
            'resource_provider_generation': 2, 'allocations': {}},
        base_path % SHARED + '/allocations': {
            'resource_provider_generation': 1,
            'allocations': {VM2: {'resources': {'DISK_GB': 10}}}},
        base_path % CN1 + '/traits': {
            'resource_provider_generation': 7,
            'traits': ['HW_CPU_X86_AVX2', 'CUSTOM_RACK_R07']},
        base_path % CN2 + '/traits': {
            'resource_provider_generation': 2, 'traits': []},
        base_path % SHARED + '/traits': {
            'resource_provider_generation': 1,
            'traits': ['MISC_SHARES_VIA_AGGREGATE']},
        base_path % EMPTY + '/traits': {'traits': []},
        base_path % CN1 + '/aggregates': {
            'resource_provider_generation': 7, 'aggregates': [AGG, LONE]},
        base_path % CN2 + '/aggregates': {'aggregates': [STORAGE]},
        base_path % SHARED + '/aggregates': {'aggregates': [AGG, STORAGE]},
        base_path % EMPTY + '/aggregates': {'aggregates': []},
        # The bulk reads of the same traits and aggregates. A trait of a
        # nested provider is not its root's.
        '/traits?associated=true': {'traits': [
            'CUSTOM_RACK_R07', 'HW_CPU_X86_AVX2', 'HW_NUMA_ROOT',
            'MISC_SHARES_VIA_AGGREGATE']},
        '/resource_providers?required=CUSTOM_RACK_R07': members(CN1),
        '/resource_providers?required=HW_CPU_X86_AVX2': members(CN1),
        '/resource_providers?required=HW_NUMA_ROOT': members(NUMA0, NUMA1),
        '/resource_providers?required=MISC_SHARES_VIA_AGGREGATE': members(
            SHARED),
        '/resource_providers?member_of=%s' % AGG: members(CN1, SHARED),
        '/resource_providers?member_of=%s' % STORAGE: members(CN2, SHARED),
        '/allocations/%s' % VM1: {
            'allocations': {CN1: {'generation': 7,
                                  'resources': {'DISK_GB': 20}}},
            'project_id': 'p1', 'user_id': 'u1'},
        '/allocations/%s' % VM2: {
            'allocations': {}, 'project_id': 'p2', 'user_id': 'u2'},
    }


class ParseTest(base.BaseTestCase):

    def test_providers(self):
        body = {'resource_providers': [provider(CN1, 'cn1'), provider(
            NUMA0, 'n0', root=CN1, parent=CN1)]}
        self.assertEqual([{'uuid': CN1, 'name': 'cn1', 'root': CN1,
                           'parent': None},
                          {'uuid': NUMA0, 'name': 'n0', 'root': CN1,
                           'parent': CN1}],
                         placement.parse_providers(body))

    def test_inventories_default_reserved_and_ratio(self):
        parsed = placement.parse_inventories(
            {'inventories': {'VCPU': {'total': 8}}}, CN1)
        self.assertEqual(placement.Inventory(8, 0, 1.0), parsed['VCPU'])

    def test_malformed_bodies_name_the_provider(self):
        cases = [
            (placement.parse_providers, ({'providers': []},),
             'GET /resource_providers'),
            (placement.parse_providers, ({'resource_providers': [{}]},),
             'a provider without a uuid'),
            (placement.parse_inventories, ({'inventories': []}, CN1),
             'provider %s inventories' % CN1),
            (placement.parse_inventories,
             ({'inventories': {'VCPU': {'total': '8'}}}, CN1),
             "VCPU total: expected a number, got '8'"),
            (placement.parse_inventories,
             ({'inventories': {'VCPU': {'total': 8, 'reserved': True}}},
              CN1), 'VCPU reserved'),
            (placement.parse_allocations, ({'allocations': {VM1: {}}}, CN1),
             'allocations %s: no "resources" mapping' % VM1),
            (placement.parse_allocations,
             ({'allocations': {VM1: {'resources': {'VCPU': None}}}}, CN1),
             'expected a number'),
            (placement.parse_names, ({'traits': 'X'}, 'traits', CN1),
             'no "traits" list'),
        ]
        for function, args, message in cases:
            exc = self.assertRaises(inventory_base.InventoryError, function,
                                    *args)
            self.assertIn(message, str(exc))
            self.assertTrue(str(exc).startswith('Placement: '))

    def test_fold_keeps_usable_capacity_exact(self):
        capacity, reserved, ratios = placement.fold_inventories([
            {'VCPU': placement.Inventory(16, 2, 4.0),
             'MEMORY_MB': placement.Inventory(1000, 0, 1.5)},
            {'VCPU': placement.Inventory(16, 0, 2.0)}])
        self.assertEqual({'VCPU': 32, 'MEMORY_MB': 1000}, capacity)
        self.assertEqual({'VCPU': 2}, reserved)
        self.assertEqual(1.5, ratios['MEMORY_MB'])
        # (14 * 4 + 16 * 2) usable = (32 - 2) * ratio
        self.assertAlmostEqual(14 * 4 + 16 * 2, (32 - 2) * ratios['VCPU'])

    def test_fold_with_everything_reserved(self):
        _, reserved, ratios = placement.fold_inventories([
            {'VCPU': placement.Inventory(4, 4, 2.0)},
            {'VCPU': placement.Inventory(4, 4, 3.0)}])
        self.assertEqual({'VCPU': 8}, reserved)
        self.assertEqual(3.0, ratios['VCPU'])


class ReaderTest(base.BaseTestCase):

    def read(self, answers=None, aggregates=None, per_provider=False, **kw):
        table = routes()
        table.update(answers or {})
        self.adapter = fakes.FakeAdapter(table)
        reader = placement.PlacementReader(
            client.ServiceClient('Placement', self.adapter), **kw)
        reader.per_provider = per_provider
        return reader.read(aggregates=aggregates)

    def test_hosts_fold_nested_providers_and_skip_others(self):
        view = self.read(workers=3)
        self.assertEqual(6, view.providers)
        self.assertEqual(2, view.skipped)     # sharing and empty providers
        self.assertEqual(0, view.vanished)
        hosts = {t.name: t for t in view.hosts}
        self.assertEqual({'cn1', 'cn2.example.org'}, set(hosts))
        cn1 = hosts['cn1']
        self.assertEqual(CN1, cn1.uuid)
        self.assertEqual({'VCPU': 36, 'MEMORY_MB': 131072, 'DISK_GB': 1000},
                         cn1.capacity)
        self.assertEqual({'VCPU': 2, 'MEMORY_MB': 2048, 'DISK_GB': 10},
                         cn1.reserved)
        self.assertEqual(1.5, cn1.allocation_ratios['MEMORY_MB'])
        self.assertEqual(1.0, cn1.allocation_ratios['DISK_GB'])
        self.assertAlmostEqual(4 * 16 + 14 * 4 + 16 * 2,
                               34 * cn1.allocation_ratios['VCPU'])
        # The root's traits only (HW_NUMA_ROOT is its children's).
        self.assertEqual(frozenset(['HW_CPU_X86_AVX2', 'CUSTOM_RACK_R07']),
                         cn1.traits)
        self.assertEqual(frozenset([AGG, LONE]), cn1.aggregates)
        self.assertEqual({VM1: {'DISK_GB': 20, 'VCPU': 4, 'MEMORY_MB': 2048},
                          VM2: {'VCPU': 1, 'MEMORY_MB': 512}},
                         cn1.consumers)
        cn2 = hosts['cn2.example.org']
        self.assertEqual({'MEMORY_MB': 4096}, cn2.reserved)
        self.assertEqual({'VCPU': 4.0, 'MEMORY_MB': 1.0, 'DISK_GB': 1.0},
                         cn2.allocation_ratios)
        self.assertEqual(frozenset(), cn2.traits)
        self.assertEqual(frozenset([STORAGE]), cn2.aggregates)
        self.assertEqual({}, cn2.consumers)
        self.assertEqual({}, view.consumers)

    def assertSameView(self, expected, actual):
        by_uuid = lambda view: sorted(view.hosts, key=lambda t: t.uuid)  # noqa
        self.assertEqual(by_uuid(expected), by_uuid(actual))
        self.assertEqual(
            (expected.providers, expected.skipped, expected.vanished,
             expected.consumers),
            (actual.providers, actual.skipped, actual.vanished,
             actual.consumers))

    def test_bulk_reads_match_per_provider_reads(self):
        before = self.read(per_provider=True, read_consumers=True)
        self.assertSameView(before, self.read(read_consumers=True))
        # With Nova's aggregate UUIDs, memberships come per aggregate; the
        # shared-storage aggregate through the sharing provider. Only LONE,
        # in Placement alone and holding no sharing provider, is not seen.
        after = self.read(aggregates=[AGG], read_consumers=True)
        cn1 = [t for t in before.hosts if t.uuid == CN1][0]
        cn1.aggregates = frozenset([AGG])
        self.assertSameView(before, after)

    def test_requests_per_provider(self):
        view = self.read(per_provider=True)
        calls = self.adapter.calls
        self.assertEqual(1, calls.count('/resource_providers'))
        # Children: inventories and allocations only; roots also traits and
        # aggregates; a provider without inventory has no allocations.
        self.assertEqual(2, sum(1 for c in calls if NUMA0 in c))
        self.assertEqual(4, sum(1 for c in calls if CN1 in c))
        self.assertEqual(3, sum(1 for c in calls if EMPTY in c))
        self.assertEqual(1 + 2 * 2 + 4 * 3 + 3, len(calls))
        self.assertEqual(len(calls), view.requests)

    def test_requests_with_bulk_traits(self):
        view = self.read()
        calls = self.adapter.calls
        self.assertEqual(1, calls.count('/traits?associated=true'))
        self.assertEqual(4, sum(1 for c in calls if 'required=' in c))
        self.assertEqual([], [c for c in calls if c.endswith('/traits')])
        # Roots: inventories, allocations and aggregates.
        self.assertEqual(3, sum(1 for c in calls if CN1 in c))
        self.assertEqual(2, sum(1 for c in calls if NUMA0 in c))
        self.assertEqual(2, sum(1 for c in calls if EMPTY in c))
        self.assertEqual(1 + 1 + 4 + 2 * 2 + 3 * 3 + 2, len(calls))
        self.assertEqual(len(calls), view.requests)

    def test_requests_with_nova_aggregates(self):
        view = self.read(aggregates=[AGG, AGG])
        calls = self.adapter.calls
        # Two GETs per provider with inventory, one without; the sharing
        # provider's aggregates; one membership read per aggregate.
        aggregate_reads = [c for c in calls if c.endswith('/aggregates')]
        self.assertEqual(['/resource_providers/%s/aggregates' % SHARED],
                         aggregate_reads)
        self.assertEqual(
            ['/resource_providers?member_of=%s' % AGG,
             '/resource_providers?member_of=%s' % STORAGE],
            [c for c in calls if 'member_of=' in c])
        self.assertEqual(2, sum(1 for c in calls if CN1 in c))
        self.assertEqual(1 + 1 + 4 + 2 * 5 + 1 + 1 + 2, len(calls))
        self.assertEqual(len(calls), view.requests)

    def test_nova_without_aggregates(self):
        # The sharing provider's aggregates are still read.
        view = self.read(aggregates=[])
        self.assertEqual({CN1: frozenset([AGG]), CN2: frozenset([STORAGE])},
                         {t.uuid: t.aggregates for t in view.hosts})

    def test_trait_deleted_while_reading(self):
        view = self.read({
            '/resource_providers?required=HW_CPU_X86_AVX2': (400, {
                'errors': [{'status': 400, 'title': 'Bad Request',
                            'detail': 'Invalid trait(s) in "required"'}]})})
        cn1 = [t for t in view.hosts if t.uuid == CN1][0]
        self.assertEqual(frozenset(['CUSTOM_RACK_R07']), cn1.traits)

    def test_malformed_bulk_answers(self):
        exc = self.assertRaises(
            inventory_base.InventoryError, self.read,
            {'/traits?associated=true': {'names': []}})
        self.assertEqual('Placement: GET /traits: no "traits" list in the '
                         'response', str(exc))
        exc = self.assertRaises(
            inventory_base.InventoryError, self.read,
            {'/resource_providers?member_of=%s' % AGG: {'providers': []}},
            aggregates=[AGG])
        self.assertEqual('Placement: GET /resource_providers?member_of=%s: '
                         'no "resource_providers" list in the response' % AGG,
                         str(exc))

    def test_consumers_on_request(self):
        view = self.read(read_consumers=True)
        self.assertEqual({VM1: {'project_id': 'p1', 'user_id': 'u1'},
                          VM2: {'project_id': 'p2', 'user_id': 'u2'}},
                         view.consumers)

    def test_providers_deleted_while_reading_are_skipped(self):
        gone = (404, {'errors': [{'status': 404, 'title': 'Not Found',
                                  'detail': 'No resource provider'}]})
        view = self.read({
            '/resource_providers/%s/inventories' % CN2: gone,
            '/resource_providers/%s/allocations' % NUMA1: gone})
        self.assertEqual(2, view.vanished)
        self.assertEqual(['cn1'], [t.name for t in view.hosts])
        # The vanished child's part no longer counts.
        self.assertEqual({'VCPU': 20, 'MEMORY_MB': 65536, 'DISK_GB': 1000},
                         view.hosts[0].capacity)

    def test_first_error_fails_the_read(self):
        for path, kw in (
                ('/resource_providers/%s/traits' % CN1,
                 {'per_provider': True}),
                ('/resource_providers/%s/aggregates' % CN1, {}),
                ('/resource_providers/%s/allocations' % CN1,
                 {'aggregates': [AGG]})):
            exc = self.assertRaises(
                inventory_base.InventoryError, self.read,
                {path: (503, 'Service Unavailable')}, workers=2, **kw)
            self.assertEqual('Placement GET %s%s answered 503: Service '
                             'Unavailable' % (fakes.ENDPOINT, path), str(exc))

    def test_bulk_read_errors_fail_the_read(self):
        path = '/resource_providers?required=CUSTOM_RACK_R07'
        exc = self.assertRaises(
            inventory_base.InventoryError, self.read,
            {path: (503, 'Service Unavailable')})
        self.assertEqual('Placement GET %s%s answered 503: Service '
                         'Unavailable' % (fakes.ENDPOINT, path), str(exc))

    def test_malformed_provider_answer(self):
        exc = self.assertRaises(
            inventory_base.InventoryError, self.read,
            {'/resource_providers/%s/allocations' % CN2: {'usages': {}}})
        self.assertIn('provider %s allocations: no "allocations" mapping'
                      % CN2, str(exc))

    def test_empty_placement(self):
        view = self.read({'/resource_providers': {'resource_providers': []},
                          '/traits?associated=true': {'traits': []}},
                         aggregates=[])
        self.assertEqual([], view.hosts)
        self.assertEqual(0, view.providers)
        self.assertEqual(2, view.requests)


class PoolTest(base.BaseTestCase):

    def test_a_failure_elsewhere_ends_the_wait(self):
        release = threading.Event()
        self.addCleanup(release.set)

        def fail():
            raise inventory_base.InventoryError('Placement at x: down')

        with placement._Pool(2) as pool:
            slow = pool.submit(release.wait, 30)
            pool.submit(fail)
            exc = self.assertRaises(inventory_base.InventoryError,
                                    pool.results, {'slow': slow})
            self.assertFalse(slow.done())
            release.set()
        self.assertEqual('Placement at x: down', str(exc))

    def test_results_in_any_order(self):
        with placement._Pool(3) as pool:
            futures = {n: pool.submit(pow, n, 2) for n in range(20)}
            done = pool.results({n: futures[n] for n in (3, 7)})
            self.assertEqual({3: 9, 7: 49}, done)
            self.assertEqual(361, pool.results(futures)[19])
        with placement._Pool(1) as pool:
            self.assertEqual({}, pool.results({}))
