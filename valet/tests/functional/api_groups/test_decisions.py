"""Decisions as a user sees them through the real API and engine.

* A dedicated-CPU flavor is planned as Placement counts it (``PCPU``),
  the rule the engine also uses when it follows Nova's notifications.
* A refusal that a count proves says so, names the servers by name, and
  does not blame the search budget.

SQLite only: no storage behaviour is involved.
"""

from valet.tests.functional.api_groups import base

FLAVORS = {
    'm1.small': {'vcpus': 1, 'ram': 512, 'disk': 1},
    'd1.pinned': {'vcpus': 2, 'ram': 512, 'disk': 1,
                  'extra_specs': {'hw:cpu_policy': 'dedicated'}},
}


class DecisionTest(base.APIGroupsTestCase):

    def test_dedicated_cpus_are_planned_as_pcpu(self):
        doc = base.inventory_doc(hosts=3, flavors=FLAVORS)
        # h3 offers dedicated CPUs only; h1 and h2 shared ones only.
        doc['hosts'][2]['vcpus'] = 0
        doc['hosts'][2]['resources'] = {'PCPU': 4}
        self.aio = self.useFixture(base.AllInOne(doc, self.connection))
        hosts = self.post_plan('s1', {
            'p1': base.server('p1', flavor='d1.pinned'),
            'p2': base.server('p2', flavor='d1.pinned')})
        self.assertEqual({'h3'}, set(hosts.values()))
        self.assertEqual({'PCPU': 2, 'VCPU': 0, 'MEMORY_MB': 512,
                          'DISK_GB': 1}, self.aio.model.servers['p1'].demand)
        # Full: a third one has nowhere to go, however many VCPUs are free.
        error = self.post_plan('s2', {
            'p3': base.server('p3', flavor='d1.pinned')}, status=409)
        self.assertIn('capacity:PCPU', error['detail'])

    def test_counted_refusal_says_it_is_impossible(self):
        self.start(hosts=14, racks=2)
        self.post_group('web', 'diversity')
        resp = self.aio.call('POST', '/v1/plans', {
            'plan_name': 's1', 'stack_id': 's1', 'resources': {
                'o%02d' % i: base.server('web-%02d' % i, ['web'])
                for i in range(20)}}, headers=base.member('p1'), status=409)
        error = resp.json['errors'][0]
        self.assertEqual('valet.placement.none', error['code'])
        self.assertTrue(error['explanation']['proven'])
        self.assertEqual('infeasible', error['explanation']['reason'])
        self.assertIn('impossible', error['detail'])
        self.assertNotIn('not proven', error['detail'])
        self.assertIn('20 members (web-00, web-01', error['detail'])
        self.assertEqual([], self.aio.store.list_plans())
