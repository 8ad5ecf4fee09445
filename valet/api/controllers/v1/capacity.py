"""GET /v1/capacity (microversion 1.8): how many more of one server fit.

A read: the query string names a server as a plan would (a flavor, the
groups it would join, an availability zone) and the engine answers how
many identical copies could be placed at once beside everything placed,
and how many per host (or per domain of ``level``). Nothing is stored,
reserved or joined. Groups are checked as for a plan (404 unknown, 409
not a member of the caller's project).
"""

from valet.api.controllers import base
from valet.api import errors
from valet.api import microversion
from valet.api import resolver
from valet.api import router
from valet.api.schemas import capacity as schema
from valet.objects import membership
from valet.policies import capacity as policies
from valet import policy

VERSION = '1.8'


def render(answer, query):
    return {'capacity': {
        'flavor': answer['flavor'],
        'groups': query['groups'],
        'availability_zone': query.get('availability_zone'),
        'level': answer['level'],
        'count': answer['count'],
        'exact': answer['exact'],
        'domains': [
            {'name': d['name'], 'count': d['count']}
            for d in answer['domains']],
    }}


class CapacityController(base.Controller):

    def routes(self):
        return [router.Route((), {'GET': self.show}, query=('GET',))]

    def show(self, req):
        if not microversion.at_least(req.environ, VERSION):
            raise errors.APIError(
                404, errors.NOT_FOUND,
                'There is no resource at %s before microversion %s; send '
                '"%s: %s %s" or later.' % (
                    req.path, VERSION, microversion.HEADER,
                    microversion.SERVICE_TYPE, VERSION))
        ctx = self.context(req)
        policy.authorize(ctx, policies.SHOW)
        params = self.query(req, schema.QUERY)
        names = [n for n in (params.get('groups') or '').split(',') if n]
        # The groups are resolved as those of a plan's server would be.
        probe = {'capacity-query': {
            'name': 'capacity-query', 'type': membership.SERVER_TYPE,
            'properties': {'flavor': params['flavor'], 'metadata': {
                'valet': {'groups': names}}}}}
        resolved, definitions = resolver.GroupResolver(
            self.storage, ctx.project_id).resolve(probe)
        metadata = resolved['capacity-query']['properties']['metadata']
        query = {'flavor': params['flavor'],
                 'groups': list(metadata['valet']['groups']),
                 'definitions': definitions,
                 'availability_zone': params.get('availability_zone'),
                 'level': params.get('level') or 'host',
                 'project_id': ctx.project_id}
        answer = self.engine.capacity(self.rpc_context(ctx), query)
        return render(answer, query)
