"""What valet.api.app changes in pecan, oslo.middleware and oslo.policy
for speed."""

import inspect as inspect_module

from oslo_middleware import base as middleware_base
from oslo_policy import _checks as policy_checks
from pecan import core as pecan_core
from pecan import routing as pecan_routing
from pecan import util as pecan_util
import testtools

from valet.api import app as api_app
from valet.tests.unit.api import base


class Handler:
    def handle(self, req, plan_id, *rest, **extra):
        return plan_id


class ArgspecCacheTest(testtools.TestCase):

    def test_same_answer_once_per_function(self):
        calls = []

        def argspec(method):
            calls.append(method)
            return inspect_module.getfullargspec(method)
        cached = api_app._per_function(argspec)
        first = cached(Handler().handle)
        self.assertEqual(inspect_module.getfullargspec(Handler.handle), first)
        # Another instance's bound method and the function itself: the
        # same function, answered from the cache.
        self.assertIs(first, cached(Handler().handle))
        self.assertIs(first, cached(Handler.handle))
        self.assertEqual(1, len(calls))

        def other(a, b=2):
            pass
        self.assertEqual(['a', 'b'], cached(other).args)
        self.assertEqual(2, len(calls))

    def test_pecan_answers_as_before(self):
        cached = api_app._per_function(pecan_util.getargspec)
        for method in (Handler().handle, Handler.handle):
            self.assertEqual(pecan_util.getargspec(method), cached(method))


class InstalledTest(base.APITestCase):

    def test_installed_once(self):
        for module, name in ((pecan_core, 'getargspec'),
                             (pecan_routing, 'getargspec'),
                             (middleware_base, 'getfullargspec')):
            installed = getattr(module, name)
            self.assertTrue(hasattr(installed, 'uncached'), module)
            # Building another app does not wrap the cache again.
            api_app.setup_app(self.conf, self.engine, self.storage)
            self.assertIs(installed, getattr(module, name))
        # oslo.policy's checks see inspect with a cached getfullargspec.
        seen = policy_checks.inspect
        self.assertIsNot(inspect_module, seen)
        self.assertIs(inspect_module.signature, seen.signature)
        self.assertTrue(hasattr(seen.getfullargspec, 'uncached'))
        api_app.setup_app(self.conf, self.engine, self.storage)
        self.assertIs(seen, policy_checks.inspect)

    def test_pecan_does_not_decode_the_body(self):
        # Pecan would pass a JSON body's members to the controller as
        # keyword arguments; nothing reads them, so it does not decode.
        req = api_app._Request.blank('/v1/plans', method='POST',
                                     body=b'{"plan_name": "p"}',
                                     content_type='application/json')
        self.assertEqual({}, req.json)
        self.assertEqual({'plan_name': 'p'}, req.json_body)
        resp = self.post('/v1/plans', {'plan_name': 'p', 'stack_id': 's',
                                       'resources': {}},
                         headers=base.MEMBER, status=201)
        self.assertEqual('s', resp.json['plan']['stack_id'])
