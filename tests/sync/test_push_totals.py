"""An invoice QuickBooks would total otherwise than Factor is held before it is sent, with both
totals and what to do; the preview shows both totals; the hold lifts once the cause is fixed.

Against the local QuickBooks sandbox over real HTTP.
"""

from __future__ import annotations

from decimal import Decimal

from factor_desktop import services as sv
from factor_desktop.services.mappings import set_mapping, set_tax_rule
from factor_desktop.store.models import Invoice, SyncLogEntry
from factor_desktop.sync.reference import refresh_reference
from factor_desktop.sync.totals import QboInvoiceTotals, predict_invoice
from tests.sync.push_fixtures import ALDER_TAX_CODE, Firm, Rig, rig

__all__ = ["rig"]

HELD = (
    "Invoice INV-0001 is waiting: QuickBooks would total it $900.00, not Factor's $891.50: "
    "QuickBooks takes no negative tax, so Factor's tax of -$8.50 can't be sent and QuickBooks "
    "computes its own. Map the tax term ALDER to a tax code with 8.5%, or choose a tax rule for "
    "it on the Mappings tab. It is sent on the next sync after that."
)


def _credit_invoice(rig: Rig, firm: Firm) -> Invoice:
    """A fee and a taxable credit larger than the taxable lines: Factor's tax is negative."""
    rig.map_all(firm)
    invoice = rig.invoice(
        firm,
        lines=[
            sv.LineInput(
                kind="service",
                service_type_id=firm.schematic_id,
                description="Schematic design fee",
                amount=Decimal("1000.00"),
                taxable=False,
            ),
            sv.LineInput(description="Reprint credit", amount=Decimal("-100.00"), taxable=True),
        ],
    )
    assert (invoice.tax, invoice.total) == (Decimal("-8.50"), Decimal("891.50"))
    return invoice


def _reason(entry: SyncLogEntry) -> str:
    return entry.reason or ""


def test_an_invoice_quickbooks_would_total_otherwise_is_held_with_both_totals(rig: Rig) -> None:
    firm = rig.build_firm()
    invoice = _credit_invoice(rig, firm)

    # The preview says what the sync will do: held, with both totals.
    preview = rig.sync(preview=True)
    [planned] = [p for p in preview.planned if p["entity"] == "invoice"]
    assert planned["action"] == "blocked"
    assert (planned["total"], planned["qbo_total"]) == ("891.50", "900.00")
    assert planned["reason"] == HELD

    ctx = rig.sync()
    [held] = rig.entries(ctx, entity_kind="invoice")
    assert held.action == "blocked" and held.current_state == "waiting"
    assert held.reason == HELD
    assert (held.detail or {})["qbo_total"] == "900.00"
    assert ctx.counts["blocked"] == 1 and ctx.attention == 1
    item = rig.outbox(invoice.id)
    assert item.status == "blocked" and item.attempts == 0 and item.last_error == HELD
    assert rig.qbo("Invoice") == []  # never created silently

    # Nothing changed: still held, not logged or counted again, the pass still needs attention.
    again = rig.sync()
    assert rig.entries(again, entity_kind="invoice") == []
    assert again.counts.get("blocked", 0) == 0 and again.attention == 1
    assert rig.outbox(invoice.id).status == "blocked"


def test_the_hold_lifts_once_the_terms_rule_accepts_quickbooks_figure(rig: Rig) -> None:
    firm = rig.build_firm()
    invoice = _credit_invoice(rig, firm)
    first = rig.sync()
    [held] = rig.entries(first, entity_kind="invoice")

    set_tax_rule(rig.session, firm.alder_tax_id, "accept")
    rig.session.commit()
    preview = rig.sync(preview=True)
    [planned] = [p for p in preview.planned if p["entity"] == "invoice"]
    assert planned["action"] == "created"
    assert (planned["total"], planned["qbo_total"]) == ("891.50", "900.00")

    ctx = rig.sync()
    [created] = rig.entries(ctx, entity_kind="invoice")
    assert created.action == "created" and created.level == "warning"
    assert "QuickBooks' total for invoice INV-0001 is $900.00; Factor's is $891.50" in (
        _reason(created)
    )
    assert "Accepted, as the tax term's rule says." in _reason(created)
    assert (created.detail or {})["qbo_total"] == "900.00"
    assert rig.outbox(invoice.id).status == "done" and ctx.attention == 0
    [qbo] = rig.qbo("Invoice")
    assert Decimal(str(qbo["TotalAmt"])) == Decimal("900.00")
    rig.session.expire_all()
    earlier = rig.session.get(SyncLogEntry, held.id)
    assert earlier is not None and earlier.resolved and earlier.current_state == "resolved"


