"""GET /: the version document; no authentication needed."""

from valet.api.controllers import base
from valet.api import microversion
from valet.api import router


def version_document(links):
    # min_version/max_version let clients (keystoneauth's discovery, the
    # OSC plugin) pick a microversion without trial and error.
    return {'versions': [{'status': 'CURRENT', 'id': 'v1.0',
                          'min_version': str(microversion.MIN_VERSION),
                          'max_version': str(microversion.MAX_VERSION),
                          'links': links}]}


class RootController(base.Controller):

    def routes(self):
        return [router.Route((), {'GET': self.versions})]

    def versions(self, req):
        href = req.application_url.rstrip('/') + '/v1/'
        return version_document([{'href': href, 'rel': 'self'}])
