"""The end-to-end phase on a small data centre: both all-in-one variants
answer every request, and each create is paired with its decision."""

import argparse
import io
import json
import os
import socket
import tempfile
import threading
import unittest
from wsgiref import simple_server

import sqlalchemy as sa

from bench import end_to_end


class EndToEndTest(unittest.TestCase):

    def test_former_only_when_asked(self):
        parser = argparse.ArgumentParser()
        end_to_end.add_arguments(parser)
        self.assertFalse(parser.parse_args([]).e2e_former)
        self.assertTrue(parser.parse_args(['--former']).e2e_former)

    def test_small_run(self):
        parser = argparse.ArgumentParser()
        end_to_end.add_arguments(parser)
        args = parser.parse_args(['--hosts', '120', '--per-host', '2',
                                  '--singles', '3', '--stacks', '2',
                                  '--stack-size', '10', '--no-deployed',
                                  '--former'])
        args.seed = 1
        out = os.path.join(tempfile.mkdtemp(), 'e2e.json')
        stream = io.StringIO()
        rows, failures = end_to_end.run(args, stream=stream, out=out)
        self.assertEqual([], failures)
        requests = {(r['variant'], r['kind']): r for r in rows
                    if r['phase'] == 'requests'}
        for variant in ('former', 'shipped'):
            # Each create and delete on a new connection and on the kept
            # one.
            for kind, count in (('single', 3), ('stack10', 2),
                                ('delete', 5), ('status', 3),
                                ('single kept', 3), ('stack10 kept', 2),
                                ('delete kept', 5)):
                self.assertEqual(count, requests[variant, kind]['count'])
            for kind in ('single', 'stack10', 'single kept',
                         'stack10 kept'):
                row = requests[variant, kind]
                self.assertGreater(row['decision_p50_ms'], 0)
                self.assertGreater(row['ratio_p50'], 0)
        startup = [r for r in rows if r['phase'] == 'start-up']
        # Four starts in a process each, two in this one.
        self.assertEqual(6, len(startup))
        # Every start of this tree in a process of its own is judged.
        judged = [r for r in startup if r.get('target_s')]
        self.assertEqual(['first start (YAML; cache written)',
                          'restart (parse cache)',
                          'YAML every start (no cache)',
                          'JSON inventory (no cache)'],
                         [r['variant'] for r in judged])
        self.assertTrue(all(r['start_s'] > 0 for r in judged))
        with open(out) as handle:
            self.assertEqual(rows, json.load(handle)['rows'])
        text = stream.getvalue()
        self.assertIn('load average', text)
        self.assertIn('former', text)
        self.assertIn('shipped', text)
        self.assertIn('target <= 2.0x', text)
        self.assertIn('one server, kept conn.', text)
        self.assertIn('target <= 3 s', text)

    def test_kept_connection_is_reused_and_renewed(self):
        connections = []

        def app(environ, start_response):
            start_response('200 OK', [('Content-Length', '2')])
            return [b'{}']
        server = simple_server.make_server(
            '127.0.0.1', 0, app,
            server_class=end_to_end.cmd_api._ThreadingServer,
            handler_class=end_to_end.Quiet)
        accept = server.process_request

        def counted(*args):
            connections.append(args)
            return accept(*args)
        server.process_request = counted
        threading.Thread(target=server.serve_forever, args=(0.01,),
                         daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        kept = end_to_end.KeptConnection(*server.server_address)
        self.addCleanup(kept.close)
        for _ in range(3):
            self.assertEqual(200, kept.request('GET', '/')[1])
        self.assertEqual(1, len(connections))
        # A connection that broke is replaced, the request sent again.
        kept.conn.sock.shutdown(socket.SHUT_RDWR)
        self.assertEqual(200, kept.request('GET', '/')[1])
        self.assertEqual(2, len(connections))

    def test_former_storage_is_the_former_engine(self):
        conf = end_to_end.make_conf(tempfile.mkdtemp(), 'former', 'x.yaml')
        store = end_to_end.FormerSqlStorage(conf)
        engine = store._get_engine()
        self.addCleanup(store.dispose)
        self.assertIsInstance(engine.pool, sa.pool.NullPool)
        with engine.connect() as conn:
            self.assertNotEqual('wal', conn.execute(
                sa.text('PRAGMA journal_mode')).scalar())
