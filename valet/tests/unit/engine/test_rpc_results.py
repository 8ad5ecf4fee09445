"""RPC 1.1: plan results, dry runs and capacity over a real RPC server.

The API builds REST bodies from these domain results; the 1.0 calls keep
answering the v1 representation for APIs not yet upgraded.
"""

from valet.common import exception
from valet.tests.unit.engine import test_service as base

server, plan, group = base.server, base.plan, base.group


class RPCResultTest(base.EngineServiceTestBase):

    def stored(self):
        return (self.storage.list_plans(), self.storage.list_placements(),
                sorted(self.dc.servers), self.dc.generation)

    def test_plan_create_answers_a_domain_result(self):
        out = self.api.plan_create(self.ctxt, plan('s1', {
            'o1': server(name='a'), 'o2': server(name='b')}))
        self.assertEqual({'plan', 'placements', 'decision', 'dry_run',
                          'removed'}, set(out))
        self.assertEqual(('s1', 'p1'), (out['plan']['stack_id'],
                                        out['plan']['project_id']))
        self.assertEqual(['o1', 'o2'], sorted(
            p['orchestration_id'] for p in out['placements']))
        # No REST shapes and nothing internal cross the wire.
        self.assertNotIn('spec', out['placements'][0])
        self.assertNotIn('assignment', out['decision'])
        self.assertTrue(out['decision']['feasible'])
        self.assertIn('hosts_used', out['decision']['objective'])
        self.assertFalse(out['dry_run'])
        stored = self.storage.get_plan('s1')
        self.assertEqual(stored.id, out['plan']['id'])

    def test_rpc_1_0_still_answers_v1(self):
        out = self.api.create_plan(self.ctxt, plan('s1', {
            'o1': server(name='a')}))
        self.assertEqual({'id', 'name', 'stack_id', 'placements'}, set(out))
        self.assertEqual({'o1'}, set(out['placements']))

    def test_dry_run_create_stores_nothing(self):
        before = self.stored()
        out = self.api.plan_create(self.ctxt, plan('s1', {
            'o1': server(groups=['apart'], name='a'),
            'o2': server(groups=['apart'], name='b')},
            groups=group('apart', 'diversity', 'rack')), dry_run=True)
        self.assertTrue(out['dry_run'])
        self.assertIsNone(out['plan']['id'])
        self.assertEqual({'r0', 'r1'}, {self.rack(p['location'])
                                        for p in out['placements']})
        self.assertEqual(before, self.stored())
        self.assertNotIn('apart', self.dc.groups)
        self.assertRaises(exception.NotFound, self.api.plan_update,
                          self.ctxt, 's1', {}, {})

    def test_dry_run_refusal_is_a_decision(self):
        before = self.stored()
        out = self.api.plan_create(self.ctxt, plan('s1', {
            'o%d' % i: server('full', name='f%d' % i) for i in range(5)}),
            dry_run=True)
        self.assertFalse(out['decision']['feasible'])
        self.assertTrue(out['decision']['explanation']['summary'])
        self.assertEqual(before, self.stored())
        self.assertRaises(exception.NoPlacement, self.api.plan_create,
                          self.ctxt, plan('s1', {
                              'o%d' % i: server('full', name='f%d' % i)
                              for i in range(5)}))

    def test_dry_run_update_stores_nothing(self):
        self.api.plan_create(self.ctxt, plan('s1', {
            'o1': server(name='a'), 'o2': server(name='b')}))
        before = self.stored()
        placements = {p.id: (p.location, p.reserved, p.name)
                      for p in self.storage.list_placements()}
        out = self.api.plan_update(self.ctxt, 's1', {
            'o1': server('large', name='a2'), 'o3': server(name='c')}, {},
            plan_name='renamed', dry_run=True)
        self.assertEqual(['o2'], out['decision']['removed'])
        self.assertEqual(1, len(out['removed']))
        self.assertEqual('renamed', out['plan']['name'])
        self.assertEqual(before, self.stored())
        self.assertEqual(placements, {
            p.id: (p.location, p.reserved, p.name)
            for p in self.storage.list_placements()})
        self.assertEqual('plan-s1', self.storage.get_plan('s1').name)

    def test_capacity(self):
        before = self.stored()
        out = self.api.capacity(self.ctxt, {
            'flavor': 'large', 'groups': ['apart'], 'level': 'rack',
            'definitions': group('apart', 'diversity', 'rack'),
            'project_id': 'p1'})
        self.assertEqual((2, True, 'large'), (out['count'], out['exact'],
                                              out['flavor']))
        self.assertEqual([{'name': 'r0', 'count': 1},
                          {'name': 'r1', 'count': 1}], out['domains'])
        self.assertEqual(before, self.stored())

    def test_capacity_bad_input_is_bad_request(self):
        for query in ([], {'flavor': 'nope'},
                      {'flavor': 'small', 'groups': 'g'},
                      {'flavor': 'small', 'level': 'galaxy'}):
            self.assertRaises(exception.BadRequest, self.api.capacity,
                              self.ctxt, query)

    def test_placement_calls_answer_domain_fields(self):
        created = self.api.plan_create(self.ctxt, plan('s1', {
            'o1': server(name='a')}))
        pid = created['placements'][0]['id']
        host = created['placements'][0]['location']
        out = self.api.placement_reserve(self.ctxt, pid, [host], 'vm-1')
        self.assertEqual((pid, host, True, 'vm-1', 'p1'), (
            out['id'], out['location'], out['reserved'],
            out['resource_id'], out['project_id']))
        self.assertNotIn('spec', out)
        other = sorted(h for h in self.dc.hosts if h != host)
        out = self.api.placement_replan(self.ctxt, pid, other, 'vm-1')
        self.assertIn(out['location'], other)
        self.assertEqual(out['location'],
                         self.storage.get_placement(pid).location)
        # 1.0 answers the v1 representation still.
        v1 = self.api.reserve(self.ctxt, pid, [], 'vm-1')
        self.assertEqual({'id', 'name', 'orchestration_id', 'resource_id',
                          'location', 'reserved', 'metadata', 'plan_id'},
                         set(v1))
