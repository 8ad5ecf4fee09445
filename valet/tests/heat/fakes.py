"""A stand-in for Valet's REST API inside Heat's unit tests.

Valet's API cannot run in Heat's virtualenv (it has none of Valet's
dependencies), so these tests replace ``valet.plugins.heat.api.ValetAPI``
with this recorder. The plugins against the real API are tested in
``valet/tests/functional/heat``.
"""

import itertools

from valet.objects import group_kinds
from valet.plugins.heat import api


class FakeValet:

    def __init__(self):
        self.calls = []
        self.groups = {}
        self.plans = {}
        self.refuse = None          # a ValetError create/update raise
        self.busy_members = 0       # remove_member answers 409 this often
        self._ids = itertools.count(1)

    def _record(self, name, *args):
        self.calls.append((name,) + args)

    def calls_to(self, name):
        return [c[1:] for c in self.calls if c[0] == name]

    def _group(self, ref):
        for group in self.groups.values():
            if ref in (group['id'], group['name']):
                return group
        raise api.ValetError(status=404, detail="Group '%s' not found" % ref)

    def _parents(self, parents):
        # Valet stores and shows the parents' names.
        return [self._group(p)['name'] for p in parents or ()]

    def create_group(self, name, type_, level, description=None,
                     parents=None, **parameters):
        self._record('create_group', name, type_, level, description)
        if parents is not None:
            self._record('create_group_parents', name, list(parents))
        given = {k: v for k, v in parameters.items() if v is not None}
        self._record('create_group_parameters', name, given)
        # What Valet's API refuses with a 400.
        why = group_kinds.parameters_error(type_, given)
        if why:
            raise api.ValetError(status=400, detail=why)
        if any(g['name'] == name for g in self.groups.values()):
            raise api.ValetError(status=409,
                                 detail='A group named %s exists' % name)
        parent_names = self._parents(parents)
        gid = 'group-%d' % next(self._ids)
        self.groups[gid] = dict(
            group_kinds.with_defaults(type_, given),
            id=gid, name=name, type=type_, level=level,
            description=description, members=[], parents=parent_names)
        return dict(self.groups[gid])

    def get_group(self, ref, parents=False, parameters=False):
        self._record('get_group', ref, parents, parameters)
        group = dict(self._group(ref))
        if not parents:
            # Before microversion 1.4 a group shows no parents.
            group.pop('parents')
        if not parameters:
            # Nor, before the kinds' microversions, their parameters.
            for name in group_kinds.PARAMETERS:
                group.pop(name, None)
        return group

    def update_group(self, group_id, description=None, parents=None):
        self._record('update_group', group_id, description)
        if parents is not None:
            self._record('update_group_parents', group_id, list(parents))
            self._group(group_id)['parents'] = self._parents(parents)
        if description is not None:
            self._group(group_id)['description'] = description

    def add_members(self, group_id, members):
        self._record('add_members', group_id, list(members))
        group = self._group(group_id)
        group['members'] = sorted(set(group['members']) | set(members))

    def remove_member(self, group_id, member):
        self._record('remove_member', group_id, member)
        if self.busy_members:
            self.busy_members -= 1
            raise api.ValetError(
                status=409,
                detail='project %s has servers in the group' % member)
        group = self._group(group_id)
        if member not in group['members']:
            raise api.ValetError(status=404, detail='Member not found')
        group['members'].remove(member)

    def delete_group(self, group_id):
        self._record('delete_group', group_id)
        name = self._group(group_id)['name']
        if any(name in g['parents'] for g in self.groups.values()):
            raise api.ValetError(status=409,
                                 detail='group %s has children' % name)
        self.groups.pop(self._group(group_id)['id'])

    def _maybe_refuse(self):
        if self.refuse is not None:
            raise self.refuse

    def create_plan(self, name, stack_id, resources):
        self._record('create_plan', name, stack_id, resources)
        self._maybe_refuse()
        if stack_id in self.plans:
            raise api.ValetError(status=409, detail='plan exists')
        self.plans[stack_id] = resources
        return {'stack_id': stack_id}

    def update_plan(self, stack_id, resources, name=None):
        self._record('update_plan', stack_id, resources)
        if stack_id not in self.plans:
            raise api.ValetError(status=404, detail='Plan not found')
        self._maybe_refuse()
        self.plans[stack_id] = resources
        return {'stack_id': stack_id}

    def delete_plan(self, stack_id):
        self._record('delete_plan', stack_id)
        if self.plans.pop(stack_id, None) is None:
            raise api.ValetError(status=404, detail='Plan not found')
