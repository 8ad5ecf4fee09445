"""Groups: max_skew, the skew a spread group allows.

Spread groups (microversion 1.6) let no domain of their level hold more
than ``max_skew`` members beyond the emptiest; other groups leave it NULL.

Revision ID: c4a8f0e2d6b1
Revises: b7d3e9a1c5f2
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = 'c4a8f0e2d6b1'
down_revision = 'b7d3e9a1c5f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('groups') as batch:
        batch.add_column(sa.Column('max_skew', sa.Integer, nullable=True))
