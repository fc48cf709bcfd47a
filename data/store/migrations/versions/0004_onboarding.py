"""An office's own installation: its settings (name), saved import mappings, and which
rows came from the demo.

- ``office``: key/value settings an office sets without editing files (``name``: the
  sub-district's name shown in the sidebar, titles and the big screen);
- ``import_mappings``: column mappings saved under a name in the browser or shipped as
  presets, offered again when a file has the same headers;
- ``origin`` on every data table: ``'demo'`` for rows the demo generator wrote, NULL for
  imported rows, so ``python cli.py demo --remove`` deletes exactly the demo's rows.
  Rows already in a store are marked ``'demo'`` where the store's only data source so
  far is the demo (no ``import`` row in ``import_log``); otherwise left NULL (imported),
  which keeps them safe from removal.

Revision ID: 0004_onboarding
Revises: 0003_boundaries
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_onboarding"
down_revision = "0003_boundaries"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
DATA_TABLES = ("communities", "grids", "cadres", "cases", "petitions", "incidents",
               "attendance", "worklogs", "benefit_recipients", "benefit_payments",
               "relief_grants", "insurance_enrolment", "benefit_standards", "boundaries")


def upgrade() -> None:
    op.create_table(
        "office",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        **MYSQL,
    )
    op.create_table(
        "import_mappings",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        **MYSQL,
    )
    for table in DATA_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("origin", sa.String(10), nullable=True))
    conn = op.get_bind()
    imported = conn.execute(sa.text(
        "SELECT count(*) FROM import_log WHERE source <> 'demo'")).scalar_one()
    demo = conn.execute(sa.text(
        "SELECT count(*) FROM import_log WHERE source = 'demo'")).scalar_one()
    if demo and not imported:
        for table in DATA_TABLES:
            conn.execute(sa.text(f"UPDATE {table} SET origin = 'demo'"))


def downgrade() -> None:
    for table in DATA_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("origin")
    op.drop_table("import_mappings")
    op.drop_table("office")
