"""Reads a Heat stack for planning (the convergence path).

The engine plans a stack whole when its first server reaches Nova's
filter. It reads the root stack from Heat's orchestration API with
Valet's service credentials (``[heat]``): the stack (its owner project),
its template, environment and files, then asks Heat for a *preview* of
them, which resolves every server's properties across nested templates
and ResourceGroups. The preview is turned into entries for
``valet.common.heat_stack.plan_resources``, exactly as the lifecycle
plugin does from Heat's own objects, so both make the same plan.
"""

import dataclasses
import urllib.parse

from keystoneauth1 import exceptions as ks_exc
from oslo_log import log as logging

from valet.common import heat_stack
from valet.conf import heat as heat_conf
from valet.inventory import base
from valet.inventory.openstack import client as client_mod

LOG = logging.getLogger(__name__)

# Properties read from each previewed resource; the rest stays in Heat.
_KEPT = {heat_stack.SERVER_TYPE: heat_stack.SERVER_PROPERTIES,
         heat_stack.GROUP_TYPE: ('name',)}
_KEPT.update({t: ('group', 'group_name', 'resources')
              for t in heat_stack.ASSIGNMENT_TYPES})


class StackNotFound(base.InventoryError):
    """Heat does not know the stack (deleted, or never existed)."""


@dataclasses.dataclass
class StackRead:
    stack_id: str
    name: str
    project_id: str | None
    resources: dict         # plan resources (heat_stack.plan_resources)
    # Names of the groups the stack declares (OS::Valet::Group), which
    # Heat creates along with its servers.
    declared_groups: tuple = ()


def is_configured(conf):
    return client_mod.is_configured(conf, heat_conf.GROUP_NAME)


def _project_of(stack):
    """The owner project from the stack's self link
    (``.../v1/<project>/stacks/<name>/<id>``)."""
    for link in stack.get('links') or ():
        path = urllib.parse.urlsplit(link.get('href') or '').path
        parts = [p for p in path.split('/') if p]
        if 'stacks' in parts:
            index = parts.index('stacks')
            if index >= 1:
                return parts[index - 1]
    return None


def _list_info(items, parent_stack):
    """(nested stack name, resource name holding it) of a preview list.

    A previewed nested stack is named ``<parent stack>-<resource>``; its
    resources say so in ``stack_name`` and name the resource in
    ``parent_resource``. A nested stack holding only nested stacks (a
    ResourceGroup of templates) is named from one of them.
    """
    for item in items:
        if isinstance(item, dict):
            return item.get('stack_name'), item.get('parent_resource')
    for item in items:
        if isinstance(item, list) and item:
            inner_name, inner_parent = _list_info(item, None)
            if inner_name and inner_parent and inner_name.endswith(
                    '-' + inner_parent):
                name = inner_name[:-(len(inner_parent) + 1)]
                if parent_stack and name.startswith(parent_stack + '-'):
                    return name, name[len(parent_stack) + 1:]
                return name, None
    return None, None


def preview_entries(resources, stack_name):
    """Entries (see ``heat_stack.plan_resources``) of a REST preview."""
    entries = []

    def walk(items, prefix, current):
        for item in items:
            if isinstance(item, list):
                name, parent = _list_info(item, current)
                if item and parent:
                    walk(item, prefix + [parent], name)
                elif item:
                    LOG.warning('Heat preview of stack %s: a nested stack '
                                'whose resource cannot be named is left out',
                                stack_name)
                continue
            keys = _KEPT.get(item.get('resource_type'))
            if keys is None:
                continue
            props = item.get('properties') or {}
            entries.append({
                'path': prefix + [item.get('resource_name')],
                'type': item.get('resource_type'),
                'properties': {k: props.get(k) for k in keys if k in props}})

    walk(resources, [], stack_name)
    return entries


class HeatStackReader:

    def __init__(self, conf, service_client=None):
        self.conf = conf
        self._client = service_client

    @property
    def client(self):
        if self._client is None:
            self._client = client_mod.make_client(
                self.conf, heat_conf.GROUP_NAME, 'Heat', None)
        return self._client

    def _post(self, path, body):
        adapter = self.client.adapter
        try:
            resp = adapter.post(path, json=body)
        except ks_exc.ClientException as exc:
            raise base.InventoryError('Heat POST %s failed: %s' % (
                self.client.url(path), type(exc).__name__))
        if resp.status_code >= 400:
            raise base.InventoryError('Heat POST %s answered %d: %s' % (
                self.client.url(path), resp.status_code,
                client_mod._detail(resp)))
        return resp.json()

    def read(self, stack_id):
        """The plan resources of root stack ``stack_id`` and its owner."""
        found = self.client.get('/stacks/%s' % stack_id, tolerate=(404,))
        if found is None:
            raise StackNotFound('Heat has no stack %s' % stack_id)
        stack = client_mod.expect(self.client, '/stacks', found, 'stack',
                                  dict)
        name = stack.get('stack_name')
        where = '/stacks/%s/%s' % (name, stack_id)
        template = self.client.get(where + '/template')
        environment = self.client.get(where + '/environment') or {}
        files = self.client.get(where + '/files') or {}
        preview = self._post('/stacks/preview', {
            # Previews create nothing; the name only has to be free in
            # Valet's own project.
            'stack_name': ('valet-preview-' + name)[:255],
            'template': template, 'environment': environment,
            'files': files})
        resources = client_mod.expect(
            self.client, '/stacks/preview',
            client_mod.expect(self.client, '/stacks/preview', preview,
                              'stack', dict), 'resources', list)
        # Nested stacks of the preview are named after the preview stack.
        entries = preview_entries(resources, preview['stack'].get(
            'stack_name') or ('valet-preview-' + name)[:255])
        LOG.info('Read Heat stack %s (%s): %d resources to plan',
                 stack_id, name, len(entries))
        return StackRead(stack_id=stack_id, name=name,
                         project_id=_project_of(stack),
                         resources=heat_stack.plan_resources(
                             stack_id, name, entries),
                         declared_groups=declared_groups(entries))


def declared_groups(entries):
    """Names of the OS::Valet::Group resources among ``entries``."""
    names = []
    for entry in entries:
        name = (entry.get('properties') or {}).get('name')
        if (entry.get('type') == heat_stack.GROUP_TYPE
                and isinstance(name, str) and name not in names):
            names.append(name)
    return tuple(names)
