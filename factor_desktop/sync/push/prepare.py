"""Turning a finalized Factor invoice into the QuickBooks invoice to create, or the reasons
it can't be sent yet.

An invoice goes to its project's sub-customer; when the firm does not let Factor Desktop create
projects and the project is not linked, it goes to the client's customer instead (the firm bills
clients directly in QuickBooks). Every line needs its QuickBooks product/service: a service line
the one its service type is mapped to, an expense line the one its expense type is mapped to
(its "item" mapping); an invoice with tax needs its tax term mapped to a tax code. Anything
missing is a problem naming the exact type and where to map it. So is a total QuickBooks would
make otherwise than Factor (predicted by `sync/totals.py` from what is sent), unless the tax
term's rule accepts QuickBooks' figure: the invoice is held with both totals and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.money import format_money
from factor_desktop.qbo.client import JsonDict
from factor_desktop.qbo.errors import QboValidationError
from factor_desktop.qbo.mappers import (
    InvoiceForQbo,
    InvoiceLineForQbo,
    custom_field_definitions,
    invoice_payload,
    invoice_private_note,
    match_custom_fields,
)
from factor_desktop.qbo.query import QueryValueError
from factor_desktop.qbo.query import select as qbo_select
from factor_desktop.services.mappings import (
    accepted_code_rate,
    cached,
    mapped_qbo_id,
    percent_text,
    tax_rule,
    unusable_reason,
)
from factor_desktop.store.models import Invoice, InvoiceLine, QboRecord, SyncLogEntry
from factor_desktop.sync.context import SyncContext
from factor_desktop.sync.push.common import Record, record_kind, what
from factor_desktop.sync.totals import QboInvoiceTotals, predict_invoice

__all__ = ["InvoicePreparer", "Prepared", "project_details"]


@dataclass
class Prepared:
    """An invoice ready to send, or the reasons it can't be sent yet."""

    customer_id: str | None = None
    customer_name: str | None = None
    billed_to_client: bool = False
    payload: JsonDict | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # QuickBooks' figures for the payload (`sync/totals.py`), once it is built.
    predicted: QboInvoiceTotals | None = None

    def totals_detail(self, invoice: Invoice) -> dict[str, str]:
        """Factor's total, and QuickBooks' as predicted, for the log entry's detail."""
        if self.predicted is None:
            return {}
        detail = {"total": str(invoice.total)}
        if self.predicted.total is not None:
            detail["qbo_total"] = str(self.predicted.total)
        return detail


def project_details(invoice: Invoice) -> tuple[str, str, str]:
    """(project number, project name, client name) as captured when the invoice was finalized."""
    details = invoice.project_details if isinstance(invoice.project_details, dict) else {}
    project = invoice.project
    number = str(details.get("number") or project.number)
    name = str(details.get("name") or project.name)
    client = str(details.get("client") or project.client.name)
    return number, name, client


