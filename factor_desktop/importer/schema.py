"""The record kinds an import file holds, and the fields of each (docs/import-format.md).

JSON and CSV share these names: a JSON file has one array per kind, and a CSV import has one file
per kind, named after it, whose header row names the fields.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


CLIENTS = Kind(
    "clients",
    "client",
    ("name",),
    (
        "email",
        "phone",
        "address_line1",
        "city",
        "region",
        "postal_code",
        "terms_days",
        "archived",
        "qbo_id",
    ),
)
SERVICE_TYPES = Kind(
    "service_types", "service type", ("name",), ("description", "taxable", "active")
)
EXPENSE_TYPES = Kind(
    "expense_types",
    "expense type",
    ("name", "category"),
    ("markup_percent", "subconsultant", "billable", "taxable", "active"),
)
TAX_TERMS = Kind("tax_terms", "tax term", ("code", "name", "rate_percent"), ("active",))
PROJECTS = Kind(
    "projects",
    "project",
    ("number", "name", "client"),
    ("status", "manager", "address", "qbo_id"),
)
BUDGETS = Kind(
    "budgets",
    "budget",
    ("project", "amount"),
    ("service_type", "expense_category", "percent_complete"),
)
INVOICES = Kind(
    "invoices",
    "invoice",
    ("project", "issue_date"),
    (
        "number",
        "status",
        "ref",
        "terms_days",
        "tax_term",
        "memo",
        "custom_fields",
        "qbo_id",
        "lines",
    ),
)
INVOICE_LINES = Kind(
    "invoice_lines",
    "invoice line",
    (),
    (
        "invoice",
        "kind",
        "description",
        "service_type",
        "expense_type",
        "quantity",
        "rate",
        "amount",
        "taxable",
    ),
)

# The order records are imported in: each kind refers only to kinds before it.
KINDS: tuple[Kind, ...] = (
    CLIENTS,
    SERVICE_TYPES,
    EXPENSE_TYPES,
    TAX_TERMS,
    PROJECTS,
    BUDGETS,
    INVOICES,
)
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in (*KINDS, INVOICE_LINES)}

SETTINGS_FIELDS = (
    "invoice_numbering.prefix",
    "invoice_numbering.next_number",
    "invoice_numbering.padding",
    "default_terms_days",
)

# In CSV, an invoice's custom fields are pairs of columns.
CSV_CUSTOM_FIELD_COLUMNS = tuple(
    f"custom_field_{n}_{part}" for n in (1, 2, 3) for part in ("name", "value")
)

FORMAT_NAME = "factor-desktop-import"
FORMAT_VERSION = 1
