"""The placement-query phase on a small store: both variants answer alike."""

import io
import json
import os
import tempfile
import unittest

from bench import placement_query


class PlacementQueryTest(unittest.TestCase):

    def test_small_run(self):
        out = os.path.join(tempfile.mkdtemp(), 'q.json')
        stream = io.StringIO()
        rows = placement_query.measure(count=120, stack_size=12,
                                       requests=5, out=out, stream=stream)
        self.assertEqual(['indexed', 'full scan'],
                         [r['variant'] for r in rows])
        for row in rows:
            self.assertEqual(120, row['placements'])
            self.assertEqual(5, row['requests'])
            self.assertLessEqual(row['p50_ms'], row['p95_ms'])
        with open(out) as f:
            self.assertEqual(rows, json.load(f))
        text = stream.getvalue()
        self.assertIn('indexed', text)
        self.assertIn('full scan', text)
        self.assertIn('speed-up', text)

    def test_full_scan_is_the_former_behaviour(self):
        # The baseline must not use the index: it reads every placement.
        conf = placement_query.make_conf('sqlite://')
        store = placement_query.FullScanStorage(conf)
        store.upgrade()
        stacks = placement_query.fill(store, 30, 10, seed=1)
        found = store.list_placements(metadata={'heat_stack_id': stacks[1]})
        self.assertEqual(10, len(found))
        self.assertEqual({stacks[1]},
                         {p.metadata['heat_stack_id'] for p in found})


if __name__ == '__main__':
    unittest.main()
