"""Keystoneauth clients of the OpenStack APIs the inventory reads.

Each client is a keystoneauth adapter built from one option group
(``[placement]``, ``[nova]``): auth plugin, session (TLS, timeout) and
adapter (endpoint discovery or ``endpoint_override``, retries with
back-off, pinned microversion). Every failure becomes an ``InventoryError``
naming the service and the URL, never a traceback or a credential.
"""

import urllib.parse

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from oslo_log import log as logging
import requests.adapters

from valet.inventory import base

LOG = logging.getLogger(__name__)

# Error bodies are quoted in messages; keep messages one readable line.
_DETAIL_CHARS = 200


def is_configured(conf, group):
    """True when the group names an auth plugin (directly or by section)."""
    section = conf[group]
    return bool(section.auth_type or section.auth_section)


def make_client(conf, group, label, microversion, pool_size=10):
    """A ServiceClient for option group ``group`` (e.g. ``placement``)."""
    try:
        auth = ks_loading.load_auth_from_conf_options(conf, group)
        session = ks_loading.load_session_from_conf_options(
            conf, group, auth=auth)
        adapter = ks_loading.load_adapter_from_conf_options(
            conf, group, session=session, auth=auth,
            default_microversion=microversion, raise_exc=False)
    except (ks_exc.ClientException, TypeError, ValueError) as exc:
        raise base.InventoryError(
            '%s client: [%s] is not usable: %s' % (label, group, exc))
    if pool_size > 10:
        # requests keeps 10 connections per host by default; concurrent
        # readers beyond that would reconnect on every request.
        http = requests.adapters.HTTPAdapter(pool_maxsize=pool_size)
        session.session.mount('https://', http)
        session.session.mount('http://', http)
    return ServiceClient(label, adapter)


def _detail(resp):
    """The error message of an OpenStack error body, shortened."""
    try:
        body = resp.json()
    except ValueError:
        text = (resp.text or '').strip()
    else:
        text = None
        if isinstance(body, dict):
            errors = body.get('errors')
            if isinstance(errors, list) and errors and isinstance(
                    errors[0], dict):
                # API-SIG errors (Placement).
                text = errors[0].get('detail') or errors[0].get('title')
            else:
                # Nova: {"itemNotFound": {"message": ..., "code": ...}}.
                for value in body.values():
                    if isinstance(value, dict) and 'message' in value:
                        text = value['message']
                        break
        text = str(text if text is not None else body)
    text = ' '.join(text.split())
    if len(text) > _DETAIL_CHARS:
        text = text[:_DETAIL_CHARS] + '...'
    return text


class ServiceClient:
    """GETs against one OpenStack API, returning parsed JSON."""

    def __init__(self, label, adapter):
        self.label = label
        self.adapter = adapter

    def url(self, path):
        """The URL a path resolves to, for messages (no I/O if possible)."""
        try:
            endpoint = self.adapter.get_endpoint()
        except ks_exc.ClientException:
            endpoint = None
        if not endpoint:
            return path
        return endpoint.rstrip('/') + path

    def get(self, path, params=None, tolerate=()):
        """The JSON body of ``GET path``; None if the status is tolerated."""
        try:
            resp = self.adapter.get(path, params=params)
        except ks_exc.EndpointNotFound as exc:
            raise base.InventoryError(
                '%s: no endpoint found in the service catalog (%s); set '
                'endpoint_override or check region_name/valid_interfaces'
                % (self.label, exc))
        except ks_exc.ConnectTimeout:
            raise base.InventoryError(
                '%s at %s: timed out after retries' % (
                    self.label, self.url(path)))
        except ks_exc.ConnectionError as exc:
            raise base.InventoryError(
                '%s at %s: unreachable after retries (%s)' % (
                    self.label, self.url(path), type(exc).__name__))
        except ks_exc.HttpError as exc:
            # Raised while authenticating, before the request was sent.
            raise base.InventoryError(
                '%s: authentication failed: %s' % (self.label, exc.message))
        except ks_exc.ClientException as exc:
            raise base.InventoryError(
                '%s at %s: request failed: %s' % (
                    self.label, self.url(path), exc))
        if resp.status_code in tolerate:
            return None
        if resp.status_code >= 400:
            raise base.InventoryError(
                '%s GET %s answered %d: %s' % (
                    self.label, resp.url or self.url(path), resp.status_code,
                    _detail(resp)))
        try:
            return resp.json()
        except ValueError:
            raise base.InventoryError(
                '%s GET %s answered %d with a body that is not JSON' % (
                    self.label, resp.url or self.url(path), resp.status_code))

    def get_paged(self, path, key, params=None, tolerate=()):
        """Every item of a Nova-style paginated list ``{key: [...]}``.

        Nova caps each page at ``[api] max_limit`` and adds
        ``<key>_links`` with a ``next`` link; only its marker is used, since
        the link's host may be a public name this client cannot reach.
        None when the first page's status is tolerated.
        """
        params = dict(params or {})
        items = []
        while True:
            body = self.get(path, params=params, tolerate=tolerate)
            if body is None:
                return None
            page = expect(self, path, body, key, list)
            items.extend(page)
            marker = _next_marker(body.get('%s_links' % key))
            if not marker or not page or marker == params.get('marker'):
                return items
            params['marker'] = marker


def expect(client, path, body, key, kind):
    """``body[key]`` if it is a ``kind``; a clear InventoryError otherwise."""
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, kind):
        raise base.InventoryError(
            '%s GET %s: unexpected response, no %s %r in it' % (
                client.label, client.url(path), kind.__name__, key))
    return value


def _next_marker(links):
    for link in links or ():
        if isinstance(link, dict) and link.get('rel') == 'next':
            query = urllib.parse.urlsplit(link.get('href') or '').query
            values = urllib.parse.parse_qs(query).get('marker')
            if values:
                return values[0]
    return None
