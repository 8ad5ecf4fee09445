"""A Keystone that does not answer costs the filter no more than its budget.

The filter's session fetches a token (and discovers Keystone's versions)
before its first call to Valet. Those requests are bounded by what is left
of the request's ``[valet] timeout``: once it is spent, nothing more is
sent to Keystone and the filter falls back on ``failure_mode``.

Keystone here is a listening socket that takes connections and never
answers (a hung Keystone); the hosts are Nova's own ``FakeHostState`` and
the filter runs through Nova's ``HostFilterHandler``. Counting the
connections Keystone got says whether anything was sent after the budget
was spent, without timing the test.
"""

import os
import socket

import fixtures
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from nova.scheduler import filters as nova_filters
from oslo_config import cfg
import requests
import testtools

from valet.client import http
from valet.plugins.nova import conf as filter_conf
from valet.plugins.nova import valet_filter
from valet.tests.nova_plugin import test_valet_filter as filter_tests

BUDGET = 1.0


class SilentServer:
    """Listens and never accepts, reads or answers: the kernel completes
    the connections (up to the backlog), and they wait there.

    No thread accepts them: under Nova's eventlet a green thread blocked on
    a socket closed behind it would leave its listener on a file
    descriptor number that the next pipe reuses.
    """

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.url = 'http://127.0.0.1:%d' % self.sock.getsockname()[1]
        self.accepted = []

    def connections(self):
        """How many connections were made so far."""
        self.sock.setblocking(False)
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except (BlockingIOError, socket.timeout):
                return len(self.accepted)

    def close(self):
        for conn in self.accepted:
            conn.close()
        self.sock.close()


class KeystoneBudgetTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.keystone = SilentServer()
        self.addCleanup(self.keystone.close)
        # Valet is never reached: no token, no call.
        self.valet = SilentServer()
        self.addCleanup(self.valet.close)

    def make_filter(self, **options):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'nova.conf')
        values = {'auth_type': 'password',
                  'auth_url': self.keystone.url + '/v3',
                  'username': 'nova', 'password': 'secret',
                  'project_name': 'service',
                  'user_domain_name': 'Default',
                  'project_domain_name': 'Default',
                  'endpoint_override': self.valet.url,
                  'timeout': BUDGET, 'retries': 2, 'retry_delay': 0.05}
        values.update(options)
        with open(path, 'w') as f:
            f.write('[valet]\n' + ''.join('%s = %s\n' % item
                                          for item in values.items()))
        conf = cfg.ConfigOpts()
        filter_conf.register_opts(conf)
        conf([], project='nova', default_config_files=[path])
        return valet_filter.ValetFilter(conf=conf)

    def run_filter(self, flt, hosts):
        handler = nova_filters.HostFilterHandler()
        return list(handler.get_filtered_objects(
            [flt], hosts, filter_tests.request(), 0) or [])

    def test_reject_sends_keystone_nothing_after_the_budget(self):
        hosts = filter_tests.host_states(*filter_tests.COMPUTES)
        self.assertEqual([], self.run_filter(self.make_filter(), hosts))
        # Version discovery had the whole budget and timed out; the token
        # request that would follow was never sent.
        self.assertEqual(1, self.keystone.connections())
        self.assertEqual(0, self.valet.connections())

    def test_yield_lets_nova_choose_after_the_budget(self):
        hosts = filter_tests.host_states(*filter_tests.COMPUTES)
        flt = self.make_filter(failure_mode='yield')
        self.assertEqual(hosts, self.run_filter(flt, hosts))
        self.assertEqual(1, self.keystone.connections())

    def test_the_session_is_bounded_by_the_call_not_by_its_own_timeout(
            self):
        # The session's own timeout (what keystoneauth gives requests
        # that set none) is the whole budget: without the deadline, the
        # discovery and the token request would get it each.
        client = filter_conf.make_client(self.make_filter().conf)
        self.assertIsInstance(client.http.session.session,
                              http.DeadlineTransport)
        self.assertEqual(BUDGET, client.http.session.timeout)


class DeadlineTransportTest(testtools.TestCase):
    """The transport under any keystoneauth session (``http.session``)."""

    def setUp(self):
        super().setUp()
        self.server = SilentServer()
        self.addCleanup(self.server.close)

    def test_nothing_is_sent_once_the_deadline_passed(self):
        sess = http.session()
        clock = [100.0]
        with http.deadline(100.0, clock=lambda: clock[0]):
            self.assertRaises(ks_exc.ConnectTimeout, sess.get,
                              self.server.url, authenticated=False)
        self.assertEqual(0, self.server.connections())

    def test_a_request_gets_what_is_left(self):
        seen = []

        class Recording(http.DeadlineTransport):
            def send(self, request, **kwargs):
                seen.append(kwargs.get('timeout'))
                raise requests.exceptions.ConnectTimeout('recorded')

        sess = ks_session.Session(session=Recording(), timeout=30)
        clock = [10.0]
        with http.deadline(12.5, clock=lambda: clock[0]):
            self.assertRaises(ks_exc.ConnectTimeout, sess.get, self.server.url,
                              authenticated=False)
            self.assertRaises(ks_exc.ConnectTimeout, sess.get, self.server.url,
                              authenticated=False, timeout=(1, 60))
        # Outside a call the session's own timeout holds.
        self.assertRaises(ks_exc.ConnectTimeout, sess.get, self.server.url,
                          authenticated=False)
        self.assertEqual([2.5, (1.0, 2.5), 30.0], seen)

    def test_an_outer_earlier_deadline_stays(self):
        seen = []

        class Recording(http.DeadlineTransport):
            def send(self, request, **kwargs):
                seen.append(kwargs.get('timeout'))
                raise requests.exceptions.ConnectTimeout('recorded')

        sess = ks_session.Session(session=Recording())
        clock = lambda: 0.0  # noqa: E731
        with http.deadline(3.0, clock=clock):
            with http.deadline(8.0, clock=clock):
                self.assertRaises(ks_exc.ConnectTimeout, sess.get, self.server.url,
                                  authenticated=False)
        self.assertEqual([3.0], seen)
