"""Alembic environment: runs migrations on the engine the store hands over."""

from __future__ import annotations

from alembic import context

from factor_desktop.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # run from the alembic command line during development
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///dev.sqlite3")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        transaction_per_migration=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
