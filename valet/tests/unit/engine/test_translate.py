"""Plan messages to placement requests."""

import copy

import hypothesis
from hypothesis import strategies as st
from oslotest import base

from valet.common import exception
from valet.engine import group_state
from valet.engine.model import request as request_mod
from valet.engine import translate
from valet import objects
from valet.storage import memory

FLAVORS = {
    'm1.small': {'name': 'm1.small', 'id': '2', 'vcpus': 1, 'ram': 2048,
                 'disk': 20, 'extra_specs': {}},
    'm1.ssd': {'name': 'm1.ssd', 'id': 'abc', 'vcpus': 2, 'ram': 4096,
               'disk': 40, 'extra_specs': {'disk': 'ssd'}},
}


def server(flavor='m1.small', groups=None, name=None, **props):
    properties = dict(props, flavor=flavor)
    if groups is not None:
        properties['metadata'] = {'valet': {'groups': groups}}
    out = {'type': translate.SERVER_TYPE, 'properties': properties}
    if name:
        out['name'] = name
    return out


GROUPS = {
    'web': {'name': 'web', 'type': 'diversity', 'level': 'host',
            'parents': []},
    'pod': {'name': 'pod', 'type': 'affinity', 'level': 'rack',
            'parents': ['zone-aff']},
    'zone-aff': {'name': 'zone-aff', 'type': 'affinity', 'level': 'zone',
                 'parents': []},
}


