"""Valet deployed by its devstack plugin into the compute cloud.

``CloudDevstackDeployment`` is ``deploy.DevstackDeployment`` on the
functional compute cloud (``compute_cloud.ComputeCloud``: Keystone,
MariaDB, RabbitMQ, Placement, Glance, nova-api, nova-conductor,
nova-scheduler and four nova-computes on nova's fake driver, two racks)
and a real Heat (``heat_fixture.HeatFixture``, convergence engine)
instead of a Keystone and a Placement alone.

The cloud starts without Valet, nova-scheduler on Nova's own filters and
heat-engine without Valet's resource types. The plugin's phases (under
``harness.sh``) then install, configure and start Valet and edit the
files the cloud's nova-scheduler (``NOVA_CONF``) and heat-engine
(``HEAT_CONF``) read; both are restarted afterwards, as devstack starts
Nova and Heat after every plugin's post-config. Valet talks on the
cloud's RabbitMQ virtual host (devstack's services share one), so it
hears Nova's notifications.

The cloud's own nova-api and Placement take noauth tokens
(``user:project``), for the cloud's tests. Here a second nova-api and a
second Placement, on the same databases, validate Keystone tokens and are
the catalog's ``compute`` and ``placement`` endpoints, as in devstack:
Heat, Valet (with the credentials the plugin writes) and tempest reach
them with Keystone tokens. The compute cloud's Neutron stand-in is the
one piece that is not real (servers boot without networks).
"""

import os
import signal
import subprocess
import time

import requests

from valet.tests.functional import compute_cloud
from valet.tests.functional.devstack import deploy
from valet.tests.functional.heat import heat_fixture
from valet.tests.functional import keystone_fixture
from valet.tests.functional import processes

# What devstack's ENABLED_SERVICES would hold for this cloud.
ENABLED_SERVICES = ('key,mysql,rabbit,placement-api,g-api,n-api,n-cond,'
                    'n-sch,n-cpu,h-api,h-eng,tempest')
FLAVOR = 'valet.small'

_NOVA_API_CONF = """[DEFAULT]
log_file = {log}
[api]
auth_strategy = keystone
""" + deploy.AUTHTOKEN_CONF


class _CloudWithoutValet(compute_cloud.ComputeCloud):
    """The compute cloud before Valet's devstack plugin ran.

    No Valet, and nova-scheduler on Nova's own filters.
    """

    def __init__(self, base_dir):
        super().__init__(valet_filter=False, base_dir=base_dir)

    def _start_valet(self):
        # The devstack plugin deploys Valet into this cloud.
        self.valet = None
        self.valet_url = None