class InvoicePreparer:
    """Prepares the invoices of one pass; mappings and custom-field settings are read once."""

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.session: Session = ctx.session
        self._definitions: dict[str, str] | None = None
        self._mappings: dict[tuple[str, int], str | None] = {}
        self._rules: dict[int, str | None] = {}
        self._accepted_rates: dict[int, Decimal | None] = {}
        self._customers: dict[str, QboRecord | None] = {}

    def tax_rule(self, invoice: Invoice) -> str | None:
        """How the invoice's tax term reconciles with QuickBooks: "override", "accept", or
        None for an invoice without a mapped tax term (see `services.mappings.tax_rule`)."""
        key = invoice.tax_term_id
        if key is None:
            return None
        if key not in self._rules:
            self._rules[key] = tax_rule(self.session, key)
        return self._rules[key]

    def _tax_override(self, invoice: Invoice, tax_code_id: str | None) -> Decimal | None:
        """Factor's tax, to send beside the tax code, unless the term's rule accepts
        QuickBooks' own figure. A negative tax (discounts larger than the taxable lines) can't
        be sent: QuickBooks takes a tax amount of zero or more."""
        if tax_code_id is None or invoice.tax < 0:
            return None
        return invoice.tax if self.tax_rule(invoice) == "override" else None

    def _mapped(self, kind: str, local_id: int) -> str | None:
        key = (kind, local_id)
        if key not in self._mappings:
            self._mappings[key] = mapped_qbo_id(self.session, kind, local_id)
        return self._mappings[key]

    # -- reading QuickBooks ---------------------------------------------------------------------

    def definitions(self) -> dict[str, str]:
        """The company's sales-form custom fields, read once per pass."""
        if self._definitions is None:
            self._definitions = custom_field_definitions(self.ctx.client.preferences())
        return self._definitions

    def numbered(self, number: str) -> list[JsonDict]:
        """The QuickBooks invoices carrying `number`."""
        try:
            query = qbo_select("Invoice").where("DocNumber", "=", number)
        except QueryValueError:
            return []
        return self.ctx.client.query(query)

    def customer_name(self, customer_id: str | None, fallback: str | None) -> str:
        if fallback:
            return fallback
        if customer_id is None:
            return "another customer"
        record = cached(self.session, "Customer", customer_id)
        if record is None:
            return f"customer Id {customer_id}"
        return repr(record.fully_qualified_name or record.name)

    # -- preparing an invoice -------------------------------------------------------------------

    def _why_not(self, kind: str, local_id: int) -> str | None:
        """What this pass found wrong with a client or project, if anything."""
        return self.session.scalar(
            select(SyncLogEntry.reason)
            .where(
                SyncLogEntry.run_id == self.ctx.run.id,
                SyncLogEntry.entity_kind == kind,
                SyncLogEntry.local_id == local_id,
                SyncLogEntry.level.in_(("error", "warning")),
            )
            .order_by(SyncLogEntry.id.desc())
            .limit(1)
        )

    def _twin_problem(self, record: Record) -> str | None:
        """Why a linked client's or project's QuickBooks customer can't be billed: what this
        pass found (inactive, or gone from QuickBooks), or an inactive one in the cache."""
        assert record.qbo_id is not None
        found = self._why_not(record_kind(record), record.id)
        if found is not None:
            return found
        if record.qbo_id not in self._customers:
            self._customers[record.qbo_id] = cached(self.session, "Customer", record.qbo_id)
        twin = self._customers[record.qbo_id]
        if twin is None or twin.active:
            return None
        name = twin.fully_qualified_name or twin.name
        return (
            f"{what(record)} is linked to the inactive QuickBooks customer {name!r} (Id "
            f"{twin.qbo_id}). Make it active again in QuickBooks, or unlink it on the Clients & "
            "Projects tab."
        )

    def _customer(self, invoice: Invoice, prepared: Prepared) -> None:
        project = invoice.project
        client = project.client
        if project.qbo_id is not None:
            problem = self._twin_problem(project)
            if problem:
                prepared.problems.append(problem)
            prepared.customer_id = project.qbo_id
            return
        if self.ctx.settings.auto_create_projects:
            if client.qbo_id is None:
                why = self._why_not("client", client.id)
                prepared.problems.append(
                    f"{what(project)} can't be in QuickBooks before its client. "
                    + (why or f"{what(client)} is not in QuickBooks yet.")
                )
            else:
                prepared.problems.append(
                    self._why_not("project", project.id)
                    or f"{what(project)} is not in QuickBooks yet; the sync creates or links it "
                    "first."
                )
            return
        # The firm does not mirror projects in QuickBooks: bill the client's customer.
        prepared.billed_to_client = True
        if client.qbo_id is not None:
            problem = self._twin_problem(client)
            if problem:
                prepared.problems.append(problem)
            prepared.customer_id = client.qbo_id
            return
        prepared.problems.append(
            self._why_not("client", client.id)
            or f"{what(client)} is not in QuickBooks yet; the sync creates or links it first."
        )

    def _item(self, line: InvoiceLine, problems: dict[tuple[str, int], str]) -> str | None:
        """The QuickBooks product/service of a line; an unmapped type is added to `problems`."""
        if line.kind == "service" and line.service_type is not None:
            kind, local_id, name = "service_type", line.service_type.id, line.service_type.name
            what = f"The service type {name!r}"
            where = "the Mappings tab (Service types)"
        elif line.kind == "expense" and line.expense_type is not None:
            kind, local_id, name = "expense_type_item", line.expense_type.id, line.expense_type.name
            what = f"The expense type {name!r}"
            where = "the Mappings tab (Expense types, product/service column)"
        else:
            return None  # QuickBooks books the line to its default product/service
        qbo_id = self._mapped(kind, local_id)
        if qbo_id is None:
            problems.setdefault(
                (kind, local_id),
                f"{what} is not mapped to a QuickBooks product/service; map it on {where}.",
            )
            return None
        record = cached(self.session, "Item", qbo_id)
        reason = unusable_reason(record, kind) if record is not None else None
        if reason is not None:
            problems.setdefault(
                (kind, local_id),
                f"{what} is mapped to a product/service that can't be used: {reason}",
            )
            return None
        return qbo_id

    def _tax_code(self, invoice: Invoice, problems: list[str]) -> str | None:
        term = invoice.tax_term
        if term is None or not any(line.taxable for line in invoice.lines):
            return None
        qbo_id = self._mapped("tax_term", term.id)
        if qbo_id is None:
            if invoice.tax != 0:
                problems.append(
                    f"The tax term {term.code} ({term.name}) is not mapped to a QuickBooks tax "
                    "code; map it on the Mappings tab (Tax terms)."
                )
            return None
        record = cached(self.session, "TaxCode", qbo_id)
        reason = unusable_reason(record, "tax_term") if record is not None else None
        if reason is not None:
            problems.append(
                f"The tax term {term.code} is mapped to a tax code that can't be used: {reason}"
            )
            return None
        return qbo_id

    def _custom_fields(self, invoice: Invoice, warnings: list[str]) -> tuple[tuple[str, str], ...]:
        if not invoice.custom_fields:
            return ()
        try:
            definitions = self.definitions()
        except QboValidationError as error:
            warnings.append(
                "QuickBooks' custom field settings could not be read, so the invoice's custom "
                f"fields stay in Factor Desktop only ({error})."
            )
            return ()
        fields = [(field.name, field.value) for field in invoice.custom_fields]
        matched, unmatched = match_custom_fields(fields, definitions)
        if unmatched:
            known = ", ".join(repr(name) for name in definitions) or "none switched on"
            listed = ", ".join(repr(name) for name in unmatched)
            warnings.append(
                f"QuickBooks has no custom field named {listed} (it has: {known}), so "
                "that value stays on the Factor Desktop invoice only. To send it, add a custom "
                "field with that name in QuickBooks (Account and settings > Sales > Custom "
                "fields)."
            )
        return tuple(matched)

    def prepare(self, invoice: Invoice) -> Prepared:
        prepared = Prepared()
        self._customer(invoice, prepared)
        item_problems: dict[tuple[str, int], str] = {}
        lines: list[InvoiceLineForQbo] = []
        for line in invoice.lines:
            lines.append(
                InvoiceLineForQbo(
                    description=line.description,
                    amount=line.amount,
                    quantity=line.quantity,
                    rate=line.rate,
                    item_id=self._item(line, item_problems),
                    taxable=line.taxable,
                )
            )
        prepared.problems.extend(item_problems.values())
        tax_code_id = self._tax_code(invoice, prepared.problems)
        custom_fields = self._custom_fields(invoice, prepared.warnings)
        if prepared.problems or prepared.customer_id is None:
            return prepared
        assert invoice.number is not None
        number, name, client = project_details(invoice)
        label = f"{number} - {name}" if number else name
        prepared.payload = invoice_payload(
            InvoiceForQbo(
                doc_number=invoice.number,
                customer_id=prepared.customer_id,
                txn_date=invoice.issue_date,
                due_date=invoice.due_date,
                lines=tuple(lines),
                tax_code_id=tax_code_id,
                custom_fields=custom_fields,
                memo=invoice.memo,
                project_label=label,
                private_note=invoice_private_note(
                    invoice.number, project_number=number, project_name=name, client_name=client
                ),
            ),
            tax_override=self._tax_override(invoice, tax_code_id),
        )
        prepared.predicted = predict_invoice(prepared.payload, self.ctx.tax_rates)
        if prepared.predicted.total != invoice.total and not self._accepted(invoice, tax_code_id):
            prepared.problems.append(self._totals_differ(invoice, prepared.predicted, tax_code_id))
        return prepared

    def _code_rate(self, tax_code_id: str) -> Decimal | None:
        rates = self.ctx.tax_rates(tax_code_id)
        return sum(rates, Decimal(0)) if rates is not None else None

    def _accepted_rate(self, invoice: Invoice) -> Decimal | None:
        key = invoice.tax_term_id
        if key is None:
            return None
        if key not in self._accepted_rates:
            self._accepted_rates[key] = accepted_code_rate(self.session, key)
        return self._accepted_rates[key]

    def _accepted(self, invoice: Invoice, tax_code_id: str | None) -> bool:
        """Whether the term's rule accepts QuickBooks' figure as QuickBooks makes it now: not
        when the tax code's rate has changed since the rule was chosen."""
        if self.tax_rule(invoice) != "accept":
            return False
        then = self._accepted_rate(invoice)
        now = self._code_rate(tax_code_id) if tax_code_id is not None else None
        return then is None or now is None or then == now

    def _totals_differ(
        self, invoice: Invoice, predicted: QboInvoiceTotals, tax_code_id: str | None
    ) -> str:
        """Why QuickBooks would not total the invoice as Factor does, and what to do about it."""
        total = predicted.total
        if total is None:
            figures = (
                f"QuickBooks would compute its tax itself, so its total can't be known to be "
                f"Factor's {format_money(invoice.total)}"
            )
        else:
            figures = (
                f"QuickBooks would total it {format_money(total)}, not Factor's "
                f"{format_money(invoice.total)}"
            )
        if predicted.subtotal != invoice.subtotal:
            return (
                f"{figures}: its lines add up to {format_money(predicted.subtotal)} as "
                f"QuickBooks rounds them, {format_money(invoice.subtotal)} in Factor. Void it "
                "on the Invoices tab and issue it again with amounts in whole cents."
            )
        term = invoice.tax_term
        if term is None or tax_code_id is None:
            return (
                f"{figures}: Factor's tax of {format_money(invoice.tax)} goes with no tax code. "
                "Map its tax term on the Mappings tab (Tax terms)."
            )
        code = cached(self.session, "TaxCode", tax_code_id)
        name = repr(code.name) if code is not None else f"Id {tax_code_id}"
        if invoice.tax < 0:
            why = (
                f"QuickBooks takes no negative tax, so Factor's tax of "
                f"{format_money(invoice.tax)} can't be sent and QuickBooks computes its own"
            )
        elif self.ctx.automated_sales_tax():
            why = "Automated Sales Tax is on in QuickBooks and computes the tax from the addresses"
        else:
            rate = self._code_rate(tax_code_id)
            why = f"QuickBooks computes the tax with its tax code {name} at {percent_text(rate)}"
            then = self._accepted_rate(invoice)
            if then is not None and then != rate:
                why += f", {percent_text(then)} when its figure was accepted for the term"
            why += f"; Factor at {percent_text(term.rate_percent)}"
        return (
            f"{figures}: {why}. Map the tax term {term.code} to a tax code with "
            f"{percent_text(term.rate_percent)}, or choose a tax rule for it on the Mappings tab."
        )
