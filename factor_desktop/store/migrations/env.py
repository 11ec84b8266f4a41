"""Alembic environment: runs migrations on the engine the store hands over.

The store's migration engine begins every transaction itself (`BEGIN IMMEDIATE`), DDL included,
so each revision is applied with its version stamp in one SQLite transaction: all of it or none.
Foreign keys are off during a step (tables may be rebuilt); the step is checked before it commits.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import text

from factor_desktop.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # run from the alembic command line during development
    from factor_desktop.store.db import make_migration_engine

    url = config.get_main_option("sqlalchemy.url") or "sqlite:///dev.sqlite3"
    from pathlib import Path

    engine = make_migration_engine(Path(url.removeprefix("sqlite:///")))


def _check_foreign_keys(ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
    """Refuse (and so roll back) a step that leaves a row pointing at nothing."""
    broken = ctx.connection.execute(text("PRAGMA foreign_key_check")).fetchall()
    if broken:
        raise RuntimeError(
            f"Schema step {step.up_revision_id or step.down_revision_ids} would leave "
            f"{len(broken)} row(s) referring to missing records (first: {tuple(broken[0])})."
        )


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        transactional_ddl=True,
        transaction_per_migration=True,
        on_version_apply=_check_foreign_keys,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
