"""Groups: max_per_domain, the limit of an at-most group.

At-most groups (microversion 1.5) allow at most ``max_per_domain``
members in any one domain of their level; other groups leave it NULL.

Revision ID: b7d3e9a1c5f2
Revises: 8e2f4b6c1d3a
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = 'b7d3e9a1c5f2'
down_revision = '8e2f4b6c1d3a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('groups') as batch:
        batch.add_column(sa.Column('max_per_domain', sa.Integer,
                                   nullable=True))
