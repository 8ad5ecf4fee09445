"""Read compute hosts and their usage from the Placement API.

Placement has no bulk read of inventories or allocations, so those cost
two GETs per provider (one when it has no inventory). Everything else is
read in bulk:

* ``GET /resource_providers``: every provider, once;
* traits: ``GET /traits?associated=true`` lists the traits some provider
  has, then ``GET /resource_providers?required=<trait>`` once per trait;
* aggregates: when the caller knows the aggregate UUIDs (Nova's host
  aggregates, which nova-api mirrors into Placement),
  ``GET /resource_providers?member_of=<uuid>`` once per aggregate, plus the
  aggregates of sharing providers (``MISC_SHARES_VIA_AGGREGATE``), which
  Nova does not know; otherwise ``GET .../aggregates`` per root provider.

A 5,000-host cloud thus costs about 10,000 small GETs (15,000 without
Nova's aggregates) instead of 20,000; a bounded thread pool runs them. The
result is the same as reading each root's traits and aggregates, except
that with Nova's aggregate UUIDs an aggregate that exists only in Placement
and holds no sharing provider is not seen: it has no name or metadata, and
nothing in Nova schedules by it.

A *host* is a provider tree whose resources include VCPU or MEMORY_MB and
whose root is not a sharing provider (``MISC_SHARES_VIA_AGGREGATE``).
Nested providers (NUMA cells, vGPUs, bandwidth) are folded into their root:
their inventories add to the host's, their allocations to the consumer's
demand on that host. Traits and aggregates are those of the root only.
"""

import concurrent.futures
import dataclasses
import threading

from oslo_log import log as logging

from valet.inventory import base
from valet.inventory.openstack import client as client_mod

LOG = logging.getLogger(__name__)

# 1.18 (Rocky): GET /resource_providers?required=<traits>, the bulk trait
# read. It brings what the reader used before: 1.14 (Queens) providers
# carry parent_provider_uuid and root_provider_uuid (nested providers);
# 1.12 GET /allocations/{consumer} gives project and user; 1.6 GET /traits
# ?associated; 1.3 ?member_of. Nothing read changes shape between 1.14 and
# 1.18 (1.15 adds headers, 1.16/1.17 concern allocation candidates), so
# the only cost of the pin is that a Queens Placement (end of life) answers
# 406 to every request instead of serving the per-provider reads.
MICROVERSION = '1.18'
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
    requests: int = 0     # GETs this read made


# ------------------------------------------------------------ JSON parsing
def _fail(what, message):
    raise base.InventoryError('Placement: %s: %s' % (what, message))


def _number(what, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(what, 'expected a number, got %r' % (value,))
    return value


def parse_providers(body, what='GET /resource_providers'):
    """``GET /resource_providers`` -> [{uuid, name, root, parent}]."""
    if not isinstance(body, dict) or not isinstance(
            body.get('resource_providers'), list):
        _fail(what, 'no "resource_providers" list in the response')
    out = []
    for entry in body['resource_providers']:
        if not isinstance(entry, dict) or not entry.get('uuid'):
            _fail(what, 'a provider without a uuid')
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


def parse_names(body, key, provider=None):
    """``GET .../traits`` or ``.../aggregates`` -> frozenset of names.

    Without ``provider``, the body of ``GET /traits``.
    """
    values = body.get(key) if isinstance(body, dict) else None
    if not isinstance(values, list):
        _fail('provider %s %s' % (provider, key) if provider else
              'GET /%s' % key, 'no "%s" list in the response' % key)
    return frozenset(str(v) for v in values)


def invert(members):
    """{name: uuids holding it} -> {uuid: frozenset of names}."""
    out = {}
    for name, uuids in members.items():
        for uuid in uuids:
            out.setdefault(uuid, set()).add(name)
    return {uuid: frozenset(names) for uuid, names in out.items()}


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
class _Pool:
    """A bounded thread pool; the first task that fails fails the read.

    ``results`` returns as soon as the futures it waits for are done, and
    raises as soon as any task submitted has failed, even one it does not
    wait for: a read does not go on for minutes after Placement broke.
    """

    def __init__(self, workers):
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix='valet-placement')
        self.changed = threading.Condition()
        self.failure = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        # On an error the queued requests are pointless: drop them.
        self.executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, function, *args):
        future = self.executor.submit(function, *args)
        future.add_done_callback(self._done)
        return future

    def _done(self, future):
        if future.cancelled() or future.exception() is None:
            return
        with self.changed:
            if self.failure is None:
                self.failure = future.exception()
            self.changed.notify_all()

    def results(self, futures):
        """``{key: result}`` of ``{key: future}``; raises the first error."""
        remaining = [len(futures)]

        def one_done(_):
            with self.changed:
                remaining[0] -= 1
                self.changed.notify_all()

        for future in futures.values():
            # Runs after _done (callbacks run in order), at once if done.
            future.add_done_callback(one_done)
        with self.changed:
            self.changed.wait_for(
                lambda: self.failure is not None or not remaining[0])
            if self.failure is not None:
                raise self.failure
        return {key: future.result() for key, future in futures.items()}


