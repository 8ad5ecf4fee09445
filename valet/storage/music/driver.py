"""The Music storage driver: ``[storage] driver = music``.

Rows and keys are laid out as ``schema.py`` describes: a plan and its
placements share one row, so every plan change is one row write, and
unique keys (group names, stack ids, orchestration ids) are claim rows.

No lost updates: every write that can race holds the Music locks of the
rows it reads and writes (``locks.py``) and reads them with critical
(quorum) reads before writing them with critical writes, so the
generation checks of ``base.Storage`` are exact. Locks are always taken
table by table in one order (``stack_ids``, ``plans``,
``orchestration_ids``; ``groups``, ``group_names``), keys sorted within a
table. Claims and index rows are written before the row they point to;
the row write commits, and what a crash leaves behind is stale and
ignored. Clean-ups of claims that may be reused at once are atomic
conditional deletes ("only if it is still mine").
"""

import concurrent.futures
import copy
import functools
import logging

from valet import storage
from valet.storage import base
from valet.storage.music import locks as locks_mod
from valet.storage.music import schema
from valet.storage.music import transport

LOG = logging.getLogger(__name__)

S = schema


def _translated(func):
    """Music's refusals as the storage errors of ``base``."""

    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        try:
            return func(self, *args, **kwargs)
        except transport.MusicRequestError as e:
            if 'does not exist' in e.message:
                raise base.StorageError(
                    'Music keyspace %s has no Valet schema (%s); run '
                    'valet-manage db_sync' % (self.music.keyspace,
                                              e.message)) from e
            raise base.StorageError(str(e)) from e

    return wrapper


