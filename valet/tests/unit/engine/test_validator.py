"""The independent validator, on small hand-built data centres."""

import unittest

from valet.engine.model.datacenter import DataCenter
from valet.engine.model.datacenter import PlacedServer
from valet.engine.model.groups import Group
from valet.engine.model.host import HostSpec
from valet.engine.model import request as req
from valet.engine.model.request import PlacementRequest
from valet.engine.model.request import ServerRequest
from valet.engine.solver import validator

SMALL = {'VCPU': 1, 'MEMORY_MB': 512, 'DISK_GB': 10}


def host(name, rack, zone='z1', az='nova', **kw):
    kw.setdefault('capacity', {'VCPU': 4, 'MEMORY_MB': 4096, 'DISK_GB': 100})
    return HostSpec(name=name, domains={'rack': rack, 'zone': zone, 'region': 'g'},
                    availability_zone=az, **kw)


def hosts():
    """h1, h2 in rack r1; h3, h4 in rack r2; h5 in rack r3 (zone z2)."""
    return [host('h1', 'r1'), host('h2', 'r1'), host('h3', 'r2'),
            host('h4', 'r2'), host('h5', 'r3', zone='z2')]


def placed(sid, on, groups=(), demand=None):
    return PlacedServer(id=sid, host=on, demand=dict(demand or SMALL),
                        groups=groups)


def server(sid, groups=(), demand=None, **kw):
    return ServerRequest(id=sid, demand=dict(demand or SMALL), groups=groups,
                         **kw)


def dc_of(servers=(), groups=(), host_specs=None):
    return DataCenter.build(hosts=host_specs or hosts(), servers=servers,
                            groups=groups)


def codes(violations):
    return sorted(v.code for v in violations)


class ValidatorTestCase(unittest.TestCase):

    def check(self, dc, request, assignment, removed=()):
        return validator.validate(dc, request, assignment, removed)

    def assertValid(self, dc, request, assignment, removed=()):
        self.assertEqual([], self.check(dc, request, assignment, removed))

    def assertCodes(self, expected, dc, request, assignment, removed=()):
        found = self.check(dc, request, assignment, removed)
        self.assertEqual(sorted(expected), codes(found), found)
        return found


class TestBasics(ValidatorTestCase):

    def test_valid_create(self):
        request = PlacementRequest([server('a'), server('b')])
        self.assertValid(dc_of(), request, {'a': 'h1', 'b': 'h3'})

    def test_unassigned(self):
        request = PlacementRequest([server('a'), server('b')])
        found = self.assertCodes(['unassigned'], dc_of(), request, {'a': 'h1'})
        self.assertEqual(('b',), found[0].servers)

    def test_unknown_host(self):
        request = PlacementRequest([server('a')])
        self.assertCodes(['unknown_host'], dc_of(), request, {'a': 'nowhere'})

    def test_unknown_server(self):
        request = PlacementRequest([server('a')])
        self.assertCodes(['unknown_server'], dc_of(), request,
                         {'a': 'h1', 'ghost': 'h2'})

    def test_disabled_host(self):
        specs = hosts()
        specs[0].enabled = False
        request = PlacementRequest([server('a')])
        self.assertCodes(['disabled_host'], dc_of(host_specs=specs), request,
                         {'a': 'h1'})

    def test_disabled_host_keeps_its_servers_in_an_update(self):
        specs = hosts()
        specs[0].enabled = False
        dc = dc_of([placed('a', 'h1')], host_specs=specs)
        request = PlacementRequest([server('a')], kind=req.UPDATE)
        self.assertValid(dc, request, {'a': 'h1'})

    def test_violation_is_frozen_and_assert_valid(self):
        request = PlacementRequest([server('a')])
        found = self.check(dc_of(), request, {})
        with self.assertRaises(Exception):
            found[0].code = 'x'
        with self.assertRaises(AssertionError) as ctx:
            validator.assert_valid(dc_of(), request, {})
        self.assertIn('unassigned', str(ctx.exception))
        validator.assert_valid(dc_of(), request, {'a': 'h1'})


