"""The REST API with the real engine in-process, as all-in-one runs it.

``AllInOne`` wires what ``valet-api --all-in-one`` wires (the paste
pipeline with noauth, the engine serving over an in-memory oslo.messaging
transport, the static inventory) over a database of the test's choosing:
an SQLite file, or a fresh database on the real MariaDB or PostgreSQL
server (``valet.tests.functional.databases``). Nothing is mocked.
"""

import json
import os

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_messaging import conffixture as messaging_fixture
from oslotest import base as oslo_base
import webtest
import yaml

from valet.api import app as api_app
from valet import conf as valet_conf
from valet.engine import manager
from valet.engine import rpcapi
from valet import inventory
from valet import policy
from valet import storage
from valet.tests.functional import databases

ADMIN = {'X-Project-Id': 'adminproject', 'X-User-Id': 'admin',
         'X-Roles': 'admin'}
SERVER = 'OS::Nova::Server'


def member(project):
    return {'X-Project-Id': project, 'X-User-Id': 'user-' + project,
            'X-Roles': 'member'}


def inventory_doc(hosts=4, servers=(), flavors=None, racks=2):
    """Hosts h1..hN (8 vCPUs each) in racks r1..rK, and running servers."""
    return {
        'levels': ['host', 'rack'],
        'flavors': flavors or {
            'm1.small': {'vcpus': 1, 'ram': 512, 'disk': 1},
            'm1.large': {'vcpus': 4, 'ram': 4096, 'disk': 10}},
        'hosts': [{'name': 'h%d' % i, 'rack': 'r%d' % ((i - 1) % racks + 1),
                   'vcpus': 8, 'memory_mb': 16384, 'disk_gb': 100}
                  for i in range(1, hosts + 1)],
        'servers': list(servers),
    }


def server(name, groups=None, flavor='m1.small'):
    props = {'flavor': flavor, 'image': 'cirros'}
    if groups is not None:
        props['metadata'] = {'valet': {'groups': list(groups)}}
    return {'name': name, 'type': SERVER, 'properties': props}


class AllInOne(fixtures.Fixture):
    """API + engine over one database; ``restart()`` restarts the engine
    (a new model from the inventory and storage)."""

    def __init__(self, inventory, connection):
        super().__init__()
        self.inventory = inventory
        self.connection = connection

    def _setUp(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'inventory.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump(self.inventory, f)
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf([], project='valet', default_config_files=[])
        fixture = self.useFixture(config_fixture.Config(conf))
        self.useFixture(messaging_fixture.ConfFixture(conf))
        fixture.config(state_dir=tmp)
        fixture.config(static_file=path, levels=['host', 'rack'],
                       group='inventory')
        fixture.config(driver='static', group='inventory')
        fixture.config(connection=self.connection(tmp), group='database')
        fixture.config(auth_strategy='noauth', group='api')
        self.conf = conf
        policy.reset()
        self.addCleanup(policy.reset)
        policy.init(conf)
        self.store = storage.get_storage(conf)
        self.store.upgrade()
        dispose = getattr(self.store, 'dispose', None)
        if dispose is not None:
            self.addCleanup(dispose)
        self.transport = rpcapi.get_transport(conf, url='fake://')
        self.addCleanup(self.transport.cleanup)
        self.engine = None
        self._start_engine()
        self.addCleanup(self._stop_engine)
        self.app = webtest.TestApp(api_app.load_app(
            conf, engine_api=rpcapi.EngineAPI(conf, self.transport),
            storage=self.store))

    def _start_engine(self):
        self.engine = manager.EngineService(
            self.conf, self.store, inventory.get_inventory(self.conf),
            self.transport)
        # Static inventory, one engine: the model is built before start()
        # returns, and the engine serves at once.
        self.engine.start()

    def _stop_engine(self):
        if self.engine is not None:
            self.engine.stop()
            self.engine.wait()
            self.engine = None

    def restart(self):
        self._stop_engine()
        self._start_engine()

    @property
    def model(self):
        return self.engine.endpoint.dc

    def call(self, method, path, body=None, headers=ADMIN, status=None):
        kwargs = {'method': method, 'headers': dict(headers),
                  'expect_errors': True}
        if body is not None:
            kwargs['body'] = json.dumps(body).encode('utf-8')
            kwargs['content_type'] = 'application/json'
        resp = self.app.request(path, **kwargs)
        if status is not None and resp.status_int != status:
            raise AssertionError('%s %s: expected %d, got %d: %s' % (
                method, path, status, resp.status_int, resp.text))
        return resp


def sqlite(tmp):
    return 'sqlite:///' + os.path.join(tmp, 'valet.sqlite')


class APIGroupsTestCase(oslo_base.BaseTestCase):
    """Runs on SQLite; the subclasses below rerun it on real servers."""

    DATABASE = None     # a databases.*Server, or None for SQLite

    def connection(self, tmp):
        if self.DATABASE is None:
            return sqlite(tmp)
        return self.useFixture(databases.DatabaseFixture(
            self.DATABASE)).url

    def start(self, **inventory):
        self.aio = self.useFixture(AllInOne(inventory_doc(**inventory),
                                            self.connection))
        return self.aio

    def post_group(self, name, kind, level='host', status=201):
        return self.aio.call('POST', '/v1/groups', {
            'name': name, 'type': kind, 'level': level},
            status=status).json

    def post_plan(self, stack, resources, headers=None, status=201):
        resp = self.aio.call('POST', '/v1/plans', {
            'plan_name': stack, 'stack_id': stack, 'resources': resources},
            headers=headers or member('p1'), status=status)
        if status != 201:
            return resp.json['errors'][0]
        return {orch: p['location']
                for orch, p in resp.json['plan']['placements'].items()}

    def invalid(self):
        return self.aio.call('GET', '/v1/resources',
                             status=200).json['resources']
