"""The read model's rows: what the window lists and the command line reports, as frozen data.

Nothing here is attached to a SQLAlchemy session, so a row read on the worker thread can cross to
the GUI thread, and a report can print it after its session has closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only named: the rows are plain data, and the window imports them before the store.
    from factor_desktop.receipts import ReceiptInfo


@dataclass(frozen=True)
class ProjectRow:
    id: int
    client_id: int
    number: str
    name: str
    status: str
    manager: str | None
    qbo_id: str | None


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    archived: bool
    qbo_id: str | None
    projects: tuple[ProjectRow, ...]


@dataclass(frozen=True)
class MappedRecord:
    """The QBO record a Factor type is mapped to; `name` is None when it is not in the cache."""

    qbo_id: str
    entity: str
    name: str | None
    active: bool
    # Why the record would not go through now (inactive, a category, not an expense account).
    problem: str | None = None
    # A tax code's effective rate (None: not known), and the rule chosen for the tax term's
    # mapping when the rates differ (None: none chosen, so Factor's tax amount is sent).
    rate: Decimal | None = None
    tax_rule: str | None = None


@dataclass(frozen=True)
class ServiceTypeRow:
    id: int
    name: str
    description: str | None
    taxable: bool
    active: bool
    item: MappedRecord | None


@dataclass(frozen=True)
class ExpenseTypeRow:
    id: int
    name: str
    category: str
    markup_percent: Decimal | None
    billable: bool
    is_subconsultant: bool
    active: bool
    account: MappedRecord | None
    item: MappedRecord | None


@dataclass(frozen=True)
class TaxTermRow:
    id: int
    code: str
    name: str
    rate_percent: Decimal
    active: bool
    tax_code: MappedRecord | None


@dataclass(frozen=True)
class InvoiceLineRow:
    """One line of an invoice; a line that bills an expense carries that expense's receipts."""

    position: int
    kind: str
    description: str
    quantity: Decimal
    rate: Decimal
    amount: Decimal
    taxable: bool
    service_type: str | None = None
    expense_type: str | None = None
    expense_id: int | None = None
    receipts: tuple[ReceiptInfo, ...] = ()


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str | None
    project_number: str
    project_name: str
    client_name: str
    status: str
    issue_date: date
    due_date: date | None
    total: Decimal
    balance: Decimal
    qbo_id: str | None
    # Why an issued invoice is not in QuickBooks yet: its outbox row's state ("pending",
    # "blocked", "failed"), the standing reason, and the fix offered for it ("map", "link" or
    # "retry"; see `views.invoices.blocking_fix`).
    outbox_status: str | None = None
    blocked_reason: str | None = None
    fix: str | None = None
    # QuickBooks' total when it differs from Factor's (a standing "mismatched" entry), and why.
    qbo_total: Decimal | None = None
    mismatch_reason: str | None = None
    # QuickBooks' balance when it is not Factor's total less the payments Factor has.
    qbo_balance: Decimal | None = None
    # The invoice's project (and so its client), for the "Link…" fix.
    project_id: int = 0
    subtotal: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    # Payments applied to it (voided payments left out).
    paid: Decimal = Decimal("0.00")
    # The lines, and the custom fields as (name, value) in the invoice's order: read only when
    # asked for (`load_invoices(details=True)`, as `report invoices` does); empty otherwise.
    lines: tuple[InvoiceLineRow, ...] = ()
    custom_fields: tuple[tuple[str, str], ...] = ()

    @property
    def mismatched(self) -> bool:
        return self.qbo_total is not None or self.mismatch_reason is not None

    @property
    def qbo_state(self) -> str | None:
        """Where the invoice stands with QuickBooks: "sent", "mismatched" (sent, but QuickBooks'
        total differs), "pending", "blocked", "failed", "not sent" (issued, not queued), or None
        for a draft or a void invoice that never went."""
        if self.qbo_id:
            return "mismatched" if self.mismatched else "sent"
        if self.outbox_status is not None:
            return self.outbox_status
        return None if self.status in ("draft", "void") else "not sent"


@dataclass(frozen=True)
class ExpenseRow:
    id: int
    incurred_on: date
    project_number: str
    project_name: str
    type_name: str | None
    vendor: str | None
    description: str
    cost: Decimal
    markup_percent: Decimal | None
    billable_amount: Decimal
    billable: bool
    source: str
    qbo_txn_type: str | None
    receipts: int
    deleted_in_qbo: bool
    # The receipts themselves: the expense's own and its QuickBooks transaction's.
    receipt_files: tuple[ReceiptInfo, ...] = ()
    # The expense type's budget category, and the number of the invoice that bills the expense
    # ("draft" for a draft's line; None when it is not billed).
    category: str | None = None
    billed_on: str | None = None
    qbo_id: str | None = None
    qbo_line_id: str | None = None


@dataclass(frozen=True)
class LogRow:
    id: int
    at: datetime
    direction: str
    entity_kind: str
    label: str
    qbo_id: str | None
    action: str
    level: str
    reason: str | None
    run_id: int | None = None
    # ok, waiting, failed or mismatched; resolved or superseded once that is no longer true.
    state: str = "ok"
    # The Factor record's id (a client's, a project's, an invoice's ...), when it has one.
    local_id: int | None = None


@dataclass(frozen=True)
class SyncRunRow:
    """One sync pass (or preview) as the status bar and the Sync Log's run filter show it."""

    id: int
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    counts: tuple[tuple[str, int], ...] = ()
    requests_used: int = 0


@dataclass(frozen=True)
class QboCandidate:
    """A cached QuickBooks record a Factor type may be mapped to (dragged onto it)."""

    entity: str
    qbo_id: str
    name: str
    # An Item's Type or an Account's AccountType.
    type: str | None
    # The Factor types already mapped to it.
    used_by: tuple[str, ...] = ()
    # A tax code's effective rate (the sum of its sales tax rates); None when not known.
    rate: Decimal | None = None


@dataclass(frozen=True)
class Candidates:
    items: tuple[QboCandidate, ...] = ()
    expense_accounts: tuple[QboCandidate, ...] = ()
    tax_codes: tuple[QboCandidate, ...] = ()
    # Whether Automated Sales Tax is on in QuickBooks (None: the Preferences were not read).
    automated_sales_tax: bool | None = None


@dataclass(frozen=True)
class QboCustomerRow:
    """A cached QuickBooks customer or sub-customer a client or project can be linked to."""

    qbo_id: str
    name: str
    # "Client:Project" for a sub-customer.
    full_name: str
    parent_qbo_id: str | None
    balance: Decimal | None
    active: bool
    sync_token: str | None
    # The client or project linked to it ("the client 'X'"), if any.
    linked_to: str | None = None


@dataclass(frozen=True)
class SetupProgress:
    """What a first-run checklist needs to know beyond the rest of the snapshot."""

    # Rows read from QuickBooks' lists into the reference cache.
    cached_records: int = 0
    # Preview passes run, and sync passes (not previews, not list reads) that finished.
    previews: int = 0
    syncs: int = 0
    # Clients (and projects, when they are mirrored) that need a QuickBooks decision, and how
    # many have one: linked, or marked "create in QuickBooks".
    links_needed: int = 0
    links_decided: int = 0