def test_an_invoice_whose_totals_agree_is_sent_as_before(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    invoice = rig.invoice(firm)
    preview = rig.sync(preview=True)
    [planned] = [p for p in preview.planned if p["entity"] == "invoice"]
    assert planned["action"] == "created"
    assert Decimal(planned["qbo_total"]) == invoice.total
    ctx = rig.sync()
    assert [e.action for e in rig.entries(ctx, entity_kind="invoice")] == ["created"]
    assert Decimal(str(rig.qbo("Invoice")[0]["TotalAmt"])) == invoice.total


def test_quickbooks_figures_follow_its_own_rules() -> None:
    """The one prediction the preview and the push share: lines to the cent, the tax sent kept,
    else each rate rounded on its own, nothing on a taxable amount of zero or less."""

    def line(amount: str, taxed: bool) -> dict[str, object]:
        code = "TAX" if taxed else "NON"
        return {
            "Amount": amount,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"TaxCodeRef": {"value": code}},
        }

    def rates(code: str) -> list[Decimal] | None:
        return {"2": [Decimal("6.25"), Decimal("2.25")]}.get(code)

    lines = [line("100.005", True), line("33.33", False)]
    coded = {"TxnTaxCodeRef": {"value": "2"}}
    assert predict_invoice({"Line": lines}, rates) == QboInvoiceTotals(
        Decimal("133.34"), Decimal("0.00")
    )
    # 100.01 * 6.25% = 6.250625 → 6.25 and 100.01 * 2.25% = 2.250225 → 2.25
    predicted = predict_invoice({"Line": lines, "TxnTaxDetail": coded}, rates)
    assert (predicted.tax, predicted.total) == (Decimal("8.50"), Decimal("141.84"))
    sent = predict_invoice({"Line": lines, "TxnTaxDetail": {**coded, "TotalTax": 8.25}}, rates)
    assert (sent.tax, sent.tax_sent) == (Decimal("8.25"), True)
    credit = [line("50", False), line("-10", True)]
    assert predict_invoice({"Line": credit, "TxnTaxDetail": coded}, rates).tax == Decimal("0.00")
    unknown = predict_invoice(
        {"Line": lines, "TxnTaxDetail": {"TxnTaxCodeRef": {"value": "9"}}}, rates
    )
    assert unknown.tax is None and unknown.total is None


def test_automated_sales_tax_keeps_the_tax_sent_and_computes_its_own_otherwise(rig: Rig) -> None:
    """Intuit: "Whenever an explicit tax amount is sent in the transaction request the AST engine
    honors the amount"; without one, its tax comes from the addresses and can't be predicted."""
    firm = rig.build_firm()
    rig.map_all(firm)
    sv.update_tax_term(
        rig.session, firm.alder_tax_id, sv.TaxTermFields(rate_percent=Decimal("8.25"))
    )
    rig.session.commit()
    rig.sandbox.update_preferences({"TaxPrefs": {"PartnerTaxEnabled": True}})
    first = rig.invoice(firm)

    preview = rig.sync(preview=True)
    [planned] = [p for p in preview.planned if p["entity"] == "invoice"]
    assert planned["action"] == "created" and planned["qbo_total"] == str(first.total)
    ctx = rig.sync()
    assert [e.action for e in rig.entries(ctx, entity_kind="invoice")] == ["created"]

    set_tax_rule(rig.session, firm.alder_tax_id, "accept")
    rig.session.commit()
    second = rig.invoice(firm)
    preview = rig.sync(preview=True)
    [planned] = [p for p in preview.planned if p["entity"] == "invoice"]
    assert planned["action"] == "created" and planned["label"] == second.number
    assert planned["total"] == str(second.total) and "qbo_total" not in planned


def test_a_tax_code_whose_rate_changed_since_its_figure_was_accepted_is_held(rig: Rig) -> None:
    firm = rig.build_firm()
    rig.map_all(firm)
    sv.update_tax_term(
        rig.session, firm.alder_tax_id, sv.TaxTermFields(rate_percent=Decimal("8.25"))
    )
    rig.session.commit()
    refresh_reference(rig.context())
    set_mapping(rig.session, "tax_term", firm.alder_tax_id, ALDER_TAX_CODE, tax_rule="accept")
    rig.session.commit()
    first = rig.invoice(firm)
    ctx = rig.sync()
    [created] = rig.entries(ctx, entity_kind="invoice")
    assert created.action == "created" and "Accepted" in _reason(created)  # at 8.5 %

    # The county's rate goes to 9 % in QuickBooks: 9 % was never accepted for the term.
    rig.sandbox.set_tax_rate("1", "9")
    lists = rig.context()
    lists.slow_lists_due = True
    refresh_reference(lists)
    rig.session.commit()
    second = rig.invoice(firm)
    assert second.total == first.total == Decimal("10670.63")
    preview = rig.sync(preview=True)
    [planned] = [p for p in preview.planned if p["entity"] == "invoice"]
    assert planned["action"] == "blocked"
    assert (planned["total"], planned["qbo_total"]) == ("10670.63", "10672.50")
    ctx = rig.sync()
    [held] = rig.entries(ctx, entity_kind="invoice")
    assert held.action == "blocked" and held.reason == planned["reason"] == (
        "Invoice INV-0002 is waiting: QuickBooks would total it $10,672.50, not Factor's "
        "$10,670.63: QuickBooks computes the tax with its tax code 'Alder County' at 9%, 8.5% "
        "when its figure was accepted for the term; Factor at 8.25%. Map the tax term ALDER to a "
        "tax code with 8.25%, or choose a tax rule for it on the Mappings tab. It is sent on "
        "the next sync after that."
    )
    assert [i["DocNumber"] for i in rig.qbo("Invoice")] == ["INV-0001"]

    # QuickBooks' figure accepted again, at its new rate: the hold lifts on the next pass.
    set_mapping(rig.session, "tax_term", firm.alder_tax_id, ALDER_TAX_CODE, tax_rule="accept")
    rig.session.commit()
    ctx = rig.sync()
    [sent] = rig.entries(ctx, entity_kind="invoice")
    assert sent.action == "created" and (sent.detail or {})["qbo_total"] == "10672.50"
    assert rig.outbox(second.id).status == "done"
    rig.session.expire_all()
    assert _entry_state(rig, held.id) == "resolved"


def _entry_state(rig: Rig, entry_id: int) -> str:
    entry = rig.session.get(SyncLogEntry, entry_id)
    assert entry is not None
    return entry.current_state
