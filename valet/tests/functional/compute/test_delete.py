"""Deleting a server frees its place in Valet.

Valet learns of the delete from Nova's notifications and forgets the
server's placement; a group that had no room left has room again, on the
host the server left. The cloud is real except Neutron (a stand-in;
servers have no networks).
"""

from valet.tests.functional.compute import base


class DeleteTest(base.CloudTestCase):

    def test_delete_frees_the_place_in_valet(self):
        group = self.make_group('diversity')
        servers = [self.boot_active('full-%d' % i,
                                    hints={'valet_groups': group})
                   for i in range(len(self.cloud.hosts))]
        self.assertEqual(sorted(self.cloud.hosts),
                         sorted(self.host(s) for s in servers))
        # Every host holds a member: no room for one more.
        extra = self.boot('one-too-many', hints={'valet_groups': group})
        self.assertEqual('ERROR', extra['status'], self.explain(extra))
        self.assertIn('No valid host', extra['fault']['message'])
        gone = servers[0]
        self.cloud.delete_server(gone['id'])
        self.wait_until(lambda: self.valet_location(gone['id']) is None,
                        message='Valet forgetting the deleted server')
        again = self.boot_active('in-its-place',
                                 hints={'valet_groups': group})
        self.assertEqual(self.host(gone), self.host(again))