class TestCapacity(ValidatorTestCase):

    def test_fits_exactly(self):
        big = {'VCPU': 2, 'MEMORY_MB': 2048, 'DISK_GB': 50}
        request = PlacementRequest([server('a', demand=big), server('b', demand=big)])
        self.assertValid(dc_of(), request, {'a': 'h1', 'b': 'h1'})

    def test_overflow(self):
        big = {'VCPU': 3, 'MEMORY_MB': 512, 'DISK_GB': 1}
        request = PlacementRequest([server('a', demand=big), server('b', demand=big)])
        found = self.assertCodes(['capacity'], dc_of(), request,
                                 {'a': 'h1', 'b': 'h1'})
        self.assertIn('VCPU', found[0].message)

    def test_counts_placed_servers(self):
        dc = dc_of([placed('x', 'h1', demand={'VCPU': 4})])
        request = PlacementRequest([server('a')])
        self.assertCodes(['capacity'], dc, request, {'a': 'h1'})
        self.assertValid(dc, request, {'a': 'h2'})

    def test_usable_capacity(self):
        # (8 - 2) * 2.0 * (1 - 50%) = 6 VCPU usable.
        spec = host('h1', 'r1', capacity={'VCPU': 8}, reserved={'VCPU': 2},
                    allocation_ratios={'VCPU': 2.0}, standby_percent={'VCPU': 50})
        dc = dc_of(host_specs=[spec])
        ok = PlacementRequest([server('a', demand={'VCPU': 6})])
        self.assertValid(dc, ok, {'a': 'h1'})
        too_big = PlacementRequest([server('a', demand={'VCPU': 6.5})])
        self.assertCodes(['capacity'], dc, too_big, {'a': 'h1'})

    def test_unknown_resource_class(self):
        request = PlacementRequest([server('a', demand={'VGPU': 1})])
        self.assertCodes(['capacity'], dc_of(), request, {'a': 'h1'})
        zero = PlacementRequest([server('a', demand={'VGPU': 0})])
        self.assertValid(dc_of(), zero, {'a': 'h1'})

    def test_pre_existing_overcommit_is_not_blamed(self):
        dc = dc_of([placed('x', 'h1', demand={'VCPU': 9})])
        request = PlacementRequest([server('a')])
        self.assertValid(dc, request, {'a': 'h2'})
        self.assertCodes(['capacity'], dc, request, {'a': 'h1'})

    def test_removed_servers_free_capacity(self):
        dc = dc_of([placed('x', 'h1', demand={'VCPU': 4})])
        request = PlacementRequest([server('a')], kind=req.UPDATE)
        self.assertValid(dc, request, {'a': 'h1'}, removed=['x'])

    def test_resize_in_place(self):
        dc = dc_of([placed('a', 'h1'), placed('x', 'h1', demand={'VCPU': 2})])
        request = PlacementRequest([server('a', demand={'VCPU': 3})], kind=req.UPDATE)
        self.assertCodes(['capacity'], dc, request, {'a': 'h1'})
        self.assertValid(dc, request, {'a': 'h2'})


class TestStaticFilters(ValidatorTestCase):

    def test_availability_zone(self):
        specs = hosts()
        specs[2].availability_zone = 'az2'
        dc = dc_of(host_specs=specs)
        for zone in ('az2', 'az2:h3'):
            request = PlacementRequest([server('a', availability_zone=zone)])
            self.assertValid(dc, request, {'a': 'h3'})
            self.assertCodes(['availability_zone'], dc, request, {'a': 'h1'})

    def test_candidate_and_excluded_hosts(self):
        request = PlacementRequest([server('a', candidate_hosts={'h2', 'h3'},
                                           excluded_hosts={'h3'})])
        self.assertValid(dc_of(), request, {'a': 'h2'})
        self.assertCodes(['candidate_hosts'], dc_of(), request, {'a': 'h1'})
        self.assertCodes(['excluded_hosts'], dc_of(), request, {'a': 'h3'})

    def test_extra_specs(self):
        specs = hosts()
        specs[0].aggregates = {'fast': {'ssd': 'true'}}
        specs[1].traits = frozenset({'CUSTOM_GPU'})
        dc = dc_of(host_specs=specs)
        ssd = PlacementRequest([server('a', extra_specs={'ssd': 'true'})])
        self.assertValid(dc, ssd, {'a': 'h1'})
        found = self.assertCodes(['extra_specs'], dc, ssd, {'a': 'h2'})
        self.assertIn('ssd=true', found[0].message)
        gpu = PlacementRequest([server('a', extra_specs={'trait:CUSTOM_GPU': 'required'})])
        self.assertValid(dc, gpu, {'a': 'h2'})
        self.assertCodes(['extra_specs'], dc, gpu, {'a': 'h1'})


