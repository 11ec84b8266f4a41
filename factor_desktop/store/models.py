"""The local store: Factor records, their QBO links, the QBO reference cache and sync state.

Every Factor record that has a QuickBooks twin keeps the twin's `Id` and `SyncToken`
(`qbo_id`, `qbo_sync_token`). Money columns are exact (`Money`, whole cents); datetimes are UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from factor_desktop.domain.kinds import MappingKind
from factor_desktop.store.types import ExactDecimal, Money, UtcDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class QboLinked:
    """A record with a QuickBooks twin: its `Id` and the `SyncToken` last seen."""

    qbo_id: Mapped[str | None] = mapped_column(String(32), default=None)
    qbo_sync_token: Mapped[str | None] = mapped_column(String(16), default=None)


# --- Factor side -------------------------------------------------------------------------


class Client(Timestamped, QboLinked, Base):
    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("qbo_id"),)

    # The DisplayName a create was sent with, until its answer is settled: after a crash the
    # next pass looks for that customer in QuickBooks before creating anything.
    qbo_pending_name: Mapped[str | None] = mapped_column(String(500), default=None)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str | None] = mapped_column(String(200), default=None)
    phone: Mapped[str | None] = mapped_column(String(50), default=None)
    address_line1: Mapped[str | None] = mapped_column(String(200), default=None)
    city: Mapped[str | None] = mapped_column(String(100), default=None)
    region: Mapped[str | None] = mapped_column(String(50), default=None)
    postal_code: Mapped[str | None] = mapped_column(String(20), default=None)
    terms_days: Mapped[int | None] = mapped_column(Integer, default=None)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    projects: Mapped[list[Project]] = relationship(back_populates="client")


class Project(Timestamped, QboLinked, Base):
    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("client_id", "name"),
        UniqueConstraint("qbo_id"),
        CheckConstraint("status IN ('active', 'on_hold', 'closed')", name="status"),
    )

    # As on Client: the name a create went out with, until its answer is settled.
    qbo_pending_name: Mapped[str | None] = mapped_column(String(500), default=None)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"))
    number: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    manager: Mapped[str | None] = mapped_column(String(100), default=None)
    address: Mapped[str | None] = mapped_column(String(300), default=None)

    client: Mapped[Client] = relationship(back_populates="projects")
    budgets: Mapped[list[ProjectBudget]] = relationship(
        back_populates="project", cascade="all, delete-orphan"
    )


class ServiceType(Timestamped, Base):
    __tablename__ = "service_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(500), default=None)
    taxable: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ExpenseType(Timestamped, Base):
    __tablename__ = "expense_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The budget category the expense counts against, e.g. "Structural" or "Reimbursables".
    category: Mapped[str] = mapped_column(String(100))
    is_subconsultant: Mapped[bool] = mapped_column(Boolean, default=False)
    # None means the expense is billed at cost.
    markup_percent: Mapped[Decimal | None] = mapped_column(ExactDecimal, default=None)
    billable: Mapped[bool] = mapped_column(Boolean, default=True)
    taxable: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TaxTerm(Timestamped, Base):
    __tablename__ = "tax_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    rate_percent: Mapped[Decimal] = mapped_column(ExactDecimal)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ProjectBudget(Timestamped, Base):
    """A project's budget for one service (its fee) or one expense category."""

    __tablename__ = "project_budgets"
    __table_args__ = (
        UniqueConstraint("project_id", "service_type_id"),
        UniqueConstraint("project_id", "expense_category"),
        CheckConstraint(
            "(kind = 'service' AND service_type_id IS NOT NULL AND expense_category IS NULL)"
            " OR (kind = 'expense' AND service_type_id IS NULL AND expense_category IS NOT NULL)",
            name="kind_target",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    service_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_types.id", ondelete="RESTRICT"), default=None
    )
    expense_category: Mapped[str | None] = mapped_column(String(100), default=None)
    amount: Mapped[Decimal] = mapped_column(Money)
    # How far the service has progressed, for percent-complete fee billing.
    percent_complete: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))

    project: Mapped[Project] = relationship(back_populates="budgets")
    service_type: Mapped[ServiceType | None] = relationship()


