"""The engine follows a real cloud: Nova's notifications and drift.

A real nova-api in front of a real Placement (``cloud.Cloud``), Nova's own
notification objects sent over the real RabbitMQ (``nova_notify.py``), and
an in-process ``EngineService`` with the ``openstack`` inventory, the real
``NotificationListener``, SQL storage and the API loaded in-process
(``cloud.Valet``). No nova-compute runs: what Nova's scheduler and computes
would write into Placement (allocations) the tests write with the loader,
next to the notifications Nova would send.

Skipped (or failed, with CI=true) without RabbitMQ on 127.0.0.1:5672 or
without nova and Placement in the OpenStack venv.
"""

import collections
import logging
import re
import time
import uuid

import fixtures
import testtools

from valet.tests.functional import cloud

WAIT = 60
SMALL = {'name': 'm1.small', 'vcpus': 1, 'memory_mb': 2048, 'root_gb': 20}
LARGE = {'name': 'm1.large', 'vcpus': 4, 'memory_mb': 8192, 'root_gb': 80}
HOSTS = ('cmp1', 'cmp2', 'cmp3', 'cmp4')
REPAIRED = 'Drift repaired: '
REBUILT = 'Engine model rebuilt'


def server(name, flavor='m1.small', groups=()):
    """A HOT OS::Nova::Server resource, as the Heat plugin sends it."""
    props = {'flavor': flavor, 'image': 'cirros'}
    if groups:
        props['metadata'] = {'valet': {'groups': list(groups)}}
    return {'name': name, 'type': 'OS::Nova::Server', 'properties': props}


def new_id():
    return str(uuid.uuid4())


class _Base(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='valet', level=logging.INFO))

    def start(self, options=None):
        # The FakeLogger's capture is the failed test's "pythonlogging".
        self.valet = self.useFixture(cloud.Valet(self.cloud, options))
        return self.valet

    @property
    def dc(self):
        return self.valet.endpoint.dc

    def wait(self, predicate, message):
        return cloud.wait_until(predicate, WAIT, message=message)

    def log_lines(self, start=0):
        return self.log.output[start:].splitlines()

    def repairs(self, start=0):
        return [line[line.index(REPAIRED) + len(REPAIRED):]
                for line in self.log_lines(start) if REPAIRED in line]

    def rebuilds(self):
        return self.log.output.count(REBUILT)

    def plan(self, stack_id, resources, locations=None):
        body = {'plan_name': stack_id, 'stack_id': stack_id,
                'resources': resources}
        if locations:
            body['locations'] = locations
        out = self.valet.call('POST', '/v1/plans', body, status=201)
        return {orch: p['location']
                for orch, p in out.json['plan']['placements'].items()}

    def group(self, name, kind='diversity', level='host'):
        self.valet.call('POST', '/v1/groups', {
            'name': name, 'type': kind, 'level': level}, status=201)

    def reserve(self, orch, host, resource_id):
        ref = self.valet.placement(orch).id
        return self.valet.call('POST', '/v1/placements/%s' % ref, {
            'locations': [host], 'resource_id': resource_id},
            status=201).json['placement']

    def assertFree(self, host):
        """Nothing runs on ``host``: its whole capacity is free."""
        self.assertEqual([], self.dc.servers_on(host))
        self.assertEqual(self.dc.capacity(host), self.dc.free(host))

    def assertStored(self, orch, location, resource_id=None):
        p = self.valet.placement(orch)
        self.assertEqual(location, p.location, 'placement of %s' % orch)
        if resource_id is not None:
            self.assertEqual(resource_id, p.resource_id)
        return p


