from valet.tests.tempest.services.v1 import base


class PlacementsClient(base.ValetClient):
    """/v1/placements: where each planned server goes."""

    def list_placements(self):
        return self._get('v1/placements')

    def show_placement(self, placement_id):
        return self._get('v1/placements/%s' % placement_id)

    def reserve_placement(self, placement_id, **body):
        return self._post('v1/placements/%s' % placement_id, body)

    def delete_placement(self, placement_id):
        return self._delete('v1/placements/%s' % placement_id)
