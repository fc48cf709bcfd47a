"""Benefits (民生保障): the monthly statistics table and the double-enrolment index.

- ``benefit_monthly``: the monthly statistics (民政统计月报) an office without recipient
  lists receives: per community, month ('YYYY-MM') and program (the closed list of
  KPI.md) the households, persons, spending (元) and, where given, new and exited persons;
  ``origin`` as on every data table (``'demo'`` for the demo's rows);
- ``ix_benefit_recipients_person_key``: the exceptions audit joins recipients on
  ``person_key`` (one person in 低保 and in 特困 in the same month).

Revision ID: 0006_benefit_monthly
Revises: 0005_appraisal
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_benefit_monthly"
down_revision = "0005_appraisal"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "benefit_monthly",
        sa.Column("community", sa.String(200), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("program", sa.String(20), primary_key=True),
        sa.Column("households", sa.Integer()),
        sa.Column("persons", sa.Integer()),
        sa.Column("spending", sa.Numeric(14, 2)),
        sa.Column("new", sa.Integer()),
        sa.Column("exited", sa.Integer()),
        sa.Column("origin", sa.String(10)),
        **MYSQL,
    )
    op.create_index("ix_benefit_monthly_month", "benefit_monthly", ["month"])
    op.create_index("ix_benefit_recipients_person_key", "benefit_recipients", ["person_key"])


def downgrade() -> None:
    op.drop_index("ix_benefit_recipients_person_key", table_name="benefit_recipients")
    op.drop_index("ix_benefit_monthly_month", table_name="benefit_monthly")
    op.drop_table("benefit_monthly")
