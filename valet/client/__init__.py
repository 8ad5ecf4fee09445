"""A small Python client of Valet's v1 REST API.

It needs only keystoneauth1 (and what that needs), so the Nova and Heat
plugins can use it from those services' environments::

    from keystoneauth1 import loading, session
    from valet import client

    valet = client.Client(session.Session(auth=auth),
                          endpoint_override='http://valet:8090')
    plan = valet.create_plan('web', stack_id, resources)

Errors are :mod:`valet.client.exceptions` classes carrying the API-SIG
``code``, ``status`` and ``detail``.
"""

from valet.client.exceptions import *  # noqa: F401,F403
from valet.client.http import SERVICE_TYPE  # noqa: F401
from valet.client.v1 import Client  # noqa: F401
