"""The calls Heat's plugins make to Valet's REST API.

A keystoneauth adapter on the session Heat gives a resource or a
lifecycle plugin (the user's, or the stack's trust), aimed at the
``workload-placement`` service from the catalog.
"""

from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ks_exc

SERVICE_TYPE = 'workload-placement'


class ValetError(Exception):
    """Valet refused a request; ``detail`` is its explanation."""

    def __init__(self, status, detail, code=None):
        super().__init__('Valet: %s' % detail)
        self.status = status
        self.detail = detail
        self.code = code


def _error(resp):
    try:
        first = resp.json()['errors'][0]
        return ValetError(resp.status_code, first.get('detail') or
                          first.get('title'), first.get('code'))
    except (ValueError, KeyError, IndexError, TypeError):
        return ValetError(resp.status_code, resp.text[:500] or resp.reason)


class ValetAPI:

    def __init__(self, session, endpoint_override=None, interface=None,
                 region_name=None, timeout=None):
        self.http = adapter.Adapter(
            session, service_type=SERVICE_TYPE, interface=interface,
            region_name=region_name, endpoint_override=endpoint_override,
            timeout=timeout)

    def _call(self, method, path, body=None, ok=(200, 201, 204)):
        try:
            resp = self.http.request('/v1' + path, method, json=body,
                                     raise_exc=False)
        except ks_exc.ConnectionError as exc:
            raise ValetError(503, 'the Valet API cannot be reached: %s'
                             % exc)
        if resp.status_code not in ok:
            raise _error(resp)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    # ------------------------------------------------------------ groups
    def create_group(self, name, type_, level, description=None):
        body = {'name': name, 'type': type_, 'level': level}
        if description:
            body['description'] = description
        found = self._call('POST', '/groups', body)
        return found.get('group', found)

    def get_group(self, ref):
        return self._call('GET', '/groups/%s' % ref)['group']

    def update_group(self, group_id, description):
        found = self._call('PUT', '/groups/%s' % group_id,
                           {'description': description or ''})
        return found.get('group', found)

    def add_members(self, group_id, members):
        return self._call('PUT', '/groups/%s/members' % group_id,
                          {'members': list(members)})

    def remove_member(self, group_id, member):
        self._call('DELETE', '/groups/%s/members/%s' % (group_id, member))

    def delete_group(self, group_id):
        self._call('DELETE', '/groups/%s' % group_id)

    # ------------------------------------------------------------- plans
    def get_plan(self, ref):
        return self._call('GET', '/plans/%s' % ref)['plan']

    def create_plan(self, name, stack_id, resources):
        return self._call('POST', '/plans', {
            'plan_name': name, 'stack_id': stack_id,
            'resources': resources})['plan']

    def update_plan(self, stack_id, resources, name=None):
        body = {'action': 'update', 'resources': resources}
        if name:
            body['plan_name'] = name
        return self._call('PUT', '/plans/%s' % stack_id, body)['plan']

    def delete_plan(self, stack_id):
        self._call('DELETE', '/plans/%s' % stack_id)
