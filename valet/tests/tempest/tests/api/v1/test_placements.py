"""Placements through the API: listing, lookups and policy."""

from tempest.lib.common.utils import data_utils
from tempest.lib import decorators
from tempest.lib import exceptions as lib_exc

from valet.tests.tempest.tests import base


class PlacementsTest(base.BaseValetTest):

    @decorators.idempotent_id('5b6c7d8e-9f01-4a2b-8c3d-4e5f6a7b8c01')
    def test_new_projects_have_no_placements(self):
        for persona in ('member', 'alt', 'reader'):
            body = self.client(persona, 'PlacementsClient').list_placements()
            self.assertEqual([], body['placements'], persona)
        self.assertIsInstance(self.client(
            'admin', 'PlacementsClient').list_placements()['placements'],
            list)

    @decorators.idempotent_id('5b6c7d8e-9f01-4a2b-8c3d-4e5f6a7b8c02')
    def test_missing_placement_is_not_found(self):
        missing = data_utils.rand_uuid()
        for persona in ('admin', 'member'):
            client = self.client(persona, 'PlacementsClient')
            exc = self.assertRaises(lib_exc.NotFound, client.show_placement,
                                    missing)
            self.assertErrorCode(exc, 404, 'valet.placement.not_found')
            self.assertRaises(lib_exc.NotFound, client.reserve_placement,
                              missing, locations=['host-1'],
                              resource_id=data_utils.rand_uuid())
            self.assertRaises(lib_exc.NotFound, client.delete_placement,
                              missing)
