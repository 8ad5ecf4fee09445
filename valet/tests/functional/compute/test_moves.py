"""Moving a server goes through Valet too.

A migration or resize is a new scheduling request for a server Valet
already placed: the filter asks Valet to replan it within the hosts Nova
offers, so the server's groups still hold on its new host, and Valet
holds it there afterwards. The cloud is real except Neutron (a stand-in;
servers have no networks).
"""

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
