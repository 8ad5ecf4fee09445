"""Read compute hosts and their usage from the Placement API.

One ``GET /resource_providers`` lists every provider; then, per provider
and concurrently, its inventories and allocations (and for a root provider
its traits and aggregates). Placement has no bulk read of these, so a
5,000-host cloud costs about 20,000 small GETs; a bounded thread pool keeps
that to seconds without flooding the API.

A *host* is a provider tree whose resources include VCPU or MEMORY_MB and
whose root is not a sharing provider (``MISC_SHARES_VIA_AGGREGATE``).
Nested providers (NUMA cells, vGPUs, bandwidth) are folded into their root:
their inventories add to the host's, their allocations to the consumer's
demand on that host. Traits and aggregates are read from the root only.
"""

import concurrent.futures
import dataclasses

from oslo_log import log as logging

from valet.inventory import base
from valet.inventory.openstack import client as client_mod

LOG = logging.getLogger(__name__)

# 1.14: providers carry parent_provider_uuid and root_provider_uuid (nested
# providers, Queens); GET /allocations/{consumer} gives project and user.
MICROVERSION = '1.14'
HOST_CLASSES = frozenset(('VCPU', 'MEMORY_MB'))
SHARING_TRAIT = 'MISC_SHARES_VIA_AGGREGATE'


@dataclasses.dataclass
class Inventory:
    """One resource class of one provider."""

    total: float
    reserved: float = 0
    allocation_ratio: float = 1.0


@dataclasses.dataclass
class ProviderTree:
    """A root provider with its nested providers folded in."""

    uuid: str
    name: str
    capacity: dict = dataclasses.field(default_factory=dict)
    reserved: dict = dataclasses.field(default_factory=dict)
    allocation_ratios: dict = dataclasses.field(default_factory=dict)
    traits: frozenset = frozenset()
    aggregates: frozenset = frozenset()
    # consumer uuid -> {resource class: amount}, summed over the tree.
    consumers: dict = dataclasses.field(default_factory=dict)

    @property
    def is_host(self):
        return (bool(HOST_CLASSES & set(self.capacity)) and
                SHARING_TRAIT not in self.traits)


@dataclasses.dataclass
class PlacementView:
    """What one read of Placement found."""

    hosts: list
    # consumer uuid -> {'project_id', 'user_id'}, when read_consumers.
    consumers: dict = dataclasses.field(default_factory=dict)
    providers: int = 0
    skipped: int = 0      # trees that are not compute hosts
    vanished: int = 0     # providers deleted while being read


# ------------------------------------------------------------ JSON parsing
def _fail(what, message):
    raise base.InventoryError('Placement: %s: %s' % (what, message))