class FollowNotificationsTest(_Base):
    """Nova's versioned notifications move the model and storage."""

    def setUp(self):
        super().setUp()
        cloud.nova_python()
        self.cloud = self.useFixture(cloud.Cloud(nova=True))
        nova = self.cloud.nova
        for name in HOSTS:
            self.cloud.add_host(name)
        nova.create_aggregate('rack-a', hosts=['cmp1', 'cmp2'],
                              metadata={'valet:rack': 'ra'})
        self.rack_b = nova.create_aggregate(
            'rack-b', hosts=['cmp3', 'cmp4'], metadata={'valet:rack': 'rb'})
        for flavor in (SMALL, LARGE):
            nova.create_flavor(flavor['name'], flavor['vcpus'],
                               flavor['memory_mb'], flavor['root_gb'])
        self.start()

    def instance(self, event_type, uuid, host, flavor=SMALL, **kw):
        """A nova_notify spec; the host's node (its resource provider)
        has the service host's name, as in the fixture."""
        spec = {'event_type': event_type, 'uuid': uuid, 'host': host,
                'node': host, 'state': 'active', 'name': 'vm-' + uuid[:8],
                'project': cloud.PROJECT, 'user': 'u1', 'flavor': flavor,
                'metadata': {}}
        spec.update(kw)
        return spec

    def test_model_follows_nova(self):
        valet, nova = self.valet, self.cloud.nova
        self.assertEqual(set(HOSTS), set(self.dc.hosts))
        self.assertEqual({'cmp1': 'ra', 'cmp3': 'rb'},
                         {h: self.dc.domain_of(h, 'rack')
                          for h in ('cmp1', 'cmp3')})
        self.group('web')
        oa, ob, oc = 'web-a', 'web-b', 'web-c'
        planned = self.plan('stack-web', {
            oa: server('a', groups=['web']), ob: server('b', groups=['web']),
            oc: server('c', groups=['web'])})
        self.assertEqual(3, len(set(planned.values())), planned)
        spare = (set(HOSTS) - set(planned.values())).pop()
        ua, ub, uc, ux = new_id(), new_id(), new_id(), new_id()
        small = cloud.flavor_demand(SMALL)

        # -- servers boot: bound by metadata, by reservation, elsewhere,
        # and one Valet never planned that breaks the diversity group.
        self.reserve(ob, planned[ob], ub)
        for uuid_, host in ((ua, planned[oa]), (ub, planned[ob]),
                            (uc, spare), (ux, planned[oa])):
            self.cloud.allocate(uuid_, host, small)
        valet.emit([
            self.instance('instance.create.end', ua, planned[oa],
                          metadata={'valet_orchestration_id': oa}),
            self.instance('instance.create.end', ub, planned[ob]),
            self.instance('instance.create.end', uc, spare,
                          metadata={'valet_orchestration_id': oc}),
            self.instance('instance.create.end', ux, planned[oa],
                          name='intruder',
                          metadata={'valet_groups': 'web'}),
        ])
        self.wait(lambda: ux in self.dc.servers, 'intruder in the model')
        self.assertStored(oa, planned[oa], ua)
        self.assertTrue(self.assertStored(ob, planned[ob], ub).reserved)
        self.assertStored(oc, spare, uc)
        self.assertEqual({oa, ob, oc, ux}, set(self.dc.servers))
        self.assertEqual(spare, self.dc.servers[oc].host)
        self.assertFree(planned[oc])
        intruder = self.dc.servers[ux]
        self.assertEqual((planned[oa], ('web',), None, small),
                         (intruder.host, intruder.groups, intruder.stack,
                          intruder.demand))
        self.assertEqual({ua: oa, ub: ob, uc: oc},
                         {k: v for k, v in valet.endpoint.bindings.items()
                          if k in (ua, ub, uc)})
        invalid = valet.resources()
        self.assertEqual({ux, valet.placement(oa).id}, set(invalid))
        self.assertEqual((None, ux, planned[oa]), (
            invalid[ux]['plan_id'], invalid[ux]['resource_id'],
            invalid[ux]['location']))
        self.assertIn('diversity', invalid[ux]['message'])

        # -- resize, live migration, delete, a service disabled.
        before = self.dc.free(planned[oa])
        self.cloud.allocate(ua, planned[oa], cloud.flavor_demand(LARGE))
        self.cloud.allocate(ub, planned[oc], small)
        self.cloud.loader.delete_allocations(uc)
        nova.disable_service(planned[ob], reason='maintenance')
        valet.emit([
            self.instance('instance.resize_finish.end', ua, planned[oa],
                          LARGE, state='resized'),
            self.instance('instance.resize_confirm.end', ua, planned[oa],
                          LARGE),
            self.instance('instance.live_migration_post_dest.end', ub,
                          planned[oc]),
            # The source's stale report must not move it back.
            self.instance('instance.live_migration_post.end', ub,
                          planned[ob]),
            self.instance('instance.delete.end', uc, spare,
                          state='deleted'),
            {'event_type': 'service.update', 'host': planned[ob],
             'disabled': True, 'disabled_reason': 'maintenance'},
        ])
        self.wait(lambda: not self.dc.hosts[planned[ob]].enabled,
                  'host %s disabled' % planned[ob])
        self.assertEqual(cloud.flavor_demand(LARGE),
                         self.dc.servers[oa].demand)
        after = self.dc.free(planned[oa])
        self.assertEqual({'VCPU': 3.0, 'MEMORY_MB': 6144.0,
                          'DISK_GB': 60.0},
                         {rc: before[rc] - after[rc]
                          for rc in ('VCPU', 'MEMORY_MB', 'DISK_GB')})
        self.assertStored(oa, planned[oa], ua)
        self.assertStored(ob, planned[oc], ub)
        self.assertEqual(planned[oc], self.dc.servers[ob].host)
        self.assertFree(planned[ob])
        gone = self.assertStored(oc, None)
        self.assertFalse(gone.reserved)
        self.assertNotIn(oc, self.dc.servers)
        self.assertFree(spare)
        self.assertIn('Host %s disabled (service.update)' % planned[ob],
                      self.log.output)

        # -- a new compute service: its capacity comes from a resync.
        nova.add_compute_host('cmp5')
        nova.add_host_to_aggregate(self.rack_b['id'], 'cmp5')
        self.assertNotIn('cmp5', self.dc.hosts)
        mark, rebuilt = len(self.log.output), self.rebuilds()
        model = {sid: (s.host, s.demand) for sid, s in self.dc.servers.items()}
        valet.emit([{'event_type': 'service.create', 'host': 'cmp5'}])
        self.wait(lambda: 'cmp5' in self.dc.hosts, 'cmp5 in the model')
        self.wait(lambda: self.rebuilds() > rebuilt, 'the resync logged')
        self.assertIn('Resync requested: new host cmp5', self.log.output)
        self.assertEqual('rb', self.dc.domain_of('cmp5', 'rack'))
        self.assertTrue(self.dc.hosts['cmp5'].enabled)
        # Placement and Nova agree with what the notifications did: the
        # resync repairs nothing else.
        self.assertEqual(['host cmp5 added'], self.repairs(mark))
        self.assertEqual(model, {sid: (s.host, s.demand)
                                 for sid, s in self.dc.servers.items()})
        self.assertFalse(self.dc.hosts[planned[ob]].enabled)
        self.assertStored(oc, None)
        self.assertStored(ob, planned[oc], ub)


