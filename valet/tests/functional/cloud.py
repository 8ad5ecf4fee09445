"""A small cloud and a Valet engine following it, for functional tests.

``Cloud`` is a real Placement (``placement_fixture``) or, with
``nova=True``, a real nova-api in front of its own real Placement
(``nova_fixture``): hosts are compute services with their resource
providers, flavors and aggregates are Nova's. ``loader`` writes to
Placement behind everybody's back, as nova-compute or an operator would.

``Valet`` runs what a ``valet-engine`` process runs, in this process: an
``EngineService`` with the ``openstack`` inventory pointing at the cloud
(keystoneauth's ``admin_token`` plugin, token ``admin``), SQL storage on a
SQLite file (schema upgraded), RPC and Nova's notifications over the real
RabbitMQ on an exchange, topic and pool of its own (deleted at cleanup), and
short ``[reconcile]`` timeouts. ``app`` is the valet-api WSGI pipeline
(noauth) loaded in-process over the same transport, so that ``GET
/v1/resources`` and friends are real RPC round trips. ``emit`` sends Nova
versioned notifications built by Nova's own code (``nova_notify.py``, run
with the OpenStack venv's python).

Without RabbitMQ, Placement, nova-api or nova in the OpenStack venv the
tests using these skip (fail with CI=true).
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import fixtures
import kombu
from oslo_config import cfg
from oslo_messaging import conffixture
import webtest

from valet.api import app as api_app
from valet import conf as valet_conf
from valet.engine import manager
from valet.engine import rpcapi
from valet import inventory
from valet import policy
from valet import storage as storage_drivers
from valet.tests.functional import nova_fixture
from valet.tests.functional import placement_fixture
from valet.tests.functional import placement_loader
from valet.tests.functional import services

URL = os.environ.get('VALET_TEST_TRANSPORT_URL',
                     'rabbit://guest:guest@127.0.0.1:5672/')
_HERE = os.path.dirname(os.path.abspath(__file__))
NOVA_NOTIFY = os.path.join(_HERE, 'nova_notify.py')
TOKEN = 'admin'
# Headers of an admin of project p1 (noauth trusts them).
PROJECT = 'p1'
ADMIN = {'X-Project-Id': PROJECT, 'X-User-Id': 'u1',
         'X-Roles': 'admin,member,reader'}


def wait_until(predicate, timeout=60.0, interval=0.1, message=None):
    """Poll ``predicate`` until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('%s not true within %.0f s' % (
                message or getattr(predicate, '__name__', 'condition'),
                timeout))
        time.sleep(interval)


def kombu_url(url):
    # kombu spells oslo.messaging's rabbit:// as amqp://.
    return 'amqp://' + url.split('://', 1)[1]


