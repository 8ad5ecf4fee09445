"""ValetFilter with Nova's own scheduler objects and a real Valet.

Hosts are ``nova.tests.unit.scheduler.fakes.FakeHostState`` (Nova's
``HostState`` with set attributes), requests are real ``RequestSpec``
objects, and the filter is loaded and run through Nova's own
``HostFilterHandler``, as nova-scheduler does. Valet is a real
``valet-api --all-in-one`` (real engine, static inventory: cmp1-cmp4 in
racks r1/r2, node-a.bm and node-b.bm named after their nodes). Nothing
of Valet is mocked, except a client that raises an unexpected error,
which a working client cannot be made to do.
"""

import socket
import uuid

from keystoneauth1 import session as ks_session
from nova import exception as nova_exception
from nova import objects
from nova.scheduler import filters as nova_filters
from nova.scheduler import manager as scheduler_manager
from nova.tests.unit.scheduler import fakes
from oslo_config import cfg

from valet import client as valet_client
from valet.plugins.nova import conf as filter_conf
from valet.plugins.nova import names as names_mod
from valet.plugins.nova import valet_filter
from valet.tests.functional import processes
from valet.tests.unit.client import fixtures as valet_fixtures

objects.register_all()

CLASS_PATH = 'valet.plugins.nova.valet_filter.ValetFilter'
COMPUTES = ('cmp1', 'cmp2', 'cmp3', 'cmp4')
RACK = {'cmp1': 'r1', 'cmp2': 'r1', 'cmp3': 'r2', 'cmp4': 'r2'}
# Servers belong to a project of their own, not to the filter's.
PROJECT = 'tenant-a'


def host_states(*names):
    return [fakes.FakeHostState(name, name, {}) for name in names]


# Sizes as Nova has them; m1.brandnew is unknown to Valet's inventory.
FLAVORS = {'m1.small': (1, 2048, 20), 'm1.huge': (64, 2048, 20),
           'm1.brandnew': (2, 1024, 10)}


def flavor(name='m1.small', extra_specs=None):
    vcpus, ram, disk = FLAVORS[name]
    return objects.Flavor(name=name, flavorid='x', vcpus=vcpus,
                          memory_mb=ram, root_gb=disk, ephemeral_gb=0,
                          swap=0, extra_specs=extra_specs or {})


def request(instance=None, hints=None, num_instances=1, extra_specs=None,
            group=None, flavor_name='m1.small', project=PROJECT):
    spec = objects.RequestSpec(
        instance_uuid=instance or str(uuid.uuid4()),
        flavor=flavor(flavor_name, extra_specs), num_instances=num_instances,
        scheduler_hints={k: v if isinstance(v, list) else [v]
                         for k, v in (hints or {}).items()},
        project_id=project, instance_group=group, availability_zone=None,
        ignore_hosts=None, force_hosts=None, numa_topology=None,
        pci_requests=objects.InstancePCIRequests(requests=[]))
    return spec


class FilterTestBase(valet_fixtures.WithValetTestCase):

    def setUp(self):
        super().setUp()
        self.admin = valet_client.Client(
            ks_session.Session(
                additional_headers=valet_fixtures.ADMIN_HEADERS),
            endpoint_override=self.valet.url, timeout=60)
        self.filter = self.make_filter(client=self.admin)
        self.suffix = uuid.uuid4().hex[:8]

    def make_filter(self, client=None, **options):
        conf = cfg.ConfigOpts()
        filter_conf.register_opts(conf)
        conf([], project='nova', default_config_files=[])
        options.setdefault('endpoint_override', self.valet.url)
        options.setdefault('timeout', 60)
        for name, value in options.items():
            conf.set_override(name, value, group='valet')
        return valet_filter.ValetFilter(conf=conf, client=client)

    def run_filter(self, hosts, spec, index=0, flt=None):
        """Through Nova's own filter handler, as nova-scheduler does."""
        handler = nova_filters.HostFilterHandler()
        classes = handler.get_matching_classes([CLASS_PATH])
        self.assertEqual([valet_filter.ValetFilter], classes)
        found = handler.get_filtered_objects([flt or self.filter], hosts,
                                             spec, index)
        return list(found or [])

    def boot(self, spec, names=COMPUTES):
        hosts = host_states(*names)
        chosen = self.run_filter(hosts, spec)
        self.assertEqual(1, len(chosen), [h.host for h in chosen])
        return chosen[0]

    def group(self, kind, level='host'):
        name = '%s-%s-%s' % (kind, level, self.suffix)
        self.admin.create_group(name, kind, level)
        self.admin.add_members(name, [PROJECT])
        return name

    def placement_of(self, instance):
        found = self.admin.list_placements(resource_id=instance)
        if found:
            return found[0]
        return self.admin.show_placement(instance)


