"""Does a project exist? Asked of Keystone as the caller.

keystonemiddleware leaves the caller's authentication in the request
(``keystone.token_auth``): looking a project up with it needs no extra
credentials in valet.conf, and Keystone's own policy decides what the
caller may see. Without Keystone (``noauth``) nothing can be checked.
"""

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

from valet.api import errors

TOKEN_AUTH_KEY = 'keystone.token_auth'


def unknown_projects(environ, project_ids, interface='public'):
    """The ids Keystone does not know, in the order given.

    Returns [] when the request did not come through Keystone. Keystone
    unreachable is a 503: membership must not be granted unchecked.
    """
    auth = environ.get(TOKEN_AUTH_KEY)
    if auth is None:
        return []
    session = ks_session.Session(auth=auth)
    endpoint = {'service_type': 'identity', 'interface': interface,
                'version': (3, 0)}
    unknown = []
    for project_id in project_ids:
        try:
            session.get('/projects/%s' % project_id, endpoint_filter=endpoint)
        except (ks_exc.NotFound, ks_exc.Forbidden):
            # Forbidden: the caller may not see it; it is not a member a
            # caller can vouch for either.
            unknown.append(project_id)
        except (ks_exc.ConnectFailure, ks_exc.EndpointNotFound,
                ks_exc.ServiceUnavailable, ks_exc.ConnectTimeout) as exc:
            raise errors.APIError(
                503, errors.SERVICE_UNAVAILABLE,
                'Keystone could not be asked whether project %s exists (%s); '
                'try again later.' % (project_id, type(exc).__name__))
    return unknown
