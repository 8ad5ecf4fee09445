"""The SQL schema (SQLAlchemy Core tables).

This is the current shape of the schema, used by the driver and by
alembic's autogenerate; the migrations under ``alembic/versions`` carry
their own frozen copies and never import this module.

Constraint names follow the oslo.db convention (``uniq_<table>0<column>``)
so that oslo.db can tell which column a duplicate-entry error is about.
"""

import json
from json import encoder as json_encoder

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

METADATA = sa.MetaData()

# MySQL's TEXT stops at 64 KiB; a placement spec can outgrow that.
_LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')

_MYSQL_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


# json.dumps(value, sort_keys=True), without a new encoder per value.
_ENCODE = json.JSONEncoder(sort_keys=True).encode
# The same C encoder called directly: JSONEncoder.encode builds one for
# every value, half the time of a placement's small spec (a 50-server
# plan writes 100 of them). Stored values come from JSON documents and
# cannot hold themselves, so no circular-reference bookkeeping.
_C_ENCODE = None if json_encoder.c_make_encoder is None else \
    json_encoder.c_make_encoder(
        None, json.JSONEncoder().default, json_encoder.encode_basestring_ascii,
        None, ': ', ', ', True, False, True)


def json_text(value):
    """The text a ``JSONText`` column stores for ``value``."""
    if _C_ENCODE is not None and type(value) is dict:
        return ''.join(_C_ENCODE(value, 0)) if value else '{}'
    return _ENCODE(value)


class JSONText(sa.types.TypeDecorator):
    """JSON kept as text: the same bytes on every backend."""

    impl = _LONG_TEXT
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json_text(value)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


def _id():
    return sa.Column('id', sa.String(36), primary_key=True)


def _generation():
    return sa.Column('generation', sa.Integer, nullable=False, default=1)


GROUPS = sa.Table(
    'groups', METADATA,
    _id(),
    sa.Column('name', sa.String(255), nullable=False),
    sa.Column('type', sa.String(64), nullable=False),
    sa.Column('level', sa.String(64), nullable=False),
    sa.Column('description', sa.Text, nullable=False, default=''),
    sa.Column('members', JSONText, nullable=False),
    sa.Column('parents', JSONText, nullable=False),
    # The kind's parameters by name (valet.objects.group_kinds), ``{}``
    # for kinds without any: a new kind needs no new column.
    sa.Column('parameters', JSONText, nullable=False),
    _generation(),
    sa.UniqueConstraint('name', name='uniq_groups0name'),
    **_MYSQL_ARGS)

PLANS = sa.Table(
    'plans', METADATA,
    _id(),
    sa.Column('name', sa.String(255), nullable=False),
    sa.Column('stack_id', sa.String(255), nullable=False),
    sa.Column('project_id', sa.String(255), nullable=True),
    _generation(),
    sa.UniqueConstraint('stack_id', name='uniq_plans0stack_id'),
    sa.Index('ix_plans_project_id', 'project_id'),
    **_MYSQL_ARGS)

# orchestration_id needs no extra index: its unique constraint is one.
PLACEMENTS = sa.Table(
    'placements', METADATA,
    _id(),
    sa.Column('plan_id', sa.String(36),
              sa.ForeignKey('plans.id', name='fk_placements_plan_id',
                            ondelete='CASCADE'),
              nullable=False),
    sa.Column('name', sa.String(255), nullable=False),
    sa.Column('orchestration_id', sa.String(255), nullable=False),
    sa.Column('resource_id', sa.String(255), nullable=True),
    sa.Column('location', sa.String(255), nullable=True),
    sa.Column('reserved', sa.Boolean, nullable=False, default=False),
    sa.Column('metadata', JSONText, nullable=False),
    sa.Column('spec', JSONText, nullable=False),
    sa.Column('project_id', sa.String(255), nullable=True),
    _generation(),
    sa.UniqueConstraint('orchestration_id',
                        name='uniq_placements0orchestration_id'),
    sa.Index('ix_placements_plan_id', 'plan_id'),
    sa.Index('ix_placements_resource_id', 'resource_id'),
    sa.Index('ix_placements_location', 'location'),
    sa.Index('ix_placements_project_id', 'project_id'),
    **_MYSQL_ARGS)

# One row per metadata key of a placement, so that a metadata filter is an
# index lookup; values are kept as valet.storage.metadata_digest (fixed
# size, exact-type equality) and the JSON in placements stays the truth.
PLACEMENT_METADATA = sa.Table(
    'placement_metadata', METADATA,
    sa.Column('placement_id', sa.String(36),
              sa.ForeignKey('placements.id',
                            name='fk_placement_metadata_placement_id',
                            ondelete='CASCADE'),
              nullable=False),
    sa.Column('meta_key', sa.String(255), nullable=False),
    sa.Column('value_digest', sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint('placement_id', 'meta_key',
                            name='pk_placement_metadata'),
    sa.Index('ix_placement_metadata_key_digest', 'meta_key', 'value_digest'),
    **_MYSQL_ARGS)
