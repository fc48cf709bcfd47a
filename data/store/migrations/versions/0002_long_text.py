"""Open-list text holds 200 characters: categories, subtypes, channels, statuses, reasons, names.

The platform's categories are hierarchical ('城乡建设-住房保障-保障性住房-…') and
outgrew the first release's 20–60 characters; the same goes for names of communities,
grids and cadres (and every ``community`` column that holds a community name), incident
subtypes, channels, statuses and relief reasons. Identifiers (40) and the closed lists
(resolution level, satisfaction, kinds, roles, forms, programs, incident categories)
keep their lengths.

- SQLite: batch mode (each changed table is copied into its new definition, indexes
  rebuilt); every row survives, in one transaction (``data.store.migrate``).
- PostgreSQL: ``ALTER COLUMN … TYPE VARCHAR(200)``, a catalogue change without rewrite.
- MySQL/MariaDB: one ``ALTER TABLE … MODIFY …`` per table, keeping utf8mb4/utf8mb4_bin and
  each column's NULL/NOT NULL. The widest index, ``ix_cases_open`` (three DATETIMEs,
  community, grid_id, category, channel), needs 3 × 5 + (200 + 40 + 200 + 200) × 4
  = 2 575 bytes of key, within InnoDB's 3 072 (checked on MariaDB 10.11: these three
  columns could grow to 241 characters, at 242 the CREATE INDEX fails with error 1071).

Revision ID: 0002_long_text
Revises: 0001_first_release
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_long_text"
down_revision = "0001_first_release"
branch_labels = None
depends_on = None

TEXT = 200

# table -> [(column, length before, nullable)]
WIDENED: dict[str, list[tuple[str, int, bool]]] = {
    "communities": [("name", 60, False)],
    "grids": [("name", 60, True), ("community", 60, False)],
    "cadres": [("name", 30, True), ("community", 60, True)],
    "cases": [("channel", 20, True), ("category", 30, True), ("community", 60, False),
              ("status", 20, True)],
    "petitions": [("category", 30, True), ("community", 60, False)],
    "incidents": [("subtype", 30, True), ("community", 60, False)],
    "benefit_recipients": [("community", 60, False)],
    "relief_grants": [("community", 60, False), ("reason", 100, True)],
    "insurance_enrolment": [("community", 60, False)],
}


def _alter(to_new: bool) -> None:
    bind = op.get_bind()
    for table, columns in WIDENED.items():
        if bind.dialect.name in ("mysql", "mariadb"):
            # one statement per table: InnoDB copies the table once, not once per column
            q = bind.dialect.identifier_preparer.quote
            clauses = [
                f"MODIFY {q(name)} VARCHAR({TEXT if to_new else old}) CHARACTER SET utf8mb4 "
                f"COLLATE utf8mb4_bin {'NULL' if nullable else 'NOT NULL'}"
                for name, old, nullable in columns
            ]
            op.execute(f"ALTER TABLE {q(table)} " + ", ".join(clauses))
            continue
        with op.batch_alter_table(table) as batch:
            for name, old, nullable in columns:
                new, before = (TEXT, old) if to_new else (old, TEXT)
                batch.alter_column(name, type_=sa.String(new), existing_type=sa.String(before),
                                   existing_nullable=nullable)


def upgrade() -> None:
    _alter(to_new=True)


def downgrade() -> None:
    """Back to the first release's lengths; refused by PostgreSQL and MariaDB while a longer
    value is stored (SQLite keeps it: it does not enforce VARCHAR lengths)."""
    _alter(to_new=False)
