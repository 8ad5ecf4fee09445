"""Nova-side half of ``nova_fixture``; runs under the OpenStack venv's python.

It is never imported by Valet's own venv. It offers two things:

* ``noauth_filter_factory``: a paste filter for nova-api's pipeline in place
  of keystonemiddleware. Nova 34 removed ``[api] auth_strategy = noauth2``,
  so this restores its contract: the token is ``user[:project]``, user
  ``admin`` gets the roles admin, member and reader, and an explicit
  ``X-Roles`` header wins. With ``keystone_tokens = true`` a Keystone
  token is validated by keystonemiddleware's ``auth_token`` instead.
* ``python nova_setup.py NOVA_CONF``: a helper process reading one JSON
  command per line on stdin and answering one JSON line on stdout. It runs
  what ``nova-manage api_db sync / cell_v2 map_cell0 / cell_v2 create_cell /
  db sync`` do, in one process so nova's import cost is paid once, and it
  creates compute hosts with nova's own objects, because no nova-compute
  process runs in the tests. ``discover_hosts`` maps the hosts real
  nova-compute services registered (the compute cloud's case).
"""

import json
import sys

import webob.dec


def _is_keystone_token(token):
    # Keystone's tokens (Fernet, JWS) are long and never hold a colon; the
    # noauth tokens here are user names, with ":<project id>" at most.
    return len(token) > 64 and ':' not in token


def noauth_filter_factory(global_conf, **local_conf):
    keystone_tokens = local_conf.get('keystone_tokens') == 'true'

    def _filter(app):
        # With keystone_tokens, a real Keystone token (what Heat sends on
        # behalf of a user) goes through keystonemiddleware's auth_token
        # ([keystone_authtoken] of nova.conf), as in a deployed Nova: the
        # server is then owned by the token's project, not by a project
        # named after the token.
        by_keystone = None
        if keystone_tokens:
            from keystonemiddleware import auth_token
            by_keystone = auth_token.filter_factory(global_conf)(app)

        @webob.dec.wsgify
        def noauth(req):
            token = req.headers.get('X-Auth-Token')
            if not token:
                return app  # NovaKeystoneContext answers 401
            if by_keystone is not None and _is_keystone_token(token):
                return by_keystone
            user, _sep, project = token.partition(':')
            roles = 'admin,member,reader' if user == 'admin' else 'member,reader'
            req.headers['X-User-Id'] = user
            req.headers['X-Project-Id'] = project or user
            req.headers.setdefault('X-Roles', roles)
            return app
        return noauth
    return _filter


def _bootstrap(cell0, cell1, transport_url):
    from nova.cmd import manage
    manage.ApiDbCommands().sync()
    manage.CellV2Commands().map_cell0(database_connection=cell0)
    rc = manage.CellV2Commands().create_cell(
        name='cell1', database_connection=cell1, transport_url=transport_url)
    if rc:
        raise RuntimeError('create_cell returned %s' % rc)
    manage.DbCommands().sync()  # cell1 ([database]) and cell0
    return {}


def _cell1(ctxt):
    from nova import objects
    return [c for c in objects.CellMappingList.get_all(ctxt)
            if c.name == 'cell1'][0]


def _add_host(name, vcpus, ram, disk):
    """What a starting nova-compute would write: service, node, mapping."""
    from nova import context
    from nova import objects
    ctxt = context.get_admin_context()
    cell = _cell1(ctxt)
    with context.target_cell(ctxt, cell) as cctxt:
        service = objects.Service(cctxt, host=name, binary='nova-compute',
                                  topic='compute', report_count=1)
        service.create()
        node = objects.ComputeNode(
            cctxt, host=name, hypervisor_hostname=name, service_id=service.id,
            vcpus=vcpus, memory_mb=ram, local_gb=disk, vcpus_used=0,
            memory_mb_used=0, local_gb_used=0, free_ram_mb=ram,
            free_disk_gb=disk, disk_available_least=disk, running_vms=0,
            current_workload=0, hypervisor_type='QEMU',
            hypervisor_version=8002000, cpu_info='{}', host_ip='127.0.0.1',
            cpu_allocation_ratio=4.0, ram_allocation_ratio=1.0,
            disk_allocation_ratio=1.0, supported_hv_specs=[],
            # nova-api reads uptime from here at 2.88+ instead of an RPC.
            stats={'uptime': ' 00:00:00 up 1 day,  load average: 0.00'})
        node.create()
    objects.HostMapping(ctxt, host=name, cell_mapping=cell).create()
    return {'service_id': service.uuid, 'node_uuid': node.uuid}


def _discover_hosts():
    """Map the cells' new compute hosts (``cell_v2 discover_hosts``)."""
    from nova import context
    from nova.objects import host_mapping
    mappings = host_mapping.discover_hosts(context.get_admin_context())
    return sorted(mapping.host for mapping in mappings)


COMMANDS = {'bootstrap': _bootstrap, 'add_host': _add_host,
            'discover_hosts': _discover_hosts}


def main(conf):
    # Decide eventlet vs threads before anything imports eventlet, as
    # nova's own entry points do.
    from nova import monkey_patch
    monkey_patch.patch(backend='threading')
    from nova import config
    from nova import objects
    config.parse_args(['nova_setup', '--config-file', conf])
    objects.register_all()
    out = sys.stdout
    sys.stdout = sys.stderr  # keep nova's prints out of the protocol
    out.write(json.dumps({'ready': True}) + '\n')
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {'result': COMMANDS[request.pop('cmd')](**request)}
        except Exception as exc:  # report it; the fixture raises it
            reply = {'error': '%s: %s' % (type(exc).__name__, exc)}
        out.write(json.dumps(reply) + '\n')
        out.flush()


if __name__ == '__main__':
    main(sys.argv[1])
