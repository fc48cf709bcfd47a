"""The analytics store: schema, connection, migrations and what it holds."""