class TestAffinity(ValidatorTestCase):

    def test_host_level(self):
        g = Group('A', 'affinity', 'host')
        request = PlacementRequest([server('a', ['A']), server('b', ['A'])], [g])
        self.assertValid(dc_of(), request, {'a': 'h1', 'b': 'h1'})
        found = self.assertCodes(['affinity'], dc_of(), request,
                                 {'a': 'h1', 'b': 'h2'})
        self.assertEqual('A', found[0].group)
        self.assertEqual(('a', 'b'), found[0].servers)

    def test_rack_level(self):
        g = Group('A', 'affinity', 'rack')
        request = PlacementRequest([server('a', ['A']), server('b', ['A'])], [g])
        self.assertValid(dc_of(), request, {'a': 'h1', 'b': 'h2'})
        self.assertCodes(['affinity'], dc_of(), request, {'a': 'h1', 'b': 'h3'})

    def test_joins_placed_members(self):
        g = Group('A', 'affinity', 'rack')
        dc = dc_of([placed('x', 'h3', ['A'])], [g])
        request = PlacementRequest([server('a', ['A'])])
        self.assertValid(dc, request, {'a': 'h4'})
        self.assertCodes(['affinity'], dc, request, {'a': 'h1'})

    def test_membership_through_nesting(self):
        groups = [Group('P', 'affinity', 'rack'),
                  Group('C', 'affinity', 'host', parents=('P',))]
        request = PlacementRequest(
            [server('a', ['C']), server('b', ['C']), server('c', ['P'])], groups)
        self.assertValid(dc_of(), request, {'a': 'h1', 'b': 'h1', 'c': 'h2'})
        found = self.assertCodes(['affinity'], dc_of(), request,
                                 {'a': 'h1', 'b': 'h1', 'c': 'h3'})
        self.assertEqual('P', found[0].group)

    def test_drift_new_members_go_to_one_of_the_domains(self):
        g = Group('A', 'affinity', 'host')
        dc = dc_of([placed('x', 'h1', ['A']), placed('y', 'h2', ['A'])], [g])
        request = PlacementRequest([server('a', ['A']), server('b', ['A'])])
        self.assertValid(dc, request, {'a': 'h2', 'b': 'h2'})
        self.assertValid(dc, request, {'a': 'h1', 'b': 'h1'})
        self.assertCodes(['affinity'], dc, request, {'a': 'h1', 'b': 'h2'})
        self.assertCodes(['affinity'], dc, request, {'a': 'h3', 'b': 'h3'})

    def test_pre_existing_drift_alone_is_not_blamed(self):
        g = Group('A', 'affinity', 'host')
        dc = dc_of([placed('x', 'h1', ['A']), placed('y', 'h2', ['A'])], [g])
        request = PlacementRequest([server('a')])
        self.assertValid(dc, request, {'a': 'h3'})


