"""Heat stacks placed by Valet, checked against where Nova put them.

Needs Nova (with Valet's scheduler filter) and Heat (with Valet's
resource types); without them the tests skip, saying which is missing.
Hosts and racks are read from Nova as an admin (the servers' hosts, the
host aggregates that name racks), independently of Valet.
"""

import time

from oslo_config import cfg
from tempest.common import waiters
from tempest import config
from tempest.lib.common.utils import data_utils
from tempest.lib import decorators
from tempest.lib import exceptions as lib_exc

from valet.tests.tempest.services import orchestration
from valet.tests.tempest.tests import base

CONF = config.CONF
SERVERS = ('vm-1', 'vm-2')


def _heat_available():
    # [service_available] heat is registered by Heat's tempest plugin,
    # which may not be installed; Valet's Heat plugin implies Heat then.
    try:
        return CONF.service_available.heat
    except cfg.NoSuchOptError:
        return CONF.valet_feature_enabled.heat_plugin


def _template():
    """Two servers, each in the two groups the parameters name."""
    groups = [{'get_param': 'apart'}, {'get_param': 'together'}]
    return {
        'heat_template_version': '2018-08-31',
        'parameters': {name: {'type': 'string'} for name in (
            'flavor', 'image', 'apart', 'together')},
        'resources': {
            name: {'type': 'OS::Nova::Server',
                   'properties': {
                       'flavor': {'get_param': 'flavor'},
                       'image': {'get_param': 'image'},
                       'networks': [{'allocate_network': 'none'}],
                       'metadata': {'valet': {'groups': groups}}}}
            for name in SERVERS},
    }


class StackPlacementTest(base.BaseValetTest):

    @classmethod
    def skip_checks(cls):
        super().skip_checks()
        missing = [name for name, available in (
            ('nova', CONF.service_available.nova),
            ('heat', _heat_available()),
            ("Valet's Nova filter", CONF.valet_feature_enabled.nova_filter),
            ("Valet's Heat plugin", CONF.valet_feature_enabled.heat_plugin),
        ) if not available]
        if missing:
            raise cls.skipException(
                'placing Heat stacks needs %s, not available in this cloud'
                % ', '.join(missing))

    @classmethod
    def setup_clients(cls):
        super().setup_clients()
        cls.stacks = orchestration.StacksClient(
            cls.os_primary.auth_provider, 'orchestration',
            CONF.identity.region, endpoint_type='publicURL')
        cls.admin_servers = cls.os_admin.servers_client
        cls.admin_aggregates = cls.os_admin.aggregates_client

    def nova_racks(self):
        """{host: rack} from Nova's host aggregates."""
        key = CONF.valet.rack_aggregate_key
        racks = {}
        for agg in self.admin_aggregates.list_aggregates()['aggregates']:
            rack = (agg.get('metadata') or {}).get(key)
            if rack:
                racks.update((host, rack) for host in agg.get('hosts') or ())
        return racks

    def _wait_stack(self, name, stack_id):
        deadline = time.time() + CONF.valet.build_timeout
        while True:
            stack = self.stacks.show_stack(name, stack_id)['stack']
            if stack['stack_status'] == 'CREATE_COMPLETE':
                return stack
            if stack['stack_status'].endswith('FAILED'):
                self.fail('stack %s: %s' % (stack['stack_status'],
                                            stack.get('stack_status_reason')))
            if time.time() > deadline:
                raise lib_exc.TimeoutException(
                    'stack %s not complete after %ss' % (
                        name, CONF.valet.build_timeout))
            time.sleep(CONF.valet.build_interval)

    @decorators.idempotent_id('9d8c7b6a-5f4e-4d3c-8b2a-190f8e7d6c01')
    @decorators.attr(type='slow')
    def test_stack_apart_on_hosts_together_in_a_rack(self):
        racks = self.nova_racks()
        members = {}
        for host, rack in racks.items():
            members.setdefault(rack, []).append(host)
        if not any(len(hosts) >= len(SERVERS) for hosts in members.values()):
            raise self.skipException(
                'no rack (host aggregate with metadata %s) holds %d hosts '
                'in this cloud' % (CONF.valet.rack_aggregate_key,
                                   len(SERVERS)))
        project = self.project_id('member')
        apart = self.create_group(kind='diversity', level='host')
        together = self.create_group(kind='affinity', level='rack')
        for group in (apart, together):
            self.admin_groups.add_members(group['id'], [project])
        name = data_utils.rand_name('valet-stack')
        body = self.stacks.create_stack(name, _template(), {
            'flavor': CONF.compute.flavor_ref,
            'image': CONF.compute.image_ref,
            'apart': apart['name'], 'together': together['name']})
        stack_id = body['stack']['id']
        self.addCleanup(self._delete_stack, name, stack_id)
        self._wait_stack(name, stack_id)

        resources = self.stacks.list_resources(name, stack_id)['resources']
        server_ids = [r['physical_resource_id'] for r in resources
                      if r['resource_type'] == 'OS::Nova::Server']
        self.assertEqual(len(SERVERS), len(server_ids), resources)
        nova_hosts = {}
        for server_id in server_ids:
            waiters.wait_for_server_status(self.admin_servers, server_id,
                                           'ACTIVE')
            server = self.admin_servers.show_server(server_id)['server']
            nova_hosts[server_id] = server['OS-EXT-SRV-ATTR:host']

        # Nova's view: a host each, one rack for both.
        self.assertEqual(len(SERVERS), len(set(nova_hosts.values())),
                         nova_hosts)
        self.assertEqual(1, len({racks.get(h) for h in nova_hosts.values()}),
                         (nova_hosts, racks))
        self.assertIsNotNone(racks.get(next(iter(nova_hosts.values()))))
        # Valet planned the stack whole, and Nova followed its plan.
        plan = self.client('member', 'PlansClient').show_plan(stack_id)
        planned = sorted(p['location']
                         for p in plan['plan']['placements'].values())
        self.assertEqual(sorted(nova_hosts.values()), planned, plan)

    def _delete_stack(self, name, stack_id):
        try:
            self.stacks.delete_stack(name, stack_id)
        except lib_exc.NotFound:
            return
        deadline = time.time() + CONF.valet.build_timeout
        while time.time() < deadline:
            try:
                stack = self.stacks.show_stack(name, stack_id)['stack']
            except lib_exc.NotFound:
                return
            if stack['stack_status'] in ('DELETE_COMPLETE',
                                         'DELETE_FAILED'):
                return
            time.sleep(CONF.valet.build_interval)
