"""New record ids: random version-4 UUIDs, unique, not shared by a fork."""

import os
import random
import uuid
from unittest import mock

from oslotest import base

from valet.objects import ids
from valet.objects import plan


class NewIdTest(base.BaseTestCase):

    def test_canonical_version_4_uuids(self):
        for _ in range(300):
            text = ids.new_id()
            value = uuid.UUID(text)
            self.assertEqual(text, str(value))
            self.assertEqual(4, value.version)
            self.assertEqual(uuid.RFC_4122, value.variant)

    def test_a_batch_is_uuid_of_its_random_bytes(self):
        # The bulk layout against uuid's own: id k of a batch is the
        # version-4 UUID of random bytes 16k..16k+15.
        raw = random.Random(7).randbytes(16 * ids._BATCH)
        with mock.patch.object(ids.os, 'urandom', return_value=raw):
            batch = ids._refill()
        self.assertEqual(
            [str(uuid.UUID(bytes=raw[16 * k:16 * k + 16], version=4))
             for k in range(ids._BATCH)], batch)

    def test_unique_across_batches(self):
        many = [ids.new_id() for _ in range(5000)]
        self.assertEqual(len(many), len(set(many)))
        # Not a counter: every position of the random part varies.
        for position in (0, 9, 15, 20, 35):
            self.assertGreater(len({i[position] for i in many}), 8)

    def test_a_forked_child_does_not_reuse_the_parents_ids(self):
        ids.new_id()        # the parent holds a pool now
        read, write = os.pipe()
        child = os.fork()
        if child == 0:
            try:
                os.write(write, ','.join(
                    ids.new_id() for _ in range(10)).encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            theirs = set(pipe.read().split(','))
        os.waitpid(child, 0)
        ours = {ids.new_id() for _ in range(70)}
        self.assertEqual(10, len(theirs))
        self.assertEqual(set(), ours & theirs)

    def test_records_get_them(self):
        p = plan.Placement(name='a', orchestration_id='o', plan_id='p')
        self.assertEqual(4, uuid.UUID(p.id).version)
        self.assertNotEqual(p.id, plan.Placement(
            name='a', orchestration_id='o', plan_id='p').id)
