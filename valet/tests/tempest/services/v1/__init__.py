"""Service clients of the Valet v1 API, on tempest.lib's RestClient."""

from valet.tests.tempest.services.v1.groups_client import GroupsClient
from valet.tests.tempest.services.v1.placements_client import \
    PlacementsClient
from valet.tests.tempest.services.v1.plans_client import PlansClient
from valet.tests.tempest.services.v1.status_client import StatusClient

__all__ = ['GroupsClient', 'PlacementsClient', 'PlansClient', 'StatusClient']
