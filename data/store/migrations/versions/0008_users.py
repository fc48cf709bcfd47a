"""Users, roles and the audit trail (issue 16).

- ``users``: one row per login: role (leader, community, reviewer, admin, screen), the
  community a ``community`` user sees, the argon2 hash of the password (a ``screen`` user
  has none: the SHA-256 of its URL token instead), failed logins and the lockout, disabled;
- ``audit_log``: who did what and when: logins (success and failure), imports, exports,
  appraisal publications and user changes. Rows are only ever added.

With no row in ``users`` the app stays open (未启用登录), as before this revision.

Revision ID: 0008_users
Revises: 0007_notices
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_users"
down_revision = "0007_notices"
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("community", sa.String(200)),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("token_hash", sa.String(64), unique=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime()),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        **MYSQL,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        **MYSQL,
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("users")
