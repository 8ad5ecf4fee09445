"""Heat client plugin ``valet`` (entry point ``heat.clients``).

Resources reach Valet with ``self.client('valet')``: the context's
session, the catalog's ``workload-placement`` endpoint, and the usual
``[clients_valet]`` / ``[clients]`` options of heat.conf.
"""

from heat.engine.clients import client_plugin

from valet import client as valet_client
from valet.plugins.heat import api

CLIENT_NAME = 'valet'


class ValetClientPlugin(client_plugin.ClientPlugin):

    service_types = [valet_client.SERVICE_TYPE]
    exceptions_module = api.exceptions

    def _create(self, version=None):
        return api.ValetAPI(
            self.context.keystone_session,
            interface=self._get_client_option(CLIENT_NAME, 'endpoint_type'),
            region_name=self._get_region_name())

    def is_not_found(self, ex):
        return isinstance(ex, api.ValetError) and ex.status == 404

    def is_conflict(self, ex):
        return isinstance(ex, api.ValetError) and ex.status == 409
