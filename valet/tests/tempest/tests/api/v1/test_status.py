"""Versions, status and resources: who may see the service's state."""

from tempest.lib import decorators
from tempest.lib import exceptions as lib_exc

from valet.tests.tempest.tests import base


class StatusTest(base.BaseValetTest):

    @decorators.idempotent_id('3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e01')
    def test_versions(self):
        versions = self.admin_status.list_versions()['versions']
        self.assertEqual(['v1.0'], [v['id'] for v in versions])
        self.assertEqual('CURRENT', versions[0]['status'])

    @decorators.idempotent_id('3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e02')
    def test_admin_sees_engine_and_storage(self):
        status = self.admin_status.show_status()['status']
        self.assertEqual('ok', status['engine']['status'], status)
        self.assertIs(True, status['storage']['ok'], status)
        self.assertEqual('leader', status['engine']['leadership']['role'])

    @decorators.idempotent_id('3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e03')
    def test_admin_lists_resources(self):
        body = self.admin_status.list_resources()
        self.assertIsInstance(body['resources'], dict)

    @decorators.idempotent_id('3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e04')
    def test_members_and_readers_see_neither(self):
        for persona in ('member', 'reader'):
            client = self.client(persona, 'StatusClient')
            exc = self.assertRaises(lib_exc.Forbidden, client.show_status)
            self.assertErrorCode(exc, 403, 'valet.policy.forbidden')
            self.assertRaises(lib_exc.Forbidden, client.list_resources)


class ServicePersonaTest(base.BaseValetTest):
    """An OpenStack service user (role ``service``, e.g. Nova's filter)."""

    credentials = ['admin', ['service', 'service']]

    @classmethod
    def setup_clients(cls):
        # Only the admin and the service user: no member personas here.
        super(base.BaseValetTest, cls).setup_clients()
        cls.admin_groups = cls.os_admin.valet_v1.GroupsClient()
        cls.service = cls.os_roles_service.valet_v1

    @decorators.idempotent_id('3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e05')
    def test_service_reads_state_and_every_project(self):
        status = self.service.StatusClient().show_status()['status']
        self.assertIn('engine', status)
        self.assertIsInstance(
            self.service.StatusClient().list_resources()['resources'], dict)
        self.assertIsInstance(
            self.service.PlansClient().list_plans()['plans'], list)
        self.assertIsInstance(
            self.service.PlacementsClient().list_placements()['placements'],
            list)

    @decorators.idempotent_id('3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e06')
    def test_service_cannot_manage_groups(self):
        group = self.create_group()
        groups = self.service.GroupsClient()
        self.assertEqual(group['id'], groups.show_group(group['id'])[
            'group']['id'])
        exc = self.assertRaises(lib_exc.Forbidden, groups.delete_group,
                                group['id'])
        self.assertErrorCode(exc, 403, 'valet.policy.forbidden')