class MusicStorage(base.Storage):
    """Storage in the Music keyspace of ``[music]``."""

    def __init__(self, conf):
        self.conf = conf
        opts = conf.music
        self.transport = transport.Transport(
            opts.hosts, opts.port, opts.path,
            connect_timeout=opts.connect_timeout,
            request_timeout=opts.request_timeout, retries=opts.retries,
            retry_interval=opts.retry_interval,
            pool_size=opts.parallel_requests + 4)
        self.music = transport.MusicClient(self.transport, opts.keyspace)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            opts.parallel_requests, thread_name_prefix='valet-music')
        self.locks = locks_mod.Locks(self.music, opts.lock_wait,
                                     opts.lock_lease, executor=self._pool)

    def dispose(self):
        self._pool.shutdown(wait=True)
        self.transport.close()

    def _parallel(self, func, items):
        """``[func(item) ...]``, independent requests sent at once."""
        items = list(items)
        if len(items) < 2:
            return [func(item) for item in items]
        futures = [self._pool.submit(func, item) for item in items]
        concurrent.futures.wait(futures)
        return [f.result() for f in futures]

    # ------------------------------------------------------------ lifecycle
    @_translated
    def upgrade(self):
        self.music.create_keyspace(self.conf.music.replication_factor)
        for table, fields in S.TABLES.items():
            self.music.create_table(table, fields)
        self.music.insert(S.META, {'name': 'schema',
                                   'value': S.SCHEMA_VERSION},
                          self.music.ATOMIC)

    def version(self):
        try:
            rows = self.music.select(S.META, name='schema')
        except transport.MusicRequestError:
            return None     # no keyspace or table yet
        return rows[0]['value'] if rows else None

    def health(self):
        where = 'Music at %s, keyspace %s' % (
            self.transport.current_url, self.music.keyspace)
        try:
            version = self.version()
        except base.StorageError as e:
            return {'ok': False, 'detail': str(e)}
        except Exception as e:  # health() must never raise
            return {'ok': False, 'detail': 'Unexpected error: %s' % e}
        if version is None:
            return {'ok': False, 'detail': '%s has no schema; run '
                                           'valet-manage db_sync' % where}
        return {'ok': True, 'detail': '%s, schema %s' % (where, version)}

    # ---------------------------------------------------------------- reads
    def _one(self, table, **keys):
        rows = self.music.select(table, **keys)
        return rows[0] if rows else None

    def _critical_one(self, table, lockid, **keys):
        rows = self.music.critical_get(table, lockid, **keys)
        return rows[0] if rows else None

    def _plan_row(self, plan_id):
        row = self._one(S.PLANS, id=plan_id)
        return S.PlanRow.from_row(row) if row else None

    def _plan_rows(self, plan_ids):
        rows = self._parallel(self._plan_row, sorted(set(plan_ids)))
        return {r.plan.id: r for r in rows if r is not None}

    def _owner_row(self, table, **keys):
        # Whether a claim is stale decides a write: read its owner at
        # quorum (an atomic critical read), never from one replica.
        rows = self.music.atomic_get(table, **keys)
        return rows[0] if rows else None

    def _owner_plan_rows(self, plan_ids):
        rows = self._parallel(lambda plan_id: self._owner_row(
            S.PLANS, id=plan_id), sorted(set(plan_ids)))
        return {r['id']: S.PlanRow.from_row(r) for r in rows if r}

    def _all_plan_rows(self):
        return [S.PlanRow.from_row(r) for r in self.music.select(S.PLANS)]

    # --------------------------------------------------------------- groups
    @_translated
    def create_group(self, group):
        stored = copy.deepcopy(group)
        stored.generation = 1
        with self.locks.hold(S.GROUPS, [group.id]) as gl, \
                self.locks.hold(S.GROUP_NAMES, [group.name]) as nl, \
                locks_mod.translated('creating group %s' % group.name):
            if self._critical_one(S.GROUPS, gl[group.id], id=group.id):
                raise base.Conflict('Group id %s already exists' % group.id)
            claim = self._critical_one(S.GROUP_NAMES, nl[group.name],
                                       name=group.name)
            if claim and claim['group_id'] != group.id:
                owner = self._owner_row(S.GROUPS, id=claim['group_id'])
                if owner and owner['name'] == group.name:
                    raise base.Conflict('Group name %r is taken'
                                        % group.name)
            self.music.insert(S.GROUP_NAMES, {
                'name': group.name, 'group_id': group.id},
                self.music.critical(nl[group.name]))
            self.music.insert(S.GROUPS, S.group_row(stored),
                              self.music.critical(gl[group.id]))
        return copy.deepcopy(stored)

    @_translated
    def get_group(self, id_or_name):
        row = self._one(S.GROUPS, id=id_or_name)
        if row is None:
            claim = self._one(S.GROUP_NAMES, name=id_or_name)
            if claim:
                row = self._one(S.GROUPS, id=claim['group_id'])
                if row and row['name'] != id_or_name:
                    row = None
        if row is None:
            raise base.NotFound('No group %r' % id_or_name)
        return S.group_from_row(row)

    @_translated
    def list_groups(self, limit=None, marker=None):
        # Music has no ordered scan: listing reads every group, then pages.
        groups = sorted((S.group_from_row(r)
                         for r in self.music.select(S.GROUPS)),
                        key=storage.by_name)
        after = None
        if marker is not None:
            row = self._one(S.GROUPS, id=marker)
            after = row and S.group_from_row(row)
        return storage.page(groups, storage.by_name, limit, marker, after)

    @_translated
    def update_group(self, group):
        with self.locks.hold(S.GROUPS, [group.id]) as gl, \
                locks_mod.translated('updating group %s' % group.id):
            row = self._critical_one(S.GROUPS, gl[group.id], id=group.id)
            if row is None:
                raise base.NotFound('No group %s' % group.id)
            stored = S.group_from_row(row)
            storage.check_generation(stored, group, 'Group')
            stored.description = group.description or ''
            stored.members = copy.deepcopy(list(group.members))
            stored.parents = copy.deepcopy(list(group.parents))
            stored.generation += 1
            self.music.insert(S.GROUPS, S.group_row(stored),
                              self.music.critical(gl[group.id]))
        return stored

    @_translated
    def delete_group(self, group_id):
        with self.locks.hold(S.GROUPS, [group_id]) as gl, \
                locks_mod.translated('deleting group %s' % group_id):
            row = self._critical_one(S.GROUPS, gl[group_id], id=group_id)
            if row is None:
                raise base.NotFound('No group %s' % group_id)
            self.music.delete(S.GROUPS, {'id': group_id},
                              self.music.critical(gl[group_id]))
        self._cleanup(self.music.delete, S.GROUP_NAMES,
                      {'name': row['name']}, self.music.ATOMIC,
                      {'group_id': group_id})

    # ---------------------------------------------------------------- plans
    @_translated
    def create_plan(self, plan, placements):
        stored_plan, new = self._insert_plan(plan, placements)
        return copy.deepcopy(stored_plan), copy.deepcopy(new)

    @_translated
    def insert_plan(self, plan, placements):
        self._insert_plan(plan, placements)

    def _insert_plan(self, plan, placements):
        """Write a new plan; the stored plan and placements (not copies)."""
        new = [storage.owned_copy(p, plan) for p in placements]
        for p in new:
            p.generation = 1
        self._check_within(new)
        stored_plan = copy.deepcopy(plan)
        stored_plan.generation = 1
        stored = S.PlanRow(stored_plan, new)
        claims = stored.claims()
        with self.locks.hold(S.STACK_IDS, [plan.stack_id]) as sl, \
                self.locks.hold(S.PLANS, [plan.id]) as pl, \
                self.locks.hold(S.ORCHESTRATION_IDS, claims) as ol, \
                locks_mod.translated('creating plan %s' % plan.id):
            if self._critical_one(S.PLANS, pl[plan.id], id=plan.id):
                raise base.Conflict('Plan id %s already exists' % plan.id)
            claim = self._critical_one(S.STACK_IDS, sl[plan.stack_id],
                                       stack_id=plan.stack_id)
            if claim and claim['plan_id'] != plan.id:
                owner = self._owner_plan_rows([claim['plan_id']]).get(
                    claim['plan_id'])
                if owner and owner.plan.stack_id == plan.stack_id:
                    raise base.Conflict('A plan for stack %s already exists'
                                        % plan.stack_id)
            self._check_claims(ol, claims, plan.id)
            self._check_placement_ids([p.id for p in new], plan.id)
            self._write_keys(plan.id, ol, claims, [p.id for p in new],
                             stored.terms())
            self.music.insert(S.STACK_IDS, {
                'stack_id': plan.stack_id, 'plan_id': plan.id},
                self.music.critical(sl[plan.stack_id]))
            # The commit: until this row exists, nothing above counts.
            self.music.insert(S.PLANS, stored.row(),
                              self.music.critical(pl[plan.id]))
        return stored_plan, new

    @_translated
    def get_plan(self, id_or_stack_id, project_id=None):
        found = self._plan_row(id_or_stack_id)
        if found is None:
            claim = self._one(S.STACK_IDS, stack_id=id_or_stack_id)
            if claim:
                found = self._plan_row(claim['plan_id'])
                if found and found.plan.stack_id != id_or_stack_id:
                    found = None
        if found is None or (project_id is not None
                             and found.plan.project_id != project_id):
            raise base.NotFound('No plan %r' % id_or_stack_id)
        return found.plan

    @_translated
    def list_plans(self, project_id=None, limit=None, marker=None):
        if project_id is None:
            rows = self._all_plan_rows()
        else:
            rows = self._plan_rows(self._term_plans(
                S.term('project', project_id))).values()
        plans = sorted((r.plan for r in rows
                        if storage.visible(r.plan, project_id)),
                       key=storage.by_name_id)
        after = None
        if marker is not None:
            row = self._plan_row(marker)
            after = row.plan if row and storage.visible(row.plan, project_id) \
                else None
        return storage.page(plans, storage.by_name_id, limit, marker, after)

    @_translated
    def save_plan(self, plan, placements, removed=()):
        removed = set(removed)
        for p in placements:
            if p.id in removed:
                raise ValueError('Placement %s is both saved and removed'
                                 % p.id)
            if p.plan_id != plan.id:
                raise ValueError('Placement %s belongs to plan %s, not %s'
                                 % (p.id, p.plan_id, plan.id))
        with self.locks.hold(S.PLANS, [plan.id]) as pl:
            with locks_mod.translated('saving plan %s' % plan.id):
                current = self._locked_plan(pl, plan.id)
                storage.check_generation(current.plan, plan, 'Plan')
                saved, after = self._saved_state(current, plan, placements,
                                                 removed)
                self._commit(pl, current, after)
            return copy.deepcopy(after.plan), copy.deepcopy(saved)

    def _saved_state(self, current, plan, placements, removed):
        """(saved placements, the plan row after the save); Conflict when
        a placement is stale or gone."""
        kept = {p.id: p for p in current.placements if p.id not in removed}
        saved = []
        for given in placements:
            p = storage.owned_copy(given, current.plan)
            if p.generation:
                old = kept.get(p.id)
                if old is None:
                    raise base.Conflict('Placement %s of plan %s changed or '
                                        'is gone; read the plan again and '
                                        'retry' % (p.id, plan.id))
                storage.check_generation(old, p, 'Placement')
                p.project_id = old.project_id
                p.generation += 1
            else:
                if p.id in kept:
                    raise base.Conflict('Placement id %s already exists'
                                        % p.id)
                p.generation = 1
            kept[p.id] = p
            saved.append(p)
        after_plan = copy.deepcopy(current.plan)
        after_plan.name = plan.name
        after_plan.generation += 1
        order = [p.id for p in current.placements if p.id in kept]
        order += [p.id for p in saved if p.id not in order]
        after = S.PlanRow(after_plan, [kept[i] for i in order])
        self._check_within(after.placements)
        return saved, after

    def _locked_plan(self, held, plan_id):
        row = self._critical_one(S.PLANS, held[plan_id], id=plan_id)
        if row is None:
            raise base.NotFound('No plan %s' % plan_id)
        return S.PlanRow.from_row(row)

    def _commit(self, held, before, after):
        """Write ``after`` over ``before`` (plan lock held): new claims and
        index rows first, then the row, then what no longer applies."""
        plan_id = after.plan.id
        old_claims = before.claims()
        new_claims = {o: p for o, p in after.claims().items()
                      if old_claims.get(o) != p}
        old_ids = {p.id for p in before.placements}
        new_ids = [p.id for p in after.placements if p.id not in old_ids]
        old_terms, new_terms = before.terms(), after.terms()
        with self.locks.hold(S.ORCHESTRATION_IDS, new_claims) as ol:
            self._check_claims(ol, new_claims, plan_id)
            self._check_placement_ids(new_ids, plan_id)
            self._write_keys(plan_id, ol, new_claims, new_ids,
                             new_terms - old_terms)
            self.music.insert(S.PLANS, after.row(),
                              self.music.critical(held[plan_id]))
        after_claims = after.claims()
        self._drop_keys(
            plan_id, {o: p for o, p in old_claims.items()
                      if after_claims.get(o) != p},
            old_ids - {p.id for p in after.placements},
            old_terms - new_terms)

    @_translated
    def delete_plan(self, plan_id):
        with self.locks.hold(S.PLANS, [plan_id]) as pl:
            with locks_mod.translated('deleting plan %s' % plan_id):
                current = self._locked_plan(pl, plan_id)
                self.music.delete(S.PLANS, {'id': plan_id},
                                  self.music.critical(pl[plan_id]))
            self._cleanup(self.music.delete, S.STACK_IDS,
                          {'stack_id': current.plan.stack_id},
                          self.music.ATOMIC, {'plan_id': plan_id})
            self._drop_keys(plan_id, current.claims(),
                            {p.id for p in current.placements},
                            current.terms())

    # ----------------------------------------------------------- placements
    @_translated
    def get_placement(self, id_or_orchestration_id, project_id=None):
        key = id_or_orchestration_id
        found = None
        hint = self._one(S.PLACEMENT_IDS, placement_id=key)
        if hint:
            row = self._plan_row(hint['plan_id'])
            found = row and row.by_id(key)
        if found is None:
            claim = self._one(S.ORCHESTRATION_IDS, orchestration_id=key)
            if claim:
                row = self._plan_row(claim['plan_id'])
                found = row and row.by_orchestration_id(key)
        if not found or (project_id is not None
                         and found.project_id != project_id):
            raise base.NotFound('No placement %r' % key)
        return found

    @_translated
    def list_placements(self, filters=None, metadata=None, project_id=None,
                        plan_ids=None, limit=None, marker=None):
        storage.check_filters(filters)
        filters = dict(filters or {})
        metadata = dict(metadata or {})
        if plan_ids is not None:
            plan_ids = set(plan_ids)
            candidates = plan_ids
        else:
            candidates = self._candidate_plans(filters, metadata,
                                               project_id)
        rows = (self._all_plan_rows() if candidates is None
                else self._plan_rows(candidates).values())
        found = sorted(
            (p for r in rows for p in r.placements
             if storage.visible(p, project_id)
             and (plan_ids is None or p.plan_id in plan_ids)
             and storage.placement_matches(p, filters, metadata)),
            key=storage.by_name_id)
        after = None
        if marker is not None:
            try:
                after = self.get_placement(marker, project_id)
            except base.NotFound:
                after = None
            if after is not None and after.id != marker:
                after = None    # found by orchestration id: not a marker
        return storage.page(found, storage.by_name_id, limit, marker, after)

    def _candidate_plans(self, filters, metadata, project_id):
        """Ids of the plans that may hold matches, from keys or the term
        index; None only when nothing narrows the search."""
        if 'id' in filters:
            if not isinstance(filters['id'], str):
                return []
            hint = self._one(S.PLACEMENT_IDS, placement_id=filters['id'])
            return [hint['plan_id']] if hint else []
        if 'orchestration_id' in filters:
            oid = filters['orchestration_id']
            if not isinstance(oid, str):
                return []
            claim = self._one(S.ORCHESTRATION_IDS, orchestration_id=oid)
            return [claim['plan_id']] if claim else []
        if 'plan_id' in filters:
            plan_id = filters['plan_id']
            return [plan_id] if isinstance(plan_id, str) else []
        terms = [S.term(f, filters[f]) for f in
                 ('resource_id', 'location', 'name', 'reserved')
                 if f in filters]
        for key, value in sorted(metadata.items()):
            metadata_term = S.metadata_term(key, value)
            if metadata_term is None:
                return []   # no flat metadata value matches it
            terms.append(metadata_term)
        if project_id is not None:
            terms.append(S.term('placement_project', project_id))
        if not terms:
            return None
        return self._term_plans(terms[0])

    def _term_plans(self, term):
        return [r['plan_id'] for r in self.music.select(S.PLAN_TERMS,
                                                        term=term)]

    @_translated
    def update_placement(self, placement):
        plan_id = self._plan_of(placement.id, placement.plan_id)
        with self.locks.hold(S.PLANS, [plan_id]) as pl:
            with locks_mod.translated('updating placement %s'
                                      % placement.id):
                try:
                    current = self._locked_plan(pl, plan_id)
                except base.NotFound:
                    current = None
                old = current and current.by_id(placement.id)
                if not old:
                    raise base.NotFound('No placement %s' % placement.id)
                storage.check_generation(old, placement, 'Placement')
                stored = copy.deepcopy(placement)
                # The owning plan and project never change through here.
                stored.plan_id = old.plan_id
                stored.project_id = old.project_id
                stored.generation = old.generation + 1
                after = S.PlanRow(current.plan, [
                    stored if p.id == stored.id else p
                    for p in current.placements])
                self._check_within(after.placements)
                self._commit(pl, current, after)
            return copy.deepcopy(stored)

    @_translated
    def delete_placement(self, placement_id):
        plan_id = self._plan_of(placement_id, None)
        if plan_id is None:
            raise base.NotFound('No placement %s' % placement_id)
        with self.locks.hold(S.PLANS, [plan_id]) as pl:
            with locks_mod.translated('deleting placement %s'
                                      % placement_id):
                try:
                    current = self._locked_plan(pl, plan_id)
                except base.NotFound:
                    current = None
                if not current or not current.by_id(placement_id):
                    raise base.NotFound('No placement %s' % placement_id)
                after = S.PlanRow(current.plan, [
                    p for p in current.placements if p.id != placement_id])
                self._commit(pl, current, after)

    def _plan_of(self, placement_id, default):
        hint = self._one(S.PLACEMENT_IDS, placement_id=placement_id)
        return hint['plan_id'] if hint else default

    # ------------------------------------------------------- keys, claims
    @staticmethod
    def _check_within(placements):
        ids, oids = set(), set()
        for p in placements:
            if p.id in ids:
                raise base.Conflict('Placement id %s already exists' % p.id)
            if p.orchestration_id in oids:
                raise base.Conflict('Orchestration id %s already has a '
                                    'placement' % p.orchestration_id)
            ids.add(p.id)
            oids.add(p.orchestration_id)

    def _check_claims(self, held, claims, plan_id):
        """Conflict if another plan holds one of ``claims`` (locks held)."""
        def read(oid):
            return self._critical_one(S.ORCHESTRATION_IDS, held[oid],
                                      orchestration_id=oid)
        taken = {c['orchestration_id']: c['plan_id']
                 for c in self._parallel(read, sorted(claims))
                 if c and c['plan_id'] != plan_id}
        owners = self._owner_plan_rows(taken.values())
        for oid, owner in sorted(taken.items()):
            if owner in owners and owners[owner].by_orchestration_id(oid):
                raise base.Conflict('Orchestration id %s already has a '
                                    'placement' % oid)

    def _check_placement_ids(self, placement_ids, plan_id):
        def read(pid):
            return self._one(S.PLACEMENT_IDS, placement_id=pid)
        taken = {h['placement_id']: h['plan_id']
                 for h in self._parallel(read, placement_ids)
                 if h and h['plan_id'] != plan_id}
        owners = self._owner_plan_rows(taken.values())
        for pid, owner in sorted(taken.items()):
            if owner in owners and owners[owner].by_id(pid):
                raise base.Conflict('Placement id %s already exists' % pid)

    def _write_keys(self, plan_id, held, claims, placement_ids, terms):
        critical = self.music.critical
        writes = [(S.ORCHESTRATION_IDS, {
            'orchestration_id': oid, 'plan_id': plan_id,
            'placement_id': pid}, critical(held[oid]))
            for oid, pid in sorted(claims.items())]
        writes += [(S.PLACEMENT_IDS, {'placement_id': pid,
                                      'plan_id': plan_id}, None)
                   for pid in placement_ids]
        writes += [(S.PLAN_TERMS, {'term': t, 'plan_id': plan_id}, None)
                   for t in sorted(terms)]
        self._parallel(lambda w: self.music.insert(*w), writes)

    def _drop_keys(self, plan_id, claims, placement_ids, terms):
        """Remove keys the plan no longer uses: each only if it still
        points at this plan (a new owner may have claimed it meanwhile)."""
        deletes = [(S.ORCHESTRATION_IDS, {'orchestration_id': oid},
                    self.music.ATOMIC, {'plan_id': plan_id,
                                        'placement_id': pid})
                   for oid, pid in sorted(claims.items())]
        deletes += [(S.PLACEMENT_IDS, {'placement_id': pid},
                     self.music.ATOMIC, {'plan_id': plan_id})
                    for pid in sorted(placement_ids)]
        deletes += [(S.PLAN_TERMS, {'term': t, 'plan_id': plan_id},
                     self.music.EVENTUAL, None) for t in sorted(terms)]
        self._parallel(lambda d: self._cleanup(self.music.delete, *d),
                       deletes)

    @staticmethod
    def _cleanup(operation, table, *args):
        # After the commit: a failure leaves a stale key, which readers
        # check and ignore, so it is logged rather than raised.
        try:
            operation(table, *args)
        except base.StorageError as e:
            LOG.warning('Music clean-up of %s %s failed (a stale key is '
                        'left, and ignored): %s', table, args[0], e)
