from valet.tests.tempest.services.v1 import base


class StatusClient(base.ValetClient):
    """The version documents, /v1/status and /v1/resources."""

    def list_versions(self):
        return self._get('')

    def show_v1(self):
        return self._get('v1')

    def show_status(self):
        return self._get('v1/status')

    def list_resources(self):
        return self._get('v1/resources')
