"""Policy enforcement (oslo.policy) with the defaults of ``valet.policies``.

A denied action is ``Forbidden`` (403). A project-owned object of another
project is reported as missing instead (``authorize_owned``), so a caller
cannot learn which plan or placement ids exist elsewhere.
"""

import threading
import time

from oslo_config import cfg
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


class _Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, looking for policy file changes at most
    once every ``RELOAD_CHECK_SECONDS``.

    oslo.policy looks on every check: it searches each configuration
    directory for the policy file and policy.d and walks every registered
    rule, which cost more than the check itself, twice per plan. An edited
    policy file still takes effect, within a second.
    """

    _checked_at = None
    _checked_defaults = -1

    def load_rules(self, force_reload=False):
        now = _clock()
        if (force_reload or not self.rules or self._checked_at is None
                or now - self._checked_at >= RELOAD_CHECK_SECONDS
                or len(self.registered_rules) != self._checked_defaults):
            super().load_rules(force_reload)
            self._checked_at = now
            self._checked_defaults = len(self.registered_rules)


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
    try:
        return enforcer.authorize(action, target, credentials,
                                  do_raise=do_raise, exc=Forbidden,
                                  message=_denied(action))
    except policy.InvalidScope:
        if do_raise:
            raise Forbidden(
                '%s needs a project-scoped token.' % action)
        return False


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
