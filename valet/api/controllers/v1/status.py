"""/v1/status: ping the engine (GET and HEAD answer 200)."""

from valet.api.controllers import base
from valet.api import router
from valet.policies import status as policies
from valet import policy


class StatusController(base.Controller):

    def routes(self):
        return [router.Route((), {'GET': self.show})]

    def show(self, req):
        ctx = self.context(req)
        policy.authorize(ctx, policies.SHOW)
        return {'status': self.engine.ping(self.rpc_context(ctx))}
