"""Placement metadata index: one row per placement metadata key.

``GET /v1/placements?heat_stack_id=X`` (Nova's filter looks placements up
this way) is answered from ``(meta_key, value_digest)`` instead of reading
every placement's JSON. Existing placements are indexed here.

Revision ID: 8e2f4b6c1d3a
Revises: 5c1e7d0a9b42
Create Date: 2026-12-03
"""

import hashlib
import json
import math

from alembic import op
import sqlalchemy as sa

revision = '8e2f4b6c1d3a'
down_revision = '5c1e7d0a9b42'
branch_labels = None
depends_on = None

_MYSQL_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}
_BATCH = 500


def _digest(value):
    # Frozen copy of valet.storage.metadata_digest as of this revision.
    if value is None:
        text = 'z:'
    elif isinstance(value, bool):
        text = 'b:%s' % ('true' if value else 'false')
    elif isinstance(value, int):
        text = 'n:%d' % value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            text = 'n:%d' % int(value)
        else:
            text = 'n:%r' % value
    elif isinstance(value, str):
        text = 's:' + value
    else:
        return None
    return hashlib.sha256(
        text.encode('utf-8', 'surrogatepass')).hexdigest()


def upgrade():
    index = op.create_table(
        'placement_metadata',
        sa.Column('placement_id', sa.String(36),
                  sa.ForeignKey('placements.id',
                                name='fk_placement_metadata_placement_id',
                                ondelete='CASCADE'),
                  nullable=False),
        sa.Column('meta_key', sa.String(255), nullable=False),
        sa.Column('value_digest', sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint('placement_id', 'meta_key',
                                name='pk_placement_metadata'),
        **_MYSQL_ARGS)
    op.create_index('ix_placement_metadata_key_digest', 'placement_metadata',
                    ['meta_key', 'value_digest'])

    placements = sa.table('placements', sa.column('id', sa.String),
                          sa.column('metadata', sa.Text))
    conn = op.get_bind()
    last = ''
    while True:
        rows = conn.execute(
            sa.select(placements.c.id, placements.c.metadata)
            .where(placements.c.id > last)
            .order_by(placements.c.id).limit(_BATCH)).all()
        if not rows:
            break
        entries = []
        for row in rows:
            for key, value in json.loads(row.metadata or '{}').items():
                digest = _digest(value)
                if digest is not None:
                    entries.append({'placement_id': row.id,
                                    'meta_key': key,
                                    'value_digest': digest})
        if entries:
            conn.execute(index.insert(), entries)
        last = rows[-1].id