def nova_python():
    """The OpenStack venv's python with nova; skip (fail in CI) without."""
    python = os.path.join(nova_fixture.openstack_venv(), 'bin', 'python')
    found = os.path.exists(python) and subprocess.call(
        [python, '-c', 'import nova.notifications'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0
    if not found:
        services.unavailable(
            'nova is not installed in %s: run tools/install-openstack.sh '
            '(or set VALET_OPENSTACK_VENV)' % nova_fixture.openstack_venv())
    return python


def flavor_demand(flavor):
    """Placement resources of a nova_notify flavor spec (as Nova does)."""
    return {'VCPU': flavor['vcpus'], 'MEMORY_MB': flavor['memory_mb'],
            'DISK_GB': flavor['root_gb'] + flavor.get('ephemeral_gb', 0)}


class Cloud(fixtures.Fixture):
    """A real Placement, with a real nova-api in front when ``nova``."""

    def __init__(self, nova=True):
        super().__init__()
        self.with_nova = nova

    def _setUp(self):
        if self.with_nova:
            nova_fixture.require_nova()
            self.nova = self.useFixture(nova_fixture.NovaFixture())
            self.placement_url = self.nova.placement_endpoint
        else:
            placement_fixture.require_placement()
            self.nova = None
            self.placement = self.useFixture(
                placement_fixture.PlacementFixture())
            self.placement_url = self.placement.url
        self.loader = placement_loader.PlacementLoader(self.placement_url,
                                                       token=TOKEN)
        self.addCleanup(self.loader.session.close)

    def add_host(self, name, vcpus=16, ram=65536, disk=1024, traits=()):
        """A compute host: a nova-compute service (with nova) and its
        resource provider, named ``name`` in both."""
        if self.nova is not None:
            ids = self.nova.add_compute_host(name, vcpus=vcpus, ram=ram,
                                             disk=disk)
            self.loader.adopt(ids['node_uuid'])
        else:
            self.loader.add_host(name, {
                'VCPU': {'total': vcpus, 'allocation_ratio': 4.0},
                'MEMORY_MB': ram, 'DISK_GB': disk})
        if traits:
            self.loader.set_traits(name, traits)
        return self.loader.provider(name)

    def allocate(self, consumer, host, demand, project=PROJECT):
        """What Nova's scheduler claims for a server (replaces it)."""
        consumer_generation = None
        current = self.loader.get('/allocations/%s' % consumer)
        if current.get('allocations'):
            consumer_generation = current['consumer_generation']
        self.loader.allocate(consumer, {host: demand}, project, 'u1',
                             consumer_generation=consumer_generation)

    def client_config(self):
        text = ('[placement]\nauth_type = admin_token\nendpoint = %s\n'
                'token = %s\n' % (self.placement_url, TOKEN))
        if self.nova is not None:
            text += ('[nova]\nauth_type = admin_token\nendpoint = %s\n'
                     'token = %s\n' % (self.nova.endpoint, TOKEN))
        return text


class Valet(fixtures.Fixture):
    """An in-process valet-engine (and API) following ``cloud``.

    ``options`` maps section names to ``{option: value}`` merged over the
    defaults below. The engine is started (its first model built) by
    ``_setUp``; ``endpoint`` is its ``EngineEndpoint``, ``storage`` its
    storage, ``app`` a ``webtest.TestApp`` of the API.
    """

    def __init__(self, cloud, options=None):
        super().__init__()
        self.cloud = cloud
        self.options = options or {}

    def _setUp(self):
        services.require_port(5672, 'RabbitMQ', hint='Start rabbitmq-server '
                              '(guest/guest) or set VALET_TEST_TRANSPORT_URL.')
        self.tmp = tempfile.mkdtemp(prefix='valet-cloud-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        unique = uuid.uuid4().hex[:12]
        self.exchange = 'valet-test-' + unique
        self.nova_exchange = 'valet-test-nova-' + unique
        self.topic = 'valet-test-versioned-' + unique
        self.engine_topic = 'valet-engine-test-' + unique
        self.engine_host = 'engine-' + unique
        self.pool = 'valet-test-pool-' + unique
        self.addCleanup(self._delete_broker_objects)
        self.conf = self._make_conf()
        self.storage = storage_drivers.get_storage(self.conf)
        self.storage.upgrade()
        self.addCleanup(self.storage.dispose)
        self.transport = rpcapi.get_transport(self.conf, url=URL)
        self.addCleanup(self.transport.cleanup)
        self.inventory = inventory.get_inventory(self.conf)
        self.service = manager.EngineService(
            self.conf, self.storage, self.inventory, transport=self.transport)
        self.addCleanup(self.service.wait)
        self.addCleanup(self.service.stop)
        self.service.start()
        self.endpoint = self.service.endpoint
        self.engine_api = rpcapi.EngineAPI(self.conf,
                                           transport=self.transport)
        self.addCleanup(policy.reset)
        self.app = webtest.TestApp(api_app.load_app(
            self.conf, engine_api=self.engine_api, storage=self.storage))

    def _make_conf(self):
        sections = {
            'DEFAULT': {'transport_url': URL,
                        'control_exchange': self.exchange,
                        'state_dir': self.tmp},
            'api': {'auth_strategy': 'noauth'},
            'engine': {'host': self.engine_host,
                       'topic': self.engine_topic,
                       'rpc_timeout': '30'},
            'storage': {'driver': 'sql'},
            'database': {'connection': 'sqlite:///%s/valet.sqlite'
                                       % self.tmp},
            # The fixtures' Placement serves 4 threads; more reader
            # connections than that, kept alive, wait seconds per load.
            'inventory': {'driver': 'openstack', 'request_workers': '2'},
            'nova_notifications': {'transport_url': URL,
                                   'exchange': self.nova_exchange,
                                   'topics': self.topic,
                                   'pool': self.pool,
                                   'retry_attempts': '3',
                                   'retry_interval': '0.05',
                                   'retry_max_interval': '0.2'},
            # Resyncs only when asked for (an event, or the test).
            'reconcile': {'resync_interval': '0',
                          'resync_min_interval': '0',
                          'planned_timeout': '3600',
                          'missing_timeout': '1',
                          'retry_max_delay': '1'},
        }
        for section, options in self.options.items():
            sections.setdefault(section, {}).update(options)
        lines = []
        for section, options in sections.items():
            lines.append('[%s]' % section)
            lines += ['%s = %s' % item for item in options.items()]
        path = os.path.join(self.tmp, 'valet.conf')
        with open(path, 'w') as handle:
            handle.write('\n'.join(lines) + '\n' + self.cloud.client_config())
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        # oslo.messaging registers some of its options (tracing) on the
        # global CONF only; its fixture registers them all on ours.
        self.useFixture(conffixture.ConfFixture(conf))
        conf([], project='valet', default_config_files=[path])
        return conf

    def _delete_broker_objects(self):
        # The pool queue outlives its listener, oslo.messaging's notifier
        # declares a queue per topic and priority, and the RPC server's
        # queues are durable too. (amqp_auto_delete would spare this, but
        # it also applies to the exchange the listener declares, which
        # Nova then fails to declare without it: notifications are lost.)
        with kombu.Connection(kombu_url(URL)) as connection:
            channel = connection.channel()
            for queue in (self.pool, self.topic + '.info',
                          self.topic + '.error', self.engine_topic,
                          '%s.%s' % (self.engine_topic, self.engine_host)):
                channel.queue_delete(queue)
            for exchange in (self.nova_exchange, self.exchange):
                channel.exchange_delete(exchange)

    # ---------------------------------------------------------------- API
    def call(self, method, path, body=None, status=None, headers=ADMIN):
        kwargs = {'method': method, 'headers': dict(headers),
                  'expect_errors': True}
        if body is not None:
            kwargs['body'] = json.dumps(body).encode('utf-8')
            kwargs['content_type'] = 'application/json'
        resp = self.app.request(path, **kwargs)
        if status is not None and resp.status_int != status:
            raise AssertionError('%s %s -> %d (wanted %d): %s' % (
                method, path, resp.status_int, status, resp.text))
        return resp

    def resources(self):
        """GET /v1/resources: what breaks its group rules."""
        return self.call('GET', '/v1/resources', status=200).json[
            'resources']

    def placement(self, ref):
        """A stored placement by id or orchestration id."""
        return self.storage.get_placement(ref)

    # ------------------------------------------------------ notifications
    def emit(self, specs):
        """Nova's own notifications (nova_notify.py) on our exchange."""
        python = nova_python()
        result = subprocess.run(
            [python, NOVA_NOTIFY, '--url', URL, '--exchange',
             self.nova_exchange, '--topic', self.topic],
            input=json.dumps(specs), capture_output=True, text=True,
            timeout=120)
        if result.returncode:
            raise AssertionError('nova_notify failed: %s'
                                 % result.stderr[-3000:])
        emitted = json.loads(result.stdout)['emitted']
        if emitted != len(specs):
            raise AssertionError('nova_notify emitted %d of %d' % (
                emitted, len(specs)))
