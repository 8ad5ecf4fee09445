"""Read what only Nova knows: aggregates, services, flavors, servers.

Placement knows resource providers by hypervisor host name and UUID; Nova's
aggregates and services list *service* host names. ``os-hypervisors``
(at 2.53+ a hypervisor's id is its compute node UUID, which is also its
resource provider UUID) ties the two together; when a deployment's policy
hides it, hosts are matched by name.
"""

import dataclasses

from oslo_log import log as logging

from valet.inventory import base
from valet.inventory.openstack import client as client_mod

LOG = logging.getLogger(__name__)

# 2.61: flavors carry extra_specs in /flavors/detail; 2.53: hypervisor and
# service ids are UUIDs; 2.41: aggregates carry their UUID.
MICROVERSION = '2.61'
COMPUTE_BINARY = 'nova-compute'


@dataclasses.dataclass
class Aggregate:
    uuid: str | None
    name: str
    availability_zone: str | None
    metadata: dict
    hosts: frozenset


@dataclasses.dataclass
class Service:
    host: str
    enabled: bool
    reason: str | None = None


@dataclasses.dataclass
class NovaView:
    """What one read of Nova found."""

    aggregates: list = dataclasses.field(default_factory=list)
    services: dict = dataclasses.field(default_factory=dict)   # host -> ...
    # compute node (= resource provider) uuid -> service host, and
    # hypervisor host name -> service host; None when os-hypervisors is
    # not allowed.
    hypervisors_by_uuid: dict | None = None
    hypervisors_by_name: dict | None = None
    flavors: dict = dataclasses.field(default_factory=dict)
    servers: dict | None = None                                # uuid -> ...

    def aggregates_of(self, host):
        return [a for a in self.aggregates if host in a.hosts]


# ------------------------------------------------------------ JSON parsing
def _fail(what, message):
    raise base.InventoryError('Nova: %s: %s' % (what, message))


def _text_map(value):
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def parse_aggregate(entry):
    if not isinstance(entry, dict) or 'name' not in entry:
        _fail('GET /os-aggregates', 'an aggregate without a name')
    metadata = _text_map(entry.get('metadata'))
    zone = entry.get('availability_zone') or metadata.get(
        'availability_zone')
    return Aggregate(uuid=entry.get('uuid'), name=str(entry['name']),
                     availability_zone=zone or None, metadata=metadata,
                     hosts=frozenset(str(h) for h in entry.get('hosts') or ()))


def parse_service(entry):
    """A compute service; disabled or forced down means not schedulable."""
    if not isinstance(entry, dict) or not entry.get('host'):
        _fail('GET /os-services', 'a service without a host')
    enabled = (entry.get('status') == 'enabled' and
               not entry.get('forced_down'))
    reason = None
    if entry.get('forced_down'):
        reason = 'forced down'
    elif entry.get('status') != 'enabled':
        reason = 'disabled: %s' % (entry.get('disabled_reason') or
                                   'no reason given')
    return Service(host=str(entry['host']), enabled=enabled, reason=reason)


def _amount(what, value):
    # Before 2.75 a flavor without swap says "" instead of 0.
    if value in (None, ''):
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(what, 'expected a number, got %r' % (value,))
    return value


def parse_flavor(entry):
    """``/flavors/detail`` entry -> the snapshot's flavor dict."""
    if not isinstance(entry, dict) or not entry.get('name'):
        _fail('GET /flavors/detail', 'a flavor without a name')
    what = 'flavor %s' % entry['name']
    return {
        'name': str(entry['name']),
        'id': str(entry.get('id')),
        'vcpus': _amount(what + ' vcpus', entry.get('vcpus')),
        'ram': _amount(what + ' ram', entry.get('ram')),
        'disk': _amount(what + ' disk', entry.get('disk')),
        'ephemeral': _amount(what + ' ephemeral',
                             entry.get('OS-FLV-EXT-DATA:ephemeral')),
        'swap': _amount(what + ' swap', entry.get('swap')),
        'extra_specs': _text_map(entry.get('extra_specs')),
    }


def parse_server(entry):
    if not isinstance(entry, dict) or not entry.get('id'):
        _fail('GET /servers/detail', 'a server without an id')
    return {'name': entry.get('name'), 'project': entry.get('tenant_id'),
            'metadata': _text_map(entry.get('metadata')),
            'host': entry.get('OS-EXT-SRV-ATTR:host')}


def parse_hypervisors(entries):
    """-> ({compute node uuid: service host}, {hypervisor name: host})."""
    by_uuid, by_name = {}, {}
    for entry in entries:
        service = entry.get('service') if isinstance(entry, dict) else None
        host = service.get('host') if isinstance(service, dict) else None
        if not host:
            continue
        if entry.get('id'):
            by_uuid[str(entry['id'])] = str(host)
        if entry.get('hypervisor_hostname'):
            by_name[str(entry['hypervisor_hostname'])] = str(host)
    return by_uuid, by_name


# ------------------------------------------------------------------ reader
class NovaReader:
    """Reads aggregates, compute services, flavors (and servers)."""

    def __init__(self, client, read_servers=False):
        self.client = client
        self.read_servers = read_servers

    def read(self):
        view = NovaView()
        get = self.client.get
        body = get('/os-aggregates')
        view.aggregates = [parse_aggregate(a) for a in client_mod.expect(
            self.client, '/os-aggregates', body, 'aggregates', list)]
        path = '/os-services'
        body = get(path, params={'binary': COMPUTE_BINARY})
        for entry in client_mod.expect(self.client, path, body, 'services',
                                       list):
            service = parse_service(entry)
            if entry.get('binary', COMPUTE_BINARY) == COMPUTE_BINARY:
                view.services[service.host] = service
        hypervisors = self.client.get_paged(
            '/os-hypervisors/detail', 'hypervisors', tolerate=(403, 404))
        if hypervisors is None:
            LOG.debug('Nova does not let Valet list hypervisors; resource '
                      'providers are matched to hosts by name')
        else:
            view.hypervisors_by_uuid, view.hypervisors_by_name = (
                parse_hypervisors(hypervisors))
        for entry in self.client.get_paged(
                '/flavors/detail', 'flavors', params={'is_public': 'None'}):
            flavor = parse_flavor(entry)
            view.flavors[flavor['name']] = flavor
        if self.read_servers:
            view.servers = {}
            for entry in self.client.get_paged(
                    '/servers/detail', 'servers',
                    params={'all_tenants': 1}):
                server = parse_server(entry)
                view.servers[str(entry['id'])] = server
        return view


def make_reader(conf, read_servers):
    """A NovaReader over ``[nova]``."""
    client = client_mod.make_client(conf, 'nova', 'Nova', MICROVERSION)
    return NovaReader(client, read_servers=read_servers)
