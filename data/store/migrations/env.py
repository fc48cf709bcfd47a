"""Alembic environment of the store (run only through ``data.store.migrate``).

There is no alembic.ini: ``data.store.migrate`` builds the Config in code, points
``script_location`` at this folder and hands over an open connection in
``config.attributes["connection"]``; the caller owns that connection's transaction (one
transaction for the whole upgrade where the database has transactional DDL: PostgreSQL,
and SQLite through migrate's own engine).

Revisions in ``versions/`` are written by hand and never import ``data.store.schema``:
each one describes the schema as it was at that revision, so it stays right while the
schema moves on. Add one with ``command.revision(migrate.config(), "message",
rev_id="0003_...")`` and write its operations; update ``migrate.HEAD`` and ``schema.py``.
"""
from __future__ import annotations

from alembic import context

from data.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through data.store.migrate (it passes the connection)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,   # SQLite changes columns by copying the table (batch mode)
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