class TranslateTest(base.BaseTestCase):

    def test_only_servers_become_servers(self):
        work = translate.translate(
            {'b': server(name='web-b'), 'a': server(name='web-a'),
             'vol': {'type': 'OS::Cinder::Volume', 'properties': {}},
             'net': {'type': 'OS::Neutron::Net'}},
            {}, FLAVORS, stack='s1', project='p1')
        self.assertEqual(['a', 'b'], work.server_ids)
        req = work.request
        self.assertEqual(request_mod.CREATE, req.kind)
        self.assertEqual(('s1', 'p1'), (req.stack, req.project))
        self.assertEqual('web-a', req.servers[0].name)
        self.assertEqual({'a', 'b'}, set(work.resources))

    def test_no_servers(self):
        work = translate.translate(
            {'vol': {'type': 'OS::Cinder::Volume'}}, None, FLAVORS)
        self.assertEqual([], work.request.servers)

    def test_flavor_by_name_and_by_id(self):
        work = translate.translate(
            {'a': server('m1.small'), 'b': server('abc')}, {}, FLAVORS)
        a, b = work.request.servers
        self.assertEqual({'VCPU': 1, 'MEMORY_MB': 2048, 'DISK_GB': 20},
                         a.demand)
        self.assertEqual({'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 40},
                         b.demand)
        self.assertEqual({'disk': 'ssd'}, b.extra_specs)
        self.assertEqual('m1.ssd', work.specs['b']['flavor'])

    def test_unknown_flavor(self):
        err = self.assertRaises(
            exception.BadRequest, translate.translate,
            {'orch-1': server('m9.huge', name='db')}, {}, FLAVORS)
        self.assertEqual('valet.plan.unknown_flavor', err.code)
        self.assertIn('orch-1', err.message)
        self.assertIn('db', err.message)
        self.assertIn('m9.huge', err.message)
        self.assertEqual('m9.huge', err.details['flavor'])

    def test_missing_flavor(self):
        resource = {'type': translate.SERVER_TYPE, 'properties': {}}
        err = self.assertRaises(exception.BadRequest, translate.translate,
                                {'x': resource}, {}, FLAVORS)
        self.assertEqual('valet.plan.unknown_flavor', err.code)

    def test_groups_from_metadata_mapping_and_json(self):
        json_server = server()
        json_server['properties']['metadata'] = {
            'valet': '{"groups": ["web", "pod"]}'}
        work = translate.translate(
            {'a': server(groups=['web']), 'b': json_server}, GROUPS, FLAVORS)
        a, b = work.request.servers
        self.assertEqual(('web',), a.groups)
        self.assertEqual(('web', 'pod'), b.groups)

    def test_bad_metadata(self):
        bad = server()
        bad['properties']['metadata'] = {'valet': '{not json'}
        err = self.assertRaises(exception.BadRequest, translate.translate,
                                {'a': bad}, {}, FLAVORS)
        self.assertEqual('valet.plan.bad_metadata', err.code)
        bad['properties']['metadata'] = {'valet': {'groups': [1]}}
        err = self.assertRaises(exception.BadRequest, translate.translate,
                                {'a': bad}, {}, FLAVORS)
        self.assertEqual('valet.plan.bad_metadata', err.code)

    def test_each_group_reference_is_read_once_per_request(self):
        storage = memory.MemoryStorage()
        storage.create_group(objects.Group(
            name='db', type='affinity', level='rack'))
        stored = storage.get_group('db')
        reads = []
        real = storage.get_group

        def counting(ref):
            reads.append(ref)
            return real(ref)
        storage.get_group = counting
        records = group_state.GroupRecords(storage)
        # 'web' is defined by the message only; 'db' is stored, named by id.
        resources = {'s%02d' % i: server(groups=['web', stored.id])
                     for i in range(20)}
        work = translate.translate(resources, GROUPS, FLAVORS,
                                   records=records)
        self.assertEqual({('web', 'db')},
                         {s.groups for s in work.request.servers})
        self.assertEqual(sorted(['web', stored.id]), sorted(reads))

    def test_other_metadata_is_no_group(self):
        plain = server()
        plain['properties']['metadata'] = {'role': 'web'}
        work = translate.translate({'a': plain}, {}, FLAVORS)
        self.assertEqual((), work.request.servers[0].groups)

    def test_group_definitions(self):
        groups = translate.build_groups(GROUPS)
        by_name = {g.name: g for g in groups}
        self.assertEqual('diversity', by_name['web'].kind)
        self.assertEqual(('zone-aff',), by_name['pod'].parents)
        self.assertEqual('rack', by_name['pod'].level)
        listed = translate.build_groups(list(GROUPS.values()))
        self.assertEqual(groups, listed)

    def test_bad_group(self):
        err = self.assertRaises(
            exception.BadRequest, translate.build_groups,
            {'g': {'type': 'friends', 'level': 'host'}})
        self.assertEqual('valet.plan.bad_group', err.code)
        self.assertIn('friends', err.message)

    def test_spec_holds_what_a_rebuild_needs(self):
        work = translate.translate(
            {'a': server('abc', groups=['pod'], availability_zone='az1')},
            GROUPS, FLAVORS)
        spec = work.specs['a']
        self.assertEqual({'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 40},
                         spec['demand'])
        self.assertEqual(['pod'], spec['groups'])
        self.assertEqual('az1', spec['availability_zone'])
        self.assertEqual({'disk': 'ssd'}, spec['extra_specs'])
        # The group and every group it is nested in.
        self.assertEqual({'pod', 'zone-aff'}, set(spec['group_definitions']))
        again = translate.server_from_spec('a', spec, 'name-a')
        original = work.request.servers[0]
        self.assertEqual((original.demand, original.groups,
                          original.availability_zone, original.extra_specs),
                         (again.demand, again.groups,
                          again.availability_zone, again.extra_specs))
        defs = {g.name: g for g in translate.groups_from_spec(spec)}
        self.assertEqual(('zone-aff',), defs['pod'].parents)
        self.assertEqual('affinity', defs['zone-aff'].kind)

    def test_locations(self):
        work = translate.translate({'a': server()}, {}, FLAVORS,
                                   locations=['h1', 'h2'])
        self.assertEqual(request_mod.ADHOC, work.request.kind)
        self.assertEqual(frozenset(['h1', 'h2']),
                         work.request.servers[0].candidate_hosts)
        work = translate.translate({'a': server(), 'b': server()}, {},
                                   FLAVORS, locations=['h1'])
        self.assertEqual(request_mod.CREATE, work.request.kind)
        self.assertRaises(exception.BadRequest, translate.translate,
                          {'a': server()}, {}, FLAVORS, locations='h1')

    def test_update_kind_is_kept(self):
        work = translate.translate({'a': server()}, {}, FLAVORS,
                                   kind=request_mod.UPDATE, stack='p')
        self.assertEqual(request_mod.UPDATE, work.request.kind)

    def test_bad_resources(self):
        self.assertRaises(exception.BadRequest, translate.translate,
                          ['a'], {}, FLAVORS)
        self.assertRaises(exception.BadRequest, translate.translate,
                          {'a': 'server'}, {}, FLAVORS)


class SharedFlavorTest(base.BaseTestCase):
    """Servers of one flavor: the flavor is worked out once, and still
    no server shares a dict with another, with the message or with the
    inventory."""

    def test_servers_of_one_flavor_share_nothing(self):
        flavors = copy.deepcopy(FLAVORS)
        resources = {'s%d' % i: server('m1.ssd' if i % 2 else 'abc',
                                       groups=['web'], name='n%d' % i)
                     for i in range(4)}
        message = copy.deepcopy(resources)
        work = translate.translate(resources, GROUPS, flavors)
        self.assertEqual(message, resources)
        self.assertEqual(FLAVORS, flavors)
        servers = work.request.servers
        self.assertEqual(1, len({frozenset(s.demand.items())
                                 for s in servers}))
        for attr in ('demand', 'extra_specs'):
            ids = {id(getattr(s, attr)) for s in servers}
            self.assertEqual(len(servers), len(ids))
            self.assertNotIn(id(flavors['m1.ssd']['extra_specs']), ids)
        servers[0].demand['VCPU'] = 99
        servers[0].extra_specs['disk'] = 'hdd'
        work.specs['s0']['group_definitions']['web']['parents'].append('x')
        self.assertEqual(2, servers[1].demand['VCPU'])
        self.assertEqual({'disk': 'ssd'}, servers[1].extra_specs)
        self.assertEqual([], work.specs['s1']['group_definitions']['web'][
            'parents'])
        self.assertEqual({'disk': 'ssd'}, flavors['m1.ssd']['extra_specs'])

    def test_metadata_groups_then_flavor_groups_once_each(self):
        storage = memory.MemoryStorage()
        for name in ('db', 'web'):
            storage.create_group(objects.Group(
                name=name, type='diversity', level='host'))
        records = group_state.GroupRecords(storage)
        flavors = dict(FLAVORS, grouped={
            'name': 'grouped', 'id': '9', 'vcpus': 1, 'ram': 512,
            'disk': 1, 'extra_specs': {'valet:groups': 'db,web'}})
        work = translate.translate(
            {'a': server('grouped', groups=['web']),
             'b': server('grouped'), 'c': server('m1.small', ['web'])},
            {}, flavors, records=records, project='p1')
        groups = {s.id: s.groups for s in work.request.servers}
        self.assertEqual({'a': ('web', 'db'), 'b': ('db', 'web'),
                          'c': ('web',)}, groups)
        self.assertEqual(['web', 'db'], work.specs['a']['groups'])

    def test_a_flavor_without_a_name_is_named_by_its_reference(self):
        flavors = {'nameless': {'id': '7', 'vcpus': 1, 'ram': 1,
                                'disk': 1}}
        work = translate.translate(
            {'a': server('nameless'), 'b': server('7')}, {}, flavors)
        self.assertEqual('nameless', work.specs['a']['flavor'])
        self.assertEqual('7', work.specs['b']['flavor'])

    def test_flavor_groups_are_read_once(self):
        storage = memory.MemoryStorage()
        storage.create_group(objects.Group(
            name='db', type='diversity', level='host'))
        records = group_state.GroupRecords(storage)
        asked = []
        real = records.require

        def require(ref, project_id, where=None):
            asked.append(ref)
            return real(ref, project_id, where)
        records.require = require
        flavors = dict(FLAVORS, grouped={
            'name': 'grouped', 'id': '9', 'vcpus': 1, 'ram': 512,
            'disk': 1, 'extra_specs': {'valet:groups': 'db', 'x': 'y'}})
        work = translate.translate(
            {'s%d' % i: server('grouped') for i in range(5)}, {}, flavors,
            records=records, project='p1')
        self.assertEqual(['db'], asked)
        for s in work.request.servers:
            self.assertEqual(('db',), s.groups)
            self.assertEqual({'valet:groups': 'db', 'x': 'y'},
                             s.extra_specs)

    def test_a_bad_flavor_names_the_first_server(self):
        resources = {'s%d' % i: server('m9.huge', name='n%d' % i)
                     for i in range(3)}
        err = self.assertRaises(exception.BadRequest, translate.translate,
                                resources, {}, FLAVORS)
        self.assertIn('s0', err.message)
        self.assertIn('n0', err.message)

    def test_group_errors_come_before_any_server_is_built(self):
        # Every server's groups are read first: a later server's bad
        # metadata is the answer, not an earlier server's unknown flavor.
        bad = server()
        bad['properties']['metadata'] = {'valet': {'groups': [1]}}
        err = self.assertRaises(exception.BadRequest, translate.translate,
                                {'a': server('m9.huge'), 'b': bad}, {},
                                FLAVORS)
        self.assertEqual('valet.plan.bad_metadata', err.code)
        self.assertEqual('b', err.details['resource'])

    def test_groups_a_later_flavor_names_define_earlier_servers(self):
        storage = memory.MemoryStorage()
        storage.create_group(objects.Group(
            name='db', type='affinity', level='zone'))
        records = group_state.GroupRecords(storage)
        flavors = dict(FLAVORS, grouped={
            'name': 'grouped', 'id': '9', 'vcpus': 1, 'ram': 512,
            'disk': 1, 'extra_specs': {'valet:groups': 'db'}})
        groups = {'web': {'name': 'web', 'type': 'diversity',
                          'level': 'host', 'parents': ['db']}}
        work = translate.translate(
            {'a': server(groups=['web']), 'b': server('grouped')}, groups,
            flavors, records=records, project='p1')
        self.assertEqual(['db', 'web'],
                         sorted(work.specs['a']['group_definitions']))
        self.assertEqual(['db'],
                         sorted(work.specs['b']['group_definitions']))

    def test_references_of_equal_value_and_other_type(self):
        flavors = {'True': {'name': 'True', 'id': 'x', 'vcpus': 1,
                            'ram': 1, 'disk': 1},
                   'one': {'name': 'one', 'id': 1, 'vcpus': 2, 'ram': 2,
                           'disk': 2}}
        work = translate.translate(
            {'a': server(True), 'b': server(1)}, {}, flavors)
        self.assertEqual(['True', 'one'], [work.specs[k]['flavor']
                                           for k in ('a', 'b')])


_FLAVOR_REFS = st.sampled_from(['m1.small', 'm1.ssd', '2', 'abc', {
    'name': 'inline', 'vcpus': 1, 'ram': 64, 'disk': 1}])


class SharedSpecTest(base.BaseTestCase):
    """Servers with equal specs share one; each is what the server's
    translation alone gives."""

    @hypothesis.settings(max_examples=150, deadline=None)
    @hypothesis.given(st.lists(st.tuples(
        _FLAVOR_REFS,
        st.none() | st.lists(st.sampled_from(sorted(GROUPS)), max_size=2),
        st.sampled_from([None, '', 'z1', 'z2'])), min_size=1, max_size=8))
    def test_each_spec_as_alone(self, choices):
        resources = {}
        for i, (flavor, groups, zone) in enumerate(choices):
            props = {} if zone is None else {'availability_zone': zone}
            resources['s%d' % i] = server(flavor, groups, **props)
        work = translate.translate(resources, GROUPS, FLAVORS)
        for s in work.request.servers:
            alone = translate.translate({s.id: resources[s.id]}, GROUPS,
                                        FLAVORS)
            self.assertEqual(alone.specs[s.id], work.specs[s.id])
            self.assertEqual(alone.request.servers[0], s)
            if not isinstance(resources[s.id]['properties']['flavor'],
                              dict):
                # A shared spec's dicts are its own, not a server's.
                self.assertIsNot(s.demand, work.specs[s.id]['demand'])
                self.assertIsNot(s.extra_specs,
                                 work.specs[s.id]['extra_specs'])
        ids = [s.id for s in work.request.servers]
        for a in ids:
            for b in ids:
                if work.specs[a] is work.specs[b]:
                    self.assertEqual(work.specs[a], work.specs[b])

    def test_servers_alike_share_one_spec(self):
        work = translate.translate(
            {'a': server(groups=['web']), 'b': server(groups=['web']),
             'c': server('2', groups=['web']), 'd': server()},
            GROUPS, FLAVORS)
        self.assertIs(work.specs['a'], work.specs['b'])
        # The same flavor by its id is another reference.
        self.assertIsNot(work.specs['a'], work.specs['c'])
        self.assertEqual(work.specs['a'], work.specs['c'])
        self.assertIsNot(work.specs['a'], work.specs['d'])
