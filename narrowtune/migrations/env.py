"""Alembic environment: runs on the connection `narrowtune.store` hands over (never a URL)."""

from __future__ import annotations

from alembic import context

from narrowtune.store import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "narrowtune's migrations run through narrowtune.store.Store (or "
        "narrowtune.store.migrate), which passes a connection; there is no alembic.ini"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
