"""The ``openstack`` inventory: the data centre as Placement and Nova see it.

Placement gives the hosts (compute resource providers), their capacities,
traits and aggregates, and what every consumer uses where. Nova, when
``[nova]`` is configured, adds what Placement does not know: aggregate
names and metadata, availability zones, disabled services, flavors and
(optionally) server names, projects and metadata. Nova is read first: its
aggregate UUIDs save Placement one request per host. The topology comes from
``[inventory] level_sources`` (see ``topology.py``).
"""

import collections
import time

from oslo_log import log as logging

from valet.engine.model import datacenter
from valet.engine.model import host as host_mod
from valet.inventory import base
from valet.inventory.openstack import client as client_mod
from valet.inventory.openstack import nova as nova_mod
from valet.inventory.openstack import placement as placement_mod
from valet.inventory.openstack import topology

LOG = logging.getLogger(__name__)

EXAMPLES = topology.EXAMPLES


def _short(name):
    return name.split('.', 1)[0]


def host_names(trees, nova_view):
    """{provider uuid: (host name, Nova service host or None)}.

    A host is named after its Nova service host (the name aggregates,
    services, servers and the scheduler use) when exactly one provider
    maps to it; else after its provider (hypervisor host) name, e.g. for
    Ironic, where one service host serves many nodes.
    """
    if nova_view is None:
        return {t.uuid: (t.name, None) for t in trees}
    by_uuid = nova_view.hypervisors_by_uuid or {}
    by_name = nova_view.hypervisors_by_name or {}
    known = set(nova_view.services)
    for aggregate in nova_view.aggregates:
        known.update(aggregate.hosts)
    short = collections.defaultdict(set)
    for name in known:
        short[_short(name)].add(name)
    service_of = {}
    for tree in trees:
        service = by_uuid.get(tree.uuid) or by_name.get(tree.name)
        if service is None and tree.name in known:
            service = tree.name
        if service is None and len(short.get(_short(tree.name), ())) == 1:
            # "cmp1.example.org" in Placement, "cmp1" in Nova, or back.
            service = next(iter(short[_short(tree.name)]))
        service_of[tree.uuid] = service
    shared = collections.Counter(s for s in service_of.values() if s)
    names = {}
    for tree in trees:
        service = service_of[tree.uuid]
        unique = service is not None and shared[service] == 1
        names[tree.uuid] = (service if unique else tree.name, service)
    taken = collections.Counter(name for name, _ in names.values())
    for tree in trees:
        name, service = names[tree.uuid]
        if taken[name] > 1:
            names[tree.uuid] = (tree.name, service)
    return names


class _AggregateIndex:
    """Nova aggregates by member host and by UUID."""

    def __init__(self, nova_view):
        self.by_host = collections.defaultdict(list)
        self.by_uuid = {}
        for aggregate in (nova_view.aggregates if nova_view else ()):
            for name in aggregate.hosts:
                self.by_host[name].append(aggregate)
            if aggregate.uuid:
                self.by_uuid[aggregate.uuid] = aggregate

    def of(self, service, tree):
        """Nova aggregates holding a host, and Placement-only UUIDs."""
        found = {a.name: a for a in self.by_host.get(service, ())}
        placement_only = []
        for uuid in sorted(tree.aggregates):
            aggregate = self.by_uuid.get(uuid)
            if aggregate is None:
                placement_only.append(uuid)
            else:
                found.setdefault(aggregate.name, aggregate)
        return [found[name] for name in sorted(found)], placement_only


