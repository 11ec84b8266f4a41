"""The services shared by the desktop window and the command line.

Functions over a SQLAlchemy `Session` (no Qt, no HTTP) that check what they are given, apply the
domain's rules to the store's records, and refuse with a `ServiceError` whose message an
administrator can act on. They never commit: the caller's session (`Store.session()`) does,
so a refused action leaves the store as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from factor_desktop.lazy import lazy_exports

if TYPE_CHECKING:
    from factor_desktop.services._fields import UNSET, Unset
    from factor_desktop.services.budgets import project_budget
    from factor_desktop.services.errors import Change, Saved, ServiceError
    from factor_desktop.services.expenses import (
        ExpenseInput,
        billing_invoice,
        record_expense,
        save_qbo_expense,
    )
    from factor_desktop.services.invoice_imports import InvoiceRecord, save_imported_invoice
    from factor_desktop.services.invoices import (
        LINE_KINDS,
        DraftChanges,
        LineInput,
        LineKind,
        create_draft_invoice,
        delete_draft_invoice,
        edit_draft_invoice,
        finalize_invoice,
        invoice_totals,
        paid_amount,
        paid_amounts,
        price_line,
        service_lines_to_bill,
        unbilled_expenses,
        void_invoice,
    )
    from factor_desktop.services.links import (
        link_client,
        link_project,
        unlink_client,
        unlink_project,
    )
    from factor_desktop.services.payments import (
        apply_payment_to_invoice,
        record_manual_payment,
        refresh_invoice_balance,
    )
    from factor_desktop.services.records import (
        PROJECT_STATUSES,
        ClientFields,
        ExpenseTypeFields,
        ProjectFields,
        ServiceTypeFields,
        TaxTermFields,
        create_client,
        create_expense_type,
        create_project,
        create_service_type,
        create_tax_term,
        expense_categories,
        find_client,
        find_expense_type,
        find_project,
        find_service_type,
        find_tax_term,
        remove_budget,
        save_client,
        save_expense_type,
        save_project,
        save_service_type,
        save_tax_term,
        set_expense_budget,
        set_percent_complete,
        set_service_budget,
        update_client,
        update_expense_type,
        update_project,
        update_service_type,
        update_tax_term,
    )
    from factor_desktop.services.settings import change_setting, current_settings

__all__ = [
    "LINE_KINDS",
    "PROJECT_STATUSES",
    "UNSET",
    "Change",
    "ClientFields",
    "DraftChanges",
    "ExpenseInput",
    "ExpenseTypeFields",
    "InvoiceRecord",
    "LineInput",
    "LineKind",
    "ProjectFields",
    "Saved",
    "ServiceError",
    "ServiceTypeFields",
    "TaxTermFields",
    "Unset",
    "apply_payment_to_invoice",
    "billing_invoice",
    "change_setting",
    "create_client",
    "create_draft_invoice",
    "create_expense_type",
    "create_project",
    "create_service_type",
    "create_tax_term",
    "current_settings",
    "delete_draft_invoice",
    "edit_draft_invoice",
    "expense_categories",
    "finalize_invoice",
    "find_client",
    "find_expense_type",
    "find_project",
    "find_service_type",
    "find_tax_term",
    "invoice_totals",
    "link_client",
    "link_project",
    "paid_amount",
    "paid_amounts",
    "price_line",
    "project_budget",
    "record_expense",
    "record_manual_payment",
    "refresh_invoice_balance",
    "remove_budget",
    "save_client",
    "save_expense_type",
    "save_imported_invoice",
    "save_project",
    "save_qbo_expense",
    "save_service_type",
    "save_tax_term",
    "service_lines_to_bill",
    "set_expense_budget",
    "set_percent_complete",
    "set_service_budget",
    "unbilled_expenses",
    "unlink_client",
    "unlink_project",
    "update_client",
    "update_expense_type",
    "update_project",
    "update_service_type",
    "update_tax_term",
    "void_invoice",
]


# Where the names above come from, lightest first: a name is looked up in these modules when it
# is first used, so that `ServiceError` and the other plain types come without every service (and
# SQLAlchemy).
_MODULES = (
    "errors",
    "_fields",
    "budgets",
    "expenses",
    "invoice_imports",
    "invoices",
    "links",
    "payments",
    "records",
    "settings",
)


__getattr__ = lazy_exports(__name__, __all__, _MODULES, globals())
