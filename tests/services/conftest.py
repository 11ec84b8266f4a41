"""A fresh store per test, and a small firm in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from factor_desktop.store.db import Store, open_store
from tests.services.firm import Firm, build_firm


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "firm.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with store.session() as s:
        yield s


@pytest.fixture
def firm(session: Session) -> Firm:
    return build_firm(session)
