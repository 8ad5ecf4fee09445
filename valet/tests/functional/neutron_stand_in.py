"""A stand-in for Neutron in the functional compute cloud (stdlib only).

Neutron cannot run here (it needs Open vSwitch or OVN, network namespaces
and agents), so the compute cloud boots servers with ``"networks": "none"``.
Nova still calls the networking API even then:

* every ``GET /servers/{id}`` and ``/servers/detail`` reads the servers'
  security groups: ``GET /v2.0/ports?fields=security_groups&device_id=...``;
* deleting a server deallocates its (absent) networks: ``GET /v2.0/ports``
  by device and project, ``GET /v2.0/networks`` (shared or not).

This server answers every ``GET /v2.0/<collection>`` with an empty list
(``{"<collection>": []}``), ``/v2.0/extensions`` with no extensions, and
``/`` with a version document, which is all a cloud without networks
needs. Anything else (a create, a port binding) gets 501, so a test that
would need real networking fails loudly instead of passing by accident.
It is a stand-in for Neutron only; every other service in the cloud is
the real one.

Run it as ``python neutron_stand_in.py PORT`` with any Python 3; it logs
one line per request to stderr.
"""

import json
import sys
from wsgiref import simple_server


def application(environ, start_response):
    method = environ['REQUEST_METHOD']
    path = environ.get('PATH_INFO', '/').rstrip('/') or '/'
    status, body = '501 Not Implemented', {
        'NeutronError': {'type': 'NotImplemented', 'detail': '',
                         'message': 'the Neutron stand-in serves only '
                                    'empty GET listings'}}
    if method == 'GET' and path == '/':
        status, body = '200 OK', {'versions': [{
            'id': 'v2.0', 'status': 'CURRENT',
            'links': [{'rel': 'self', 'href': '/v2.0/'}]}]}
    elif method == 'GET' and path.startswith('/v2.0/'):
        collection = path[len('/v2.0/'):]
        if collection.endswith('.json'):
            collection = collection[:-len('.json')]
        if '/' not in collection:
            status, body = '200 OK', {collection: []}
    data = json.dumps(body).encode('utf-8')
    start_response(status, [('Content-Type', 'application/json'),
                            ('Content-Length', str(len(data)))])
    return [data]


class _Handler(simple_server.WSGIRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write('neutron-stand-in: %s\n' % (fmt % args))
        sys.stderr.flush()


def main(port):
    server = simple_server.make_server('127.0.0.1', port, application,
                                       handler_class=_Handler)
    server.serve_forever()


if __name__ == '__main__':
    main(int(sys.argv[1]))
