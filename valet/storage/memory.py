"""An in-process storage driver for tests and development.

Everything lives in dictionaries guarded by one lock, so every method is
atomic. Objects are copied in and out: a caller changing what it got back
changes nothing stored, exactly as with a database.

Generations follow the SQL driver: a newly stored object has generation 1
(0 means "never stored"), and every stored change adds one.
"""

import copy
import threading

from valet import storage
from valet.storage import base

SCHEMA_VERSION = 'memory-1'


class MemoryStorage(base.Storage):

    def __init__(self, conf=None):
        self.conf = conf
        self._lock = threading.RLock()
        self._version = None
        self._groups = {}
        self._plans = {}
        self._placements = {}

    # ------------------------------------------------------------ lifecycle
    def upgrade(self):
        with self._lock:
            self._version = SCHEMA_VERSION

    def version(self):
        return self._version

    def health(self):
        return {'ok': True, 'detail': 'in-memory storage'}

    # --------------------------------------------------------------- groups
    def create_group(self, group):
        with self._lock:
            if group.id in self._groups:
                raise base.Conflict('Group id %s already exists' % group.id)
            if self._group_by_name(group.name) is not None:
                raise base.Conflict('Group name %r is taken' % group.name)
            stored = copy.deepcopy(group)
            stored.generation = 1
            self._groups[stored.id] = stored
            return copy.deepcopy(stored)

    def get_group(self, id_or_name):
        with self._lock:
            found = (self._groups.get(id_or_name)
                     or self._group_by_name(id_or_name))
            if found is None:
                raise base.NotFound('No group %r' % id_or_name)
            return copy.deepcopy(found)

    def list_groups(self, limit=None, marker=None):
        with self._lock:
            found = sorted(self._groups.values(), key=storage.by_name)
            found = storage.page(found, storage.by_name, limit, marker,
                                 self._groups.get(marker))
            return [copy.deepcopy(g) for g in found]

    def update_group(self, group):
        with self._lock:
            stored = self._groups.get(group.id)
            if stored is None:
                raise base.NotFound('No group %s' % group.id)
            storage.check_generation(stored, group, 'Group')
            stored.description = group.description
            stored.members = copy.deepcopy(list(group.members))
            stored.parents = copy.deepcopy(list(group.parents))
            stored.generation += 1
            return copy.deepcopy(stored)

    def delete_group(self, group_id):
        with self._lock:
            if self._groups.pop(group_id, None) is None:
                raise base.NotFound('No group %s' % group_id)

    def _group_by_name(self, name):
        for g in self._groups.values():
            if g.name == name:
                return g
        return None

    # ---------------------------------------------------- plans, placements
    def create_plan(self, plan, placements):
        with self._lock:
            stored, new = self._insert_plan(plan, placements)
            return (copy.deepcopy(stored),
                    [copy.deepcopy(p) for p in new])

    def insert_plan(self, plan, placements):
        with self._lock:
            self._insert_plan(plan, placements)

    def _insert_plan(self, plan, placements):
        # Under the lock.
        if plan.id in self._plans:
            raise base.Conflict('Plan id %s already exists' % plan.id)
        if self._plan_by_stack(plan.stack_id) is not None:
            raise base.Conflict('A plan for stack %s already exists'
                                % plan.stack_id)
        new = [storage.owned_copy(p, plan) for p in placements]
        self._check_unique(new)
        # Every check passed: nothing below can fail half-way.
        stored = copy.deepcopy(plan)
        stored.generation = 1
        self._plans[stored.id] = stored
        for p in new:
            p.generation = 1
            self._placements[p.id] = p
        return stored, new

    def get_plan(self, id_or_stack_id, project_id=None):
        with self._lock:
            return copy.deepcopy(self._visible_plan(id_or_stack_id,
                                                    project_id))

    def list_plans(self, project_id=None, limit=None, marker=None):
        with self._lock:
            plans = sorted((p for p in self._plans.values()
                            if storage.visible(p, project_id)),
                           key=storage.by_name_id)
            after = self._plans.get(marker)
            if after is not None and not storage.visible(after, project_id):
                after = None
            plans = storage.page(plans, storage.by_name_id, limit, marker,
                                 after)
            return [copy.deepcopy(p) for p in plans]

    def save_plan(self, plan, placements, removed=()):
        with self._lock:
            stored = self._plans.get(plan.id)
            if stored is None:
                raise base.NotFound('No plan %s' % plan.id)
            storage.check_generation(stored, plan, 'Plan')
            # Only this plan's placements can be removed through it.
            removed = {pid for pid in removed
                       if pid in self._placements
                       and self._placements[pid].plan_id == stored.id}
            updates, creates = [], []
            for p in placements:
                p = storage.owned_copy(p, stored)
                if p.id in removed:
                    raise ValueError('Placement %s is both saved and removed'
                                     % p.id)
                if p.generation:
                    current = self._placements.get(p.id)
                    if current is None or current.plan_id != stored.id:
                        raise base.Conflict(
                            'Placement %s of plan %s is gone'
                            % (p.id, stored.id))
                    storage.check_generation(current, p, 'Placement')
                    p.project_id = current.project_id
                    updates.append(p)
                else:
                    creates.append(p)
            self._check_unique(creates, updates, removed)
            # All checks passed; nothing below can fail half-way.
            for pid in removed:
                del self._placements[pid]
            for p in updates:
                p.generation += 1
                self._placements[p.id] = p
            for p in creates:
                p.generation = 1
                self._placements[p.id] = p
            stored.name = plan.name
            stored.generation += 1
            return (copy.deepcopy(stored),
                    [copy.deepcopy(p) for p in updates + creates])

    def delete_plan(self, plan_id):
        with self._lock:
            if self._plans.pop(plan_id, None) is None:
                raise base.NotFound('No plan %s' % plan_id)
            for pid in [p.id for p in self._placements.values()
                        if p.plan_id == plan_id]:
                del self._placements[pid]

    def get_placement(self, id_or_orchestration_id, project_id=None):
        with self._lock:
            found = self._placements.get(id_or_orchestration_id)
            if found is None:
                found = self._placement_by_orch(id_or_orchestration_id)
            if found is None or (project_id is not None
                                 and found.project_id != project_id):
                raise base.NotFound('No placement %r'
                                    % id_or_orchestration_id)
            return copy.deepcopy(found)

    def list_placements(self, filters=None, metadata=None, project_id=None,
                        plan_ids=None, limit=None, marker=None):
        storage.check_filters(filters)
        plan_ids = None if plan_ids is None else set(plan_ids)
        with self._lock:
            found = sorted(
                (p for p in self._placements.values()
                 if storage.visible(p, project_id)
                 and (plan_ids is None or p.plan_id in plan_ids)
                 and storage.placement_matches(p, filters, metadata)),
                key=storage.by_name_id)
            after = self._placements.get(marker)
            if after is not None and not storage.visible(after, project_id):
                after = None
            found = storage.page(found, storage.by_name_id, limit, marker,
                                 after)
            return [copy.deepcopy(p) for p in found]

    def update_placement(self, placement):
        with self._lock:
            current = self._placements.get(placement.id)
            if current is None:
                raise base.NotFound('No placement %s' % placement.id)
            storage.check_generation(current, placement, 'Placement')
            other = self._placement_by_orch(placement.orchestration_id)
            if other is not None and other.id != placement.id:
                raise base.Conflict('Orchestration id %s is taken'
                                    % placement.orchestration_id)
            stored = copy.deepcopy(placement)
            # The owning plan and project never change through an update.
            stored.plan_id = current.plan_id
            stored.project_id = current.project_id
            stored.generation = current.generation + 1
            self._placements[stored.id] = stored
            return copy.deepcopy(stored)

    def delete_placement(self, placement_id):
        with self._lock:
            if self._placements.pop(placement_id, None) is None:
                raise base.NotFound('No placement %s' % placement_id)

    # -------------------------------------------------------------- helpers
    def _plan_by_stack(self, stack_id):
        for p in self._plans.values():
            if p.stack_id == stack_id:
                return p
        return None

    def _visible_plan(self, id_or_stack_id, project_id):
        found = (self._plans.get(id_or_stack_id)
                 or self._plan_by_stack(id_or_stack_id))
        if found is None or (project_id is not None
                             and found.project_id != project_id):
            raise base.NotFound('No plan %r' % id_or_stack_id)
        return found

    def _placement_by_orch(self, orchestration_id):
        for p in self._placements.values():
            if p.orchestration_id == orchestration_id:
                return p
        return None

    def _check_unique(self, creates, updates=(), removed=()):
        """Conflict unless ids and orchestration ids stay unique.

        ``removed`` placements are about to go and ``updates`` to be
        replaced, so they release what they hold now.
        """
        replaced = set(removed) | {p.id for p in updates}
        ids = set(self._placements) - set(removed)
        orch = {p.orchestration_id for p in self._placements.values()
                if p.id not in replaced}
        for p in updates:
            if p.orchestration_id in orch:
                raise base.Conflict('Orchestration id %s already has a '
                                    'placement' % p.orchestration_id)
            orch.add(p.orchestration_id)
        for p in creates:
            if p.id in ids:
                raise base.Conflict('Placement id %s already exists' % p.id)
            if p.orchestration_id in orch:
                raise base.Conflict('Orchestration id %s already has a '
                                    'placement' % p.orchestration_id)
            ids.add(p.id)
            orch.add(p.orchestration_id)