class DriftTest(_Base):
    """Placement changed behind Valet's back; one resync repairs it."""

    def setUp(self):
        super().setUp()
        self.cloud = self.useFixture(cloud.Cloud(nova=True))
        for name, rack in (('cmp1', 'R1'), ('cmp2', 'R1'), ('cmp3', 'R2'),
                           ('cmp4', 'R2')):
            self.cloud.add_host(name, traits=['CUSTOM_RACK_' + rack])
        self.cloud.nova.create_flavor('m1.small', 1, 2048, 20)
        self.small = cloud.flavor_demand(SMALL)
        # A server Valet never planned, running before the engine starts.
        self.legacy = new_id()
        self.cloud.allocate(self.legacy, 'cmp1', self.small)
        self.start({'nova_notifications': {'enabled': 'false'}})
        self.ids = {self.legacy: self.legacy}

    def by_subject(self, repairs):
        """{host or server: number of repair lines about it}.

        A server is named by its orchestration id, or by the id of its
        placement; both count as the server.
        """
        counts = collections.Counter()
        for line in repairs:
            host = re.match(r'host ([^ :]+)', line)
            if host:
                found = {host.group(1)}
            else:
                found = {ref for ref, pid in self.ids.items()
                         if ref in line or pid in line}
            counts.update(found or {line})
        return dict(counts)

    def test_one_resync_repairs_drift(self):
        valet, loader = self.valet, self.cloud.loader
        self.assertIn(self.legacy, self.dc.servers)
        self.group('db')
        planned = self.plan('stack-db', {
            new_id(): server('db-%d' % n, groups=['db'])
            for n in range(4)})
        self.assertEqual(4, len(set(planned.values())), planned)
        # Roles by host: s2 shares cmp1 with the legacy server and stays.
        s2, s1, s3, s4 = sorted(planned, key=lambda sid: (
            planned[sid] != 'cmp1', sid))
        # One more server, planned but never built, on a host that stays.
        s5 = new_id()
        planned.update(self.plan('stack-late', {s5: server('late')},
                                 locations=[planned[s2]]))
        u1, u2, u3 = new_id(), new_id(), new_id()
        for sid, uuid_ in ((s1, u1), (s2, u2), (s3, u3)):
            self.reserve(sid, planned[sid], uuid_)
            self.cloud.allocate(uuid_, planned[sid], self.small)
        # An ad-hoc boot: Nova's consumer is the orchestration id.
        self.cloud.allocate(s4, planned[s4], self.small)
        pid = {sid: valet.placement(sid).id for sid in (s1, s2, s3, s4, s5)}
        self.ids.update(pid)

        # A resync with Placement as Valet planned it repairs nothing.
        mark = len(self.log.output)
        valet.endpoint.rebuild()
        self.assertEqual([], self.repairs(mark))
        self.assertEqual({u1: s1, u2: s2, u3: s3, s4: s4},
                         {k: v for k, v in valet.endpoint.bindings.items()
                          if k in (u1, u2, u3, s4)})
        self.assertEqual({sid: planned[sid] for sid in pid},
                         {sid: self.dc.servers[sid].host for sid in pid})
        self.assertEqual({}, valet.resources())

        # -- behind Valet's back.
        gone_host, moved_to, resized = planned[s4], planned[s2], planned[s3]
        self.cloud.add_host('cmp5', traits=['CUSTOM_RACK_R9'])
        # A provider Nova runs no compute service for: disabled.
        loader.add_host('cmp6', {'VCPU': 8, 'MEMORY_MB': 16384,
                                 'DISK_GB': 200},
                        traits=['CUSTOM_RACK_R1'])
        loader.delete_allocations(s4)
        loader.delete_provider(gone_host)
        self.cloud.allocate(u1, moved_to, self.small)
        loader.delete_allocations(u3)
        intruder = new_id()
        self.ids[intruder] = intruder
        self.cloud.allocate(intruder, 'cmp5', {'VCPU': 2, 'MEMORY_MB': 4096,
                                               'DISK_GB': 40})
        loader.adopt(loader.provider(resized).uuid)
        loader.set_inventories(resized, {
            'VCPU': {'total': 32, 'reserved': 2, 'allocation_ratio': 4.0},
            'MEMORY_MB': {'total': 65536, 'reserved': 4096},
            'DISK_GB': 1024})

        # -- one resync.
        mark = len(self.log.output)
        valet.endpoint.rebuild()
        first = self.repairs(mark)
        self.assertEqual(set(HOSTS) - {gone_host} | {'cmp5', 'cmp6'},
                         set(self.dc.hosts))
        self.assertEqual(('r9', True), (self.dc.domain_of('cmp5', 'rack'),
                                        self.dc.hosts['cmp5'].enabled))
        self.assertEqual(('r1', False), (self.dc.domain_of('cmp6', 'rack'),
                                         self.dc.hosts['cmp6'].enabled))
        spec = self.dc.hosts[resized]
        self.assertEqual((32, {'VCPU': 2, 'MEMORY_MB': 4096}),
                         (spec.capacity['VCPU'], spec.reserved))
        self.assertEqual((32 - 2) * 4.0, self.dc.capacity(resized)['VCPU'])
        # Moved: storage and model follow Placement.
        self.assertStored(s1, moved_to, u1)
        self.assertEqual(moved_to, self.dc.servers[s1].host)
        # Its host left: released at once.
        self.assertFalse(self.assertStored(s4, None).reserved)
        self.assertNotIn(s4, self.dc.servers)
        # Deleted behind Valet's back: held until missing_timeout, which
        # counts from this resync.
        self.assertStored(s3, resized, u3)
        self.assertEqual(resized, self.dc.servers[s3].host)
        # Never built: held until planned_timeout (an hour).
        self.assertStored(s5, planned[s5])
        self.assertEqual(planned[s5], self.dc.servers[s5].host)
        # Imported, and its resources counted.
        self.assertEqual(('cmp5', {'VCPU': 2, 'MEMORY_MB': 4096,
                                   'DISK_GB': 40}),
                         (self.dc.servers[intruder].host,
                          self.dc.servers[intruder].demand))
        self.assertEqual(self.dc.capacity('cmp5')['VCPU'] - 2,
                         self.dc.free('cmp5')['VCPU'])
        self.assertIn(self.legacy, self.dc.servers)
        # s1 now shares its host with s2: the diversity group is broken.
        invalid = valet.resources()
        self.assertEqual({pid[s1], pid[s2]}, set(invalid))
        self.assertEqual((moved_to, u1), (invalid[pid[s1]]['location'],
                                          invalid[pid[s1]]['resource_id']))

        # -- a second resync, after missing_timeout: s3 is released.
        time.sleep(1.5)
        mark = len(self.log.output)
        valet.endpoint.rebuild()
        second = self.repairs(mark)
        self.assertFalse(self.assertStored(s3, None).reserved)
        self.assertNotIn(s3, self.dc.servers)
        self.assertFree(resized)
        self.assertEqual({pid[s1], pid[s2]}, set(valet.resources()))

        # -- nothing changed: nothing repaired.
        mark = len(self.log.output)
        valet.endpoint.rebuild()
        self.assertEqual([], self.repairs(mark))
        self.assertIn('0 repairs', self.log_lines(mark)[-1])

        # Every repair logged once, at INFO (checked last, so that a
        # failure here does not hide the ones above).
        self.assertEqual({gone_host: 1, 'cmp5': 1, 'cmp6': 1, resized: 1,
                          s1: 1, s4: 1, intruder: 1},
                         self.by_subject(first), first)
        self.assertEqual({s3: 1}, self.by_subject(second), second)
