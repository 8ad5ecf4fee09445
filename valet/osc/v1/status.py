"""``openstack valet status`` and ``openstack valet resources``."""

from osc_lib.command import command

from valet.osc.v1 import common


class ShowStatus(command.ShowOne):
    """Show the engine's and the storage's health (admin)."""

    def take_action(self, parsed_args):
        status = common.call(common.client(self.app).status)
        engine = status.get('engine') or {}
        storage = status.get('storage') or {}
        leadership = engine.get('leadership') or {}
        rows = [
            ('engine_status', engine.get('status')),
            ('engine_host', engine.get('host')),
            ('hosts', engine.get('hosts')),
            ('servers', engine.get('servers')),
            ('groups', engine.get('groups')),
            ('degraded', ', '.join(sorted(engine.get('degraded') or {}))
             or None),
            ('leadership', leadership.get('role')),
            ('storage_ok', storage.get('ok')),
            ('storage_detail', storage.get('detail')),
        ]
        return tuple(r[0] for r in rows), tuple(r[1] for r in rows)


class ListResources(command.Lister):
    """List placed servers whose host breaks their groups (admin)."""

    def take_action(self, parsed_args):
        resources = common.call(common.client(self.app).resources)
        columns = ('placement_id', 'status', 'message', 'orchestration_id',
                   'location', 'plan_id')
        rows = ((pid, r.get('status'), r.get('message'),
                 r.get('orchestration_id'), r.get('location'),
                 r.get('plan_id'))
                for pid, r in sorted((resources or {}).items()))
        return columns, rows
