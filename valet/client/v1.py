"""Methods for every resource of Valet's v1 REST API.

Each method returns the resource itself (the value under the answer's
top-level key), or None for 204 answers. Ids in paths are quoted.
"""

from urllib import parse

from valet.client import http
from valet.objects import group_kinds

# A reserve takes Heat's hints, and POST /v1/plans a project_id, from
# these microversions on.
RESERVE_HINTS_VERSION = '1.2'
PLAN_FOR_PROJECT_VERSION = '1.3'
# Groups have parents (nesting) from this microversion on.
NESTING_VERSION = '1.4'
# Plan answers carry the engine's decision, plans take dry_run, and
# GET /v1/capacity exists from this microversion on.
DECISION_VERSION = '1.8'


def _q(value):
    return parse.quote(str(value), safe='')


def _version_key(text):
    try:
        return tuple(int(part) for part in str(text).split('.'))
    except ValueError:
        return (0,)


# Every group kind's parameters are shown from this microversion on.
PARAMETERS_VERSION = max((kind.since for kind in group_kinds.TABLE),
                         key=_version_key)


def _unwrap(data, key):
    if isinstance(data, dict) and key in data:
        return data[key]
    return data


class Client:
    """A Valet v1 client.

    ``session`` is a keystoneauth1 session; the other arguments are those
    of :class:`valet.client.http.HTTPClient` (``endpoint_override``,
    ``timeout``, ``retries``, ``retry_delay``, ``microversion``, ...).
    Every method takes ``timeout`` to use another budget for that call.
    """

    def __init__(self, session, **kwargs):
        self.http = kwargs.pop('http', None) or http.HTTPClient(
            session, **kwargs)

    def _at_least(self, version):
        """``version`` when the client's own microversion is older, else
        None (the client's is used)."""
        current = getattr(self.http, 'microversion', None) or '1.0'
        if current == 'latest' or \
                _version_key(current) >= _version_key(version):
            return None
        return version

    def _call(self, method, path, body=None, query=None, timeout=None,
              microversion=None):
        return self.http.request(method, '/v1' + path, body=body,
                                 query=query, timeout=timeout,
                                 microversion=microversion)[1]

    # ------------------------------------------------------------ version
    def versions(self, timeout=None):
        """The root version document (``GET /``)."""
        return self.http.request('GET', '/', timeout=timeout)[1]

    # -------------------------------------------------------------- groups
    def _group_version(self, parents=False, parameters=False):
        # The newest of the microversions the asked-for members need.
        needed = ([NESTING_VERSION] if parents else []) + (
            [PARAMETERS_VERSION] if parameters else [])
        if not needed:
            return None
        return self._at_least(max(needed, key=_version_key))

    def list_groups(self, timeout=None, parents=False, parameters=False):
        """Every group; ``parents`` asks for microversion 1.4, whose
        groups show the groups they are nested in, ``parameters`` for the
        one that shows every kind's parameters (max_per_domain, ...)."""
        return _unwrap(self._call(
            'GET', '/groups', timeout=timeout,
            microversion=self._group_version(parents, parameters)),
            'groups')

    def create_group(self, name, type, level, description=None,
                     timeout=None, parents=None, **parameters):
        """Create a group; ``parents`` (names or ids of the groups it is
        nested in) needs microversion 1.4; ``parameters`` are the kind's
        (``max_per_domain=2``, ``weight=5``, ...; None leaves one out).
        A kind newer than 1.0 is asked for at the microversion that
        introduced it."""
        body = {'name': name, 'type': type, 'level': level}
        if description is not None:
            body['description'] = description
        body.update((k, v) for k, v in parameters.items() if v is not None)
        needed = ['1.0']
        if parents is not None:
            body['parents'] = list(parents)
            needed.append(NESTING_VERSION)
        kind = group_kinds.BY_NAME.get(type)
        if kind is not None:
            needed.append(kind.since)
        version = max(needed, key=_version_key)
        return _unwrap(self._call(
            'POST', '/groups', body, timeout=timeout,
            microversion=self._at_least(version) if version != '1.0'
            else None), 'group')

    def show_group(self, group, timeout=None, parents=False,
                   parameters=False):
        """One group; ``parents`` and ``parameters`` as list_groups."""
        return _unwrap(self._call(
            'GET', '/groups/%s' % _q(group), timeout=timeout,
            microversion=self._group_version(parents, parameters)),
            'group')

    def update_group(self, group, description=None, timeout=None,
                     parents=None):
        """Change the description and/or (microversion 1.4) the parents;
        ``parents=[]`` takes the group out of every parent."""
        body = {}
        if description is not None:
            body['description'] = description
        version = None
        if parents is not None:
            body['parents'] = list(parents)
            version = self._at_least(NESTING_VERSION)
        return _unwrap(self._call('PUT', '/groups/%s' % _q(group), body,
                                  timeout=timeout, microversion=version),
                       'group')

    def delete_group(self, group, timeout=None):
        self._call('DELETE', '/groups/%s' % _q(group), timeout=timeout)

    def add_members(self, group, projects, timeout=None):
        return _unwrap(self._call('PUT', '/groups/%s/members' % _q(group),
                                  {'members': list(projects)},
                                  timeout=timeout), 'group')

    def remove_members(self, group, timeout=None):
        """Remove every member project of a group."""
        self._call('DELETE', '/groups/%s/members' % _q(group),
                   timeout=timeout)

    def show_member(self, group, project, timeout=None):
        return self._call('GET', '/groups/%s/members/%s' % (
            _q(group), _q(project)), timeout=timeout)

    def remove_member(self, group, project, timeout=None):
        self._call('DELETE', '/groups/%s/members/%s' % (
            _q(group), _q(project)), timeout=timeout)

    # --------------------------------------------------------------- plans
    def list_plans(self, timeout=None):
        return _unwrap(self._call('GET', '/plans', timeout=timeout), 'plans')

    def create_plan(self, plan_name, stack_id, resources, locations=None,
                    project_id=None, timeout=None, dry_run=False,
                    decision=False):
        """Place every server of ``resources`` (orchestration id ->
        HOT-style resource) at once; ``locations`` limits the hosts.

        ``project_id`` plans for the project owning the servers (an admin
        or service caller; microversion 1.3).

        Returns the plan. With ``dry_run`` (decide, store nothing) or
        ``decision`` (microversion 1.8 for both) it returns the whole
        answer instead: ``{"plan", "decision", "dry_run"}``; a dry run
        that cannot be placed is then an answer whose
        ``decision["feasible"]`` is false, not a ``NoPlacement``.
        """
        body = {'plan_name': plan_name, 'stack_id': stack_id,
                'resources': resources}
        if locations is not None:
            body['locations'] = list(locations)
        version = None
        if project_id:
            body['project_id'] = project_id
            version = PLAN_FOR_PROJECT_VERSION
        if dry_run or decision:
            return self._decided('POST', '/plans', body, dry_run, timeout)
        return _unwrap(self._call('POST', '/plans', body, timeout=timeout,
                                  microversion=version), 'plan')

    def _decided(self, method, path, body, dry_run, timeout):
        # The whole 1.8 answer; dry_run is always present in what is
        # returned (the API sends it for dry runs only).
        if dry_run:
            body['dry_run'] = True
        answer = self._call(method, path, body, timeout=timeout,
                            microversion=self._at_least(DECISION_VERSION))
        answer = dict(answer or {})
        answer.setdefault('dry_run', bool(dry_run))
        return answer

    def show_plan(self, plan, timeout=None):
        return _unwrap(self._call('GET', '/plans/%s' % _q(plan),
                                  timeout=timeout), 'plan')

    def update_plan(self, plan, resources, original_resources=None,
                    plan_name=None, timeout=None, dry_run=False,
                    decision=False):
        """Place a stack's updated set of servers; returns the plan, or
        with ``dry_run`` / ``decision`` the whole answer as
        :meth:`create_plan` does (``decision["moved"]`` and
        ``["removed"]`` name the servers the update moves and drops)."""
        body = {'action': 'update', 'resources': resources}
        if original_resources is not None:
            body['original_resources'] = original_resources
        if plan_name is not None:
            body['plan_name'] = plan_name
        path = '/plans/%s' % _q(plan)
        if dry_run or decision:
            return self._decided('PUT', path, body, dry_run, timeout)
        return _unwrap(self._call('PUT', path, body, timeout=timeout),
                       'plan')

    def migrate(self, plan, resource, excluded_hosts=None, timeout=None):
        """Advice: where ``resource`` (orchestration or Nova id) could go."""
        body = {'action': 'migrate', 'resources': [resource]}
        if excluded_hosts:
            body['excluded_hosts'] = list(excluded_hosts)
        return _unwrap(self._call('PUT', '/plans/%s' % _q(plan), body,
                                  timeout=timeout), 'plan')

    def delete_plan(self, plan, timeout=None):
        self._call('DELETE', '/plans/%s' % _q(plan), timeout=timeout)

    # ---------------------------------------------------------- placements
    def list_placements(self, timeout=None, **filters):
        """Placements matching every filter (core fields or metadata)."""
        query = {k: _filter_text(v) for k, v in filters.items()}
        return _unwrap(self._call('GET', '/placements', query=query,
                                  timeout=timeout), 'placements')

    def show_placement(self, placement, timeout=None):
        return _unwrap(self._call('GET', '/placements/%s' % _q(placement),
                                  timeout=timeout), 'placement')

    def reserve(self, placement, locations, resource_id=None, hints=None,
                timeout=None):
        """Hold the planned host if it is among ``locations``, else replan
        within them; ``resource_id`` (Nova's instance UUID) binds it.

        ``hints`` (Heat's scheduler hints of the server; microversion 1.2)
        let Valet find, or plan from Heat, a stack it has no plan for.
        """
        return self._act('reserve', placement, locations, resource_id,
                         timeout, hints)

    def replan(self, placement, locations, resource_id=None, timeout=None):
        """Place the server again within ``locations``."""
        return self._act('replan', placement, locations, resource_id,
                         timeout)

    def _act(self, action, placement, locations, resource_id, timeout,
             hints=None):
        body = {'action': action, 'locations': list(locations)}
        if resource_id:
            body['resource_id'] = resource_id
        version = None
        if hints:
            body['hints'] = dict(hints)
            version = RESERVE_HINTS_VERSION
        return _unwrap(self._call('POST', '/placements/%s' % _q(placement),
                                  body, timeout=timeout,
                                  microversion=version), 'placement')

    def delete_placement(self, placement, timeout=None):
        self._call('DELETE', '/placements/%s' % _q(placement),
                   timeout=timeout)

    # ------------------------------------------------------------ capacity
    def capacity(self, flavor, groups=None, level=None,
                 availability_zone=None, timeout=None):
        """How many more servers of ``flavor`` (joining ``groups``, in
        ``availability_zone``) fit at once, and how many on each host or
        each domain of ``level`` alone (microversion 1.8). Nothing is
        reserved. Returns ``{"count", "exact", "domains": [{"name",
        "count"}], ...}``."""
        query = {'flavor': str(flavor)}
        if groups:
            query['groups'] = ','.join(str(g) for g in groups)
        if level is not None:
            query['level'] = str(level)
        if availability_zone is not None:
            query['availability_zone'] = str(availability_zone)
        return _unwrap(self._call(
            'GET', '/capacity', query=query, timeout=timeout,
            microversion=self._at_least(DECISION_VERSION)), 'capacity')

    # -------------------------------------------------------------- others
    def status(self, timeout=None):
        return _unwrap(self._call('GET', '/status', timeout=timeout),
                       'status')

    def resources(self, timeout=None):
        """Servers whose placement breaks their group rules."""
        return _unwrap(self._call('GET', '/resources', timeout=timeout),
                       'resources')


def _filter_text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)
