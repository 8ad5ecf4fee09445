"""Base class of the tests that boot servers in the compute cloud.

Every test here shares the cloud of ``compute_cloud.shared()``, started
once per test process (stestr keeps these tests in one worker, see
``group_regex`` in ``.stestr.conf``). A test leaves the cloud as it found
it: its servers are deleted (and gone from Nova) and its Valet groups and
plans removed at cleanup, and a test that reconfigures nova-scheduler
gets the default configuration back (ValetFilter, ``failure_mode =
reject``) before the next test starts.

(This package is not called ``nova``: the helpers run as scripts from
``valet/tests/functional`` import the real ``nova`` package.)
"""

import time
import uuid

import testtools

from valet.tests.functional import compute_cloud


class CloudTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cloud = compute_cloud.shared()
        # The default scheduler (a no-op when it already runs that way).
        self.cloud.configure_scheduler(True)
        self._sessions = {}

    # -------------------------------------------------------------- Valet
    def _session(self, user):
        if user not in self._sessions:
            ks = self.cloud.keystone
            if user == 'admin':
                self._sessions[user] = ks.admin
            else:
                from valet.tests.functional import keystone_fixture
                self._sessions[user] = ks.session(
                    user, keystone_fixture.PASSWORD,
                    keystone_fixture.PERSONAS[user][0])
        return self._sessions[user]

    def valet(self, method, path, body=None, user='admin',
              expect=(200, 201, 202, 204)):
        """One Valet API call with a Keystone token of ``user``."""
        resp = self._session(user).request(
            self.cloud.valet_url + path, method, json=body, raise_exc=False,
            headers={'Accept': 'application/json'})
        if expect and resp.status_code not in expect:
            raise AssertionError('Valet %s %s -> %d: %s' % (
                method, path, resp.status_code, resp.text[:2000]))
        return resp

    def make_group(self, kind, level='host', projects=('alpha',)):
        """A Valet group of ``projects``, deleted at cleanup; its name."""
        name = 'g-%s-%s' % (kind, uuid.uuid4().hex[:8])
        self.valet('POST', '/v1/groups', {'name': name, 'type': kind,
                                          'level': level})
        self.addCleanup(self.valet, 'DELETE', '/v1/groups/%s' % name,
                        expect=(204, 404))
        if projects:
            self.valet('PUT', '/v1/groups/%s/members' % name, {
                'members': [self.cloud.keystone.ids[p] for p in projects]})
            # A group with members is deleted once they are removed.
            self.addCleanup(self._remove_members, name)
        return name

    def _remove_members(self, group):
        # Valet forgets a deleted server when Nova's notification comes
        # in; until then the group's members still have servers in it.
        def removed():
            resp = self.valet('DELETE', '/v1/groups/%s/members' % group,
                              expect=())
            if resp.status_code == 409 and \
                    'valet.group.member_in_use' in resp.text:
                return False
            if resp.status_code not in (204, 404):
                raise AssertionError('Valet DELETE members of %s -> %d: %s'
                                     % (group, resp.status_code, resp.text))
            return True
        self.wait_until(removed, message='members of %s removed' % group)

    def plan(self, servers, project='alpha', flavor='valet.small'):
        """Plan ``servers`` (name -> group names) through Valet's API as
        a member of ``project``, the way Heat's plugin does; the plan is
        deleted at cleanup. Returns (stack id, {name: (orchestration id,
        planned host)})."""
        stack_id = str(uuid.uuid4())
        resources = {}
        for name, groups in servers.items():
            oid = str(uuid.uuid4())
            properties = {'flavor': flavor, 'image': self.cloud.image_id}
            if groups:
                properties['metadata'] = {'valet': {'groups': list(groups)}}
            resources[oid] = {
                'name': name, 'type': 'OS::Nova::Server',
                'properties': properties,
                'metadata': {'heat_resource_uuid': oid,
                             'heat_stack_id': stack_id}}
        plan = self.valet('POST', '/v1/plans', {
            'plan_name': 'stack-%s' % stack_id[:8], 'stack_id': stack_id,
            'resources': resources}, user='%s-member' % project).json()[
            'plan']
        self.addCleanup(self.valet, 'DELETE', '/v1/plans/%s' % plan['id'],
                        expect=(204, 404))
        return stack_id, {p['name']: (oid, p['location'])
                          for oid, p in plan['placements'].items()}

    def boot_planned(self, name, stack_id, oid, project='alpha',
                     **kwargs):
        """Boot a planned server with the hints Heat gives it."""
        return self.boot(name, project=project, hints={
            'heat_resource_uuid': oid, 'heat_stack_id': stack_id}, **kwargs)

    def valet_placements(self, **query):
        text = '&'.join('%s=%s' % item for item in query.items())
        return self.valet('GET', '/v1/placements?' + text).json()[
            'placements']

    def valet_location(self, server_id):
        """Where Valet holds server ``server_id`` (by Nova's UUID)."""
        found = self.valet_placements(resource_id=server_id)
        return found[0]['location'] if found else None

    # --------------------------------------------------------------- Nova
    def boot(self, name, wait=True, **kwargs):
        """Boot (deleted at cleanup); the server, ACTIVE or ERROR if
        ``wait``."""
        body = self.cloud.boot(name, **kwargs)
        if 'reservation_id' in body:
            servers = self.cloud.servers_of_reservation(
                body['reservation_id'])
            for server in servers:
                self.addCleanup(self.cloud.delete_server, server['id'])
            if wait:
                servers = [self.cloud.wait_server(s['id']) for s in servers]
            return servers
        server_id = body['server']['id']
        self.addCleanup(self.cloud.delete_server, server_id)
        return self.cloud.wait_server(server_id) if wait else body['server']

    def boot_active(self, name, **kwargs):
        server = self.boot(name, **kwargs)
        self.assertEqual('ACTIVE', server['status'], self.explain(server))
        return server

    def explain(self, server):
        """What to print when a server is not where it should be."""
        return 'server %s: status %s, host %s, fault %s' % (
            server['name'], server['status'],
            server.get('OS-EXT-SRV-ATTR:host'), server.get('fault'))

    def host(self, server):
        return compute_cloud.ComputeCloud.host_of(server)

    def rack_of(self, host):
        for rack, hosts in self.cloud.racks.items():
            if host in hosts:
                return rack
        raise AssertionError('host %s is in no rack' % host)

    def wait_until(self, predicate, seconds=120, message=''):
        deadline = time.monotonic() + seconds
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError('not true within %ss: %s'
                                     % (seconds, message))
            time.sleep(0.5)
