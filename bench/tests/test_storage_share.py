"""Checks of the storage benchmark (``bench/storage_share.py``).

Run with ``python -m unittest discover -s bench/tests -t .``; the Music
backend starts the stand-in's server processes on loopback.
"""

import argparse
import unittest

from bench import storage_share


class StorageShareTest(unittest.TestCase):

    def test_small_run_on_both_backends(self):
        args = argparse.Namespace(plans=2, plan_size=4, hosts=40,
                                  music_hosts=2, seed=3)
        records, failures = storage_share.run(args)
        self.assertEqual([], failures)
        self.assertEqual(['sql', 'music'], [r['backend'] for r in records])
        for record in records:
            # The engine writes a plan with insert_plan (no answer built).
            self.assertEqual(1, record['calls_by_method']['insert_plan'])
            self.assertGreater(record['storage_p50_ms'], 0)
            self.assertLessEqual(record['storage_share'], 1.0)
        music = records[1]
        # Locks, claims, index rows and the plan row: many requests.
        self.assertGreater(music['music_requests'], 4 * 3)

    def test_timed_storage_counts_calls(self):
        class Store:
            def get(self, key):
                return key
        store = Store()
        timed = storage_share.TimedStorage(store)
        self.assertEqual('k', store.get('k'))
        self.assertEqual({'get': 1}, dict(timed.calls))
        timed.reset()
        self.assertEqual({}, dict(timed.calls))


if __name__ == '__main__':
    unittest.main()
