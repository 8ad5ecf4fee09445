"""A deployment on Music riding out Music's faults.

Real valet-api workers and valet-engine over RabbitMQ, storing through the
``music`` driver in the Music stand-in (see ``music_backend``): a cluster
of three stand-in hosts loses one, answers 5xx or too late on the others,
and a killed engine leaves its locks behind. Each time Valet degrades
(503 with a clear error, ``GET /v1/status`` says what is wrong) and
recovers by itself once Music is back.
"""

import threading
import time

import requests

from valet.tests.functional.deploy import base
from valet.tests.functional.deploy import music_backend

STORAGE_DOWN = 'valet.storage.unavailable'


class MusicFaultsTest(music_backend.MusicBackend, base.DeploymentTestCase):

    MUSIC_HOSTS = 3
    MUSIC_OPTIONS = {'lock_lease': 3, 'lock_wait': 30, 'retries': 2,
                     'request_timeout': 5, 'retry_interval': 0.1}

    def deploy(self, **kwargs):
        extra = kwargs.setdefault('extra_config', {})
        # Resync every second, and retry a failed one within a second, so
        # that degrading and recovering show quickly.
        extra['reconcile'] = {'resync_interval': '1',
                              'resync_min_interval': '0',
                              'retry_max_delay': '1'}
        return super().deploy(**kwargs)

    def status(self):
        resp = self.call('GET', '/v1/status')
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()['status']

    def wait_status(self, check, seconds=180):
        """The status once ``check(status)`` holds (fails after
        ``seconds``)."""
        deadline = time.monotonic() + seconds
        while True:
            status = self.status()
            if check(status):
                return status
            if time.monotonic() > deadline:
                self.fail('status never changed as expected: %s' % status)
            time.sleep(0.2)

    def post_plan(self, name, **kwargs):
        body = base.plan_body(name, [base.server(name + '-a'),
                                     base.server(name + '-b')], **kwargs)
        return body, self.call('POST', '/v1/plans', json=body)

    def assertStored(self, names):
        plans, placements = self.stored()
        self.assertEqual(sorted(names), sorted(p['name'] for p in plans))
        self.assertEqual(2 * len(names), len(placements))

    def test_hosts_down_failing_and_slow(self):
        self.deploy(rpc_timeout=30)
        _, resp = self.post_plan('first')
        self.assertEqual(201, resp.status_code, resp.text)

        # One host of three gone: nobody notices.
        self.music.stop_host(0)
        _, resp = self.post_plan('one-host-down')
        self.assertEqual(201, resp.status_code, resp.text)
        status = self.status()
        self.assertIs(True, status['storage']['ok'], status)
        self.assertEqual('ok', status['engine']['status'])

        # The others answer 503 or too late: the engine degrades.
        self.music.fault(1, status=503)
        self.music.fault(2, delay=30)
        _, resp = self.post_plan('music-down')
        self.assertEqual(503, resp.status_code, resp.text)
        self.assertEqual(STORAGE_DOWN, resp.json()['errors'][0]['code'])
        status = self.wait_status(
            lambda s: s['engine']['status'] == 'degraded')
        self.assertIs(False, status['storage']['ok'])
        self.assertIn('Music unavailable', status['storage']['detail'])
        self.assertIn('model', status['engine']['degraded'])

        # Music back (the host that was down too): the engine recovers.
        self.music.clear_fault(1)
        self.music.clear_fault(2)
        self.music.start_host(0)
        status = self.wait_status(lambda s: s['engine']['status'] == 'ok')
        self.assertIs(True, status['storage']['ok'])
        self.assertEqual({}, status['engine']['degraded'])
        _, resp = self.post_plan('after')
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertStored(['first', 'one-host-down', 'after'])

    def test_locks_of_a_killed_engine(self):
        dep = self.deploy(rpc_timeout=3)
        # The engine dies in the middle of storing a plan, holding the
        # locks of its stack, plan row and orchestration ids.
        stall = self.stall_storage_write()
        body = base.plan_body('inflight', [base.server('a'),
                                           base.server('b')])
        answer = {}
        thread = threading.Thread(target=lambda: answer.update(
            resp=requests.post(dep.url + '/v1/plans', json=body,
                               headers=base.ADMIN, timeout=60)))
        thread.start()
        self.assertTrue(stall.wait_for_blocked_writer(),
                        'the engine never reached its plan write')
        dep.kill_engine()
        thread.join(60)
        stall.release()
        self.assertEqual(503, answer['resp'].status_code,
                         answer['resp'].text)
        self.assertStored([])

        # A new engine stores the same stack: it waits for the dead
        # engine's locks to be forced free (their lease), then succeeds.
        dep.start_engine()
        resp = self.call('POST', '/v1/plans', json=body)
        self.assertEqual(201, resp.status_code, resp.text)
        self.assertEqual(set(body['resources']),
                         set(resp.json()['plan']['placements']))
        self.assertStored(['inflight'])
        # The stale claims the dead engine wrote were taken over, and
        # the stack cannot be stored twice.
        resp = self.call('POST', '/v1/plans', json=body)
        self.assertEqual(409, resp.status_code, resp.text)
        self.assertGreaterEqual(self.music.stats().get('forced_release', 0),
                                1)
        status = self.status()
        self.assertEqual('ok', status['engine']['status'])
        self.assertIs(True, status['storage']['ok'])
