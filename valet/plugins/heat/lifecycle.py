"""Stack lifecycle plugin (entry point ``heat.stack_lifecycle_plugins``).

For clouds whose Heat runs the legacy engine (``convergence_engine =
false``): Heat calls it before each stack operation, and it plans the
whole root stack — nested stacks and ResourceGroups included, one plan
per root stack — before any server exists. Under the default convergence
engine Heat never calls lifecycle plugins; Valet's engine then reads the
stack from Heat's API when its first server reaches Nova's filter, and
both build the plan with ``valet.common.heat_stack``.

A plan Valet refuses raises here, so the stack fails with Valet's
explanation.
"""

from heat.engine import lifecycle_plugin
from oslo_config import cfg
from oslo_log import log as logging

from valet.common import heat_stack
from valet.plugins.heat import api

LOG = logging.getLogger(__name__)

# The filter recognises a stack's servers by Heat's scheduler hints.
cfg.CONF.import_opt('stack_scheduler_hints', 'heat.common.config')

_KEPT = {heat_stack.SERVER_TYPE: heat_stack.SERVER_PROPERTIES,
         heat_stack.GROUP_TYPE: ('name',)}
_KEPT.update({t: ('group', 'group_name', 'resources')
              for t in heat_stack.ASSIGNMENT_TYPES})


def _properties(resource, keys):
    out = {}
    for key in keys:
        try:
            out[key] = resource.properties[key]
        except (KeyError, ValueError):
            # Not in this type's schema, or not resolvable before the
            # stack exists.
            continue
    return out


def stack_entries(stack):
    """Entries (see ``heat_stack.plan_resources``) of every server and
    group assignment of ``stack`` and of the stacks nested in it."""
    entries = []

    def walk(parsed, prefix):
        # preview_resources() previews each of stack.resources in order;
        # a nested stack's preview is the list of its own resources.
        resources = list(parsed.resources.values())
        for res, preview in zip(resources, parsed.preview_resources()):
            if isinstance(preview, list):
                nested = getattr(res, '_nested', None)
                if nested is not None:
                    walk(nested, prefix + [res.name])
                continue
            keys = _KEPT.get(res.type())
            if keys is not None:
                entries.append({'path': prefix + [res.name],
                                'type': res.type(),
                                'properties': _properties(res, keys)})

    walk(stack, [])
    return entries


GROUP_NOT_FOUND = 'valet.group.not_found'


class ValetLifecyclePlugin(lifecycle_plugin.LifecyclePlugin):

    @staticmethod
    def _defer(stack_id):
        LOG.info('Stack %s declares Valet groups (OS::Valet::Group) that '
                 'exist only once its resources are created: Valet plans it '
                 'when its first server is scheduled', stack_id)

    def get_ordinal(self):
        return 100

    @staticmethod
    def _client(cnxt):
        return cnxt.clients.client('valet')

    def do_pre_op(self, cnxt, stack, current_stack=None, action=None):
        if not cfg.CONF.stack_scheduler_hints:
            LOG.warning('Valet needs stack_scheduler_hints = true in '
                        'heat.conf; stack %s is not planned', stack.id)
            return
        if stack.parent_resource_name:
            return      # planned with its root stack
        if action == 'CREATE':
            self._plan(cnxt, stack, create=True)
        elif action == 'UPDATE':
            self._plan(cnxt, current_stack or stack, create=False,
                       stack_id=stack.id)
        elif action == 'DELETE':
            try:
                self._client(cnxt).delete_plan(stack.id)
            except api.ValetError as exc:
                if exc.status != 404:
                    raise

    def _plan(self, cnxt, stack, create, stack_id=None):
        stack_id = stack_id or stack.id
        entries = stack_entries(stack)
        declares_groups = any(e['type'] == heat_stack.GROUP_TYPE
                              for e in entries)
        resources = heat_stack.plan_resources(stack_id, stack.name, entries)
        client = self._client(cnxt)
        if not create:
            try:
                client.update_plan(stack_id, resources, name=stack.name)
                LOG.info('Valet re-planned stack %s: %d servers', stack_id,
                         len(resources))
                return
            except api.ValetError as exc:
                if declares_groups and exc.code == GROUP_NOT_FOUND:
                    return self._defer(stack_id)
                if exc.status != 404:
                    raise
        if not resources:
            return
        if declares_groups:
            # Its groups come into being with its resources, after this
            # pre-op: the first server scheduled makes Valet read the
            # stack from Heat and plan it, as under convergence.
            return self._defer(stack_id)
        client.create_plan(stack.name, stack_id, resources)
        LOG.info('Valet planned stack %s: %d servers', stack_id,
                 len(resources))
