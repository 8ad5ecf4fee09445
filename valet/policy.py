"""Policy enforcement (oslo.policy) with the defaults of ``valet.policies``.

A denied action is ``Forbidden`` (403). A project-owned object of another
project is reported as missing instead (``authorize_owned``), so a caller
cannot learn which plan or placement ids exist elsewhere.
"""

import threading
import time

from oslo_config import cfg
from oslo_policy import _checks
from oslo_policy import policy

from valet.common import exception
from valet import policies

_ENFORCER = None
_LOCK = threading.Lock()
# How often the enforcer looks for a changed policy file or policy.d.
RELOAD_CHECK_SECONDS = 1.0
_clock = time.monotonic


class Forbidden(exception.ValetException):
    status = 403
    code = 'valet.policy.forbidden'


# Checks whose answer depends on the target and the credentials alone:
# a rule made of these only can have its decisions remembered. Anything
# else (http:, a registered custom check) is asked every time.
_PURE_CHECKS = frozenset((
    _checks.AndCheck, _checks.OrCheck, _checks.NotCheck, _checks.RuleCheck,
    _checks.RoleCheck, _checks.GenericCheck, _checks.TrueCheck,
    _checks.FalseCheck))
# Decisions remembered per enforcer at most (then forgotten at once).
MAX_DECISIONS = 4096
# A remembered decision: the token had the wrong scope.
_WRONG_SCOPE = 'wrong scope'


def _pure(check):
    if type(check) not in _PURE_CHECKS:
        return False
    inner = getattr(check, 'rules', None)
    if inner is None:
        inner = [check.rule] if isinstance(check, _checks.NotCheck) else []
    return all(_pure(c) for c in inner)


def _key(action, target, credentials):
    """A hashable key of one question, or None (a value not hashable)."""
    try:
        key = (action, tuple(target.items()), tuple(
            (k, tuple(v) if type(v) is list else v)
            for k, v in credentials.items()))
        hash(key)
    except TypeError:
        return None
    return key


class _Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, looking for policy file changes at most
    once every ``RELOAD_CHECK_SECONDS``, remembering its decisions until
    the rules are next loaded or set.

    oslo.policy looks on every check: it searches each configuration
    directory for the policy file and policy.d and walks every registered
    rule, which cost more than the check itself, twice per plan. An edited
    policy file still takes effect, within a second; a remembered decision
    lives no longer than the rules it came from.
    """

    _checked_at = None
    _checked_defaults = -1
    _decisions = None           # None: not worked out (or not cacheable)
    _cacheable = None

    def load_rules(self, force_reload=False):
        now = _clock()
        if (force_reload or not self.rules or self._checked_at is None
                or now - self._checked_at >= RELOAD_CHECK_SECONDS
                or len(self.registered_rules) != self._checked_defaults):
            super().load_rules(force_reload)
            self._checked_at = now
            self._checked_defaults = len(self.registered_rules)
            self._forget()

    def set_rules(self, rules, overwrite=True, use_conf=False):
        super().set_rules(rules, overwrite, use_conf)
        self._forget()

    def clear(self):
        super().clear()
        self._forget()

    def _forget(self):
        self._decisions = self._cacheable = None

    def decide(self, action, target, credentials):
        """True, False, or ``_WRONG_SCOPE`` (oslo.policy's InvalidScope);
        remembered while the rules stay the same and are all pure."""
        self.load_rules()
        decisions = self._decisions
        if decisions is None:
            if self._cacheable is None:
                self._cacheable = all(_pure(c) for c in self.rules.values())
            if self._cacheable:
                decisions = self._decisions = {}
        key = None if decisions is None else _key(action, target,
                                                  credentials)
        if key is not None:
            found = decisions.get(key)
            if found is not None:
                return found
        try:
            answer = bool(self.authorize(action, target, credentials))
        except policy.InvalidScope:
            answer = _WRONG_SCOPE
        if key is not None and decisions is self._decisions:
            if len(decisions) >= MAX_DECISIONS:
                decisions.clear()
            decisions[key] = answer
        return answer


def init(conf=None, policy_file=None, rules=None):
    """Build the global enforcer once (or again after ``reset``)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            enforcer = _Enforcer(conf or cfg.CONF,
                                 policy_file=policy_file, rules=rules)
            enforcer.register_defaults(policies.list_rules())
            enforcer.load_rules()
            _ENFORCER = enforcer
    return _ENFORCER


def reset():
    """Forget the enforcer (tests, config reload)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is not None:
            _ENFORCER.clear()
        _ENFORCER = None


def get_enforcer():
    """The ``oslo.policy.enforcer`` entry point for oslopolicy-* tools.

    They parse their own command line, so the config is parsed empty here.
    """
    conf = cfg.ConfigOpts()
    conf([], project='valet')
    reset()
    return init(conf)


def authorize(context, action, target=None, do_raise=True):
    """Whether ``context`` may do ``action`` on ``target``.

    ``target`` defaults to the caller's own project. With ``do_raise`` a
    denial raises ``Forbidden``; otherwise it returns False.
    """
    enforcer = init()
    if target is None:
        target = {'project_id': context.project_id,
                  'user_id': context.user_id}
    credentials = context.to_policy_values()
    answer = enforcer.decide(action, target, credentials)
    if answer is True:
        return True
    if not do_raise:
        return False
    if answer is _WRONG_SCOPE:
        raise Forbidden('%s needs a project-scoped token.' % action)
    raise Forbidden(message=_denied(action))


def authorize_owned(context, action, owner_project_id, hidden,
                    show_action=None):
    """Authorize an action on an object owned by ``owner_project_id``.

    A denied caller who may not even see the object (``show_action``, or
    ``action`` itself, denied for another project's object) gets
    ``hidden`` (a not-found error) rather than learn the object exists;
    one who may see it gets ``Forbidden``.
    """
    target = {'project_id': owner_project_id, 'user_id': context.user_id}
    if authorize(context, action, target, do_raise=False):
        return True
    visible = owner_project_id == context.project_id or (
        show_action is not None and show_action != action and
        authorize(context, show_action, target, do_raise=False))
    if not visible:
        raise hidden
    raise Forbidden(_denied(action))


def _denied(action):
    return ('Policy does not allow %s to be performed; ask an '
            'administrator for a role that grants it.' % action)