def build_hosts(trees, nova_view, default_az):
    """HostSpecs (no domains yet) and {provider uuid: host name}.

    Also returns the names of hosts Nova has no compute service for.
    """
    names = host_names(trees, nova_view)
    index = _AggregateIndex(nova_view)
    hosts, without_service = [], []
    for tree in trees:
        name, service = names[tree.uuid]
        nova_aggs, placement_aggs = index.of(service, tree)
        aggregates = {a.name: dict(a.metadata) for a in nova_aggs}
        for uuid in placement_aggs:
            # Placement knows an aggregate only by UUID, without metadata.
            aggregates.setdefault(uuid, {})
        zones = sorted({a.availability_zone for a in nova_aggs
                        if a.availability_zone})
        enabled = True
        if nova_view is not None:
            state = nova_view.services.get(service) if service else None
            if state is None:
                # A provider Nova runs no compute service for (a leftover
                # of a deleted service): nothing could be booted there.
                without_service.append(name)
                enabled = False
            else:
                enabled = state.enabled
        hosts.append(host_mod.HostSpec(
            name=name, capacity=dict(tree.capacity),
            allocation_ratios=dict(tree.allocation_ratios),
            reserved=dict(tree.reserved), enabled=enabled,
            availability_zone=zones[0] if zones else default_az,
            aggregates=aggregates, traits=frozenset(tree.traits)))
    hosts.sort(key=lambda h: h.name)
    return hosts, {uuid: name for uuid, (name, _) in names.items()}, sorted(
        without_service)


def server_homes(trees, names, nova_servers=None):
    """({consumer: host it runs on}, {consumer: [hosts]} of the unsure).

    A consumer with allocations on several hosts (an evacuated server keeps
    its source host's until that host's nova-compute comes back) runs on
    the host Nova says, when servers are read from Nova. Otherwise the
    inventory cannot tell: the first host stands in, and the consumer is
    *unsure* (the engine prefers its stored placement's host among them).
    """
    nova_servers = nova_servers or {}
    hosts_of = {}
    for tree in sorted(trees, key=lambda t: names[t.uuid]):
        for consumer in tree.consumers:
            hosts_of.setdefault(consumer, []).append(names[tree.uuid])
    home, unsure = {}, {}
    for consumer, hosts in hosts_of.items():
        nova_host = (nova_servers.get(consumer) or {}).get('host')
        if nova_host in hosts:
            home[consumer] = nova_host
            continue
        home[consumer] = hosts[0]
        if len(hosts) > 1:
            unsure[consumer] = list(hosts)
    return home, unsure


def build_servers(trees, names, kept, consumers=None, nova_servers=None):
    """PlacedServers, one per consumer and host, and their metadata.

    Returns (servers, {server id: metadata}, servers left out because
    their host is not in ``kept``). A consumer with allocations on two
    hosts keeps its UUID on the host it runs on (see ``server_homes``) and
    is ``<uuid>@<host>`` (``base.extra_copy_id``) on the others, so that
    its resources count on both.
    """
    consumers = consumers or {}
    nova_servers = nova_servers or {}
    servers, metadata, left_out = [], {}, 0
    ordered = sorted(trees, key=lambda t: names[t.uuid])
    home, _ = server_homes(trees, names, nova_servers)
    for tree in ordered:
        host = names[tree.uuid]
        for consumer in sorted(tree.consumers):
            if host not in kept:
                left_out += 1
                continue
            server_id = consumer
            if host != home[consumer]:
                server_id = base.extra_copy_id(consumer, host)
            info = nova_servers.get(consumer) or {}
            project = info.get('project') or (
                consumers.get(consumer) or {}).get('project_id')
            servers.append(datacenter.PlacedServer(
                id=server_id, host=host,
                demand=dict(tree.consumers[consumer]), project=project,
                name=info.get('name')))
            if info.get('metadata'):
                metadata[server_id] = dict(info['metadata'])
    return servers, metadata, left_out


def unsure_hosts(trees, names, kept, nova_servers=None):
    """{consumer: [hosts in ``kept``]} of the consumers whose running host
    the inventory cannot tell (see ``server_homes``)."""
    home, unsure = server_homes(trees, names, nova_servers)
    found = {}
    for consumer, hosts in unsure.items():
        hosts = [h for h in hosts if h in kept]
        if home[consumer] in kept and len(hosts) > 1:
            found[consumer] = hosts
    return found