class PlacementReader:
    """Reads every compute host of a Placement service."""

    def __init__(self, client, workers=8, read_consumers=False):
        self.client = client
        self.workers = workers
        self.read_consumers = read_consumers
        # Tests and benchmarks only: read each root provider's traits and
        # aggregates with its own GETs (four per host), the reads the bulk
        # ones replace and must match.
        self.per_provider = False
        self._lock = threading.Lock()
        self._requests = 0

    def read(self, aggregates=None):
        """A PlacementView of every provider.

        ``aggregates``: the UUIDs of the aggregates whose members are read
        in bulk (Nova's host aggregates); None reads each root provider's
        aggregates instead.
        """
        with self._lock:
            self._requests = 0
        providers = parse_providers(self._get('/resource_providers',
                                              tolerate=()))
        roots = {p['uuid']: p for p in providers if p['root'] == p['uuid']}
        per_root = self.per_provider or aggregates is None
        with _Pool(self.workers) as pool:
            # The few bulk reads first: the sharing providers' aggregates
            # wait for the traits.
            trait_futures = None
            if not self.per_provider:
                body = self._get('/traits', {'associated': 'true'},
                                 tolerate=())
                trait_futures = {
                    trait: pool.submit(self._members, 'required', trait)
                    for trait in sorted(parse_names(body, 'traits'))}
            member_futures = {}
            if not per_root:
                for uuid in sorted(set(aggregates)):
                    member_futures[uuid] = pool.submit(
                        self._members, 'member_of', uuid)
            record_futures = {
                p['uuid']: pool.submit(self._read_provider, p, per_root)
                for p in providers}
            traits = members = None
            if trait_futures is not None:
                traits = invert(pool.results(trait_futures))
            if not per_root:
                # Aggregates of shared storage are Placement's own: Nova
                # does not know them, yet hosts are in them.
                sharing = {
                    uuid: pool.submit(self._aggregates_of, uuid)
                    for uuid in sorted(roots)
                    if SHARING_TRAIT in traits.get(uuid, ())}
                for found in pool.results(sharing).values():
                    for uuid in sorted(found - set(member_futures)):
                        member_futures[uuid] = pool.submit(
                            self._members, 'member_of', uuid)
                members = invert(pool.results(member_futures))
            records = pool.results(record_futures)
        vanished = sum(1 for r in records.values() if r is None)
        trees = {}
        parts_of = {}
        for p in providers:
            if p['root'] in roots and records.get(p['uuid']) is not None:
                parts_of.setdefault(p['root'], []).append(records[p['uuid']])
        for uuid, root in roots.items():
            record = records.get(uuid)
            if record is None:
                continue
            tree = ProviderTree(
                uuid=uuid, name=root['name'],
                traits=(record['traits'] if traits is None
                        else traits.get(uuid, frozenset())),
                aggregates=(record['aggregates'] if members is None
                            else members.get(uuid, frozenset())))
            parts = parts_of[uuid]
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
            with _Pool(self.workers) as pool:
                details = pool.results({
                    c: pool.submit(self._read_consumer, c)
                    for c in consumers})
            view.consumers = {c: d for c, d in details.items() if d}
        view.requests = self._requests
        return view

    def _get(self, path, params=None, tolerate=(404,)):
        # By default a provider deleted after the list was read: 404.
        with self._lock:
            self._requests += 1
        return self.client.get(path, params=params, tolerate=tolerate)

    def _members(self, key, value):
        """UUIDs of the providers with trait (``required``) or in aggregate
        (``member_of``) ``value``."""
        body = self._get('/resource_providers', {key: value}, tolerate=(400,))
        if body is None:
            # A trait deleted since it was listed, or an aggregate id that
            # is not a UUID: no provider has it.
            LOG.debug('Placement: no providers with %s=%s (400)', key, value)
            return frozenset()
        what = 'GET /resource_providers?%s=%s' % (key, value)
        return frozenset(p['uuid'] for p in parse_providers(body, what))

    def _aggregates_of(self, uuid):
        body = self._get('/resource_providers/%s/aggregates' % uuid)
        if body is None:
            return frozenset()
        return parse_names(body, 'aggregates', uuid)

    def _read_provider(self, provider, aggregates_too):
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
            keys = ['traits'] if self.per_provider else []
            if aggregates_too:
                keys.append('aggregates')
            for key in keys:
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
