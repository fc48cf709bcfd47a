"""The analytics store's schema (SQLAlchemy Core), with the canonical names of DATA.md.

Every table of ../shared/spec/DATA.md is here under its canonical English name and column
names, so the store can be queried directly. Conventions that keep SQLite, PostgreSQL and
MariaDB/MySQL identical:

- timestamps are naive local time (Asia/Shanghai) with whole seconds (MySQL DATETIME
  keeps no fraction by default);
- months are ``'YYYY-MM'`` strings, which compare and sort correctly as text everywhere;
- money is ``Numeric(12, 2)``;
- MySQL tables are ``utf8mb4`` with a binary collation, so grouping and equality on
  Chinese text behave as on the other two databases.

``import_log`` is Zhili's own table: one row per import or demo generation; the newest
export (or import) time in it is the store's 数据截至.

``metadata`` is the head of the store's migrations (``data/store/migrations``, run by
``data.store.migrate``): a change here needs a hand-written revision there, and
``migrate.HEAD`` moved to it.
"""
from __future__ import annotations

from sqlalchemy import (
    Boolean, Column, Date, DateTime, Double, Index, Integer, MetaData, Numeric, String,
    Table, Text,
)

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
metadata = MetaData()

ID = 40  # identifiers from source systems
# Open-list text: names (of communities, grids, cadres, and every ``community`` column),
# categories, incident subtypes, channels, statuses, relief reasons. The platform's
# categories are hierarchical ('城乡建设-住房保障-…') and long. 200 characters keep the
# widest index (ix_cases_open) within MariaDB/MySQL's 3 072-byte key limit in utf8mb4.
TEXT = 200
NAME = 60  # import_log.imported_by (a login name)
MONTH = 7  # 'YYYY-MM'


INTERNAL_COLUMNS = frozenset({"origin"})  # Zhili's bookkeeping in data tables, not import columns


def _origin() -> Column:
    """'demo' for rows the demo generator wrote, NULL for imported rows (demo --remove)."""
    return Column("origin", String(10))


def _str(name: str, length: int = TEXT, **kw) -> Column:
    return Column(name, String(length), **kw)


communities = Table(
    "communities", metadata,
    _str("name", primary_key=True),
    _str("kind", 10),
    Column("population", Integer),
    Column("households", Integer),
    _origin(),
    **MYSQL,
)

grids = Table(
    "grids", metadata,
    _str("grid_id", ID, primary_key=True),
    _str("name"),
    _str("community", nullable=False),
    Index("ix_grids_community", "community"),
    _origin(),
    **MYSQL,
)

cadres = Table(
    "cadres", metadata,
    _str("cadre_id", ID, primary_key=True),
    _str("name"),
    _str("role", 10),
    _str("community"),
    _str("grid_id", ID),
    Column("joined_on", Date),
    Column("left_on", Date),
    Index("ix_cadres_community", "community"),
    _origin(),
    **MYSQL,
)

cases = Table(
    "cases", metadata,
    _str("case_id", ID, primary_key=True),
    Column("reported_at", DateTime, nullable=False),
    _str("channel"),
    _str("category"),
    _str("community", nullable=False),
    _str("grid_id", ID),
    _str("handler_id", ID),
    Column("responded_at", DateTime),
    Column("deadline_at", DateTime),
    Column("closed_at", DateTime),
    _str("status"),
    _str("resolution_level", 10),
    Column("callback_resolved", Boolean),
    _str("satisfaction", 10),
    Column("summary", Text),
    Index("ix_cases_reported_at", "reported_at"),
    Index("ix_cases_community_reported_at", "community", "reported_at"),
    # open cases (closed_at NULL or later than as_of) with every column the overdue
    # backlog groups by: the backlog is answered from this index alone
    Index("ix_cases_open", "closed_at", "deadline_at", "reported_at", "community", "grid_id",
          "category", "channel"),
    Index("ix_cases_handler_id", "handler_id"),
    # the breakdown dictionaries: SELECT DISTINCT answered from an index (metrics.case_sql)
    Index("ix_cases_grid_id", "grid_id"),
    Index("ix_cases_category", "category"),
    Index("ix_cases_channel", "channel"),
    _origin(),
    **MYSQL,
)

