"""A server whose flavor comes whole in the plan (Nova's filter)."""

from oslotest import base

from valet.common import exception
from valet.engine import translate

INLINE = {'name': 'm9.new', 'vcpus': 3, 'ram': 3072, 'disk': 30,
          'ephemeral': 5, 'swap': 2048, 'extra_specs': {'disk': 'ssd'}}


def server(flavor):
    return {'type': translate.SERVER_TYPE, 'properties': {'flavor': flavor}}


class InlineFlavorTest(base.BaseTestCase):

    def test_inline_flavor_needs_no_inventory_flavor(self):
        work = translate.translate({'a': server(INLINE)}, {}, {})
        (srv,) = work.request.servers
        self.assertEqual({'VCPU': 3, 'MEMORY_MB': 3072, 'DISK_GB': 37},
                         dict(srv.demand))
        self.assertEqual({'disk': 'ssd'}, dict(srv.extra_specs))
        self.assertEqual('m9.new', work.specs['a']['flavor'])

    def test_inline_flavor_wins_over_a_stale_inventory_one(self):
        stale = {'m9.new': dict(INLINE, vcpus=1, id='9')}
        (srv,) = translate.translate({'a': server(INLINE)}, {},
                                     stale).request.servers
        self.assertEqual(3, srv.demand['VCPU'])

    def test_bad_sizes_are_400(self):
        for bad in ({'vcpus': -1, 'ram': 1}, {'vcpus': '2', 'ram': 1},
                    {'vcpus': True, 'ram': 1},
                    {'vcpus': 1, 'ram': 1, 'extra_specs': {'a': 1}},
                    {'vcpus': 1, 'ram': 1, 'extra_specs': ['x']}):
            error = self.assertRaises(exception.BadRequest,
                                      translate.translate,
                                      {'a': server(bad)}, {}, {})
            self.assertEqual('valet.plan.unknown_flavor', error.code)
