"""The schema of the first release (commit 997f88f, ``data/schema.py``), table for table.

A store made by the first release has exactly these tables but no ``alembic_version``;
``data.store.migrate.upgrade`` recognises it and stamps it at this revision.

Revision ID: 0001_first_release
Revises:
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_first_release"
down_revision = None
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
ID = 40
NAME = 60
MONTH = 7


def _str(name: str, length: int = NAME, **kw) -> sa.Column:
    return sa.Column(name, sa.String(length), **kw)


def _money(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(12, 2))


# table -> (columns, {index name: columns}), in the first release's order
def _tables() -> dict[str, tuple[list[sa.Column], dict[str, list[str]]]]:
    return {
        "communities": ([
            _str("name", primary_key=True),
            _str("kind", 10),
            sa.Column("population", sa.Integer),
            sa.Column("households", sa.Integer),
        ], {}),
        "grids": ([
            _str("grid_id", ID, primary_key=True),
            _str("name"),
            _str("community", nullable=False),
        ], {"ix_grids_community": ["community"]}),
        "cadres": ([
            _str("cadre_id", ID, primary_key=True),
            _str("name", 30),
            _str("role", 10),
            _str("community"),
            _str("grid_id", ID),
            sa.Column("joined_on", sa.Date),
            sa.Column("left_on", sa.Date),
        ], {"ix_cadres_community": ["community"]}),
        "cases": ([
            _str("case_id", ID, primary_key=True),
            sa.Column("reported_at", sa.DateTime, nullable=False),
            _str("channel", 20),
            _str("category", 30),
            _str("community", nullable=False),
            _str("grid_id", ID),
            _str("handler_id", ID),
            sa.Column("responded_at", sa.DateTime),
            sa.Column("deadline_at", sa.DateTime),
            sa.Column("closed_at", sa.DateTime),
            _str("status", 20),
            _str("resolution_level", 10),
            sa.Column("callback_resolved", sa.Boolean),
            _str("satisfaction", 10),
            sa.Column("summary", sa.Text),
        ], {
            "ix_cases_reported_at": ["reported_at"],
            "ix_cases_community_reported_at": ["community", "reported_at"],
            "ix_cases_open": ["closed_at", "deadline_at", "reported_at", "community", "grid_id",
                              "category", "channel"],
            "ix_cases_handler_id": ["handler_id"],
            "ix_cases_grid_id": ["grid_id"],
            "ix_cases_category": ["category"],
            "ix_cases_channel": ["channel"],
        }),
        "petitions": ([
            _str("petition_id", ID, primary_key=True),
            sa.Column("received_at", sa.DateTime, nullable=False),
            _str("form", 10),
            _str("category", 30),
            _str("community", nullable=False),
            sa.Column("persons", sa.Integer),
            sa.Column("is_repeat", sa.Boolean),
            sa.Column("is_leapfrog", sa.Boolean),
            sa.Column("deadline_at", sa.DateTime),
            sa.Column("closed_at", sa.DateTime),
        ], {"ix_petitions_received_at": ["received_at"],
            "ix_petitions_community": ["community"]}),
        "incidents": ([
            _str("incident_id", ID, primary_key=True),
            sa.Column("occurred_at", sa.DateTime, nullable=False),
            _str("category", 20),
            _str("subtype", 30),
            _str("community", nullable=False),
            sa.Column("is_valid", sa.Boolean, nullable=False),
            sa.Column("lat", sa.Double),
            sa.Column("lon", sa.Double),
        ], {"ix_incidents_occurred_at": ["occurred_at"],
            "ix_incidents_community": ["community"]}),
        "attendance": ([
            _str("cadre_id", ID, primary_key=True),
            sa.Column("day", sa.Date, primary_key=True),
            sa.Column("check_in_at", sa.DateTime),
            sa.Column("check_out_at", sa.DateTime),
            sa.Column("lat", sa.Double),
            sa.Column("lon", sa.Double),
        ], {"ix_attendance_day": ["day"]}),
        "worklogs": ([
            _str("log_id", ID, primary_key=True),
            _str("cadre_id", ID, nullable=False),
            sa.Column("day", sa.Date, nullable=False),
            sa.Column("created_at", sa.DateTime),
            sa.Column("visits", sa.Integer),
            sa.Column("issues_reported", sa.Integer),
            sa.Column("content", sa.Text),
        ], {"ix_worklogs_day": ["day"], "ix_worklogs_cadre_day": ["cadre_id", "day"]}),
        "benefit_recipients": ([
            _str("recipient_id", ID, primary_key=True),
            _str("person_key", 64),
            _str("household_id", ID),
            _str("program", 20, nullable=False),
            _str("community", nullable=False),
            _str("start_month", MONTH, nullable=False),
            _str("end_month", MONTH),
            _money("monthly_amount"),
        ], {"ix_benefit_recipients_program": ["program", "start_month"],
            "ix_benefit_recipients_community": ["community"]}),
        "benefit_payments": ([
            _str("recipient_id", ID, primary_key=True),
            _str("month", MONTH, primary_key=True),
            _money("amount"),
        ], {"ix_benefit_payments_month": ["month"]}),
        "relief_grants": ([
            _str("grant_id", ID, primary_key=True),
            _str("person_key", 64),
            _str("community", nullable=False),
            sa.Column("granted_on", sa.Date, nullable=False),
            _money("amount"),
            _str("reason", 100),
        ], {"ix_relief_grants_granted_on": ["granted_on"]}),
        "insurance_enrolment": ([
            _str("community", primary_key=True),
            sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("required", sa.Integer),
            sa.Column("enrolled", sa.Integer),
        ], {}),
        "benefit_standards": ([
            sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
            _str("program", 20, primary_key=True),
            _money("monthly_amount"),
        ], {}),
        "import_log": ([
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            _str("table_name", 40, nullable=False),
            _str("file_name", 255),
            _str("source", 10, nullable=False),
            sa.Column("imported_at", sa.DateTime, nullable=False),
            sa.Column("exported_at", sa.DateTime),
            sa.Column("inserted", sa.Integer, nullable=False),
            sa.Column("updated", sa.Integer, nullable=False),
            sa.Column("rejected", sa.Integer, nullable=False),
            _str("imported_by", NAME),
        ], {}),
    }


def upgrade() -> None:
    for name, (columns, indexes) in _tables().items():
        op.create_table(name, *columns, **MYSQL)
        for index, cols in indexes.items():
            op.create_index(index, name, cols)


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