class AdHocTest(FilterTestBase):
    """Plan C: servers Valet has not planned."""

    def test_one_server_goes_where_valet_planned_it(self):
        spec = request()
        chosen = self.boot(spec)
        placement = self.placement_of(spec.instance_uuid)
        self.assertEqual(placement['location'], chosen.host)
        # The plan belongs to the server's project, not the filter's.
        owner = valet_client.Client(
            ks_session.Session(additional_headers={
                'X-Project-Id': PROJECT, 'X-Roles': 'member'}),
            endpoint_override=self.valet.url, timeout=60)
        self.assertEqual(spec.instance_uuid,
                         owner.show_plan(spec.instance_uuid)['stack_id'])

    def test_valet_chooses_within_the_candidates(self):
        chosen = self.boot(request(), names=('cmp3',))
        self.assertEqual('cmp3', chosen.host)

    def test_diversity_hint_spreads_servers(self):
        name = self.group('diversity')
        hosts = {self.boot(request(hints={'valet_groups': name})).host
                 for _ in range(3)}
        self.assertEqual(3, len(hosts))

    def test_rack_affinity_from_flavor_extra_specs(self):
        name = self.group('affinity', 'rack')
        racks = {RACK[self.boot(request(
            extra_specs={'valet:groups': name})).host] for _ in range(3)}
        self.assertEqual(1, len(racks))

    def test_groups_from_json_extra_spec(self):
        name = self.group('diversity')
        specs = {'valet': '{"groups": ["%s"]}' % name}
        hosts = {self.boot(request(extra_specs=specs)).host
                 for _ in range(2)}
        self.assertEqual(2, len(hosts))

    def test_nova_anti_affinity_server_group_maps_to_diversity(self):
        group = objects.InstanceGroup(uuid=str(uuid.uuid4()),
                                      policy='anti-affinity', rules={})
        hosts = {self.boot(request(group=group)).host for _ in range(4)}
        self.assertEqual(4, len(hosts))
        shown = self.admin.show_group('nova-server-group-' + group.uuid)
        self.assertEqual('diversity', shown['type'])

    def refused(self, spec, flt=None):
        """Valet's reason, as Nova puts it in the server's fault."""
        exc = self.assertRaises(nova_exception.NoValidHost, self.run_filter,
                                host_states(*COMPUTES), spec, flt=flt)
        self.assertIn('Valet: ', exc.format_message())
        return exc.format_message()

    def test_unknown_group_is_an_answer_not_an_outage(self):
        # Valet answered: no host, even where outages would yield.
        flt = self.make_filter(client=self.admin, failure_mode='yield')
        name = 'no-such-group-' + self.suffix
        self.assertIn(name, self.refused(
            request(hints={'valet_groups': name}), flt=flt))

    def test_badly_written_membership_gets_no_host(self):
        self.refused(request(extra_specs={'valet': '{not json'}))

    def test_no_capacity_gets_no_host(self):
        self.refused(request(flavor_name='m1.huge'))

    def test_flavor_valet_has_not_seen_yet(self):
        spec = request(flavor_name='m1.brandnew')
        chosen = self.boot(spec)
        self.assertEqual(chosen.host,
                         self.placement_of(spec.instance_uuid)['location'])

    def test_asked_again_for_the_same_instance_replans(self):
        spec = request()
        first = self.boot(spec)
        others = [h for h in COMPUTES if h != first.host]
        again = self.boot(spec, names=others)
        self.assertIn(again.host, others)
        self.assertEqual(again.host,
                         self.placement_of(spec.instance_uuid)['location'])


