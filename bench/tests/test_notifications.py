"""Checks of the notification benchmark's engine script and its check.

Run with ``python -m unittest discover -s bench/tests -t .``; no broker
and no Nova needed (the payloads here only have the shape Nova gives them).
"""

import collections
import os
import tempfile
import unittest

from bench import engine_follow as bn


def _nova_object(name, data, version='1.0'):
    return {'nova_object.name': name, 'nova_object.namespace': 'nova',
            'nova_object.version': version, 'nova_object.data': data}


def _templates():
    """One message per (operation, flavor), shaped like Nova's."""
    out = {}
    for kind, (event_type, state) in bn.ENGINE_EVENTS.items():
        for name in bn.ENGINE_FLAVORS:
            flavor = dict(bn._flavor_payload(name), ephemeral_gb=0, swap=0,
                          extra_specs={})
            data = {'uuid': None, 'host': 'cmp1', 'node': 'cmp1',
                    'state': state, 'tenant_id': bn.PROJECT,
                    'display_name': 'x', 'metadata': {},
                    'flavor': _nova_object('FlavorPayload', flavor, '1.4')}
            out[(kind, name)] = {
                'event_type': event_type, 'publisher_id': 'nova-compute:x',
                'payload': _nova_object('InstanceActionPayload', data)}
    out['service'] = {
        'event_type': 'service.update', 'publisher_id': 'nova-compute:x',
        'payload': _nova_object('ServiceStatusPayload', {
            'host': 'cmp1', 'binary': 'nova-compute', 'disabled': True,
            'forced_down': False, 'disabled_reason': None}, '1.1')}
    return out


def _replay(script, servers, planned):
    """The script's expected result, recomputed from its operations."""
    model = {u: (h, f) for u, (h, f) in servers.items()}
    ids = {u: u for u in servers}
    for oid, host, flavor in planned:
        model[oid] = (host, flavor)
    for op in script.ops:
        if op.kind == 'create':
            ids[op.uuid] = op.oid or op.uuid
            model[ids[op.uuid]] = (op.host, op.flavor)
        elif op.kind in bn.MOVES:
            model[ids[op.uuid]] = (op.host, op.flavor)
        elif op.kind == 'delete':
            del model[ids.pop(op.uuid)]
    return model


class TestEngineScript(unittest.TestCase):

    hosts = ['h%02d' % i for i in range(40)]

    def test_mix_result_and_seed(self):
        servers = {'s%d' % i: (self.hosts[i], 'm1.small') for i in range(5)}
        planned = [('o%d' % i, self.hosts[i], 'm1.large') for i in range(30)]
        script = bn.engine_script(3, 2000, self.hosts, {'h00'}, servers,
                                  planned)
        self.assertEqual(2000, len(script.ops))
        self.assertEqual(2000, sum(n for k, n in script.counts.items()
                                   if k != 'bind'))
        self.assertEqual(30, script.counts['bind'])
        for kind, share in bn.ENGINE_MIX:
            self.assertAlmostEqual(share / 100, script.counts[kind] / 2000,
                                   delta=0.03)
        self.assertEqual(_replay(script, servers, planned), script.servers)
        self.assertEqual({'o%d' % i for i in range(30)},
                         set(script.bound.values()))
        self.assertIn('h00', script.disabled)
        disabled = {'h00'}
        for op in script.ops:
            if op.kind == 'service':
                (disabled.add if op.disabled else disabled.discard)(op.host)
            elif op.kind in bn.MOVES or op.kind == 'create' and not op.oid:
                self.assertNotIn(op.host, disabled)
        self.assertEqual(disabled, script.disabled)
        again = bn.engine_script(3, 2000, self.hosts, {'h00'}, servers,
                                 planned)
        self.assertEqual(script.ops, again.ops)

    def test_moves_change_host_and_resizes_flavor(self):
        script = bn.engine_script(1, 500, self.hosts)
        where = {}
        for op in script.ops:
            if op.kind == 'create':
                where[op.uuid] = (op.host, op.flavor)
            elif op.kind in bn.MOVES:
                host, flavor = where[op.uuid]
                self.assertNotEqual(host, op.host)
                if op.kind == 'resize':
                    self.assertNotEqual(flavor, op.flavor)
                else:
                    self.assertEqual(flavor, op.flavor)
                where[op.uuid] = (op.host, op.flavor)


class TestEngineCheck(unittest.TestCase):
    """The real engine applies a rendered script; the check agrees, and
    notices a lost notification."""

    def test_engine_follows_and_check_catches_a_loss(self):
        with tempfile.TemporaryDirectory() as workdir:
            path = os.path.join(workdir, 'inventory.yaml')
            hosts, disabled, servers = bn.write_inventory(path, 2, 80, 1)
            self.assertEqual(80, len(hosts))
            results = collections.Counter()
            for lose in (False, True):
                endpoint = bn.make_engine(workdir, path, 'e%d' % lose)
                planned = bn.create_plans(endpoint, 5, 12, 6)
                self.assertEqual(12, len(planned))
                script = bn.engine_script(4, 300, hosts, disabled, servers,
                                          planned)
                messages = bn.engine_messages(_templates(), script.ops)
                if lose:
                    gone = next(i for i, op in enumerate(script.ops)
                                if op.kind == 'delete')
                    del messages[gone]
                for _pub, event_type, payload in messages:
                    endpoint.handle_event(bn.notifications.to_event(
                        event_type, payload))
                problems = bn.check_engine(endpoint, script, planned)
                results[lose] = len(problems)
                endpoint.storage.dispose()
            self.assertEqual(0, results[False])
            self.assertGreater(results[True], 0)


if __name__ == '__main__':
    unittest.main()