class CloudDevstackDeployment(deploy.DevstackDeployment):
    """The compute cloud and Heat, then Valet by its devstack plugin."""

    def start_cloud(self):
        compute_cloud.require_cloud()
        heat_fixture.require_heat()
        deploy.require_services()
        self.cloud = self.useFixture(
            _CloudWithoutValet(os.path.join(self.dir, 'cloud')))
        self.lap('compute cloud')
        self.keystone = self.cloud.keystone
        self.nova_url = self._start_keystone_nova_api()
        self.placement = self.useFixture(deploy.KeystonePlacementFixture(
            self.keystone, connection=self.cloud.db['placement']))
        self.lap('placement')
        # Heat's catalog: this nova-api and Glance (Heat adds itself).
        self.heat = self.useFixture(heat_fixture.HeatFixture(
            self.keystone, convergence=True,
            services={'compute': self.nova_url,
                      'image': self.cloud.glance.url},
            extra_config={'DEFAULT': {
                # Valet's resource types come with the plugin.
                'plugin_dirs': None,
                # Heat's default: the trust holds every role of the
                # stack's owner (Nova wants "member").
                'trusts_delegated_roles': None}}))
        self.lap('heat')
        self._wait_keystone_nova_api()
        self.lap('nova-api')

    # ------------------------------------------------------------ nova-api
    def _start_keystone_nova_api(self):
        """A nova-api on the cloud's databases, behind keystonemiddleware.

        Nova's shipped paste pipeline; the cloud's nova.conf and databases.
        """
        nova = self.cloud.nova
        conf = os.path.join(self.dir, 'nova-api-keystone.conf')
        with open(conf, 'w') as f:
            f.write(_NOVA_API_CONF.format(
                log=nova.path('logs', 'nova-api-keystone.log'),
                keystone=self.keystone.url,
                password=keystone_fixture.PASSWORD))
        port = processes.free_port()
        self.cloud.procs.spawn(
            'nova-api-keystone',
            [nova.bin('uwsgi'), '--http11-socket', '127.0.0.1:%d' % port,
             '--module', 'nova.wsgi.osapi_compute:application',
             '--master', '--processes', '1', '--threads', '4',
             '--die-on-term', '--need-app', '--skip-atexit-teardown'],
            # The first file is the paste configuration: nova's own.
            env=nova.env(
                OS_NOVA_CONFIG_DIR=nova.tmp,
                OS_NOVA_CONFIG_FILES=';'.join([
                    os.path.join(nova.venv, 'etc', 'nova', 'api-paste.ini'),
                    'nova.conf', 'nova-db.conf', conf])))
        return 'http://127.0.0.1:%d/v2.1' % port

    def _wait_keystone_nova_api(self, seconds=180):
        token = self.keystone.token('admin')
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.cloud.procs.check('nova-api-keystone')
            except compute_cloud.CloudError as exc:
                raise RuntimeError('%s\n%s' % (exc, self.cloud.log_tails(40)))
            try:
                if requests.get(self.nova_url + '/flavors', timeout=10,
                                headers={'X-Auth-Token': token}).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError('the Keystone nova-api did not answer '
                                   'within %ss' % seconds)
            time.sleep(0.5)

    # -------------------------------------------------------------- plugin
    def harness_env(self):
        return {
            'ENABLED_SERVICES': ENABLED_SERVICES,
            # The file the cloud's nova-scheduler reads last (its
            # [filter_scheduler] and [valet] are the plugin's to edit).
            'NOVA_CONF': self.cloud.nova.path('scheduler.conf'),
            'HEAT_CONF': self.heat.conf,
            'RABBIT_VHOST': self.cloud.vhost,
        }

    def tempest_options(self):
        return (
            'nova = True\n'
            'glance = True\n'
            # Registered by Heat's tempest plugin, when it is installed.
            'heat = True\n'
            '[compute]\n'
            'region = %(region)s\n'
            'image_ref = %(image)s\n'
            'flavor_ref = %(flavor)s\n'
            'build_timeout = 300\n'
            '[valet]\n'
            # A stack's servers wait for Valet to read and plan it.
            'build_timeout = 600\n'
        ) % {'region': deploy.REGION, 'image': self.cloud.image_id,
             'flavor': FLAVOR}

    def after_stack(self):
        """Restart heat-engine and nova-scheduler on the plugin's files.

        Returns once both serve again.
        """
        engine = self.heat.procs['heat-engine']
        engine.send_signal(signal.SIGTERM)  # its shutdown overlaps ours
        nova = self.cloud.nova
        self.cloud.procs.stop('nova-scheduler')
        self.cloud.procs.spawn(
            'nova-scheduler',
            [nova.bin('nova-scheduler')]
            + nova.configs(nova.path('scheduler.conf'))
            + ['--log-file', nova.path('logs', 'nova-scheduler.log')],
            env=nova.env())
        self.cloud._wait_scheduler()
        try:
            engine.wait(60)
        except subprocess.TimeoutExpired:
            engine.kill()
            engine.wait()
        self.heat._spawn('heat-engine', [
            os.path.join(self.heat.venv, 'bin', 'heat-engine'),
            '--config-file', self.heat.conf])
        self._wait_valet_resource_types()

    def _wait_valet_resource_types(self, seconds=180):
        """The new heat-engine answers and knows OS::Valet::Group."""
        url = '%s/v1/%s/resource_types' % (self.heat.url,
                                           self.keystone.ids['admin'])
        # A token issued now: Heat lists OS::Valet::* only if the token's
        # catalog has Valet, and heat-api caches what an older token's
        # validation said (before the plugin created the endpoint).
        token = self.keystone.session('admin', 'admin', 'admin').get_token()
        deadline = time.monotonic() + seconds
        while True:
            self.heat._check_alive()
            try:
                resp = requests.get(url, timeout=30,
                                    headers={'X-Auth-Token': token})
                if resp.ok and 'OS::Valet::Group' in resp.json()[
                        'resource_types']:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    'heat-engine does not list OS::Valet::Group %ss after '
                    'its restart:\n%s' % (seconds, self.heat.logs()))
            time.sleep(1)

    def service_logs(self, tail=3000):
        parts = [super().service_logs(tail)]
        if getattr(self, 'cloud', None) is not None:
            parts.append(self.cloud.log_tails(30))
            keystone = os.path.join(self.keystone.tmp, 'keystone.log')
            if os.path.exists(keystone):
                with open(keystone, errors='replace') as f:
                    parts.append('--- keystone.log ---\n' + f.read()[-tail:])
        if getattr(self, 'heat', None) is not None:
            parts.append(self.heat.logs())
        return '\n'.join(parts)