class HeatPlannedTest(FilterTestBase):
    """Plan A: servers of a plan made before Nova boots them."""

    def plan(self, count=2):
        stack = 'stack-' + self.suffix
        resources = {}
        for index in range(count):
            oid = str(uuid.uuid4())
            resources[oid] = {
                'name': 'vm%d' % index, 'type': 'OS::Nova::Server',
                'properties': {'flavor': 'm1.small'},
                'metadata': {'heat_stack_id': stack,
                             'heat_resource_name': 'vm%d' % index,
                             'heat_resource_uuid': oid}}
        plan = self.admin.create_plan('app', stack, resources)
        self.addCleanup(self.admin.delete_plan, stack)
        return stack, plan['placements']

    def test_reserves_the_planned_host_and_binds_the_instance(self):
        stack, placements = self.plan()
        for oid, planned in placements.items():
            spec = request(hints={'heat_resource_uuid': oid,
                                  'heat_stack_id': stack})
            chosen = self.boot(spec)
            self.assertEqual(planned['location'], chosen.host)
            placement = self.admin.show_placement(oid)
            self.assertTrue(placement['reserved'])
            self.assertEqual(spec.instance_uuid, placement['resource_id'])

    def test_found_by_stack_and_resource_hints(self):
        stack, placements = self.plan()
        oid, planned = sorted(placements.items(),
                              key=lambda i: i[1]['name'])[1]
        spec = request(hints={'heat_stack_id': stack,
                              'heat_resource_name': 'vm1'})
        self.assertEqual(planned['location'], self.boot(spec).host)
        self.assertEqual(spec.instance_uuid,
                         self.admin.show_placement(oid)['resource_id'])

    def test_planned_host_gone_replans_within_candidates(self):
        stack, placements = self.plan(count=1)
        oid, planned = next(iter(placements.items()))
        others = [h for h in COMPUTES if h != planned['location']]
        spec = request(hints={'heat_resource_uuid': oid})
        chosen = self.boot(spec, names=others)
        self.assertIn(chosen.host, others)
        self.assertEqual(chosen.host,
                         self.admin.show_placement(oid)['location'])

    def test_unknown_heat_resource_is_placed_on_its_own(self):
        spec = request(hints={'heat_resource_uuid': str(uuid.uuid4())})
        chosen = self.boot(spec)
        self.assertEqual(chosen.host,
                         self.placement_of(spec.instance_uuid)['location'])

    def test_stack_valet_cannot_read_is_placed_on_its_own(self):
        # Every hint Heat sends: Valet would plan the stack from Heat; this
        # Valet has no [heat], so it answers 404 and the boot is ad hoc.
        stack = str(uuid.uuid4())
        spec = request(hints={
            'heat_resource_uuid': str(uuid.uuid4()),
            'heat_root_stack_id': stack, 'heat_stack_id': stack,
            'heat_stack_name': 'app', 'heat_resource_name': 'web',
            'heat_path_in_stack': [',app']})
        chosen = self.boot(spec)
        self.assertEqual(chosen.host,
                         self.placement_of(spec.instance_uuid)['location'])


class MoveTest(FilterTestBase):
    """Plan B: servers Valet placed, scheduled again."""

    def test_migration_replans_away_from_the_source(self):
        spec = request()
        source = self.boot(spec).host
        targets = [h for h in COMPUTES if h != source]
        moved = self.boot(request(instance=spec.instance_uuid),
                          names=targets)
        self.assertIn(moved.host, targets)
        self.assertEqual(moved.host,
                         self.placement_of(spec.instance_uuid)['location'])

    def test_bound_heat_server_without_hints_replans(self):
        stack = 'stack-' + self.suffix
        oid = str(uuid.uuid4())
        plan = self.admin.create_plan('app', stack, {oid: {
            'name': 'vm', 'type': 'OS::Nova::Server',
            'properties': {'flavor': 'm1.small'}}})
        self.addCleanup(self.admin.delete_plan, stack)
        source = plan['placements'][oid]['location']
        instance = str(uuid.uuid4())
        self.admin.reserve(oid, [source], resource_id=instance)
        targets = [h for h in COMPUTES if h != source]
        moved = self.boot(request(instance=instance), names=targets)
        self.assertIn(moved.host, targets)
        self.assertEqual(moved.host,
                         self.admin.show_placement(oid)['location'])

    def test_rebuild_asks_valet_about_the_current_host(self):
        spec = request()
        host = self.boot(spec).host
        rebuild = request(instance=spec.instance_uuid,
                          hints={'_nova_check_type': ['rebuild']})
        self.assertEqual(host, self.boot(rebuild, names=(host,)).host)