petitions = Table(
    "petitions", metadata,
    _str("petition_id", ID, primary_key=True),
    Column("received_at", DateTime, nullable=False),
    _str("form", 10),
    _str("category"),
    _str("community", nullable=False),
    Column("persons", Integer),
    Column("is_repeat", Boolean),
    Column("is_leapfrog", Boolean),
    Column("deadline_at", DateTime),
    Column("closed_at", DateTime),
    Index("ix_petitions_received_at", "received_at"),
    Index("ix_petitions_community", "community"),
    _origin(),
    **MYSQL,
)

incidents = Table(
    "incidents", metadata,
    _str("incident_id", ID, primary_key=True),
    Column("occurred_at", DateTime, nullable=False),
    _str("category", 20),
    _str("subtype"),
    _str("community", nullable=False),
    Column("is_valid", Boolean, nullable=False, default=True),
    Column("lat", Double),
    Column("lon", Double),
    Index("ix_incidents_occurred_at", "occurred_at"),
    Index("ix_incidents_community", "community"),
    _origin(),
    **MYSQL,
)

attendance = Table(
    "attendance", metadata,
    _str("cadre_id", ID, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("check_in_at", DateTime),
    Column("check_out_at", DateTime),
    Column("lat", Double),
    Column("lon", Double),
    Index("ix_attendance_day", "day"),
    _origin(),
    **MYSQL,
)

worklogs = Table(
    "worklogs", metadata,
    _str("log_id", ID, primary_key=True),
    _str("cadre_id", ID, nullable=False),
    Column("day", Date, nullable=False),
    Column("created_at", DateTime),
    Column("visits", Integer),
    Column("issues_reported", Integer),
    Column("content", Text),
    Index("ix_worklogs_day", "day"),
    Index("ix_worklogs_cadre_day", "cadre_id", "day"),
    _origin(),
    **MYSQL,
)

benefit_recipients = Table(
    "benefit_recipients", metadata,
    _str("recipient_id", ID, primary_key=True),
    _str("person_key", 64),
    _str("household_id", ID),
    _str("program", 20, nullable=False),
    _str("community", nullable=False),
    _str("start_month", MONTH, nullable=False),
    _str("end_month", MONTH),
    Column("monthly_amount", Numeric(12, 2)),
    Index("ix_benefit_recipients_program", "program", "start_month"),
    Index("ix_benefit_recipients_community", "community"),
    # the double-enrolment check (低保 and 特困 for one person) joins on it (migration 0006)
    Index("ix_benefit_recipients_person_key", "person_key"),
    _origin(),
    **MYSQL,
)

benefit_payments = Table(
    "benefit_payments", metadata,
    _str("recipient_id", ID, primary_key=True),
    _str("month", MONTH, primary_key=True),
    Column("amount", Numeric(12, 2)),
    Index("ix_benefit_payments_month", "month"),
    _origin(),
    **MYSQL,
)

relief_grants = Table(
    "relief_grants", metadata,
    _str("grant_id", ID, primary_key=True),
    _str("person_key", 64),
    _str("community", nullable=False),
    Column("granted_on", Date, nullable=False),
    Column("amount", Numeric(12, 2)),
    _str("reason"),
    Index("ix_relief_grants_granted_on", "granted_on"),
    _origin(),
    **MYSQL,
)

insurance_enrolment = Table(
    "insurance_enrolment", metadata,
    _str("community", primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("required", Integer),
    Column("enrolled", Integer),
    _origin(),
    **MYSQL,
)

benefit_standards = Table(
    "benefit_standards", metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    _str("program", 20, primary_key=True),
    Column("monthly_amount", Numeric(12, 2)),
    _origin(),
    **MYSQL,
)

# The monthly statistics (民政统计月报) an office without recipient lists receives: per
# community, month and program the households, persons, spending (元) and, where given,
# new and exited persons (migration 0006). Where the recipient lists cover a community,
# program and month, they win (metrics.benefits).
benefit_monthly = Table(
    "benefit_monthly", metadata,
    _str("community", primary_key=True),
    _str("month", MONTH, primary_key=True),
    _str("program", 20, primary_key=True),
    Column("households", Integer),
    Column("persons", Integer),
    Column("spending", Numeric(14, 2)),
    Column("new", Integer),
    Column("exited", Integer),
    Index("ix_benefit_monthly_month", "month"),
    _origin(),
    **MYSQL,
)

# Notices (通知公告) for the big screen's ticker: a health notice from the CDC, a 防汛 call…
# shown while the day lies in valid_from..valid_to (no end: until replaced or deleted).
notices = Table(
    "notices", metadata,
    _str("notice_id", ID, primary_key=True),
    _str("title", nullable=False),
    Column("body", Text),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Index("ix_notices_valid_from", "valid_from"),
    _origin(),
    **MYSQL,
)

# Community outlines for the 3D map: a GeoJSON geometry (Polygon / MultiPolygon, WGS 84)
# per community, imported from a GeoJSON file (data.boundaries); not a CSV table.
boundaries = Table(
    "boundaries", metadata,
    _str("community", primary_key=True),
    Column("geometry", Text, nullable=False),
    _origin(),
    **MYSQL,
)

# Published cadre appraisals (migration 0005): a month's results frozen at publication;
# pages and exports read a published month from here (metrics.appraisal_store).
appraisal_published = Table(
    "appraisal_published", metadata,
    Column("month", String(MONTH), primary_key=True),
    Column("published_at", DateTime, nullable=False),
    Column("as_of", DateTime, nullable=False),  # the moment the month was judged at
    _str("published_by", NAME),
    Column("cadres", Integer, nullable=False),
    Column("settings", Text, nullable=False),   # appraisal.* settings in force (JSON)
    **MYSQL,
)

appraisal_snapshot = Table(
    "appraisal_snapshot", metadata,
    Column("month", String(MONTH), primary_key=True),
    _str("cadre_id", ID, primary_key=True),
    _str("name"),
    _str("role", 10),
    _str("community"),
    Column("score", Double, nullable=False),
    _str("tier", 10, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("parts", Text, nullable=False),      # components and deductions (JSON)
    **MYSQL,
)

# An office's own settings (key/value; ``name``: the sub-district's name on every page).
office = Table(
    "office", metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
    **MYSQL,
)

# Column mappings saved under a name (or shipped as presets) for files with these headers.
import_mappings = Table(
    "import_mappings", metadata,
    _str("name", primary_key=True),
    Column("table_name", String(40), nullable=False),
    Column("headers", Text, nullable=False),   # JSON list of the file's headers
    Column("mapping", Text, nullable=False),   # the mapping (YAML, as in a mapping file)
    Column("created_at", DateTime, nullable=False),
    **MYSQL,
)

import_log = Table(
    "import_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _str("table_name", 40, nullable=False),
    _str("file_name", 255),
    _str("source", 10, nullable=False),  # 'demo' or 'import'
    Column("imported_at", DateTime, nullable=False),
    Column("exported_at", DateTime),
    Column("inserted", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    _str("imported_by", NAME),
    **MYSQL,
)

# Who may log in (migration 0008): a login name, a role of data.store.users.ROLES, the
# community a ``community`` user sees, the password as an argon2 hash (never the password),
# for a ``screen`` user the SHA-256 of its URL token, and the lockout bookkeeping.
users = Table(
    "users", metadata,
    _str("name", NAME, primary_key=True),
    Column("role", String(20), nullable=False),
    _str("community"),
    Column("password_hash", String(255)),
    Column("token_hash", String(64), unique=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("changed_at", DateTime, nullable=False),
    **MYSQL,
)

# The audit trail (migration 0008): who did what, when (logins, imports, exports,
# publications, user changes); written by data.store.audit only, never updated.
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    _str("actor", NAME, nullable=False),
    Column("action", String(40), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_audit_log_at", "at"),
    **MYSQL,
)

# The data tables of DATA.md, in an order that respects references (for demo and import).
DATA_TABLES: dict[str, Table] = {
    t.name: t for t in (
        communities, grids, cadres, cases, petitions, incidents, attendance, worklogs,
        benefit_recipients, benefit_payments, relief_grants, insurance_enrolment,
        benefit_standards, benefit_monthly, notices,
    )
}

# Each table's cohort or record date: the data page's date range and freshness use it.
RECORD_DATE: dict[str, str] = {
    "cadres": "joined_on",
    "cases": "reported_at",
    "petitions": "received_at",
    "incidents": "occurred_at",
    "attendance": "day",
    "worklogs": "day",
    "benefit_recipients": "start_month",
    "benefit_payments": "month",
    "relief_grants": "granted_on",
    "insurance_enrolment": "year",
    "benefit_standards": "year",
    "benefit_monthly": "month",
    "notices": "valid_from",
}
