"""Community outlines for the 3D map (``boundaries``: community, GeoJSON geometry).

Revision ID: 0003_boundaries
Revises: 0002_long_text
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_boundaries"
down_revision = "0002_long_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boundaries",
        sa.Column("community", sa.String(200), primary_key=True),
        sa.Column("geometry", sa.Text(), nullable=False),
        mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin",
    )


def downgrade() -> None:
    op.drop_table("boundaries")