class NamesTest(FilterTestBase):
    """Candidates are named as Valet's inventory names hosts."""

    def test_single_node_services_go_by_service_host(self):
        hosts = [fakes.FakeHostState(name, name + '.nodes.example', {})
                 for name in ('cmp2', 'cmp4')]
        chosen = self.run_filter(hosts, request())
        self.assertEqual(1, len(chosen))
        self.assertIn(chosen[0].host, ('cmp2', 'cmp4'))

    def test_multi_node_services_go_by_node(self):
        hosts = [fakes.FakeHostState('ironic-svc', node,
                                     {'hypervisor_type': 'ironic'})
                 for node in ('node-a.bm', 'node-b.bm')]
        spec = request()
        chosen = self.run_filter(hosts, spec)
        self.assertEqual(1, len(chosen))
        self.assertEqual(self.placement_of(spec.instance_uuid)['location'],
                         chosen[0].nodename)

    def test_one_ironic_node_left_still_goes_by_node(self):
        hosts = [fakes.FakeHostState('ironic-svc', 'node-b.bm',
                                     {'hypervisor_type': 'ironic'})]
        self.assertEqual(hosts, self.run_filter(hosts, request()))

    def test_name_clash_falls_back_to_node_names(self):
        # The inventory's rule: a service host one node's name takes too
        # goes by node names on both sides; nothing is guessed.
        single = fakes.FakeHostState('cmp1', 'n1', {})
        ironic = fakes.FakeHostState('bm', 'cmp1',
                                     {'hypervisor_type': 'ironic'})
        names = names_mod.HostNames([single, ironic])
        self.assertEqual(['n1', 'cmp1'], names.locations)
        self.assertEqual([ironic], names.select(['cmp1']))
        self.assertEqual([], names.select(['bm']))

    def test_hosts_valet_does_not_know_never_pass(self):
        hosts = host_states('cmp1', 'unknown-host')
        self.assertEqual(['cmp1'],
                         [h.host for h in self.run_filter(hosts, request())])


class MultiCreateTest(FilterTestBase):
    """``min_count``/``max_count``: one plan for every instance."""

    def create(self, count, spec, pick=-1):
        """Nova's per-instance loop (nova.scheduler.manager._schedule):
        filter, pick one host, consume it, narrow to the filtered hosts."""
        hosts = host_states(*COMPUTES)
        chosen = {}
        for index in range(count):
            instance = str(uuid.uuid4())
            spec.instance_uuid = instance
            hosts = self.run_filter(hosts, spec, index)
            if not hosts:
                break
            host = hosts[pick]
            # What Nova does to the host it picked: one more instance,
            # and the instance listed only when a server group asks.
            scheduler_manager.SchedulerManager._consume_selected_host(
                host, spec, instance_uuid=instance)
            chosen[instance] = host.host
        if chosen and count > 1:
            # nova.scheduler.manager._get_alternate_hosts filters once more
            # for the last instance: its own host only, nothing replanned.
            again = self.run_filter(hosts, spec, count - 1)
            self.assertEqual([chosen[spec.instance_uuid]],
                             [h.host for h in again])
        return chosen

    def test_four_in_a_diversity_group_use_four_hosts(self):
        name = self.group('diversity')
        spec = request(hints={'valet_groups': name}, num_instances=4)
        chosen = self.create(4, spec)
        self.assertEqual(4, len(chosen))
        self.assertEqual(4, len(set(chosen.values())))
        for instance, host in chosen.items():
            placement = self.admin.list_placements(resource_id=instance)
            self.assertEqual([host], [p['location'] for p in placement])

    def test_rack_affinity_keeps_every_instance_in_one_rack(self):
        name = self.group('affinity', 'rack')
        spec = request(hints={'valet_groups': name}, num_instances=3)
        chosen = self.create(3, spec, pick=0)
        self.assertEqual(3, len(chosen))
        self.assertEqual(1, len({RACK[h] for h in chosen.values()}))

    def test_moving_one_of_them_replans_only_it(self):
        # Nova keeps num_instances of the original boot in a moved
        # server's request: it is a move, not a new multi-create.
        spec = request(num_instances=4)
        chosen = self.create(4, spec)
        instance, source = next(iter(chosen.items()))
        targets = [h for h in COMPUTES if h != source]
        moved = self.boot(request(instance=instance, num_instances=4),
                          names=targets)
        self.assertIn(moved.host, targets)
        placements = self.admin.list_placements(resource_id=instance)
        self.assertEqual([moved.host], [p['location'] for p in placements])

    def test_too_many_for_the_group_get_no_host(self):
        name = self.group('diversity')
        spec = request(hints={'valet_groups': name}, num_instances=5)
        self.assertEqual({}, self.create(5, spec))


