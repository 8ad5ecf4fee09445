"""Base class of Valet's tempest tests: personas and their clients."""

import time

from oslo_serialization import jsonutils as json
from tempest import config
from tempest.lib.common.utils import data_utils
from tempest.lib import exceptions as lib_exc
from tempest import test

CONF = config.CONF


class BaseValetTest(test.BaseTestCase):
    """Clients of every persona Valet's default policy is written for.

    ``admin`` (role admin), ``primary`` and ``alt`` (role member, two
    projects), ``project_reader`` (role reader, a project of its own).
    """

    credentials = ['admin', 'primary', 'alt', 'project_reader']

    @classmethod
    def skip_checks(cls):
        super().skip_checks()
        if not CONF.service_available.valet:
            raise cls.skipException(
                'Valet is not available ([service_available] valet = False)')

    @classmethod
    def setup_clients(cls):
        super().setup_clients()
        cls.clients = {
            'admin': cls.os_admin.valet_v1,
            'member': cls.os_primary.valet_v1,
            'alt': cls.os_alt.valet_v1,
            'reader': cls.os_project_reader.valet_v1,
        }
        cls.admin_groups = cls.os_admin.valet_v1.GroupsClient()
        cls.admin_status = cls.os_admin.valet_v1.StatusClient()

    @classmethod
    def project_id(cls, persona):
        creds = {'admin': cls.os_admin, 'member': cls.os_primary,
                 'alt': cls.os_alt, 'reader': cls.os_project_reader}
        return creds[persona].credentials.project_id

    def client(self, persona, kind):
        return getattr(self.clients[persona], kind)()

    def create_group(self, kind='diversity', level='host', **extra):
        """A group made by the admin, deleted at cleanup."""
        name = data_utils.rand_name('valet-tempest')
        body = self.admin_groups.create_group(name=name, type=kind,
                                              level=level, **extra)
        group = body['group'] if 'group' in body else body
        self.addCleanup(self._delete_group, group['id'])
        return group

    def _delete_group(self, group_id):
        # A member's servers keep the member in the group until Valet hears
        # from Nova that they are gone.
        deadline = time.time() + CONF.valet.build_timeout
        while True:
            try:
                self.admin_groups.remove_members(group_id)
                break
            except lib_exc.NotFound:
                return
            except lib_exc.Conflict:
                if time.time() > deadline:
                    raise
                time.sleep(CONF.valet.build_interval)
        try:
            self.admin_groups.delete_group(group_id)
        except lib_exc.NotFound:
            pass

    def assertErrorCode(self, exc, status, code):
        """An API-SIG error body with the given status and code."""
        body = exc.resp_body
        if isinstance(body, (str, bytes)):
            body = json.loads(body)
        # RestClient unwraps a body of one key: {"errors": [...]} -> [...].
        errors = body['errors'] if isinstance(body, dict) else body
        self.assertEqual(1, len(errors), errors)
        self.assertEqual(status, errors[0]['status'], errors)
        self.assertEqual(code, errors[0]['code'], errors)
        self.assertTrue(errors[0]['request_id'].startswith('req-'), errors)
        self.assertTrue(errors[0]['detail'], errors)
