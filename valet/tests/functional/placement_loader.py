"""Fill a real Placement service with hosts, traits, aggregates, usage.

Used by the functional tests, the drift test and the 5,000-host benchmark,
so it is plain code over one ``requests.Session`` with as few requests per
host as Placement allows: create the provider, then one PUT each for
inventories, traits and aggregates (skipped when empty); allocations go in
batches through ``POST /allocations``. Requests are sequential: a SQLite
Placement takes one writer at a time.

Outside the test runner::

    python -m valet.tests.functional.placement_loader --start --hosts 500

starts a Placement (``$VALET_OPENSTACK_VENV``), loads a synthetic cloud
into it and prints the timings; ``--url URL`` loads an existing one.
"""

import argparse
import dataclasses
import sys
import time
import uuid as uuid_mod

import requests

MICROVERSION = '1.39'
CONSUMER_TYPE = 'INSTANCE'
# Stable UUIDs per name, so that a re-run (or a drift test) finds the same
# providers and consumers again.
NAMESPACE = uuid_mod.UUID('5a1c3e62-6b7e-4d38-9b0e-7f0c3c9a4d11')
ALLOCATION_BATCH = 200


class PlacementError(Exception):
    """Placement refused a request; the message has method, path, body."""


def stable_uuid(name):
    return str(uuid_mod.uuid5(NAMESPACE, name))


@dataclasses.dataclass
class Provider:
    uuid: str
    name: str
    generation: int = 0
    parent: str | None = None


def inventory_record(value):
    """A Placement inventory record from a total or a partial record."""
    if isinstance(value, dict):
        record = dict(value)
    else:
        record = {'total': value}
    record.setdefault('max_unit', record['total'])
    return record


class PlacementLoader:
    """Writes to one Placement endpoint (noauth2 token by default)."""

    def __init__(self, url, token='admin', microversion=MICROVERSION,
                 timeout=60):
        self.url = url.rstrip('/')
        self.session = requests.Session()
        self.session.headers.update({
            'X-Auth-Token': token,
            'OpenStack-API-Version': 'placement %s' % microversion,
            'Accept': 'application/json'})
        self.timeout = timeout
        self.providers = {}      # name -> Provider
        self.requests = 0
        self._traits = set()     # custom traits known to exist

    # ------------------------------------------------------------- plumbing
    def request(self, method, path, body=None, expect=(200,)):
        self.requests += 1
        resp = self.session.request(method, self.url + path, json=body,
                                    timeout=self.timeout)
        if resp.status_code not in expect:
            raise PlacementError('%s %s -> %d: %s' % (
                method, path, resp.status_code, resp.text[:500]))
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def get(self, path):
        return self.request('GET', path)

    def provider(self, ref):
        """A Provider from a Provider, a name or a UUID."""
        if isinstance(ref, Provider):
            return ref
        if ref in self.providers:
            return self.providers[ref]
        for provider in self.providers.values():
            if provider.uuid == ref:
                return provider
        raise KeyError('unknown provider %s' % ref)

    # ------------------------------------------------------------ providers
    def ensure_traits(self, traits):
        """Create the custom traits not created yet (standard ones exist)."""
        for trait in traits:
            if trait.startswith('CUSTOM_') and trait not in self._traits:
                self.request('PUT', '/traits/%s' % trait, expect=(201, 204))
                self._traits.add(trait)

    def create_provider(self, name, uuid=None, parent=None):
        body = {'name': name, 'uuid': uuid or stable_uuid(name)}
        if parent is not None:
            body['parent_provider_uuid'] = self.provider(parent).uuid
        created = self.request('POST', '/resource_providers', body)
        provider = Provider(uuid=created['uuid'], name=name,
                            generation=created['generation'],
                            parent=body.get('parent_provider_uuid'))
        self.providers[name] = provider
        return provider

    def adopt(self, uuid):
        """Track a provider someone else created (e.g. nova-api)."""
        body = self.get('/resource_providers/%s' % uuid)
        provider = Provider(uuid=body['uuid'], name=body['name'],
                            generation=body['generation'],
                            parent=body.get('parent_provider_uuid'))
        self.providers[provider.name] = provider
        return provider

    def _put_generation(self, provider, path, key, value):
        provider = self.provider(provider)
        body = self.request('PUT', '/resource_providers/%s/%s' % (
            provider.uuid, path), {
                'resource_provider_generation': provider.generation,
                key: value})
        provider.generation = body['resource_provider_generation']
        return provider

    def set_inventories(self, provider, inventories):
        """``inventories``: {class: total or {total, reserved, ...}}."""
        records = {rc: inventory_record(v) for rc, v in inventories.items()}
        return self._put_generation(provider, 'inventories', 'inventories',
                                    records)

    def set_traits(self, provider, traits):
        traits = sorted(traits)
        self.ensure_traits(traits)
        return self._put_generation(provider, 'traits', 'traits', traits)

    def set_aggregates(self, provider, aggregates):
        return self._put_generation(provider, 'aggregates', 'aggregates',
                                    sorted(aggregates))

    def add_host(self, name, inventories, traits=(), aggregates=(),
                 uuid=None, parent=None):
        """A provider with its inventories, traits and aggregates."""
        provider = self.create_provider(name, uuid=uuid, parent=parent)
        if inventories:
            self.set_inventories(provider, inventories)
        if traits:
            self.set_traits(provider, traits)
        if aggregates:
            self.set_aggregates(provider, aggregates)
        return provider

    def delete_provider(self, provider):
        provider = self.provider(provider)
        self.request('DELETE', '/resource_providers/%s' % provider.uuid,
                     expect=(204,))
        self.providers.pop(provider.name, None)

    # ---------------------------------------------------------- allocations
    def _allocations(self, allocations):
        return {self.provider(ref).uuid: {'resources': dict(resources)}
                for ref, resources in allocations.items()}

    def allocate(self, consumer, allocations, project_id, user_id,
                 consumer_generation=None, consumer_type=CONSUMER_TYPE):
        """Replace a consumer's allocations: {provider: {class: amount}}."""
        self.request('PUT', '/allocations/%s' % consumer, {
            'allocations': self._allocations(allocations),
            'project_id': project_id, 'user_id': user_id,
            'consumer_generation': consumer_generation,
            'consumer_type': consumer_type}, expect=(204,))

    def allocate_many(self, consumers, batch=ALLOCATION_BATCH):
        """New consumers in batches: [{consumer, allocations, project_id,
        user_id}] (allocations as in ``allocate``)."""
        for start in range(0, len(consumers), batch):
            body = {}
            for entry in consumers[start:start + batch]:
                body[entry['consumer']] = {
                    'allocations': self._allocations(entry['allocations']),
                    'project_id': entry['project_id'],
                    'user_id': entry['user_id'],
                    'consumer_generation': entry.get('consumer_generation'),
                    'consumer_type': entry.get('consumer_type',
                                               CONSUMER_TYPE)}
            self.request('POST', '/allocations', body, expect=(204,))

    def delete_allocations(self, consumer):
        self.request('DELETE', '/allocations/%s' % consumer, expect=(204,))


