"""Published cadre appraisals (考核评议): a month's results frozen when they are published.

- ``appraisal_published``: one row per published month: when, by whom, as of which moment
  the month was judged, and the appraisal settings in force (weights, deductions, tiers);
- ``appraisal_snapshot``: per month and cadre, the cadre's name, role and community at
  publication, score, tier, rank within role and the point-by-point parts (JSON).

Pages and exports read a published month from here; later data shows beside it as a
revision, never in its place (KPI.md, 干部考核).

Revision ID: 0005_appraisal
Revises: 0004_onboarding
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_appraisal"
down_revision = "0004_onboarding"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "appraisal_published",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("published_by", sa.String(60)),
        sa.Column("cadres", sa.Integer(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        **MYSQL,
    )
    op.create_table(
        "appraisal_snapshot",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("cadre_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("role", sa.String(10)),
        sa.Column("community", sa.String(200)),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("tier", sa.String(10), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("parts", sa.Text(), nullable=False),
        **MYSQL,
    )


def downgrade() -> None:
    op.drop_table("appraisal_snapshot")
    op.drop_table("appraisal_published")
