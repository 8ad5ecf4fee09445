"""The policy enforcer looks for an edited policy file at most once a
second, and takes the edit then."""

import os
from unittest import mock

import fixtures
from oslo_config import cfg
from oslotest import base as oslo_base

from valet import conf as valet_conf
from valet import policy
from valet.api import context

ACTION = 'valet:plans:create'


class PolicyReloadTest(oslo_base.BaseTestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.policy_file = os.path.join(tmp, 'policy.yaml')
        self.write('"rule:admin or rule:project_member"')
        conf = cfg.ConfigOpts()
        valet_conf.register_all(conf)
        conf([], project='valet', default_config_files=[])
        policy.reset()
        self.addCleanup(policy.reset)
        self.now = 1000.0
        self.useFixture(fixtures.MockPatch(
            'valet.policy._clock', side_effect=lambda: self.now))
        self.enforcer = policy.init(conf, policy_file=self.policy_file)
        self.ctx = context.RequestContext(project_id='p', user_id='u',
                                          roles=['member'])

    def write(self, rule):
        with open(self.policy_file, 'w') as handle:
            handle.write('"%s": %s\n' % (ACTION, rule))
        # A distinct modification time, whatever the file system's
        # resolution.
        stamp = getattr(self, 'stamp', 1_000_000) + 10
        os.utime(self.policy_file, (stamp, stamp))
        self.stamp = stamp

    def allowed(self):
        return policy.authorize(self.ctx, ACTION, do_raise=False)

    def test_checks_do_not_look_for_the_file_each_time(self):
        self.assertTrue(self.allowed())
        with mock.patch.object(self.enforcer.conf, 'find_file',
                               wraps=self.enforcer.conf.find_file) as find:
            for _ in range(5):
                self.assertTrue(self.allowed())
                self.now += 0.1
        self.assertEqual(0, find.call_count)

    def test_an_edited_file_counts_after_the_interval(self):
        self.assertTrue(self.allowed())
        self.write('"!"')
        self.now += policy.RELOAD_CHECK_SECONDS / 2
        self.assertTrue(self.allowed())
        self.now += policy.RELOAD_CHECK_SECONDS
        self.assertFalse(self.allowed())

    def test_defaults_registered_later_count_at_once(self):
        from oslo_policy import policy as oslo_policy
        self.assertTrue(self.allowed())
        self.enforcer.register_default(
            oslo_policy.RuleDefault('valet:test:late', '!'))
        self.assertFalse(policy.authorize(self.ctx, 'valet:test:late',
                                          do_raise=False))
        self.assertIn('valet:test:late', self.enforcer.rules)


class RememberedDecisionsTest(PolicyReloadTest):
    """Decisions are remembered per question while the rules stay."""

    def asked(self):
        return mock.patch.object(self.enforcer, 'authorize',
                                 wraps=self.enforcer.authorize)

    def test_the_same_question_is_decided_once(self):
        other = context.RequestContext(project_id='q', user_id='u',
                                       roles=['reader'])
        with self.asked() as asked:
            for _ in range(3):
                self.assertTrue(self.allowed())
                self.assertFalse(policy.authorize(other, ACTION,
                                                  do_raise=False))
                self.assertRaises(policy.Forbidden, policy.authorize,
                                  other, ACTION)
        self.assertEqual(2, asked.call_count)

    def test_new_rules_forget_decisions(self):
        from oslo_policy import _checks
        self.assertTrue(self.allowed())
        self.enforcer.set_rules({ACTION: _checks.FalseCheck()},
                                overwrite=False)
        self.assertFalse(self.allowed())

    def test_a_reload_forgets_decisions(self):
        self.assertTrue(self.allowed())
        with self.asked() as asked:
            self.now += policy.RELOAD_CHECK_SECONDS
            self.assertTrue(self.allowed())
        self.assertEqual(1, asked.call_count)

    def test_rules_with_other_checks_are_asked_every_time(self):
        from oslo_policy import _external
        self.enforcer.set_rules(
            {'valet:test:remote': _external.HttpCheck(
                'http', '//127.0.0.1:9/never')}, overwrite=False)
        with self.asked() as asked:
            for _ in range(2):
                self.assertTrue(self.allowed())
        self.assertEqual(2, asked.call_count)

    def test_unhashable_targets_are_asked_every_time(self):
        target = {'project_id': 'p', 'user_id': 'u', 'tags': {'a': 1}}
        with self.asked() as asked:
            for _ in range(2):
                self.assertTrue(policy.authorize(self.ctx, ACTION, target,
                                                 do_raise=False))
        self.assertEqual(2, asked.call_count)

    def test_forgotten_when_full(self):
        self.useFixture(fixtures.MockPatch('valet.policy.MAX_DECISIONS', 2))
        for project in ('a', 'b', 'c'):
            policy.authorize(context.RequestContext(
                project_id=project, user_id='u', roles=['member']), ACTION,
                do_raise=False)
        self.assertEqual(1, len(self.enforcer._decisions))
