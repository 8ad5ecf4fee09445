"""The Music table layout and how objects map onto rows.

A plan and all its placements are **one row** of ``plans``: creating a
plan, saving it and changing one of its placements are single-row writes,
so they are all-or-nothing without transactions. The other tables are
keys pointing at those rows:

``group_names``, ``stack_ids``, ``orchestration_ids``
    Unique claims, written under the claimed key's lock before the row
    they point to. A claim whose target row does not exist (or no longer
    holds the key) is stale, left by a writer that died, and free to take.
``placement_ids``
    Placement id -> plan id, for lookups by placement id.
``plan_terms``
    ``(term, plan_id)`` for every field value a plan's placements have
    (``location="h1"``, ``meta:"tier"="db"``, ...) and the project: the
    secondary index behind ``list_placements`` filters and
    ``list_plans(project_id)``. Written before the plan row, removed after
    it changed, so it may name too many plans but never too few; every
    match is checked against the plan row.

Every column is ``text``; structured values are JSON.
"""

import json

from valet import objects
from valet.objects import group_kinds
from valet import storage

SCHEMA_VERSION = 'music-1'

META = 'valet_meta'
GROUPS = 'groups'
GROUP_NAMES = 'group_names'
PLANS = 'plans'
STACK_IDS = 'stack_ids'
ORCHESTRATION_IDS = 'orchestration_ids'
PLACEMENT_IDS = 'placement_ids'
PLAN_TERMS = 'plan_terms'


def _fields(pk, *columns):
    fields = {c: 'text' for c in columns}
    fields['PRIMARY KEY'] = pk
    return fields


TABLES = {
    META: _fields('(name)', 'name', 'value'),
    GROUPS: _fields('(id)', 'id', 'name', 'body'),
    GROUP_NAMES: _fields('(name)', 'name', 'group_id'),
    PLANS: _fields('(id)', 'id', 'stack_id', 'project_id', 'body'),
    STACK_IDS: _fields('(stack_id)', 'stack_id', 'plan_id'),
    ORCHESTRATION_IDS: _fields('(orchestration_id)', 'orchestration_id',
                               'plan_id', 'placement_id'),
    PLACEMENT_IDS: _fields('(placement_id)', 'placement_id', 'plan_id'),
    PLAN_TERMS: _fields('((term), plan_id)', 'term', 'plan_id'),
}


def _dumps(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'))


# ------------------------------------------------------------------ groups
def group_row(group):
    return {'id': group.id, 'name': group.name, 'body': _dumps({
        'type': group.type, 'level': group.level,
        'description': group.description or '',
        'members': list(group.members), 'parents': list(group.parents),
        'parameters': dict(group.parameters),
        'generation': group.generation})}


def group_from_row(row):
    body = json.loads(row['body'])
    # Bodies written before ``parameters`` hold each one beside ``type``.
    parameters = dict(group_kinds.picked(body), **body.get('parameters', {}))
    return objects.Group(id=row['id'], name=row['name'], type=body['type'],
                         level=body['level'],
                         description=body['description'],
                         members=body['members'], parents=body['parents'],
                         parameters=parameters,
                         generation=body['generation'])


# ------------------------------------------------------------------- plans
class PlanRow:
    """A plan with its placements, as stored in one ``plans`` row."""

    def __init__(self, plan, placements):
        self.plan = plan
        self.placements = list(placements)

    def by_id(self, placement_id):
        for p in self.placements:
            if p.id == placement_id:
                return p
        return None

    def by_orchestration_id(self, orchestration_id):
        for p in self.placements:
            if p.orchestration_id == orchestration_id:
                return p
        return None

    def row(self):
        plan = self.plan
        return {'id': plan.id, 'stack_id': plan.stack_id,
                'project_id': plan.project_id, 'body': _dumps({
                    'name': plan.name, 'generation': plan.generation,
                    'placements': [_placement_dict(p)
                                   for p in self.placements]})}

    def claims(self):
        """{orchestration id: placement id}."""
        return {p.orchestration_id: p.id for p in self.placements}

    def terms(self):
        """Every index term of this plan (see the module docstring)."""
        terms = {term('project', self.plan.project_id)}
        for p in self.placements:
            terms.add(term('placement_project', p.project_id))
            for field in ('name', 'location', 'resource_id', 'reserved'):
                terms.add(term(field, getattr(p, field)))
            for key, value in p.metadata.items():
                meta = metadata_term(key, value)
                if meta is not None:
                    terms.add(meta)
        return terms

    @classmethod
    def from_row(cls, row):
        body = json.loads(row['body'])
        plan = objects.Plan(id=row['id'], name=body['name'],
                            stack_id=row['stack_id'],
                            project_id=row.get('project_id'),
                            generation=body['generation'])
        placements = [objects.Placement(plan_id=plan.id, **p)
                      for p in body['placements']]
        return cls(plan, placements)


def _placement_dict(p):
    return {'id': p.id, 'name': p.name,
            'orchestration_id': p.orchestration_id,
            'resource_id': p.resource_id, 'location': p.location,
            'reserved': bool(p.reserved), 'metadata': dict(p.metadata),
            'spec': dict(p.spec), 'project_id': p.project_id,
            'generation': p.generation}


# ------------------------------------------------------------------- terms
def _canonical(value):
    """Values equal by ``storage.same_value`` get equal text (1 == 1.0,
    but True is not 1)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return str(value)


def term(field, value):
    return '%s=%s' % (field, _dumps(_canonical(value)))


def metadata_term(key, value):
    """The term of one metadata item; None for a value no filter can
    match (lists, objects), as in every driver (``storage.metadata_digest``).
    """
    digest = storage.metadata_digest(value)
    if digest is None:
        return None
    return 'meta:%s=%s' % (_dumps(key), digest)
