"""What every resource controller shares."""

from valet.api import context
from valet.api import paging
from valet.api import request as api_request
from valet.api import schemas

_BODY_KEY = 'valet.json_body'


class Controller:
    """A resource: its routes and handlers, with the API's collaborators.

    ``storage`` is a ``valet.storage.base.Storage``; ``engine`` has the
    methods of ``valet.engine.rpcapi.EngineAPI``.
    """

    def __init__(self, conf, storage, engine):
        self.conf = conf
        self.storage = storage
        self.engine = engine

    def routes(self):
        """[valet.api.router.Route] relative to the API version root."""
        raise NotImplementedError

    def context(self, req):
        return context.get(req.environ, self.conf.api.auth_strategy)

    def body(self, req, schema):
        """The JSON body checked against ``schema`` (decoded once)."""
        if _BODY_KEY not in req.environ:
            req.environ[_BODY_KEY] = api_request.json_body(
                req, self.conf.api.max_request_body_size)
        return schemas.validate(req.environ[_BODY_KEY], schema)

    def query(self, req, schema):
        return schemas.validate(api_request.query(req), schema,
                                what='query string')

    def page(self, req, schema=None):
        """A list request's filters and page (``valet.api.paging``)."""
        return paging.from_request(req, self.conf.api.max_limit, schema)

    @staticmethod
    def rpc_context(ctx):
        # oslo.messaging without a serializer carries plain dicts.
        return ctx.to_dict()
