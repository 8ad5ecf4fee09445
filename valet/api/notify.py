"""Notifications around every mutating API action.

``valet.<resource>.<action>.start`` goes out before the handler runs,
then ``.end`` (the object's v1 representation) or ``.error`` (the API-SIG
error). The driver is ``[oslo_messaging_notifications] driver``; with none
configured (the default) nothing is sent. A failing notifier is logged and
never fails the request: notifications are a side channel.
"""

import json
import logging
import socket

import oslo_messaging as messaging
from pecan import hooks

from valet.api import context

LOG = logging.getLogger(__name__)

_ACTION_KEY = 'valet.notify.action'
_ANY = '*'

# (method, path pattern under /v1, resource, action); an action of None
# is the body's "action" (first listed choice when absent or unknown).
_MUTATIONS = (
    ('POST', ('groups',), 'group', 'create'),
    ('PUT', ('groups', _ANY), 'group', 'update'),
    ('DELETE', ('groups', _ANY), 'group', 'delete'),
    ('PUT', ('groups', _ANY, 'members'), 'group', 'add_members'),
    ('DELETE', ('groups', _ANY, 'members'), 'group', 'remove_members'),
    ('DELETE', ('groups', _ANY, 'members', _ANY), 'group', 'remove_member'),
    ('POST', ('plans',), 'plan', 'create'),
    ('PUT', ('plans', _ANY), 'plan', ('update', 'migrate')),
    ('DELETE', ('plans', _ANY), 'plan', 'delete'),
    ('POST', ('placements', _ANY), 'placement', ('reserve', 'replan')),
    ('DELETE', ('placements', _ANY), 'placement', 'delete'),
)


class Notifier:
    """An oslo.messaging Notifier built on first use (after uwsgi forks)."""

    def __init__(self, conf, transport=None):
        self.conf = conf
        self.transport = transport
        self.publisher_id = 'valet-api.%s' % socket.gethostname()
        self._notifier = None
        self._broken = False
        self._enabled = None

    def _get(self):
        if self._notifier is None and not self._broken:
            try:
                transport = self.transport or \
                    messaging.get_notification_transport(self.conf)
                self._notifier = messaging.Notifier(
                    transport, publisher_id=self.publisher_id)
            except Exception:
                LOG.exception('Notifications disabled: no notifier')
                self._broken = True
        return self._notifier

    def enabled(self):
        if self._enabled is None:
            notifier = self._get()
            # oslo.messaging calls a notifier without any driver enabled
            # (only "noop" is not), and builds every notification for
            # nobody. The notifier's drivers are fixed once it is built:
            # the answer is kept (asking cost more than the rest of the
            # hook).
            self._enabled = (
                notifier is not None and notifier.is_enabled()
                and any(d != 'noop' for d in
                        self.conf.oslo_messaging_notifications.driver))
        return self._enabled

    def emit(self, ctxt, event_type, payload, error=False):
        try:
            notifier = self._get()
            if notifier is None:
                return
            send = notifier.error if error else notifier.info
            send(ctxt, event_type, payload)
        except Exception:
            LOG.exception('Notification %s not sent', event_type)


def classify(method, path, body_action):
    """(resource, action, target id, member project) of a mutating call,
    else None."""
    segments = [s for s in path.split('/') if s]
    if segments and segments[0] == 'v1':
        segments = segments[1:]
    for want_method, pattern, resource, action in _MUTATIONS:
        if method != want_method or len(pattern) != len(segments):
            continue
        if all(p in (_ANY, s) for p, s in zip(pattern, segments)):
            if isinstance(action, tuple):
                action = body_action if body_action in action else action[0]
            target = segments[1] if len(segments) > 1 else None
            member = segments[3] if len(segments) > 3 else None
            return resource, action, target, member
    return None


def _body_action(req):
    # The handler validates the body; here a bad one just means default.
    try:
        body = json.loads(req.body or b'{}')
    except (ValueError, UnicodeError):
        return None
    return body.get('action') if isinstance(body, dict) else None


def _json(resp):
    try:
        return json.loads(resp.body) if resp.body else None
    except (ValueError, UnicodeError):
        return None


class NotificationHook(hooks.PecanHook):
    """Emit start/end/error for mutating calls (after ErrorHook's answer)."""

    priority = 50

    def __init__(self, conf, notifier=None):
        self.notifier = notifier or Notifier(conf)

    def before(self, state):
        try:
            req = state.request
            if req.method not in ('POST', 'PUT', 'DELETE'):
                return
            if not self.notifier.enabled():
                return
            found = classify(req.method, req.path_info, _body_action(req))
            if found is None:
                return
            req.environ[_ACTION_KEY] = found
            resource, action, target, _member = found
            self.notifier.emit(
                self._ctxt(req), 'valet.%s.%s.start' % (resource, action),
                {'request_id': context.request_id(req.environ),
                 'id': target})
        except Exception:
            LOG.exception('Notification hook failed before %s', state.request)

    def after(self, state):
        try:
            found = state.request.environ.pop(_ACTION_KEY, None)
            if found is None or state.response is None:
                return
            self._finish(state.request, state.response, found)
        except Exception:
            LOG.exception('Notification hook failed after %s', state.request)

    def _finish(self, req, resp, found):
        resource, action, target, member = found
        payload = {'request_id': context.request_id(req.environ)}
        body = _json(resp)
        if resp.status_int >= 400:
            payload['errors'] = (body or {}).get('errors') or [
                {'status': resp.status_int}]
            self.notifier.emit(self._ctxt(req), 'valet.%s.%s.error' % (
                resource, action), payload, error=True)
            return
        if isinstance(body, dict):
            # Plans and placements come wrapped; groups bare.
            payload[resource] = body.get(resource, body)
        else:
            payload[resource] = {'id': target}
            if member is not None:
                payload[resource]['project_id'] = member
        self.notifier.emit(self._ctxt(req), 'valet.%s.%s.end' % (
            resource, action), payload)

    @staticmethod
    def _ctxt(req):
        # The context object, not a dict: oslo.messaging sends a redacted
        # copy of it (no token) and drops plain dicts.
        return req.environ.get(context.ENVIRON_KEY)
