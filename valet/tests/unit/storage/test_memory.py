"""The storage contract against the in-memory driver, and the loader."""

from oslo_config import cfg
from oslotest import base as oslo_base

from valet import conf as valet_conf
from valet import storage
from valet.storage import memory
from valet.tests.unit.storage import contract


class MemoryStorageTest(contract.StorageContract, oslo_base.BaseTestCase):

    def make_storage(self):
        store = memory.MemoryStorage()
        store.upgrade()
        return store

    def make_blank_storage(self):
        return memory.MemoryStorage()


class GetStorageTest(oslo_base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.conf = valet_conf.register_all(cfg.ConfigOpts())
        self.conf([])

    def test_loads_configured_driver(self):
        self.conf.set_override('driver', 'memory', group='storage')
        store = storage.get_storage(self.conf)
        self.assertIsInstance(store, memory.MemoryStorage)
        self.assertIs(self.conf, store.conf)

    def test_unknown_driver_names_the_available_ones(self):
        self.conf.set_override('driver', 'cassandra', group='storage')
        e = self.assertRaises(storage.DriverNotFound, storage.get_storage,
                              self.conf)
        self.assertIn("'cassandra'", str(e))
        # Every installed driver is named, sorted.
        self.assertIn(', '.join(storage.available_drivers()), str(e))
        self.assertIn('memory', str(e))
        self.assertIn('sql', str(e))

    def test_driver_errors_are_not_swallowed(self):
        self.conf.set_override('connection', 'not a database URL',
                               group='database')
        self.assertRaises(storage.base.StorageError, storage.get_storage,
                          self.conf, 'sql')
