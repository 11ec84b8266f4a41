"""The read model: what the store holds, read into typed, frozen rows. No Qt.

The window's tabs and models show these rows and the command line's reports print them, so the
two read the same figures and the same reasons from one place:

- `rows`: the row types (invoices with their lines, expenses with their receipts, the sync log,
  clients and projects, mappings ...);
- `invoices`, `expenses`, `log`, `links`, `mappings`, `connection`, `projects`: each reads its
  part of the store into those rows;
- `snapshot`: `load_snapshot`, everything the window shows in one read on its worker thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from factor_desktop.lazy import lazy_exports

if TYPE_CHECKING:
    from factor_desktop.views.connection import ConnectionInfo
    from factor_desktop.views.invoices import FIX_HINTS, blocking_fix
    from factor_desktop.views.log import LOG_LIMIT, RUN_LIMIT
    from factor_desktop.views.mappings import MAPPING_ENTITIES
    from factor_desktop.views.projects import (
        BudgetLineFigures,
        ProjectFinancials,
        project_financials,
    )
    from factor_desktop.views.rows import (
        Candidates,
        ClientRow,
        ExpenseRow,
        ExpenseTypeRow,
        InvoiceLineRow,
        InvoiceRow,
        LogRow,
        MappedRecord,
        ProjectRow,
        QboCandidate,
        QboCustomerRow,
        ServiceTypeRow,
        SetupProgress,
        SyncRunRow,
        TaxTermRow,
    )
    from factor_desktop.views.snapshot import Snapshot, load_snapshot

__all__ = [
    "FIX_HINTS",
    "LOG_LIMIT",
    "MAPPING_ENTITIES",
    "RUN_LIMIT",
    "BudgetLineFigures",
    "Candidates",
    "ClientRow",
    "ConnectionInfo",
    "ExpenseRow",
    "ExpenseTypeRow",
    "InvoiceLineRow",
    "InvoiceRow",
    "LogRow",
    "MappedRecord",
    "ProjectFinancials",
    "ProjectRow",
    "QboCandidate",
    "QboCustomerRow",
    "ServiceTypeRow",
    "SetupProgress",
    "Snapshot",
    "SyncRunRow",
    "TaxTermRow",
    "blocking_fix",
    "load_snapshot",
    "project_financials",
]


# Where the names above come from, lightest first: a name is looked up in these modules when it
# is first used, so that the window's row types come without the queries (and SQLAlchemy)
# behind them.
_MODULES = ("rows", "connection", "invoices", "log", "mappings", "projects", "snapshot")


__getattr__ = lazy_exports(__name__, __all__, _MODULES, globals())
