"""A small firm built through the services themselves."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from factor_desktop import services as sv


@dataclass
class Firm:
    client_id: int
    project_id: int
    schematic_id: int
    design_id: int
    structural_id: int
    printing_id: int
    city_tax_id: int


def build_firm(session: Session) -> Firm:
    client = sv.create_client(session, sv.ClientFields(name="O'Brien & Sons Builders"))
    project = sv.create_project(
        session,
        sv.ProjectFields(
            client_id=client.id, number="2024-017", name="Warehouse Conversion - 14 Dock St"
        ),
    )
    schematic = sv.create_service_type(session, sv.ServiceTypeFields(name="Schematic Design"))
    design = sv.create_service_type(session, sv.ServiceTypeFields(name="Design Development"))
    structural = sv.create_expense_type(
        session,
        sv.ExpenseTypeFields(
            name="Structural Engineering",
            category="Structural",
            is_subconsultant=True,
            markup_percent=Decimal("10"),
        ),
    )
    printing = sv.create_expense_type(
        session,
        sv.ExpenseTypeFields(
            name="Printing & Reproduction",
            category="Reimbursables",
            markup_percent=Decimal("15"),
            taxable=True,
        ),
    )
    city_tax = sv.create_tax_term(
        session,
        sv.TaxTermFields(code="CITY", name="City sales tax", rate_percent=Decimal("8.25")),
    )
    sv.set_service_budget(session, project.id, schematic.id, Decimal("40000.00"), Decimal("50"))
    sv.set_service_budget(session, project.id, design.id, Decimal("60000.00"), Decimal("0"))
    sv.set_expense_budget(session, project.id, "Structural", Decimal("12000.00"))
    return Firm(
        client_id=client.id,
        project_id=project.id,
        schematic_id=schematic.id,
        design_id=design.id,
        structural_id=structural.id,
        printing_id=printing.id,
        city_tax_id=city_tax.id,
    )