class TestDiversity(ValidatorTestCase):

    def test_host_and_rack_level(self):
        for level, same, apart in (('host', 'h1', 'h2'), ('rack', 'h2', 'h3')):
            g = Group('D', 'diversity', level)
            request = PlacementRequest([server('a', ['D']), server('b', ['D'])], [g])
            self.assertValid(dc_of(), request, {'a': 'h1', 'b': apart})
            found = self.assertCodes(['diversity'], dc_of(), request,
                                     {'a': 'h1', 'b': same})
            self.assertEqual('D', found[0].group)

    def test_against_placed_members(self):
        g = Group('D', 'diversity', 'rack')
        dc = dc_of([placed('x', 'h1', ['D'])], [g])
        request = PlacementRequest([server('a', ['D'])])
        self.assertValid(dc, request, {'a': 'h3'})
        self.assertCodes(['diversity'], dc, request, {'a': 'h2'})

    def test_units_from_nested_affinity(self):
        groups = [Group('D', 'diversity', 'rack'),
                  Group('A1', 'affinity', 'host', parents=('D',)),
                  Group('A2', 'affinity', 'rack', parents=('D',))]
        servers = [server('a', ['A1']), server('b', ['A1']),
                   server('c', ['A2']), server('d', ['A2'])]
        request = PlacementRequest(servers, groups)
        self.assertValid(dc_of(), request,
                         {'a': 'h1', 'b': 'h1', 'c': 'h3', 'd': 'h4'})
        self.assertCodes(['diversity'], dc_of(), request,
                         {'a': 'h1', 'b': 'h1', 'c': 'h2', 'd': 'h2'})

    def test_higher_level_affinity_does_not_link(self):
        # Rack affinity inside host diversity: two units, different hosts.
        groups = [Group('D', 'diversity', 'host'),
                  Group('A', 'affinity', 'rack')]
        request = PlacementRequest([server('a', ['D', 'A']), server('b', ['D', 'A'])],
                                   groups)
        self.assertValid(dc_of(), request, {'a': 'h1', 'b': 'h2'})
        self.assertCodes(['diversity'], dc_of(), request, {'a': 'h1', 'b': 'h1'})

    def test_units_chain_through_other_servers(self):
        groups = [Group('D', 'diversity', 'host'), Group('A1', 'affinity', 'host'),
                  Group('A2', 'affinity', 'host')]
        servers = [server('a', ['D', 'A1']), server('m', ['A1', 'A2']),
                   server('b', ['D', 'A2'])]
        request = PlacementRequest(servers, groups)
        # a and b are one unit through m, so sharing h1 is fine.
        self.assertValid(dc_of(), request, {'a': 'h1', 'm': 'h1', 'b': 'h1'})

    def test_drift_is_tolerated_but_not_added_to(self):
        groups = [Group('D', 'diversity', 'host'),
                  Group('A', 'affinity', 'host', parents=('D',))]
        dc = dc_of([placed('x', 'h1', ['A']), placed('y', 'h1', ['D'])], groups)
        # A new member of x's unit follows x to h1: no new conflict.
        joins = PlacementRequest([server('a', ['A'])])
        self.assertValid(dc, joins, {'a': 'h1'})
        # A new unit on the drifted host adds to the drift.
        lone = PlacementRequest([server('b', ['D'])])
        found = self.assertCodes(['diversity'], dc, lone, {'b': 'h1'})
        self.assertEqual(('b',), found[0].servers)
        self.assertValid(dc, lone, {'b': 'h2'})


class TestExclusivity(ValidatorTestCase):

    def test_member_next_to_non_member(self):
        g = Group('E', 'exclusivity', 'rack')
        dc = dc_of([placed('x', 'h1')], [g])
        request = PlacementRequest([server('a', ['E'])])
        self.assertValid(dc, request, {'a': 'h3'})
        found = self.assertCodes(['exclusivity'], dc, request, {'a': 'h2'})
        self.assertEqual('E', found[0].group)

    def test_non_member_into_exclusive_domain(self):
        g = Group('E', 'exclusivity', 'rack')
        dc = dc_of([placed('x', 'h1', ['E'])], [g])
        request = PlacementRequest([server('a')])
        self.assertCodes(['exclusivity'], dc, request, {'a': 'h2'})
        self.assertValid(dc, request, {'a': 'h3'})
        member = PlacementRequest([server('b', ['E'])])
        self.assertValid(dc, member, {'b': 'h2'})

    def test_two_exclusivity_groups(self):
        groups = [Group('E1', 'exclusivity', 'host'), Group('E2', 'exclusivity', 'host')]
        request = PlacementRequest([server('a', ['E1']), server('b', ['E2'])], groups)
        self.assertValid(dc_of(), request, {'a': 'h1', 'b': 'h2'})
        self.assertCodes(['exclusivity', 'exclusivity'], dc_of(), request,
                         {'a': 'h1', 'b': 'h1'})

    def test_inheritance_by_enclosing_affinity(self):
        groups = [Group('E', 'exclusivity', 'rack'), Group('A', 'affinity', 'host')]
        request = PlacementRequest([server('a', ['A', 'E']), server('b', ['A'])],
                                   groups)
        # b inherits E, so it may share the dedicated rack with a.
        self.assertValid(dc_of(), request, {'a': 'h1', 'b': 'h1'})
        outsider = PlacementRequest([server('c')], groups)
        dc = dc_of([placed('a', 'h1', ['A', 'E']), placed('b', 'h1', ['A'])], groups)
        self.assertCodes(['exclusivity'], dc, outsider, {'c': 'h2'})

    def test_no_inheritance_from_lower_level_exclusivity(self):
        groups = [Group('E', 'exclusivity', 'host'), Group('A', 'affinity', 'rack')]
        request = PlacementRequest([server('a', ['A', 'E']), server('b', ['A'])],
                                   groups)
        self.assertValid(dc_of(), request, {'a': 'h1', 'b': 'h2'})
        self.assertCodes(['exclusivity'], dc_of(), request, {'a': 'h1', 'b': 'h1'})

    def test_pre_existing_violation_is_not_blamed(self):
        g = Group('E', 'exclusivity', 'host')
        dc = dc_of([placed('x', 'h1', ['E']), placed('y', 'h1')], [g])
        request = PlacementRequest([server('a')])
        self.assertValid(dc, request, {'a': 'h2'})
        self.assertCodes(['exclusivity'], dc, request, {'a': 'h1'})


