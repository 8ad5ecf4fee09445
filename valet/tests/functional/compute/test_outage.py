"""What Nova does while Valet cannot answer: ``[valet] failure_mode``.

The cloud is real except Neutron (a stand-in; servers have no networks).
The tests stop parts of the real Valet deployment and restart
nova-scheduler with the filter options under test; the next test gets the
default scheduler (``reject``) and a running Valet back.
"""

from valet.tests.functional.compute import base


class OutageTest(base.CloudTestCase):

    def _restart_engine(self):
        if not self.cloud.valet.alive():
            self.cloud.valet.start_engine()

    def _restart_api(self):
        if self.cloud.valet.api.poll() is not None:
            self.cloud.valet.start_api()

    def test_reject_gives_no_valid_host_within_the_timeout(self):
        # A stopped engine: valet-api accepts the call and waits for the
        # engine (30 s RPC timeout), longer than the filter's 5 s budget.
        self.cloud.configure_scheduler(True, failure_mode='reject',
                                       timeout='5')
        self.addCleanup(self._restart_engine)
        self.cloud.valet.stop_engine()
        server = self.boot('rejected')
        self.assertEqual('ERROR', server['status'], self.explain(server))
        # NoValidHost, not the conductor's 60 s RPC timeout on
        # select_destinations (MessagingTimeout): the filter gave up first.
        self.assertIn('No valid host', server['fault']['message'])

    def test_yield_lets_nova_place(self):
        self.cloud.configure_scheduler(True, failure_mode='yield',
                                       timeout='5')
        self.addCleanup(self._restart_api)
        self.cloud.valet.stop_api()
        server = self.boot_active('yielded')
        self.assertIn(self.host(server), self.cloud.hosts)

    def test_reject_while_valet_api_is_down(self):
        self.cloud.configure_scheduler(True, failure_mode='reject',
                                       timeout='5')
        self.addCleanup(self._restart_api)
        self.cloud.valet.stop_api()
        server = self.boot('refused')
        self.assertEqual('ERROR', server['status'], self.explain(server))
        self.assertIn('No valid host', server['fault']['message'])
