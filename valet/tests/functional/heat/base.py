"""Base of the Heat tests: real Heat on the functional compute cloud.

``shared(convergence)`` starts, once per test process, a Heat (engine
and API) on the compute cloud's Keystone, with Nova's and Glance's
endpoints in the catalog so Heat's clients reach them; stestr keeps these
tests with the compute cloud tests in one worker (``group_regex`` in
``.stestr.conf``).
"""

import atexit
import threading
import uuid

from valet.tests.functional.compute import base as compute_base
from valet.tests.functional.heat import heat_fixture

_SHARED = {}
_LOCK = threading.Lock()


def shared(cloud, convergence=True):
    """The Heat of this test process running that engine, started on
    first use on the compute cloud's Keystone; stopped at exit. Nova's
    and Glance's endpoints join the catalog with the first Heat.

    A cloud has one Heat, in the catalog, from which Valet's engine reads
    the stacks whose groups exist only once they are created (declared
    with OS::Valet::Group): the lifecycle plugin leaves those to the
    engine. Here the convergence Heat is the catalog's orchestration
    service and the legacy Heat stores in its database, so that the
    catalog's Heat shows (and previews) the legacy Heat's stacks as well
    — the state of a Heat whose engine changed mode with stacks in it.
    """
    if not convergence:
        owner = shared(cloud, True)
    key = 'convergence' if convergence else 'legacy'
    with _LOCK:
        if key not in _SHARED:
            catalog = {} if _SHARED else {'compute': cloud.endpoint,
                                          'image': cloud.glance.url}
            # Heat's stack notifications go where Valet's engine listens
            # ([heat_notifications] falls back to Nova's bus).
            notify = {'oslo_messaging_notifications': {
                'driver': 'messagingv2',
                'transport_url': cloud.transport_url}}
            heat = heat_fixture.HeatFixture(
                cloud.keystone, convergence=convergence, services=catalog,
                in_catalog=convergence, extra_config=notify,
                db_url=None if convergence else owner.db_url)
            heat.setUp()
            atexit.register(heat.cleanUp)
            _SHARED[key] = heat
        return _SHARED[key]


class HeatTestCase(compute_base.CloudTestCase):

    convergence = True

    def setUp(self):
        super().setUp()
        # The first server of a stack waits while Valet reads the stack
        # from Heat and plans it: seconds on a loaded machine.
        self.cloud.configure_scheduler(True, timeout='90')
        self.heat = shared(self.cloud, self.convergence)

    def stack_client(self, user='alpha-member'):
        return self.heat.client(user)

    def server_template(self, servers, extra=''):
        """HOT with ``servers`` (name -> list of group refs as YAML)."""
        lines = ['heat_template_version: 2021-04-16', 'resources:']
        for name, groups in servers.items():
            lines += [
                '  %s:' % name,
                '    type: OS::Nova::Server',
                '    properties:',
                '      flavor: valet.small',
                '      image: %s' % self.cloud.image_id,
                '      networks: [{allocate_network: none}]',
                '      metadata: {valet: {groups: %s}}' % groups]
        return '\n'.join(lines) + '\n' + extra

    def run_stack(self, template, files=None, user='alpha-member',
                  expect='CREATE_COMPLETE'):
        client = self.stack_client(user)
        name = 's-%s' % uuid.uuid4().hex[:8]
        stack_id = client.create(name, template, files=files)
        self.addCleanup(self.delete_stack, client, stack_id)
        stack = client.wait(stack_id)
        if stack['stack_status'] != expect:
            # Heat's, Valet's and nova-scheduler's last words.
            raise AssertionError('stack %s: %s (%s)\n%s\n%s\n%s' % (
                name, stack['stack_status'],
                stack.get('stack_status_reason'), self.heat.logs()[-4000:],
                self.cloud.valet.logs(),
                self.cloud.log_tails(40)))
        return client, stack_id, stack

    def delete_stack(self, client, stack_id):
        if client.show(stack_id) is None:
            return
        client.delete(stack_id)
        client.wait(stack_id)

    def assert_plan_gone(self, stack_id, plan_id):
        """Valet has no plan and no placement of a deleted stack: at once
        under the legacy engine (the lifecycle plugin), once Heat's
        ``orchestration.stack.delete.end`` reached the engine under
        convergence."""
        def gone():
            resp = self.valet('GET', '/v1/plans/%s' % stack_id,
                              expect=(200, 404))
            return resp.status_code == 404
        self.wait_until(gone, seconds=60,
                        message='plan of deleted stack %s dropped' % stack_id)
        self.assertEqual([], self.valet_placements(plan_id=plan_id))

    def server_hosts(self, client, stack_id):
        """{Nova server id: Nova host} of every server of the stack and its
        nested stacks, read from Nova (the checker's view, not Valet's)."""
        hosts = {}
        for res in client.resources(stack_id):
            if res['resource_type'] != 'OS::Nova::Server':
                continue
            server = self.cloud.server(res['physical_resource_id'])
            # Heat booted it with the user's Keystone token: Nova knows
            # the user's project, not a project named after the token.
            self.assertIn(server['tenant_id'],
                          self.cloud.keystone.ids.values())
            hosts[server['id']] = self.cloud.host_of(server)
        return hosts
