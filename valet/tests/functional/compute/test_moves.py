"""Moving a server goes through Valet too.

A migration, resize or evacuation is a new scheduling request for a
server Valet already placed: the filter asks Valet to replan it within the
hosts Nova offers, so the server's groups still hold on its new host, and
Valet holds it there afterwards. The cloud is real except Neutron (a
stand-in; servers have no networks).
"""

import uuid

from valet.tests.functional.compute import base


class MovesTest(base.CloudTestCase):

    def _pair(self):
        """Two planned servers of a host-diversity group: (mover, mate)."""
        group = self.make_group('diversity')
        stack, planned = self.plan({'mover': [group], 'mate': [group]})
        mover, mate = [self.boot_planned(name, stack, planned[name][0])
                       for name in ('mover', 'mate')]
        for server in (mover, mate):
            self.assertEqual('ACTIVE', server['status'],
                             self.explain(server))
        self.assertNotEqual(self.host(mover), self.host(mate))
        return mover, mate

    def _action(self, server, body, token=None):
        kwargs = {'token': token} if token else {}
        self.cloud.compute('POST', '/servers/%s/action' % server['id'],
                           body, **kwargs)

    def _confirmed(self, server):
        moved = self.cloud.wait_server(server['id'],
                                       statuses=('VERIFY_RESIZE', 'ERROR'))
        self.assertEqual('VERIFY_RESIZE', moved['status'],
                         self.explain(moved))
        self._action(server, {'confirmResize': None})
        return self.cloud.wait_server(server['id'])

    def _last_action_failed(self, server, action):
        actions = self.cloud.compute(
            'GET', '/servers/%s/os-instance-actions' % server['id']
        ).json()['instanceActions']
        found = [a for a in actions if a['action'] == action]
        if not found:
            return False
        detail = self.cloud.compute(
            'GET', '/servers/%s/os-instance-actions/%s' % (
                server['id'], found[0]['request_id'])).json()[
            'instanceAction']
        return any(e.get('result') == 'Error'
                   for e in detail.get('events', []))

    def test_migrate_asks_valet(self):
        mover, mate = self._pair()
        source = self.host(mover)
        # Onto the group mate's host (2.56: an admin names the host): Nova
        # offers only that host, Valet refuses it, the server stays.
        self._action(mover, {'migrate': {'host': self.host(mate)}})
        self.wait_until(lambda: self._last_action_failed(mover, 'migrate'),
                        message='the migration to the mate\'s host failing')
        stayed = self.cloud.wait_server(mover['id'])
        self.assertEqual(('ACTIVE', source),
                         (stayed['status'], self.host(stayed)))
        # Free to choose: a host that is neither the source nor the mate's,
        # where Valet now holds it.
        self._action(mover, {'migrate': None})
        moved = self._confirmed(mover)
        self.assertNotIn(self.host(moved), (source, self.host(mate)))
        self.assertEqual(self.host(moved), self.valet_location(mover['id']))

    def test_resize_asks_valet(self):
        mover, mate = self._pair()
        source = self.host(mover)
        self._action(mover, {'resize': {'flavorRef': 'valet.medium'}},
                     token=self.cloud.project_token('alpha'))
        moved = self._confirmed(mover)
        self.assertEqual('valet.medium', moved['flavor']['original_name'])
        self.assertNotIn(self.host(moved), (source, self.host(mate)))
        self.assertEqual(self.host(moved), self.valet_location(mover['id']))

    def test_migrate_of_an_ad_hoc_server_is_replanned(self):
        # Nobody planned these: Valet replans the server it placed when it
        # boots (its placement is known by the instance UUID).
        group = self.make_group('diversity')
        mover, mate = [self.boot_active(name, hints={'valet_groups': group})
                       for name in ('mover', 'mate')]
        source = self.host(mover)
        self._action(mover, {'migrate': None})
        moved = self._confirmed(mover)
        self.assertNotIn(self.host(moved), (source, self.host(mate)))
        self.assertEqual(self.host(moved), self.valet_location(mover['id']))

    def _valet_knows(self, host):
        """Wait until Valet can place on ``host``: a one-server plan
        limited to it succeeds (and is deleted again)."""
        def placed():
            stack = str(uuid.uuid4())
            probe = {'name': 'probe', 'type': 'OS::Nova::Server',
                     'properties': {'flavor': 'valet.small',
                                    'image': self.cloud.image_id}}
            resp = self.valet('POST', '/v1/plans', {
                'plan_name': 'probe-%s' % stack[:8], 'stack_id': stack,
                'locations': [host], 'resources': {stack: probe}},
                user='alpha-member', expect=())
            if resp.status_code not in (200, 201):
                return False
            self.valet('DELETE', '/v1/plans/%s' % resp.json()['plan']['id'])
            return True
        self.wait_until(placed, message='Valet places on %s' % host)

    def test_evacuate_asks_valet(self):
        # Evacuation needs its source compute down for good; nova's fake
        # driver cannot bring a stopped compute back, so the server starts
        # on a spare compute that the test removes at the end.
        group = self.make_group('diversity')
        mate = self.boot_active('mate', hints={'valet_groups': group})
        spare = self.cloud.add_spare_compute()
        self.addCleanup(self.cloud.remove_spare_compute, spare)
        self._valet_knows(spare)
        mover = self.boot_active('mover', hints={'valet_groups': group},
                                 host=spare, admin=True)
        self.assertEqual(spare, self.host(mover))
        self.assertEqual(spare, self.valet_location(mover['id']))
        self.cloud.take_down_compute(spare)
        # Onto the group mate's host: Nova's filters pass it, Valet
        # refuses it (its replan has no host there), the evacuation fails.
        self._action(mover, {'evacuate': {'host': self.host(mate)}})
        self.wait_until(lambda: self._last_action_failed(mover, 'evacuate'),
                        message='the evacuation to the mate\'s host failing')
        stayed = self.cloud.wait_server(mover['id'])
        self.assertEqual(spare, self.host(stayed))
        # Free to choose: Valet replans it off the dead host and away from
        # its mate, and Nova rebuilds it exactly there.
        self._action(mover, {'evacuate': {}})
        self.wait_until(
            lambda: self.host(self.cloud.server(mover['id'])) != spare,
            message='the server evacuated from %s' % spare)
        moved = self.cloud.wait_server(mover['id'])
        self.assertEqual('ACTIVE', moved['status'], self.explain(moved))
        self.assertNotIn(self.host(moved), (spare, self.host(mate)))
        self.assertIn(self.host(moved), self.cloud.hosts)
        # Valet's replan named that very host, and holds the server there.
        self.cloud.nova.wait_log('nova-scheduler.log', 'Valet: instance %s '
                                 'replanned to %s' % (mover['id'],
                                                      self.host(moved)))
        self.assertEqual(self.host(moved), self.valet_location(mover['id']))