class TestUpdate(ValidatorTestCase):

    def test_kept_servers_and_new_ones(self):
        g = Group('A', 'affinity', 'host')
        dc = dc_of([placed('a', 'h1', ['A']), placed('old', 'h1', ['A'])], [g])
        request = PlacementRequest([server('a', ['A']), server('b', ['A'])],
                                   kind=req.UPDATE)
        self.assertValid(dc, request, {'a': 'h1', 'b': 'h1'}, removed=['old'])
        self.assertCodes(['affinity'], dc, request, {'a': 'h1', 'b': 'h2'},
                         removed=['old'])

    def test_kept_server_joining_a_group_counts(self):
        g = Group('D', 'diversity', 'host')
        dc = dc_of([placed('a', 'h1'), placed('b', 'h1')], [g])
        request = PlacementRequest([server('a', ['D']), server('b', ['D'])],
                                   kind=req.UPDATE)
        self.assertCodes(['diversity'], dc, request, {'a': 'h1', 'b': 'h1'})
        self.assertValid(dc, request, {'a': 'h1', 'b': 'h2'})

    def test_kept_server_must_still_pass_its_filters(self):
        dc = dc_of([placed('a', 'h1')])
        request = PlacementRequest([server('a', excluded_hosts={'h1'})],
                                   kind=req.UPDATE)
        self.assertCodes(['excluded_hosts'], dc, request, {'a': 'h1'})


class TestReplanMigrate(ValidatorTestCase):

    def dc(self):
        groups = [Group('A', 'affinity', 'rack'), Group('H', 'affinity', 'host')]
        return dc_of([placed('t', 'h1', ['A', 'H']), placed('p', 'h1', ['H']),
                      placed('r', 'h2', ['A'])], groups)

    def test_replan_within_candidates(self):
        request = PlacementRequest([], kind=req.REPLAN, target='t',
                                   candidate_hosts={'h1', 'h2'}, excluded_hosts={'h1'})
        self.assertValid(self.dc(), request, {'t': 'h2', 'p': 'h2'})
        self.assertCodes(['excluded_hosts'], self.dc(), request, {'t': 'h1'})
        self.assertCodes(['affinity', 'candidate_hosts'], self.dc(), request,
                         {'t': 'h3', 'p': 'h3'})

    def test_replan_keeps_groups(self):
        request = PlacementRequest([], kind=req.REPLAN, target='t')
        # Leaving its host-affinity partner behind breaks H.
        found = self.assertCodes(['affinity'], self.dc(), request, {'t': 'h2'})
        self.assertEqual('H', found[0].group)

    def test_replan_without_target_host(self):
        request = PlacementRequest([], kind=req.REPLAN, target='t')
        self.assertCodes(['unassigned'], self.dc(), request, {})

    def test_migrate_moves_partners_along(self):
        request = PlacementRequest([], kind=req.MIGRATE, target='t')
        self.assertValid(self.dc(), request, {'t': 'h2', 'p': 'h2'})
        self.assertCodes(['excluded_hosts'], self.dc(), request, {'t': 'h1'})
        # H moves whole; A's other member stays in rack r1.
        found = self.assertCodes(['affinity'], self.dc(), request,
                                 {'t': 'h3', 'p': 'h3'})
        self.assertEqual('A', found[0].group)

    def test_migrate_into_full_host(self):
        dc = self.dc()
        dc.place(placed('big', 'h2', demand={'VCPU': 3}))
        request = PlacementRequest([], kind=req.MIGRATE, target='t')
        self.assertCodes(['capacity'], dc, request, {'t': 'h2', 'p': 'h2'})
