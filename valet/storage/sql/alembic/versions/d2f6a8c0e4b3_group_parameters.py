"""Groups: one ``parameters`` column for every kind's parameters.

The parameters of a group's kind (``max_per_domain`` of at-most groups,
``max_skew`` of spread groups, ``weight`` of soft groups, ...) are kept
as one JSON object, so that a new kind needs no new column. The values
of the two columns of earlier revisions move into it.

Revision ID: d2f6a8c0e4b3
Revises: c4a8f0e2d6b1
Create Date: 2026-12-03
"""

import json

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = 'd2f6a8c0e4b3'
down_revision = 'c4a8f0e2d6b1'
branch_labels = None
depends_on = None

# Frozen here on purpose, as in the initial revision.
_LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')
_MOVED = ('max_per_domain', 'max_skew')


def upgrade():
    # Added empty, filled, then made NOT NULL: MySQL refuses a literal
    # default on a TEXT column.
    with op.batch_alter_table('groups') as batch:
        batch.add_column(sa.Column('parameters', _LONG_TEXT, nullable=True))
    groups = sa.table('groups', sa.column('id', sa.String),
                      sa.column('parameters', sa.Text),
                      *(sa.column(name, sa.Integer) for name in _MOVED))
    conn = op.get_bind()
    for row in conn.execute(sa.select(groups)).mappings().all():
        moved = {name: row[name] for name in _MOVED
                 if row[name] is not None}
        conn.execute(groups.update().where(groups.c.id == row['id'])
                     .values(parameters=json.dumps(moved, sort_keys=True)))
    with op.batch_alter_table('groups') as batch:
        batch.alter_column('parameters', nullable=False,
                           existing_type=_LONG_TEXT)
        for name in _MOVED:
            batch.drop_column(name)