class OpenStackInventory(base.Inventory):
    """Reads ``[placement]`` (required) and ``[nova]`` (optional)."""

    def __init__(self, conf, placement_reader=None, nova_reader=None):
        super().__init__(conf)
        opts = conf.inventory
        # Configuration mistakes surface when the engine starts, not at
        # the first resync.
        self.mapper = topology.TopologyMapper.from_conf(conf)
        self.levels = self.mapper.levels
        self.default_az = opts.default_availability_zone
        if placement_reader is None:
            if not client_mod.is_configured(conf, 'placement'):
                raise base.InventoryError(
                    'the openstack inventory reads Placement: set [placement] '
                    'auth_type and its credentials (e.g. auth_type = '
                    'password, auth_url, username, password, project_name)')
            placement_reader = placement_mod.make_reader(
                conf, opts.request_workers, opts.read_consumers)
        self.placement = placement_reader
        if nova_reader is None and client_mod.is_configured(conf, 'nova'):
            nova_reader = nova_mod.make_reader(conf, opts.read_servers)
        self.nova = nova_reader
        if self.nova is None:
            LOG.warning('[nova] auth_type is not set: Nova is not read. '
                        'Every host is in availability zone %s, aggregates '
                        'carry no metadata, disabled compute services are '
                        'not seen and there are no flavors.',
                        self.default_az)

    def load(self):
        started = time.monotonic()
        # Nova first: its aggregate UUIDs let Placement's memberships be
        # read per aggregate rather than per host (see placement.py).
        nova_view = self.nova.read() if self.nova is not None else None
        nova_done = time.monotonic()
        aggregates = None
        if nova_view is not None:
            aggregates = sorted({a.uuid for a in nova_view.aggregates
                                 if a.uuid})
        placement_view = self.placement.read(aggregates=aggregates)
        placement_done = time.monotonic()
        hosts, names, without_service = build_hosts(
            placement_view.hosts, nova_view, self.default_az)
        if without_service:
            LOG.warning('%(count)d hosts have no nova-compute service in '
                        'Nova and are disabled (e.g. %(examples)s)',
                        {'count': len(without_service),
                         'examples': ', '.join(without_service[:EXAMPLES])})
        mapping = self.mapper.map_hosts(hosts)
        kept = {host.name for host in mapping.hosts}
        nova_servers = nova_view.servers if nova_view else None
        servers, metadata, left_out = build_servers(
            placement_view.hosts, names, kept, placement_view.consumers,
            nova_servers)
        snapshot = base.InventorySnapshot(
            levels=self.levels, hosts=mapping.hosts,
            flavors=dict(nova_view.flavors) if nova_view else {},
            servers=servers, unmapped=mapping.unmapped,
            server_metadata=metadata, observed=True,
            unsure_hosts=unsure_hosts(placement_view.hosts, names, kept,
                                      nova_servers))
        LOG.info('OpenStack inventory: %(hosts)d hosts (%(excluded)d '
                 'excluded, %(disabled)d disabled), %(servers)d servers '
                 '(%(left_out)d on excluded hosts left out), %(flavors)d '
                 'flavors; %(providers)d resource providers read '
                 '(%(skipped)d not compute hosts, %(vanished)d vanished) '
                 'in %(seconds).2f s (Placement %(p).2f s, %(requests)d '
                 'requests; Nova %(n).2f s)',
                 {'hosts': len(mapping.hosts),
                  'excluded': len(mapping.excluded),
                  'disabled': sum(1 for h in mapping.hosts if not h.enabled),
                  'servers': len(servers), 'left_out': left_out,
                  'flavors': len(snapshot.flavors),
                  'providers': placement_view.providers,
                  'skipped': placement_view.skipped,
                  'vanished': placement_view.vanished,
                  'seconds': time.monotonic() - started,
                  'requests': placement_view.requests,
                  'p': placement_done - nova_done,
                  'n': nova_done - started})
        return snapshot
