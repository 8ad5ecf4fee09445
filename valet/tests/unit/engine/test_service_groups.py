"""Group changes through the engine's RPC interface, and refusals it logs.

A real RPC server thread over oslo.messaging's fake transport, memory
storage and a static inventory file (see ``test_service``).
"""

import logging

import fixtures

from valet.common import exception
from valet.storage import base as storage_base
from valet.tests.unit.engine import test_service as ts


class GroupRPCTest(ts.EngineServiceTestBase):

    def create(self, name='g', kind='diversity', level='host', **kw):
        return self.api.create_group(self.ctxt, dict(
            name=name, type=kind, level=level, **kw))

    def test_create_stores_and_defines(self):
        out = self.create(description='spread')
        self.assertEqual(('g', 'diversity', 'host', 'spread'), (
            out['name'], out['type'], out['level'], out['description']))
        self.assertEqual(out['id'], self.storage.get_group('g').id)
        self.assertEqual('diversity', self.dc.groups['g'].kind)
        err = self.assertRaises(exception.Conflict, self.create)
        self.assertEqual('valet.group.duplicate', err.code)

    def test_level_the_topology_lacks_is_refused(self):
        err = self.assertRaises(exception.BadRequest, self.create,
                                level='region')
        self.assertEqual('valet.group.level_unknown', err.code)
        self.assertIn('host, rack, zone', err.message)
        self.assertRaises(storage_base.NotFound, self.storage.get_group, 'g')

    def test_parameters_checked_stored_and_defined(self):
        # A soft group's weight defaults to 1, in storage and the model.
        out = self.create('near', kind='soft-affinity')
        self.assertEqual({'weight': 1}, out['parameters'])
        self.assertEqual(1, self.storage.get_group('near').weight)
        self.assertEqual(1, self.dc.groups['near'].weight)
        self.create('db', kind='at-most', max_per_domain=2)
        self.assertEqual(2, self.dc.groups['db'].max_per_domain)
        for kind, given in (('soft-diversity', {'weight': 0}),
                            ('affinity', {'weight': 2}),
                            ('at-most', {})):
            err = self.assertRaises(exception.BadRequest, self.create,
                                    'bad', kind=kind, **given)
            self.assertEqual('valet.group.bad_parameter', err.code)
        self.assertRaises(storage_base.NotFound, self.storage.get_group,
                          'bad')

    def test_members_and_description(self):
        gid = self.create()['id']
        out = self.api.add_group_members(self.ctxt, gid, ['p1', 'p2', 'p1'])
        self.assertEqual(['p1', 'p2'], out['members'])
        out = self.api.update_group(self.ctxt, gid, 'new words')
        self.assertEqual('new words', out['description'])
        self.assertEqual(['p1', 'p2'], self.storage.get_group(gid).members)
        self.api.remove_group_members(self.ctxt, gid, 'p2')
        err = self.assertRaises(exception.NotFound,
                                self.api.remove_group_members, self.ctxt,
                                gid, 'p2')
        self.assertEqual('valet.group.member_not_found', err.code)
        err = self.assertRaises(exception.Conflict, self.api.delete_group,
                                self.ctxt, gid)
        self.assertEqual('valet.group.has_members', err.code)
        self.api.remove_group_members(self.ctxt, gid)
        self.api.delete_group(self.ctxt, gid)
        self.assertNotIn('g', self.dc.groups)
        err = self.assertRaises(exception.NotFound, self.api.delete_group,
                                self.ctxt, gid)
        self.assertEqual('valet.group.not_found', err.code)

    def test_project_with_servers_stays_a_member(self):
        gid = self.create()['id']
        self.api.add_group_members(self.ctxt, gid, ['p1'])
        self.api.create_plan(self.ctxt, ts.plan(
            's1', {'o1': ts.server(groups=['g'])},
            ts.group('g', 'diversity')))
        err = self.assertRaises(exception.Conflict,
                                self.api.remove_group_members, self.ctxt,
                                gid)
        self.assertEqual('valet.group.member_in_use', err.code)
        self.assertEqual(['p1'], self.storage.get_group(gid).members)

    def test_lost_race_is_retried(self):
        gid = self.create()['id']
        real = self.storage.update_group
        calls = []

        def racing(g):
            calls.append(g)
            if len(calls) == 1:
                # Another writer gets in first: the stored generation moves.
                real(self.storage.get_group(g.id))
            return real(g)
        self.storage.update_group = racing
        out = self.api.add_group_members(self.ctxt, gid, ['p1'])
        self.assertEqual(['p1'], out['members'])
        self.assertEqual(2, len(calls))

    def test_persistent_race_is_a_conflict(self):
        gid = self.create()['id']

        def always_stale(g):
            raise storage_base.Conflict('stale')
        self.storage.update_group = always_stale
        err = self.assertRaises(exception.Conflict, self.api.update_group,
                                self.ctxt, gid, 'x')
        self.assertEqual('valet.storage.conflict', err.code)

    def test_flavor_groups_are_resolved_by_the_engine(self):
        doc = ts.inventory_doc()
        doc['flavors']['spread'] = {'vcpus': 1, 'ram': 512, 'disk': 1,
                                    'extra_specs': {
                                        'valet': '{"groups": ["g"]}',
                                        'valet:groups': 'a'}}
        self.stop_engine(self.engine)
        self.engine = self.start_engine(inventory=self.make_inventory(doc))
        gid = self.create()['id']
        self.create('a', 'affinity', 'rack')
        out = self.api.create_plan(self.ctxt, ts.plan('s1', {
            'o1': ts.server('spread'), 'o2': ts.server('spread')}))
        hosts = {p['location'] for p in out['placements'].values()}
        self.assertEqual(2, len(hosts))
        self.assertEqual(1, len({self.rack(h) for h in hosts}))
        stored = self.placements('s1')['o1']
        self.assertEqual(['g', 'a'], stored.spec['groups'])
        self.assertEqual({'g', 'a'}, set(stored.spec['group_definitions']))
        # The membership key is no host requirement.
        self.assertNotIn('valet', stored.spec['extra_specs'])
        self.assertEqual(gid, self.storage.get_group('g').id)


class RefusalLogTest(ts.EngineServiceTestBase):

    def test_refusal_is_logged_at_info_with_its_reason(self):
        logger = self.useFixture(fixtures.FakeLogger(
            level=logging.INFO, name='valet.engine.service'))
        resources = {'o%d' % i: ts.server('large', groups=['spread'],
                                          name='web-%d' % i)
                     for i in range(3)}
        err = self.assertRaises(
            exception.NoPlacement, self.api.create_plan, self.ctxt,
            ts.plan('s1', resources, ts.group('spread', 'diversity',
                                              'rack')))
        self.assertEqual('infeasible', err.details['reason'])
        self.assertTrue(err.details['proven'])
        self.assertIn('web-0', err.message)
        self.assertNotIn('not proven', err.message)
        self.assertIn('No placement for stack s1 (plan plan-s1) (reason '
                      'infeasible', logger.output)


class BadZoneTest(ts.EngineServiceTestBase):

    def test_non_string_zone_is_a_400(self):
        for zone in (['az0'], 7, {'a': 1}, True):
            resource = ts.server()
            resource['properties']['availability_zone'] = zone
            err = self.assertRaises(exception.BadRequest,
                                    self.api.create_plan, self.ctxt,
                                    ts.plan('s1', {'o1': resource}))
            self.assertEqual('valet.plan.bad_resource', err.code)
            self.assertIn('availability_zone', err.message)
        self.assertEqual({}, self.dc.servers)
