"""GET /: the version document; no authentication needed."""

from valet.api.controllers import base
from valet.api import router


def version_document(links):
    return {'versions': [{'status': 'CURRENT', 'id': 'v1.0',
                          'links': links}]}


class RootController(base.Controller):

    def routes(self):
        return [router.Route((), {'GET': self.versions})]

    def versions(self, req):
        href = req.application_url.rstrip('/') + '/v1/'
        return version_document([{'href': href, 'rel': 'self'}])
