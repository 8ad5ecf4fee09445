"""Heat stacks placed by Valet, checked against where Nova put them.

Needs Nova (with Valet's scheduler filter) and Heat (with Valet's
resource types and lifecycle plugin); without them the tests skip, saying
which is missing.
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


def _service_available(name):
    # [service_available] heat is registered by Heat's own tempest plugin,
    # which may not be installed.
    try:
        return getattr(CONF.service_available, name)
    except cfg.NoSuchOptError:
        return False


_TEMPLATE = {
    'heat_template_version': '2018-08-31',
    'parameters': {'flavor': {'type': 'string'},
                   'image': {'type': 'string'},
                   'group': {'type': 'string'}},
    'resources': {
        name: {'type': 'OS::Nova::Server',
               'properties': {
                   'flavor': {'get_param': 'flavor'},
                   'image': {'get_param': 'image'},
                   'networks': 'none',
                   'metadata': {'valet': {'groups': [
                       {'get_param': 'group'}]}}}}
        for name in ('vm-1', 'vm-2')},
}


class StackPlacementTest(base.BaseValetTest):

    @classmethod
    def skip_checks(cls):
        super().skip_checks()
        missing = [name for name, available in (
            ('nova', _service_available('nova')),
            ('heat', _service_available('heat')),
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
    def test_diversity_stack_lands_on_distinct_hosts(self):
        group = self.create_group(kind='diversity', level='host')
        name = data_utils.rand_name('valet-stack')
        body = self.stacks.create_stack(name, _TEMPLATE, {
            'flavor': CONF.compute.flavor_ref,
            'image': CONF.compute.image_ref, 'group': group['name']})
        stack_id = body['stack']['id']
        self.addCleanup(self._delete_stack, name, stack_id)
        self._wait_stack(name, stack_id)

        resources = self.stacks.list_resources(name, stack_id)['resources']
        server_ids = [r['physical_resource_id'] for r in resources
                      if r['resource_type'] == 'OS::Nova::Server']
        self.assertEqual(2, len(server_ids))
        nova_hosts = {}
        for server_id in server_ids:
            waiters.wait_for_server_status(self.admin_servers, server_id,
                                           'ACTIVE')
            server = self.admin_servers.show_server(server_id)['server']
            nova_hosts[server_id] = server['OS-EXT-SRV-ATTR:host']

        plan = self.client('member', 'PlansClient').show_plan(stack_id)
        placements = plan['plan']['placements'].values()
        valet_hosts = {p['resource_id']: p['location'] for p in placements}
        # Nova put every server where Valet planned it ...
        self.assertEqual(nova_hosts, valet_hosts)
        # ... and the diversity group holds.
        self.assertEqual(2, len(set(nova_hosts.values())))

    def _delete_stack(self, name, stack_id):
        try:
            self.stacks.delete_stack(name, stack_id)
        except lib_exc.NotFound:
            pass
