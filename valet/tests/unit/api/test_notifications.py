"""Notifications around mutating API calls (valet.api.notify).

oslo.messaging's ``test`` driver records what would have been sent.
"""

import socket

import fixtures
import oslo_messaging as messaging
from oslo_messaging.notify import _impl_test

from valet.api import notify
from valet.common import exception
from valet.tests.unit.api import base
from valet.tests.unit.api.base import server


class NotificationsTest(base.APITestCase):

    driver = ['test']

    def setUp(self):
        super().setUp()
        # Registers [oslo_messaging_notifications] and [DEFAULT]
        # transport_url on this configuration, so they can be set.
        messaging.get_notification_transport(self.conf, url='fake:/')
        self.flags(transport_url='fake:/')
        self.flags(driver=self.driver, group='oslo_messaging_notifications')
        _impl_test.reset()
        self.addCleanup(_impl_test.reset)
        self.build_app()

    def sent(self):
        return [msg for _ctxt, msg, _prio, _retry in _impl_test.NOTIFICATIONS]

    def events(self):
        return [m['event_type'] for m in self.sent()]

    def last(self, event_type):
        return [m for m in self.sent() if m['event_type'] == event_type][-1]

    def rid(self, resp):
        return resp.headers['x-openstack-request-id']


class SuccessTest(NotificationsTest):

    def test_group_create_start_and_end(self):
        resp = self.post('/v1/groups', {'name': 'g1', 'type': 'affinity',
                                        'level': 'host'}, status=201)
        self.assertEqual(['valet.group.create.start',
                          'valet.group.create.end'], self.events())
        start, end = self.sent()
        self.assertEqual({'request_id': self.rid(resp), 'id': None},
                         start['payload'])
        self.assertEqual({'request_id': self.rid(resp), 'group': resp.json},
                         end['payload'])
        self.assertEqual(('INFO', 'INFO'), (start['priority'],
                                            end['priority']))
        self.assertEqual('valet-api.%s' % socket.gethostname(),
                         end['publisher_id'])

    def test_context_travels_without_token(self):
        self.post('/v1/groups', {'name': 'g1', 'type': 'affinity',
                                 'level': 'host'},
                  headers=dict(base.ADMIN, **{'X-Auth-Token': 'secret'}),
                  status=201)
        ctxt = _impl_test.NOTIFICATIONS[-1][0]
        self.assertEqual('adminproject', ctxt.project_id)
        self.assertEqual(['admin', 'member', 'reader'], ctxt.roles)
        self.assertNotEqual('secret', ctxt.auth_token)

    def test_every_mutating_action(self):
        group = self.make_group('g1')
        gid = group['id']
        self.put('/v1/groups/%s' % gid, {'description': 'd'}, status=201)
        self.put('/v1/groups/%s/members' % gid,
                 {'members': ['project1', 'project2']}, status=201)
        self.delete('/v1/groups/%s/members/project2' % gid, status=204)
        self.delete('/v1/groups/%s/members' % gid, status=204)
        plan = self.make_plan('stack-1')
        self.put('/v1/plans/stack-1', {'action': 'update', 'resources': {
            'orch-a': server('a'), 'orch-c': server('c')}},
            headers=base.MEMBER, status=201)
        self.put('/v1/plans/stack-1', {'action': 'migrate',
                                       'resources': ['orch-a']},
                 headers=base.MEMBER, status=201)
        pid = self.get('/v1/placements?orchestration_id=orch-a',
                       headers=base.MEMBER).json['placements'][0]['id']
        self.post('/v1/placements/%s' % pid, {'locations': ['host1']},
                  headers=base.MEMBER, status=201)
        self.post('/v1/placements/%s' % pid, {
            'action': 'replan', 'locations': ['host2', 'host3']},
            headers=base.MEMBER, status=201)
        self.delete('/v1/placements/%s' % pid, headers=base.MEMBER,
                    status=204)
        self.delete('/v1/plans/%s' % plan['id'], headers=base.MEMBER,
                    status=204)
        self.delete('/v1/groups/%s' % gid, status=204)
        actions = ['group.create', 'group.update', 'group.add_members',
                   'group.remove_member', 'group.remove_members',
                   'plan.create', 'plan.update', 'plan.migrate',
                   'placement.reserve', 'placement.replan',
                   'placement.delete', 'plan.delete', 'group.delete']
        self.assertEqual(['valet.%s.%s' % (a, phase) for a in actions
                          for phase in ('start', 'end')], self.events())

    def test_end_payloads_are_v1_representations(self):
        gid = self.make_group('g1')['id']
        resp = self.put('/v1/groups/%s/members' % gid,
                        {'members': ['project1']}, status=201)
        self.assertEqual(resp.json, self.last(
            'valet.group.add_members.end')['payload']['group'])
        resp = self.post('/v1/plans', {
            'plan_name': 'web', 'stack_id': 'stack-1',
            'resources': {'orch-a': server('a')}}, headers=base.MEMBER,
            status=201)
        payload = self.last('valet.plan.create.end')['payload']
        self.assertEqual({'request_id': self.rid(resp),
                          'plan': resp.json['plan']}, payload)
        pid = self.get('/v1/placements', headers=base.MEMBER).json[
            'placements'][0]['id']
        resp = self.post('/v1/placements/%s' % pid, {
            'locations': ['host3'], 'resource_id': 'vm-1'},
            headers=base.MEMBER, status=201)
        payload = self.last('valet.placement.reserve.end')['payload']
        self.assertEqual(resp.json['placement'], payload['placement'])
        self.assertEqual('vm-1', payload['placement']['resource_id'])

    def test_deletes_name_the_object(self):
        gid = self.make_group('g1', members=['project1'])['id']
        self.delete('/v1/groups/%s/members/project1' % gid, status=204)
        self.assertEqual({'id': gid, 'project_id': 'project1'}, self.last(
            'valet.group.remove_member.end')['payload']['group'])
        resp = self.delete('/v1/groups/%s' % gid, status=204)
        self.assertEqual({'request_id': self.rid(resp), 'group': {'id': gid}},
                         self.last('valet.group.delete.end')['payload'])
        start = self.last('valet.group.delete.start')['payload']
        self.assertEqual(gid, start['id'])

    def test_reads_send_nothing(self):
        self.make_group('g1')
        _impl_test.reset()
        self.get('/v1/groups', status=200)
        self.get('/v1/groups/g1', status=200)
        self.request('OPTIONS', '/v1/groups', status=204)
        self.get('/v1/status', status=200)
        self.assertEqual([], self.events())

    def test_unversioned_mount(self):
        # Under paste the v1 app sees paths without the /v1 prefix.
        self.assertEqual(('plan', 'migrate', 'p1', None),
                         notify.classify('PUT', '/plans/p1', 'migrate'))
        self.assertEqual(('plan', 'update', 'p1', None),
                         notify.classify('PUT', '/v1/plans/p1', 'bogus'))
        self.assertIsNone(notify.classify('POST', '/v1/status', None))


