"""/v1/resources: servers whose placement breaks their group rules."""

from valet.api.controllers import base
from valet.api import router
from valet.policies import resources as policies
from valet import policy


class ResourcesController(base.Controller):

    def routes(self):
        return [router.Route((), {'GET': self.list})]

    def list(self, req):
        ctx = self.context(req)
        policy.authorize(ctx, policies.LIST)
        return {'resources': self.engine.invalid_placements(
            self.rpc_context(ctx)) or {}}
