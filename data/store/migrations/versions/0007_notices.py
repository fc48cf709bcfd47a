"""Notices for the big screen's ticker (``notices``: notice_id, title, body, valid_from,
valid_to), imported like any table and editable on the data page.

Revision ID: 0007_notices
Revises: 0006_benefit_monthly
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_notices"
down_revision = "0006_benefit_monthly"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.String(40), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text()),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("origin", sa.String(10)),
        mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin",
    )
    op.create_index("ix_notices_valid_from", "notices", ["valid_from"])


def downgrade() -> None:
    op.drop_index("ix_notices_valid_from", "notices")
    op.drop_table("notices")
