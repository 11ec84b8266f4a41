"""A small firm in the import format, and helpers to write and search import files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LONG_NAME = "Greenfield Community Land Trust of the Upper Valley Watershed Region"


def small_firm() -> dict[str, Any]:
    """A firm whose names carry apostrophes, ampersands, accents, a colon and a long name."""
    return {
        "format": "factor-desktop-import",
        "version": 1,
        "settings": {"invoice_numbering": {"prefix": "INV-", "next_number": 3, "padding": 4}},
        "clients": [
            {"name": "O'Brien & Sons Builders", "email": "office@obrien.example", "terms_days": 15},
            {"name": "Café Lumière Hospitality", "city": "Port Alder"},
            {"name": "City of Port Alder: Parks Department"},
            {"name": LONG_NAME},
        ],
        "service_types": [{"name": "Schematic Design"}, {"name": "Design Development"}],
        "expense_types": [
            {
                "name": "Structural Engineering",
                "category": "Structural",
                "markup_percent": "10",
                "subconsultant": True,
            },
            {"name": "Mileage", "category": "Reimbursables", "markup_percent": None},
        ],
        "tax_terms": [
            {"code": "PA-CITY", "name": "Port Alder city sales tax", "rate_percent": 8.25}
        ],
        "projects": [
            {
                "number": "2024-017",
                "name": "Warehouse Conversion - 14 Dock St",
                "client": "O'Brien & Sons Builders",
            },
            {
                "number": "2024-004",
                "name": "Crème Brûlée Bar",
                "client": "Café Lumière Hospitality",
            },
            {
                "number": "2024-006",
                "name": "Bayfront Park Pavilion",
                "client": "City of Port Alder: Parks Department",
                "status": "on_hold",
            },
        ],
        "budgets": [
            {
                "project": "2024-017",
                "service_type": "Schematic Design",
                "amount": "40,000.00",
                "percent_complete": "50",
            },
            {"project": "2024-017", "expense_category": "Structural", "amount": 12000.10},
        ],
        "invoices": [
            {
                "number": "INV-0001",
                "status": "final",
                "project": "2024-017",
                "issue_date": "2024-05-31",
                "tax_term": "PA-CITY",
                "custom_fields": {"PO Number": "OB-117", "Project Phase": "Schematic Design"},
                "lines": [
                    {
                        "kind": "service",
                        "service_type": "Schematic Design",
                        "description": "Schematic Design - 25% complete",
                        "amount": "10000.00",
                    },
                    {
                        "expense_type": "Mileage",
                        "quantity": "120",
                        "rate": "0.67",
                        "taxable": True,
                    },
                ],
            },
            {
                "status": "draft",
                "project": "2024-004",
                "issue_date": "2024-06-30",
                "memo": "Thank you — merci!",
                "lines": [{"description": "Consultation", "amount": 1.005}],
            },
        ],
    }


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line of `path` containing `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in {path}")
