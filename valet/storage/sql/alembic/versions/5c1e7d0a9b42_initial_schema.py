"""Initial schema: groups, plans and placements.

Revision ID: 5c1e7d0a9b42
Revises:
Create Date: 2025-01-01
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '5c1e7d0a9b42'
down_revision = None
branch_labels = None
depends_on = None

# Frozen here on purpose: later changes to models.py must not alter what
# this revision creates.
_LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')
_MYSQL_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}


def upgrade():
    op.create_table(
        'groups',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('type', sa.String(64), nullable=False),
        sa.Column('level', sa.String(64), nullable=False),
        sa.Column('description', sa.Text, nullable=False),
        sa.Column('members', _LONG_TEXT, nullable=False),
        sa.Column('parents', _LONG_TEXT, nullable=False),
        sa.Column('generation', sa.Integer, nullable=False),
        sa.UniqueConstraint('name', name='uniq_groups0name'),
        **_MYSQL_ARGS)
    op.create_table(
        'plans',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('stack_id', sa.String(255), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=True),
        sa.Column('generation', sa.Integer, nullable=False),
        sa.UniqueConstraint('stack_id', name='uniq_plans0stack_id'),
        **_MYSQL_ARGS)
    op.create_index('ix_plans_project_id', 'plans', ['project_id'])
    op.create_table(
        'placements',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('plan_id', sa.String(36),
                  sa.ForeignKey('plans.id', name='fk_placements_plan_id',
                                ondelete='CASCADE'),
                  nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('orchestration_id', sa.String(255), nullable=False),
        sa.Column('resource_id', sa.String(255), nullable=True),
        sa.Column('location', sa.String(255), nullable=True),
        sa.Column('reserved', sa.Boolean, nullable=False),
        sa.Column('metadata', _LONG_TEXT, nullable=False),
        sa.Column('spec', _LONG_TEXT, nullable=False),
        sa.Column('project_id', sa.String(255), nullable=True),
        sa.Column('generation', sa.Integer, nullable=False),
        sa.UniqueConstraint('orchestration_id',
                            name='uniq_placements0orchestration_id'),
        **_MYSQL_ARGS)
    op.create_index('ix_placements_plan_id', 'placements', ['plan_id'])
    op.create_index('ix_placements_resource_id', 'placements',
                    ['resource_id'])
    op.create_index('ix_placements_location', 'placements', ['location'])
    op.create_index('ix_placements_project_id', 'placements',
                    ['project_id'])
