"""Tests of resource classes, flavor demands and host capacity."""

from oslotest import base

from valet.engine.model import host
from valet.engine.model import resources


class FlavorDemandTest(base.BaseTestCase):

    def test_standard_fields(self):
        self.assertEqual(
            {'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 20},
            resources.flavor_demand({'vcpus': 2, 'ram': 4096, 'disk': 20}))

    def test_missing_and_none_fields(self):
        self.assertEqual({'VCPU': 0, 'MEMORY_MB': 0, 'DISK_GB': 0},
                         resources.flavor_demand({}))
        self.assertEqual(
            {'VCPU': 1, 'MEMORY_MB': 0, 'DISK_GB': 0},
            resources.flavor_demand({'vcpus': 1, 'ram': None, 'disk': None,
                                     'ephemeral': None, 'swap': None}))

    def test_ephemeral_adds_to_disk(self):
        demand = resources.flavor_demand(
            {'vcpus': 1, 'ram': 512, 'disk': 10, 'ephemeral': 5})
        self.assertEqual(15, demand['DISK_GB'])

    def test_swap_rounds_up_to_gb(self):
        for swap, gb in ((0, 0), (1, 1), (512, 1), (1024, 1), (1025, 2),
                         (2048, 2), (4097, 5)):
            demand = resources.flavor_demand({'disk': 10, 'swap': swap})
            self.assertEqual(10 + gb, demand['DISK_GB'], swap)

    def test_string_values(self):
        demand = resources.flavor_demand(
            {'vcpus': '4', 'ram': '8192', 'disk': '40', 'swap': '1'})
        self.assertEqual({'VCPU': 4, 'MEMORY_MB': 8192, 'DISK_GB': 41},
                         demand)

    def test_resources_extra_specs(self):
        demand = resources.flavor_demand({
            'vcpus': 1, 'ram': 1024, 'disk': 1,
            'extra_specs': {'resources:VGPU': '1',
                            'resources:CUSTOM_FPGA': 2,
                            'hw:cpu_policy': 'dedicated',
                            'trait:HW_CPU_X86_AVX2': 'required'}})
        # Dedicated CPUs are PCPU in Placement, as Nova translates them.
        self.assertEqual({'VCPU': 0, 'PCPU': 1, 'MEMORY_MB': 1024,
                          'DISK_GB': 1, 'VGPU': 1, 'CUSTOM_FPGA': 2}, demand)

    def test_one_rule_for_planning_and_following(self):
        """The inventory's flavor and the same flavor in a Nova
        notification ask for the same resources."""
        from valet.inventory.openstack import notifications
        cases = [
            {},
            {'hw:cpu_policy': 'dedicated'},
            {'hw:cpu_policy': 'dedicated',
             'hw:emulator_threads_policy': 'isolate'},
            {'hw:cpu_policy': 'shared'},
            {'hw:cpu_policy': 'dedicated', 'resources:VCPU': '2'},
            {'resources:CUSTOM_X': '0', 'resources1:VGPU': '1',
             'resources2:VGPU': '2'},
        ]
        for specs in cases:
            planned = resources.flavor_demand({
                'vcpus': 4, 'ram': 2048, 'disk': 20, 'ephemeral': 5,
                'swap': 1536, 'extra_specs': specs})
            followed = notifications.flavor_demand({
                'vcpus': 4, 'memory_mb': 2048, 'root_gb': 20,
                'ephemeral_gb': 5, 'swap': 1536, 'extra_specs': specs})
            self.assertEqual(planned, followed, specs)
        dedicated = resources.flavor_demand(
            {'vcpus': 4, 'ram': 1, 'extra_specs': {
                'hw:cpu_policy': 'dedicated'}})
        self.assertEqual((0, 4), (dedicated['VCPU'], dedicated['PCPU']))

    def test_bad_resource_amount_is_a_flavor_error(self):
        from valet.objects import flavor
        self.assertRaises(flavor.FlavorError, resources.flavor_demand,
                          {'vcpus': 1, 'extra_specs': {
                              'resources:VGPU': 'many'}})

    def test_resources_extra_spec_overrides_standard(self):
        demand = resources.flavor_demand(
            {'vcpus': 4, 'extra_specs': {'resources:VCPU': '2'}})
        self.assertEqual(2, demand['VCPU'])

    def test_standard_classes(self):
        self.assertEqual(('VCPU', 'MEMORY_MB', 'DISK_GB'), resources.STANDARD)
        self.assertEqual(set(resources.STANDARD),
                         set(resources.FLAVOR_FIELDS.values()))


class UsableCapacityTest(base.BaseTestCase):

    def _spec(self, **kw):
        return host.HostSpec('h1', {'VCPU': 16, 'MEMORY_MB': 65536,
                                    'DISK_GB': 1000}, **kw)

    def test_raw_capacity(self):
        spec = self._spec()
        self.assertEqual(16.0, spec.usable('VCPU'))
        self.assertEqual(65536.0, spec.usable('MEMORY_MB'))
        self.assertIsInstance(spec.usable('VCPU'), float)

    def test_unknown_class_is_zero(self):
        self.assertEqual(0.0, self._spec().usable('VGPU'))

    def test_allocation_ratio(self):
        spec = self._spec(allocation_ratios={'VCPU': 4.0, 'MEMORY_MB': 1.5})
        self.assertEqual(64.0, spec.usable('VCPU'))
        self.assertEqual(98304.0, spec.usable('MEMORY_MB'))
        self.assertEqual(1000.0, spec.usable('DISK_GB'))

    def test_reserved(self):
        spec = self._spec(reserved={'MEMORY_MB': 512, 'DISK_GB': 100})
        self.assertEqual(65024.0, spec.usable('MEMORY_MB'))
        self.assertEqual(900.0, spec.usable('DISK_GB'))

    def test_reserved_before_ratio(self):
        spec = self._spec(reserved={'VCPU': 2},
                          allocation_ratios={'VCPU': 2.0})
        # (16 - 2) * 2, not 16 * 2 - 2.
        self.assertEqual(28.0, spec.usable('VCPU'))

    def test_standby(self):
        spec = self._spec(standby_percent={'VCPU': 25, 'DISK_GB': 100})
        self.assertEqual(12.0, spec.usable('VCPU'))
        self.assertEqual(0.0, spec.usable('DISK_GB'))

    def test_full_formula(self):
        spec = self._spec(reserved={'VCPU': 4},
                          allocation_ratios={'VCPU': 8.0},
                          standby_percent={'VCPU': 50})
        self.assertEqual((16 - 4) * 8.0 * 0.5, spec.usable('VCPU'))

    def test_never_negative(self):
        spec = self._spec(reserved={'VCPU': 32})
        self.assertEqual(0.0, spec.usable('VCPU'))

    def test_attribute_key(self):
        a = host.HostSpec('a', {}, availability_zone='az1',
                          aggregates={'ssd': {'disk': 'ssd', 'gen': '2'}},
                          traits=frozenset({'T2', 'T1'}))
        b = host.HostSpec('b', {'VCPU': 4}, availability_zone='az1',
                          aggregates={'ssd': {'gen': '2', 'disk': 'ssd'}},
                          traits=frozenset({'T1', 'T2'}))
        c = host.HostSpec('c', {}, availability_zone='az2',
                          aggregates={'ssd': {'disk': 'ssd', 'gen': '2'}},
                          traits=frozenset({'T1', 'T2'}))
        self.assertEqual(a.attribute_key(), b.attribute_key())
        self.assertNotEqual(a.attribute_key(), c.attribute_key())
        hash(a.attribute_key())

    def test_attribute_key_aggregate_without_metadata(self):
        a = host.HostSpec('a', {}, aggregates={'agg': None})
        b = host.HostSpec('b', {}, aggregates={'agg': {}})
        self.assertEqual(a.attribute_key(), b.attribute_key())