class ErrorTest(NotificationsTest):

    def test_no_placement(self):
        resp = self.post('/v1/plans', {
            'plan_name': 'big', 'stack_id': 'stack-1',
            'resources': {'orch-a': server('a', flavor=base.UNPLACEABLE)}},
            headers=base.MEMBER)
        error = self.assertError(resp, 409, 'valet.placement.none')
        self.assertEqual(['valet.plan.create.start',
                          'valet.plan.create.error'], self.events())
        sent = self.last('valet.plan.create.error')
        self.assertEqual('ERROR', sent['priority'])
        self.assertEqual({'request_id': self.rid(resp), 'errors': [error]},
                         sent['payload'])

    def test_not_found_and_invalid_body(self):
        resp = self.delete('/v1/groups/nope')
        error = self.assertError(resp, 404, 'valet.group.not_found')
        self.assertEqual([error], self.last(
            'valet.group.delete.error')['payload']['errors'])
        resp = self.post('/v1/groups', raw='{not json')
        self.assertEqual(400, resp.status_int)
        self.assertEqual('valet.request.malformed', self.last(
            'valet.group.create.error')['payload']['errors'][0]['code'])

    def test_engine_unavailable(self):
        self.make_plan('stack-1')
        self.engine.fail_with = exception.EngineUnavailable()
        self.delete('/v1/plans/stack-1', headers=base.MEMBER)
        payload = self.last('valet.plan.delete.error')['payload']
        self.assertEqual('valet.engine.unavailable',
                         payload['errors'][0]['code'])
        self.assertEqual(503, payload['errors'][0]['status'])

    def test_forbidden(self):
        resp = self.post('/v1/groups', {'name': 'g', 'type': 'affinity',
                                        'level': 'host'}, headers=base.READER)
        self.assertError(resp, 403)
        self.assertEqual(['valet.group.create.start',
                          'valet.group.create.error'], self.events())


class FailingNotifierTest(NotificationsTest):

    def test_send_failure_does_not_break_the_request(self):
        self.useFixture(fixtures.MockPatch(
            'oslo_messaging.Notifier.info',
            side_effect=RuntimeError('broker on fire')))
        self.useFixture(fixtures.MockPatch(
            'oslo_messaging.Notifier.error',
            side_effect=RuntimeError('broker on fire')))
        self.make_group('g1')
        self.assertError(self.delete('/v1/groups/nope'), 404)

    def test_notifier_creation_failure_does_not_break_the_request(self):
        self.useFixture(fixtures.MockPatch(
            'oslo_messaging.get_notification_transport',
            side_effect=RuntimeError('bad transport_url')))
        self.build_app()
        self.make_group('g1')
        self.make_plan('stack-1')
        self.assertEqual([], self.events())

    def test_payload_failure_does_not_break_the_request(self):
        self.useFixture(fixtures.MockPatch(
            'valet.api.notify.classify', side_effect=ValueError('bug')))
        self.make_group('g1')
        self.assertEqual([], self.events())


class DisabledTest(NotificationsTest):
    """No driver configured (the default): nothing is sent."""

    driver = []

    def test_nothing_sent(self):
        self.make_group('g1')
        self.make_plan('stack-1')
        self.assertEqual([], self.events())

    def test_nothing_built(self):
        # No notification is even made when no driver would send it.
        info = self.useFixture(fixtures.MockPatch(
            'oslo_messaging.Notifier.info')).mock
        self.make_group('g1')
        self.make_plan('stack-1')
        self.delete('/v1/plans/stack-1')
        info.assert_not_called()
