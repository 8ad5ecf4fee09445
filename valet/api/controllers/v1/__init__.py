"""The v1 API: GET /v1 and one controller per resource."""

from valet.api.controllers import base
from valet.api.controllers import root
from valet.api.controllers.v1 import capacity
from valet.api.controllers.v1 import groups
from valet.api.controllers.v1 import placements
from valet.api.controllers.v1 import plans
from valet.api.controllers.v1 import resources
from valet.api.controllers.v1 import status
from valet.api import router

RESOURCES = [('capacity', capacity.CapacityController),
             ('groups', groups.GroupsController),
             ('placements', placements.PlacementsController),
             ('plans', plans.PlansController),
             ('resources', resources.ResourcesController),
             ('status', status.StatusController)]


class V1Controller(base.Controller):
    """GET /v1 lists the resources; the resources mount under it."""

    def routes(self):
        out = [router.Route((), {'GET': self.index})]
        for name, cls in RESOURCES:
            resource = cls(self.conf, self.storage, self.engine)
            out.extend(router.prefixed((name,), resource.routes()))
        return out

    def index(self, req):
        self.context(req)
        base_url = req.path_url.rstrip('/')
        links = [{'href': base_url + '/', 'rel': 'self'}]
        links.extend({'href': '%s/%s/' % (base_url, name), 'rel': name}
                     for name, _cls in RESOURCES)
        return root.version_document(links)