class Invoice(Timestamped, QboLinked, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("qbo_id"),
        CheckConstraint(
            "status IN ('draft', 'final', 'partially_paid', 'paid', 'void')", name="status"
        ),
        CheckConstraint("status = 'draft' OR number IS NOT NULL", name="final_has_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Drafts have no number; one is allocated when the invoice is finalized and never reused.
    number: Mapped[str | None] = mapped_column(String(21), unique=True, default=None)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date, default=None)
    terms_days: Mapped[int | None] = mapped_column(Integer, default=None)
    tax_term_id: Mapped[int | None] = mapped_column(
        ForeignKey("tax_terms.id", ondelete="RESTRICT"), default=None
    )
    memo: Mapped[str | None] = mapped_column(Text, default=None)
    subtotal: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    tax: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # Project details printed on the invoice, captured when it is finalized.
    project_details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    finalized_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)

    project: Mapped[Project] = relationship()
    tax_term: Mapped[TaxTerm | None] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    custom_fields: Mapped[list[InvoiceCustomField]] = relationship(
        back_populates="invoice",
        cascade="all, delete-orphan",
        order_by="InvoiceCustomField.position",
    )
    applications: Mapped[list[PaymentApplication]] = relationship(back_populates="invoice")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint("kind IN ('service', 'expense', 'other')", name="kind"),
        UniqueConstraint("expense_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    service_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_types.id", ondelete="RESTRICT"), default=None
    )
    expense_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("expense_types.id", ondelete="RESTRICT"), default=None
    )
    # The expense this line bills; an expense is billed at most once.
    expense_id: Mapped[int | None] = mapped_column(
        ForeignKey("expenses.id", ondelete="RESTRICT"), default=None
    )
    description: Mapped[str] = mapped_column(String(4000), default="")
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(1))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    amount: Mapped[Decimal] = mapped_column(Money)
    taxable: Mapped[bool] = mapped_column(Boolean, default=False)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    service_type: Mapped[ServiceType | None] = relationship()
    expense_type: Mapped[ExpenseType | None] = relationship()