# ------------------------------------------------------- a synthetic cloud
FLAVOR = {'VCPU': 2, 'MEMORY_MB': 4096, 'DISK_GB': 40}


def synthetic_cloud(hosts, servers_per_host=4, hosts_per_rack=20,
                    racks_per_zone=10, prefix='cmp'):
    """(host specs, consumer specs) of a regular cloud, deterministic.

    Host ``cmp00042`` sits in rack ``r0002`` (trait CUSTOM_RACK_R0002) of
    zone ``z000`` (aggregate UUID ``stable_uuid('zone-z000')``).
    """
    host_specs, consumers = [], []
    for index in range(hosts):
        rack = index // hosts_per_rack
        zone = rack // racks_per_zone
        name = '%s%05d' % (prefix, index)
        host_specs.append({
            'name': name,
            'inventories': {
                'VCPU': {'total': 32 + 16 * (index % 3),
                         'allocation_ratio': 4.0, 'reserved': 2},
                'MEMORY_MB': {'total': 131072, 'reserved': 4096,
                              'allocation_ratio': 1.5},
                'DISK_GB': {'total': 2000, 'allocation_ratio': 1.0}},
            'traits': ['CUSTOM_RACK_R%04d' % rack, 'HW_CPU_X86_AVX2'],
            'aggregates': [stable_uuid('zone-z%03d' % zone)]})
        for number in range(servers_per_host):
            consumers.append({
                'consumer': stable_uuid('%s-vm%d' % (name, number)),
                'allocations': {name: dict(FLAVOR)},
                'project_id': stable_uuid('project-%d' % (number % 5)),
                'user_id': stable_uuid('user-%d' % (number % 3))})
    return host_specs, consumers


def load(loader, host_specs, consumers=()):
    """Load host specs (``add_host`` kwargs) then consumers; seconds."""
    started = time.monotonic()
    for spec in host_specs:
        loader.add_host(**spec)
    hosts_done = time.monotonic()
    loader.allocate_many(list(consumers))
    return {'hosts': hosts_done - started,
            'allocations': time.monotonic() - hosts_done}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Load a synthetic cloud into a Placement service.')
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument('--url', help='Placement endpoint to load')
    where.add_argument('--start', action='store_true',
                       help='start a Placement (VALET_OPENSTACK_VENV) and '
                            'stop it afterwards')
    parser.add_argument('--token', default='admin')
    parser.add_argument('--hosts', type=int, default=500)
    parser.add_argument('--servers-per-host', type=int, default=4)
    parser.add_argument('--hosts-per-rack', type=int, default=20)
    parser.add_argument('--keep', action='store_true',
                        help='with --start: keep Placement running until '
                             'interrupted')
    args = parser.parse_args(argv)
    fixture = None
    url = args.url
    if args.start:
        # Imported here: the fixture module imports this one.
        from valet.tests.functional import placement_fixture
        fixture = placement_fixture.PlacementFixture()
        fixture.setUp()
        url = fixture.url
    try:
        loader = PlacementLoader(url, token=args.token)
        hosts, consumers = synthetic_cloud(
            args.hosts, args.servers_per_host, args.hosts_per_rack)
        times = load(loader, hosts, consumers)
        print('Placement %s: %d hosts in %.1f s, %d allocations in %.1f s, '
              '%d requests' % (url, len(hosts), times['hosts'],
                               len(consumers), times['allocations'],
                               loader.requests))
        if fixture is not None and args.keep:
            print('Placement runs at %s (token %s); Ctrl-C stops it' % (
                url, args.token))
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    finally:
        if fixture is not None:
            fixture.cleanUp()
    return 0


if __name__ == '__main__':
    sys.exit(main())