class FailureTest(FilterTestBase):
    """Valet unreachable, silent or broken: failure_mode decides, fast."""

    def unreachable(self, **options):
        url = 'http://127.0.0.1:%d' % processes.free_port()
        return self.make_filter(endpoint_override=url, retries=1,
                                retry_delay=0.05, **options)

    def silent(self, **options):
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(('127.0.0.1', 0))
        listener.listen(16)
        url = 'http://127.0.0.1:%d' % listener.getsockname()[1]
        return self.make_filter(endpoint_override=url, timeout=0.5,
                                **options)

    def test_reject_is_the_default(self):
        self.assertEqual('reject', self.make_filter().conf.valet.failure_mode)
        hosts = host_states(*COMPUTES)
        self.assertEqual([], self.run_filter(hosts, request(),
                                             flt=self.unreachable()))

    def test_yield_lets_nova_choose(self):
        hosts = host_states(*COMPUTES)
        flt = self.unreachable(failure_mode='yield')
        self.assertEqual(hosts, self.run_filter(hosts, request(), flt=flt))

    def test_timeout_rejects(self):
        hosts = host_states(*COMPUTES)
        self.assertEqual([], self.run_filter(hosts, request(),
                                             flt=self.silent()))

    def test_timeout_yields(self):
        hosts = host_states(*COMPUTES)
        flt = self.silent(failure_mode='yield')
        self.assertEqual(hosts, self.run_filter(hosts, request(), flt=flt))

    def test_unexpected_errors_never_reach_nova(self):
        class Broken:
            def __getattr__(self, name):
                def fail(*args, **kwargs):
                    raise RuntimeError('bug')
                return fail
        hosts = host_states(*COMPUTES)
        for mode, expected in (('reject', []), ('yield', hosts)):
            flt = self.make_filter(client=Broken(), failure_mode=mode)
            self.assertEqual(expected, self.run_filter(hosts, request(),
                                                       flt=flt))

    def test_refused_credentials_are_an_outage(self):
        # noauth Valet, and a member role that may not create groups: the
        # server-group mapping is refused (403), which yield lets through.
        member = self.make_filter(failure_mode='yield')
        group = objects.InstanceGroup(uuid=str(uuid.uuid4()),
                                      policy='affinity', rules={})
        hosts = host_states(*COMPUTES)
        self.assertEqual(hosts, self.run_filter(hosts, request(group=group),
                                                flt=member))

    def test_options_build_a_working_client(self):
        # No auth_type: a session without credentials (noauth Valet).
        flt = self.make_filter()
        spec = request(project='noauth-project')
        chosen = self.run_filter(host_states(*COMPUTES), spec, flt=flt)
        self.assertEqual(1, len(chosen))
        self.assertEqual(chosen[0].host,
                         self.placement_of(spec.instance_uuid)['location'])

    def test_planning_for_another_project_needs_the_service_role(self):
        # A member of its own project may not plan another's servers.
        member = self.make_filter()
        hosts = host_states(*COMPUTES)
        self.assertEqual([], self.run_filter(hosts, request(), flt=member))

    def test_sample_options(self):
        # What oslo-config-generator writes for [valet] (namespace
        # valet.plugins.nova).
        group, opts = filter_conf.list_opts()[0]
        by_name = {o.dest: o for o in opts}
        self.assertEqual('valet', group.name)
        self.assertEqual('reject', by_name['failure_mode'].default)
        self.assertEqual(60.0, by_name['timeout'].default)
        for name in ('endpoint_override', 'retries', 'retry_delay',
                     'auth_type', 'auth_url', 'username', 'cafile'):
            self.assertIn(name, by_name)

    def test_no_candidates_asks_nothing(self):
        self.assertEqual([], self.run_filter([], request(),
                                             flt=self.unreachable(
                                                 failure_mode='yield')))
