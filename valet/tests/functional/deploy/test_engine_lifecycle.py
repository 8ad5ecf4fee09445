"""valet-api and valet-engine as real processes over real RabbitMQ."""

import time

from valet.tests.functional import databases
from valet.tests.functional.deploy import base
from valet.tests.functional.deploy import music_backend


class EngineLifecycleTest(base.DeploymentTestCase):

    def test_plan_engine_killed_then_restarted(self):
        dep = self.deploy(rpc_timeout=3)
        resp = self.call('POST', '/v1/groups', json={
            'name': 'web-diverse', 'type': 'diversity', 'level': 'host'})
        self.assertEqual(201, resp.status_code, resp.text)
        first = base.plan_body('web1', [
            base.server('web-a', groups=['web-diverse']),
            base.server('web-b', groups=['web-diverse'])])
        resp = self.call('POST', '/v1/plans', json=first)
        self.assertEqual(201, resp.status_code, resp.text)
        used = {p['location'] for p in resp.json()['plan'][
            'placements'].values()}
        self.assertEqual(2, len(used))

        dep.kill_engine()
        started = time.monotonic()
        resp = self.call('POST', '/v1/plans', json=base.plan_body(
            'web2', [base.server('web-c', groups=['web-diverse'])]))
        waited = time.monotonic() - started
        self.assertEqual(503, resp.status_code, resp.text)
        self.assertEqual('valet.engine.unavailable',
                         resp.json()['errors'][0]['code'])
        self.assertLess(waited, 3 + 5)

        dep.start_engine()
        resp = self.call('POST', '/v1/plans', json=base.plan_body(
            'web3', [base.server('web-d', groups=['web-diverse'])]))
        self.assertEqual(201, resp.status_code, resp.text)
        (placement,) = resp.json()['plan']['placements'].values()
        # The restarted engine rebuilt its model from storage: the new
        # member of the diversity group avoids the hosts used before.
        self.assertNotIn(placement['location'], used)
        resp = self.call('GET', '/v1/plans')
        self.assertEqual(['web1', 'web3'],
                         sorted(p['name'] for p in resp.json()['plans']))


class _ServerDatabase:
    """The same scenario with storage on a real database server."""

    SERVER = None

    def deploy(self, **kwargs):
        db = self.useFixture(databases.DatabaseFixture(self.SERVER()))
        kwargs['connection'] = db.url
        return super().deploy(**kwargs)


class MariaDBEngineLifecycleTest(_ServerDatabase, EngineLifecycleTest):
    SERVER = databases.MySQLServer


class PostgreSQLEngineLifecycleTest(_ServerDatabase, EngineLifecycleTest):
    SERVER = databases.PostgreSQLServer


class MusicEngineLifecycleTest(music_backend.MusicBackend,
                               EngineLifecycleTest):
    """The same scenario on Music (its stand-in; see music_backend)."""
