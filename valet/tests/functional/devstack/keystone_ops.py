"""Keystone operations of the devstack harness, on keystoneauth.

``python -m valet.tests.functional.devstack.keystone_ops <op> args...``
with the admin credentials in ``OS_AUTH_URL``, ``OS_USERNAME``,
``OS_PASSWORD``, ``OS_PROJECT_NAME`` (Default domain). Each operation does
what the devstack function of the same name does, against the real
Keystone, and prints the id it found or created:

* ``get-or-create-project NAME``
* ``get-or-create-user NAME PASSWORD``
* ``get-or-add-user-project-role ROLE USER PROJECT``
* ``get-or-create-service NAME TYPE DESCRIPTION``
* ``get-or-create-endpoint TYPE REGION INTERFACE URL``
"""

import os
import sys

from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session


def _session():
    auth = v3.Password(auth_url=os.environ['OS_AUTH_URL'],
                       username=os.environ['OS_USERNAME'],
                       password=os.environ['OS_PASSWORD'],
                       project_name=os.environ['OS_PROJECT_NAME'],
                       user_domain_id='default', project_domain_id='default')
    return ks_session.Session(auth=auth)


class Keystone:

    def __init__(self, sess):
        self.sess = sess
        self.url = os.environ['OS_AUTH_URL'].rstrip('/')

    def _get(self, path, key, **params):
        resp = self.sess.get(self.url + path, params=params)
        return resp.json()[key]

    def _post(self, path, key, body):
        return self.sess.post(self.url + path, json={key: body}).json()[key]

    def _one(self, path, key, **params):
        found = self._get(path, key, **params)
        return found[0]['id'] if found else None

    def project(self, name):
        return self._one('/projects', 'projects', name=name) or self._post(
            '/projects', 'project', {'name': name,
                                     'domain_id': 'default'})['id']

    def user(self, name, password):
        found = self._one('/users', 'users', name=name)
        if found:
            return found
        return self._post('/users', 'user', {
            'name': name, 'password': password, 'domain_id': 'default'})['id']

    def role(self, role, user, project):
        role_id = self._one('/roles', 'roles', name=role) or self._post(
            '/roles', 'role', {'name': role})['id']
        user_id = self._one('/users', 'users', name=user)
        project_id = self._one('/projects', 'projects', name=project)
        self.sess.put('%s/projects/%s/users/%s/roles/%s' % (
            self.url, project_id, user_id, role_id))
        return role_id

    def service(self, name, type_, description):
        for svc in self._get('/services', 'services', type=type_):
            if svc.get('name') == name:
                return svc['id']
        return self._post('/services', 'service', {
            'name': name, 'type': type_, 'description': description})['id']

    def endpoint(self, type_, region, interface, url):
        services = self._get('/services', 'services', type=type_)
        service_id = services[0]['id']
        for existing in self._get('/endpoints', 'endpoints',
                                  service_id=service_id,
                                  interface=interface):
            if existing.get('region_id') == region:
                return existing['id']
        return self._post('/endpoints', 'endpoint', {
            'service_id': service_id, 'interface': interface,
            'region_id': region, 'url': url})['id']


OPS = {
    'get-or-create-project': 'project',
    'get-or-create-user': 'user',
    'get-or-add-user-project-role': 'role',
    'get-or-create-service': 'service',
    'get-or-create-endpoint': 'endpoint',
}


def main(argv):
    if not argv or argv[0] not in OPS:
        print('usage: keystone_ops {%s} args...' % ','.join(OPS),
              file=sys.stderr)
        return 2
    keystone = Keystone(_session())
    print(getattr(keystone, OPS[argv[0]])(*argv[1:]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