def _number(what, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(what, 'expected a number, got %r' % (value,))
    return value


def parse_providers(body):
    """``GET /resource_providers`` -> [{uuid, name, root, parent}]."""
    if not isinstance(body, dict) or not isinstance(
            body.get('resource_providers'), list):
        _fail('GET /resource_providers', 'no "resource_providers" list in '
              'the response')
    out = []
    for entry in body['resource_providers']:
        if not isinstance(entry, dict) or not entry.get('uuid'):
            _fail('GET /resource_providers', 'a provider without a uuid')
        uuid = entry['uuid']
        out.append({'uuid': uuid, 'name': str(entry.get('name') or uuid),
                    'root': entry.get('root_provider_uuid') or uuid,
                    'parent': entry.get('parent_provider_uuid')})
    return out


def parse_inventories(body, provider):
    """``GET .../inventories`` -> {resource class: Inventory}."""
    what = 'provider %s inventories' % provider
    inventories = body.get('inventories') if isinstance(body, dict) else None
    if not isinstance(inventories, dict):
        _fail(what, 'no "inventories" mapping in the response')
    out = {}
    for rc, record in inventories.items():
        if not isinstance(record, dict):
            _fail('%s %s' % (what, rc), 'not a mapping')
        where = '%s %s' % (what, rc)
        out[rc] = Inventory(
            total=_number(where + ' total', record.get('total')),
            reserved=_number(where + ' reserved', record.get('reserved', 0)),
            allocation_ratio=_number(where + ' allocation_ratio',
                                     record.get('allocation_ratio', 1.0)))
    return out


def parse_allocations(body, provider):
    """``GET .../allocations`` -> {consumer uuid: {resource class: amount}}."""
    what = 'provider %s allocations' % provider
    allocations = body.get('allocations') if isinstance(body, dict) else None
    if not isinstance(allocations, dict):
        _fail(what, 'no "allocations" mapping in the response')
    out = {}
    for consumer, record in allocations.items():
        resources = record.get('resources') if isinstance(
            record, dict) else None
        if not isinstance(resources, dict):
            _fail('%s %s' % (what, consumer), 'no "resources" mapping')
        out[consumer] = {
            rc: _number('%s %s %s' % (what, consumer, rc), amount)
            for rc, amount in resources.items()}
    return out


def parse_names(body, key, provider):
    """``GET .../traits`` or ``.../aggregates`` -> frozenset of names."""
    values = body.get(key) if isinstance(body, dict) else None
    if not isinstance(values, list):
        _fail('provider %s %s' % (provider, key),
              'no "%s" list in the response' % key)
    return frozenset(str(v) for v in values)


def fold_inventories(inventories):
    """Capacity, reserved and ratios of a tree from its providers' records.

    Totals and reserved amounts add up. A class present on several
    providers gets the ratio that keeps the usable amount exact:
    ``sum((total - reserved) * ratio) / sum(total - reserved)``.
    """
    capacity, reserved, weighted, net, ratios = {}, {}, {}, {}, {}
    shared = set()
    for per_class in inventories:
        for rc, inv in per_class.items():
            if rc in capacity:
                shared.add(rc)
            capacity[rc] = capacity.get(rc, 0) + inv.total
            reserved[rc] = reserved.get(rc, 0) + inv.reserved
            usable = max(0, inv.total - inv.reserved)
            net[rc] = net.get(rc, 0) + usable
            weighted[rc] = weighted.get(rc, 0) + usable * inv.allocation_ratio
            # The common case (one provider per class) keeps its exact ratio.
            ratios[rc] = max(ratios.get(rc, 0), inv.allocation_ratio)
    for rc in shared:
        if net[rc] > 0:
            ratios[rc] = weighted[rc] / net[rc]
    reserved = {rc: amount for rc, amount in reserved.items() if amount}
    return capacity, reserved, ratios


def add_demand(consumers, allocations):
    """Add one provider's allocations to the tree's per-consumer demand."""
    for consumer, resources in allocations.items():
        demand = consumers.setdefault(consumer, {})
        for rc, amount in resources.items():
            demand[rc] = demand.get(rc, 0) + amount


# ------------------------------------------------------------------ reader
class PlacementReader:
    """Reads every compute host of a Placement service."""

    def __init__(self, client, workers=8, read_consumers=False):
        self.client = client
        self.workers = workers
        self.read_consumers = read_consumers

    def read(self):
        providers = parse_providers(self.client.get('/resource_providers'))
        roots = {p['uuid']: p for p in providers if p['root'] == p['uuid']}
        records = self._map(self._read_provider, providers)
        vanished = sum(1 for r in records.values() if r is None)
        trees = {}
        members = {}
        for p in providers:
            if p['root'] in roots and records.get(p['uuid']) is not None:
                members.setdefault(p['root'], []).append(p['uuid'])
        for uuid, root in roots.items():
            record = records.get(uuid)
            if record is None:
                continue
            tree = ProviderTree(uuid=uuid, name=root['name'],
                                traits=record['traits'],
                                aggregates=record['aggregates'])
            parts = [records[m] for m in members[uuid]]
            (tree.capacity, tree.reserved,
             tree.allocation_ratios) = fold_inventories(
                [part['inventories'] for part in parts])
            for part in parts:
                add_demand(tree.consumers, part['allocations'])
            trees[uuid] = tree
        hosts = [t for t in trees.values() if t.is_host]
        view = PlacementView(hosts=hosts, providers=len(providers),
                             skipped=len(trees) - len(hosts),
                             vanished=vanished)
        if self.read_consumers:
            consumers = sorted({c for t in hosts for c in t.consumers})
            details = self._map(self._read_consumer, consumers)
            view.consumers = {c: d for c, d in details.items() if d}
        return view

    def _map(self, function, items):
        """``{key: function(item)}`` over a bounded pool; first error wins."""
        out = {}
        pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix='valet-placement')
        try:
            futures = {pool.submit(function, item): item for item in items}
            for future in concurrent.futures.as_completed(futures):
                item = futures[future]
                key = item['uuid'] if isinstance(item, dict) else item
                out[key] = future.result()
        finally:
            # On an error the queued requests are pointless: drop them.
            pool.shutdown(wait=True, cancel_futures=True)
        return out

    def _get(self, path):
        # A provider deleted after the list was read answers 404.
        return self.client.get(path, tolerate=(404,))

    def _read_provider(self, provider):
        uuid = provider['uuid']
        base_path = '/resource_providers/%s' % uuid
        body = self._get(base_path + '/inventories')
        if body is None:
            return None
        record = {'inventories': parse_inventories(body, uuid),
                  'allocations': {}, 'traits': frozenset(),
                  'aggregates': frozenset()}
        if record['inventories']:
            # Without inventory there can be no allocations: save a GET.
            body = self._get(base_path + '/allocations')
            if body is None:
                return None
            record['allocations'] = parse_allocations(body, uuid)
        if provider['root'] == uuid:
            for key in ('traits', 'aggregates'):
                body = self._get('%s/%s' % (base_path, key))
                if body is None:
                    return None
                record[key] = parse_names(body, key, uuid)
        return record

    def _read_consumer(self, consumer):
        body = self._get('/allocations/%s' % consumer)
        if not isinstance(body, dict):
            return None
        return {'project_id': body.get('project_id'),
                'user_id': body.get('user_id')}


def make_reader(conf, workers, read_consumers):
    """A PlacementReader over ``[placement]``."""
    client = client_mod.make_client(conf, 'placement', 'Placement',
                                    MICROVERSION, pool_size=workers)
    return PlacementReader(client, workers=workers,
                           read_consumers=read_consumers)
