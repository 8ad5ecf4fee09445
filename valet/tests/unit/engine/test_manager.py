"""The engine process around the endpoint: faults, back-off, degraded status.

oslo.messaging's fake transport carries the RPC calls; the inventory and
storage are the real static and memory drivers, wrapped so that a test can
take them down and bring them back.
"""

import time

from valet.common import exception
from valet.engine import manager
from valet.inventory import base as inventory_base
from valet.storage import base as storage_base
from valet.storage import memory
from valet.tests.unit.engine import test_service as helpers


class SwitchableInventory:
    """A real inventory that can be made unreachable, like Placement."""

    def __init__(self, inner):
        self.inner = inner
        self.down = False
        self.loads = 0

    def load(self):
        self.loads += 1
        if self.down:
            raise inventory_base.InventoryError(
                'Placement at http://placement.example/ is unreachable')
        return self.inner.load()


class SwitchableStorage(memory.MemoryStorage):
    """Memory storage whose database can go away."""

    down = False

    def list_placements(self, *args, **kwargs):
        if self.down:
            raise storage_base.Unavailable('database is down')
        return super().list_placements(*args, **kwargs)


def wait_for(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


class BackoffTest(helpers.base.BaseTestCase):

    def test_delays_double_up_to_the_limit_and_reset(self):
        backoff = manager.Backoff(limit=5.0)
        self.assertEqual([1.0, 2.0, 4.0, 5.0, 5.0],
                         [backoff.next_delay() for _ in range(5)])
        backoff.reset()
        self.assertEqual(1.0, backoff.next_delay())


class FaultTest(helpers.EngineServiceTestBase):

    def setUp(self):
        super().setUp()
        # The openstack driver's failures are transient; a static file's
        # are an operator's to fix and stop the engine at start.
        self.conf.set_override('driver', 'openstack', group='inventory')
        self.conf.set_override('retry_max_delay', 0.2, group='reconcile')
        self.conf.set_override('resync_min_interval', 0, group='reconcile')
        self.conf.set_override('rpc_timeout', 5, group='engine')

    def start_engine(self, storage=None, inventory=None):
        # The base class starts one engine in setUp; tests here start
        # their own with switchable parts.
        if not hasattr(self, 'switch'):
            return super().start_engine(storage, inventory)
        return super().start_engine(self.switch_storage, self.switch)

    def make_switchable(self):
        self.engine.stop()
        self.engine.wait()
        self.switch = SwitchableInventory(self.inventory)
        self.switch_storage = SwitchableStorage()

    def status(self):
        return self.api.ping(self.ctxt)['engine']

    def test_cloud_unreachable_at_start_is_retried_not_fatal(self):
        self.make_switchable()
        self.switch.down = True
        self.engine = self.start_engine()
        self.assertTrue(wait_for(lambda: self.switch.loads >= 3),
                        'the rebuild was not retried')
        status = self.status()
        self.assertEqual('degraded', status['status'])
        self.assertIn('unreachable', status['degraded']['model']['error'])
        self.assertGreaterEqual(status['degraded']['model']['failures'], 2)
        # Deciding needs a model: a clear 503, not a 500.
        exc = self.assertRaises(
            exception.EngineUnavailable, self.api.create_plan, self.ctxt,
            helpers.plan('s1', {'a': helpers.server()}))
        self.assertEqual('valet.engine.starting', exc.code)
        self.switch.down = False
        self.assertTrue(wait_for(lambda: self.status()['status'] == 'ok'))
        self.assertEqual({}, self.status()['degraded'])
        self.assertEqual(4, self.status()['hosts'])
        created = self.api.create_plan(
            self.ctxt, helpers.plan('s1', {'a': helpers.server()}))
        self.assertEqual(1, len(created['placements']))

    def test_failed_resync_keeps_the_model_and_reports_degraded(self):
        self.make_switchable()
        self.engine = self.start_engine()
        self.api.create_plan(self.ctxt,
                             helpers.plan('s1', {'a': helpers.server()}))
        self.switch.down = True
        self.engine.request_resync()
        self.assertTrue(wait_for(
            lambda: self.status()['status'] == 'degraded'))
        # Decisions go on with the model held so far.
        created = self.api.create_plan(
            self.ctxt, helpers.plan('s2', {'b': helpers.server()}))
        self.assertEqual(1, len(created['placements']))
        self.assertEqual(2, self.status()['servers'])
        self.switch.down = False
        self.assertTrue(wait_for(lambda: self.status()['status'] == 'ok'))
        self.assertEqual(2, self.status()['servers'])

    def test_storage_down_during_resync_changes_nothing(self):
        self.make_switchable()
        self.engine = self.start_engine()
        self.api.create_plan(self.ctxt,
                             helpers.plan('s1', {'a': helpers.server()}))
        before = dict(self.dc.servers)
        self.switch_storage.down = True
        self.engine.request_resync()
        self.assertTrue(wait_for(
            lambda: self.status()['status'] == 'degraded'))
        self.assertIn('database is down',
                      self.status()['degraded']['model']['error'])
        self.assertEqual(before, self.dc.servers)
        self.switch_storage.down = False
        self.assertTrue(wait_for(lambda: self.status()['status'] == 'ok'))

    def test_static_inventory_error_at_start_is_fatal(self):
        self.make_switchable()
        self.conf.set_override('driver', 'static', group='inventory')
        self.switch.down = True
        self.assertRaises(inventory_base.InventoryError, self.start_engine)