class InvoiceCustomField(Base):
    __tablename__ = "invoice_custom_fields"
    __table_args__ = (UniqueConstraint("invoice_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(31))
    value: Mapped[str] = mapped_column(String(100))

    invoice: Mapped[Invoice] = relationship(back_populates="custom_fields")


class Payment(Timestamped, QboLinked, Base):
    """A payment received, normally recorded in QuickBooks and pulled from there."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("qbo_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="RESTRICT"), default=None
    )
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    unapplied: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    method: Mapped[str | None] = mapped_column(String(50), default=None)
    reference: Mapped[str | None] = mapped_column(String(50), default=None)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)

    applications: Mapped[list[PaymentApplication]] = relationship(
        back_populates="payment", cascade="all, delete-orphan"
    )


class PaymentApplication(Base):
    """The part of a payment applied to one invoice."""

    __tablename__ = "payment_applications"
    __table_args__ = (UniqueConstraint("payment_id", "invoice_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money)

    payment: Mapped[Payment] = relationship(back_populates="applications")
    invoice: Mapped[Invoice] = relationship(back_populates="applications")


class Expense(Timestamped, QboLinked, Base):
    """A project cost, usually one expense line of a QuickBooks Purchase or Bill."""

    __tablename__ = "expenses"
    __table_args__ = (
        UniqueConstraint("qbo_txn_type", "qbo_id", "qbo_line_id"),
        CheckConstraint("source IN ('qbo', 'factor')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"))
    expense_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("expense_types.id", ondelete="RESTRICT"), default=None
    )
    source: Mapped[str] = mapped_column(String(10), default="factor")
    qbo_txn_type: Mapped[str | None] = mapped_column(String(20), default=None)
    qbo_line_id: Mapped[str | None] = mapped_column(String(16), default=None)
    incurred_on: Mapped[date] = mapped_column(Date)
    vendor: Mapped[str | None] = mapped_column(String(200), default=None)
    description: Mapped[str] = mapped_column(String(4000), default="")
    cost: Mapped[Decimal] = mapped_column(Money)
    # The markup rule applied when the expense was recorded, kept so later rule changes are visible.
    markup_percent: Mapped[Decimal | None] = mapped_column(ExactDecimal, default=None)
    billable_amount: Mapped[Decimal] = mapped_column(Money)
    billable: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted_in_qbo: Mapped[bool] = mapped_column(Boolean, default=False)

    project: Mapped[Project] = relationship()
    expense_type: Mapped[ExpenseType | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="expense")


class Attachment(Timestamped, QboLinked, Base):
    """A receipt or document. The file lives in the content-addressed attachment cache."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("qbo_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int | None] = mapped_column(
        ForeignKey("expenses.id", ondelete="SET NULL"), default=None
    )
    qbo_txn_type: Mapped[str | None] = mapped_column(String(20), default=None)
    qbo_txn_id: Mapped[str | None] = mapped_column(String(32), default=None)
    file_name: Mapped[str] = mapped_column(String(1000))
    content_type: Mapped[str | None] = mapped_column(String(100), default=None)
    size: Mapped[int | None] = mapped_column(Integer, default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    downloaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)

    expense: Mapped[Expense | None] = relationship(back_populates="attachments")


# --- Mappings and the QBO reference cache ---------------------------------------------------

MAPPING_KINDS: tuple[str, ...] = tuple(kind.value for kind in MappingKind)


class Mapping(Timestamped, Base):
    """Which QBO record a Factor type stands for.

    `service_type` → Item, `expense_type` → Account, `expense_type_item` → Item,
    `tax_term` → TaxCode.
    """

    __tablename__ = "mappings"
    __table_args__ = (
        UniqueConstraint("kind", "local_id"),
        CheckConstraint(
            "kind IN ('service_type', 'expense_type', 'expense_type_item', 'tax_term')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    local_id: Mapped[int] = mapped_column(Integer)
    qbo_id: Mapped[str] = mapped_column(String(32))


class QboRecord(Base):
    """A cached QBO reference record (Customer, Vendor, Item, Account, TaxCode, Term)."""

    __tablename__ = "qbo_cache"
    __table_args__ = (
        UniqueConstraint("entity", "qbo_id"),
        Index("ix_qbo_cache_entity_name", "entity", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    qbo_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(500))
    fully_qualified_name: Mapped[str | None] = mapped_column(String(1000), default=None)
    parent_qbo_id: Mapped[str | None] = mapped_column(String(32), default=None)
    kind: Mapped[str | None] = mapped_column(String(50), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sync_token: Mapped[str | None] = mapped_column(String(16), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_updated: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


# --- Connection, settings and sync state ----------------------------------------------------


class Connection(Base):
    """The QBO company this profile is connected to. Tokens are in the keyring, never here."""

    __tablename__ = "connection"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    state: Mapped[str] = mapped_column(String(20), default="disconnected")
    environment: Mapped[str | None] = mapped_column(String(500), default=None)
    realm_id: Mapped[str | None] = mapped_column(String(32), default=None)
    company_name: Mapped[str | None] = mapped_column(String(500), default=None)
    connected_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    refresh_token_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    refresh_token_last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    warnings: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # A connection begun but not finished: the redirect it expects, so that a pasted redirect
    # URL can complete it later, even from another process. Secrets are not kept here.
    pending_state: Mapped[str | None] = mapped_column(String(100), default=None)
    pending_redirect_uri: Mapped[str | None] = mapped_column(String(500), default=None)
    pending_environment: Mapped[str | None] = mapped_column(String(500), default=None)
    pending_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class Setting(Base):
    """One setting of this firm profile, stored as JSON under its key."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class OutboxItem(Timestamped, Base):
    """A pending push to QBO; its `request_id` goes with every attempt so QBO never doubles it."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'done', 'failed', 'blocked', 'cancelled')", name="status"
        ),
        Index("ix_outbox_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_kind: Mapped[str] = mapped_column(String(20))
    local_id: Mapped[int] = mapped_column(Integer)
    operation: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[str] = mapped_column(String(50), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Set while the row's last attempt went out inside a batch request whose answer is not
    # settled: the same rows go again under the same requestid, so QuickBooks replays its answer.
    batch_request_id: Mapped[str | None] = mapped_column(String(50), default=None)
    batch_bid: Mapped[str | None] = mapped_column(String(10), default=None)


class ChangeCursor(Base):
    """How far changes of one QBO entity have been pulled and committed."""

    __tablename__ = "change_cursors"

    entity: Mapped[str] = mapped_column(String(20), primary_key=True)
    changed_since: Mapped[datetime] = mapped_column(UtcDateTime)
    # The newest QuickBooks `LastUpdatedTime` among the changes applied: QuickBooks' own clock,
    # so the next read need not go back further than this for what was already applied.
    applied_through: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SyncRun(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('running', 'ok', 'partial', 'failed', 'cancelled')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="sync")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    status: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    requests_used: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)

    entries: Mapped[list[SyncLogEntry]] = relationship(back_populates="run")


class SyncLogEntry(Base):
    """One record a sync touched, and what happened to it."""

    __tablename__ = "sync_log"
    __table_args__ = (
        CheckConstraint("level IN ('info', 'warning', 'error')", name="level"),
        Index("ix_sync_log_at", "at"),
        Index("ix_sync_log_entity", "entity_kind", "local_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="SET NULL"), default=None
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    direction: Mapped[str] = mapped_column(String(10))
    entity_kind: Mapped[str] = mapped_column(String(20))
    local_id: Mapped[int | None] = mapped_column(Integer, default=None)
    qbo_id: Mapped[str | None] = mapped_column(String(32), default=None)
    label: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(10), default="info")
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    # The record's state as of this entry: ok, waiting, failed or mismatched when written;
    # resolved (it went through since) or superseded (a newer reason replaced it) later.
    state: Mapped[str | None] = mapped_column(String(12), default=None)

    @property
    def current_state(self) -> str:
        """The entry's state; entries written before states were kept read it off their level."""
        if self.state:
            return self.state
        if self.resolved:
            return "resolved"
        return {"error": "failed", "warning": "waiting"}.get(self.level, "ok")

    run: Mapped[SyncRun | None] = relationship(back_populates="entries")
