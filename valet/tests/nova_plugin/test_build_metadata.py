"""Groups named in the metadata of a server Nova is building.

Nova keeps a server being scheduled as a build request in its API
database; the filter reads the server's metadata from there. The database
is Nova's own schema (``nova.db.migration``) on in-memory SQLite, the
build requests are Nova's own objects, and Valet is a real all-in-one
valet-api.
"""

import json
import threading
import uuid

from nova import context as nova_context
import nova.conf
from nova.db.api import api as api_db
from nova.db import migration
from nova import exception as nova_exception
from nova import objects

from valet.tests.nova_plugin import test_valet_filter as base

_DB_READY = threading.Lock()
_db_done = []


def _api_database():
    """Nova's API database, once per process (its engine is global)."""
    with _DB_READY:
        if not _db_done:
            conf = nova.conf.CONF
            conf([], project='nova', default_config_files=[])
            conf.set_override('connection', 'sqlite://',
                              group='api_database')
            api_db.configure(conf)
            migration.db_sync(database='api')
            _db_done.append(True)


class BuildRequestMetadataTest(base.FilterTestBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _api_database()

    def building(self, metadata):
        """A RequestSpec of a server with ``metadata``, as Nova builds it."""
        ctx = nova_context.get_admin_context()
        instance = str(uuid.uuid4())
        server = objects.Instance(ctx, uuid=instance, project_id=base.PROJECT,
                                  user_id='u', metadata=metadata)
        objects.BuildRequest(
            ctx, instance=server, instance_uuid=instance,
            project_id=base.PROJECT,
            block_device_mappings=objects.BlockDeviceMappingList(),
            tags=objects.TagList()).create()
        spec = base.request(instance=instance)
        spec._context = ctx
        return spec

    def test_valet_metadata_json(self):
        name = self.group('diversity')
        metadata = {'valet': json.dumps({'groups': [name]})}
        hosts = {self.boot(self.building(metadata)).host for _ in range(3)}
        self.assertEqual(3, len(hosts))

    def test_valet_groups_metadata_list(self):
        name = self.group('affinity', 'rack')
        hosts = [self.boot(self.building({'valet_groups': name})).host
                 for _ in range(3)]
        self.assertEqual(1, len({base.RACK[h] for h in hosts}))

    def test_malformed_metadata_gets_no_host(self):
        # Refused with the reason, which Nova puts in the server's fault.
        spec = self.building({'valet': '{"groups": '})
        exc = self.assertRaises(nova_exception.NoValidHost, self.run_filter,
                                base.host_states(*base.COMPUTES), spec)
        self.assertIn('server metadata valet', exc.format_message())

    def test_no_build_request_means_no_metadata(self):
        # A move: the server is no longer a build request.
        spec = base.request()
        spec._context = nova_context.get_admin_context()
        self.assertEqual(1, len(self.run_filter(
            base.host_states(*base.COMPUTES), spec)))
