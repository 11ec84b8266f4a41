"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_cursors",
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("changed_since", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("entity", name=op.f("pk_change_cursors")),
    )
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("address_line1", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=50), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("terms_days", sa.Integer(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("qbo_id", sa.String(length=32), nullable=True),
        sa.Column("qbo_sync_token", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_clients_name")),
        sa.UniqueConstraint("qbo_id", name=op.f("uq_clients_qbo_id")),
    )
    op.create_table(
        "connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("environment", sa.String(length=500), nullable=True),
        sa.Column("realm_id", sa.String(length=32), nullable=True),
        sa.Column("company_name", sa.String(length=500), nullable=True),
        sa.Column("connected_at", sa.String(length=32), nullable=True),
        sa.Column("refresh_token_issued_at", sa.String(length=32), nullable=True),
        sa.Column("refresh_token_last_used_at", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_connection_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection")),
    )
    op.create_table(
        "expense_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("is_subconsultant", sa.Boolean(), nullable=False),
        sa.Column("markup_percent", sa.String(length=40), nullable=True),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("taxable", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expense_types")),
        sa.UniqueConstraint("name", name=op.f("uq_expense_types_name")),
    )
    op.create_table(
        "mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=False),
        sa.Column("qbo_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "kind IN ('service_type', 'expense_type', 'expense_type_item', 'tax_term')",
            name=op.f("ck_mappings_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mappings")),
        sa.UniqueConstraint("kind", "local_id", name=op.f("uq_mappings_kind_local_id")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_kind", sa.String(length=20), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed', 'blocked', 'cancelled')",
            name=op.f("ck_outbox_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("request_id", name=op.f("uq_outbox_request_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status", ["status"], unique=False)

    op.create_table(
        "qbo_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("qbo_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("fully_qualified_name", sa.String(length=1000), nullable=True),
        sa.Column("parent_qbo_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=50), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sync_token", sa.String(length=16), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_updated", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qbo_cache")),
        sa.UniqueConstraint("entity", "qbo_id", name=op.f("uq_qbo_cache_entity_qbo_id")),
    )
    with op.batch_alter_table("qbo_cache", schema=None) as batch_op:
        batch_op.create_index("ix_qbo_cache_entity_name", ["entity", "name"], unique=False)

    op.create_table(
        "service_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("taxable", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_types")),
        sa.UniqueConstraint("name", name=op.f("uq_service_types_name")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("finished_at", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("requests_used", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'ok', 'partial', 'failed', 'cancelled')",
            name=op.f("ck_sync_runs_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_table(
        "tax_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rate_percent", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_terms")),
        sa.UniqueConstraint("code", name=op.f("uq_tax_terms_code")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("unapplied", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=50), nullable=True),
        sa.Column("reference", sa.String(length=50), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("qbo_id", sa.String(length=32), nullable=True),
        sa.Column("qbo_sync_token", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_payments_client_id_clients"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("qbo_id", name=op.f("uq_payments_qbo_id")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("manager", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("qbo_id", sa.String(length=32), nullable=True),
        sa.Column("qbo_sync_token", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'on_hold', 'closed')", name=op.f("ck_projects_status")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_projects_client_id_clients"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("client_id", "name", name=op.f("uq_projects_client_id_name")),
        sa.UniqueConstraint("number", name=op.f("uq_projects_number")),
        sa.UniqueConstraint("qbo_id", name=op.f("uq_projects_qbo_id")),
    )
    op.create_table(
        "sync_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("entity_kind", sa.String(length=20), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=True),
        sa.Column("qbo_id", sa.String(length=32), nullable=True),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.CheckConstraint("level IN ('info', 'warning', 'error')", name=op.f("ck_sync_log_level")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
            name=op.f("fk_sync_log_run_id_sync_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_log")),
    )
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.create_index("ix_sync_log_at", ["at"], unique=False)
        batch_op.create_index("ix_sync_log_entity", ["entity_kind", "local_id"], unique=False)

    op.create_table(
        "expenses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("expense_type_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("qbo_txn_type", sa.String(length=20), nullable=True),
        sa.Column("qbo_line_id", sa.String(length=16), nullable=True),
        sa.Column("incurred_on", sa.Date(), nullable=False),
        sa.Column("vendor", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("markup_percent", sa.String(length=40), nullable=True),
        sa.Column("billable_amount", sa.Integer(), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("deleted_in_qbo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("qbo_id", sa.String(length=32), nullable=True),
        sa.Column("qbo_sync_token", sa.String(length=16), nullable=True),
        sa.CheckConstraint("source IN ('qbo', 'factor')", name=op.f("ck_expenses_source")),
        sa.ForeignKeyConstraint(
            ["expense_type_id"],
            ["expense_types.id"],
            name=op.f("fk_expenses_expense_type_id_expense_types"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_expenses_project_id_projects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expenses")),
        sa.UniqueConstraint(
            "qbo_txn_type",
            "qbo_id",
            "qbo_line_id",
            name=op.f("uq_expenses_qbo_txn_type_qbo_id_qbo_line_id"),
        ),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=21), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("terms_days", sa.Integer(), nullable=True),
        sa.Column("tax_term_id", sa.Integer(), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("subtotal", sa.Integer(), nullable=False),
        sa.Column("tax", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("project_details", sa.JSON(), nullable=True),
        sa.Column("finalized_at", sa.String(length=32), nullable=True),
        sa.Column("voided_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("qbo_id", sa.String(length=32), nullable=True),
        sa.Column("qbo_sync_token", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "status = 'draft' OR number IS NOT NULL", name=op.f("ck_invoices_final_has_number")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'final', 'partially_paid', 'paid', 'void')",
            name=op.f("ck_invoices_status"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_invoices_project_id_projects"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tax_term_id"],
            ["tax_terms.id"],
            name=op.f("fk_invoices_tax_term_id_tax_terms"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("qbo_id", name=op.f("uq_invoices_qbo_id")),
    )
    op.create_table(
        "project_budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("service_type_id", sa.Integer(), nullable=True),
        sa.Column("expense_category", sa.String(length=100), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("percent_complete", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "(kind = 'service' AND service_type_id IS NOT NULL AND expense_category IS NULL) OR (kind = 'expense' AND service_type_id IS NULL AND expense_category IS NOT NULL)",
            name=op.f("ck_project_budgets_kind_target"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_budgets_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_type_id"],
            ["service_types.id"],
            name=op.f("fk_project_budgets_service_type_id_service_types"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_budgets")),
        sa.UniqueConstraint(
            "project_id",
            "expense_category",
            name=op.f("uq_project_budgets_project_id_expense_category"),
        ),
        sa.UniqueConstraint(
            "project_id",
            "service_type_id",
            name=op.f("uq_project_budgets_project_id_service_type_id"),
        ),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expense_id", sa.Integer(), nullable=True),
        sa.Column("qbo_txn_type", sa.String(length=20), nullable=True),
        sa.Column("qbo_txn_id", sa.String(length=32), nullable=True),
        sa.Column("file_name", sa.String(length=1000), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("downloaded_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("qbo_id", sa.String(length=32), nullable=True),
        sa.Column("qbo_sync_token", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["expense_id"],
            ["expenses.id"],
            name=op.f("fk_attachments_expense_id_expenses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("qbo_id", name=op.f("uq_attachments_qbo_id")),
    )
    op.create_table(
        "invoice_custom_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=31), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_custom_fields_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_custom_fields")),
        sa.UniqueConstraint(
            "invoice_id", "name", name=op.f("uq_invoice_custom_fields_invoice_id_name")
        ),
    )
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("service_type_id", sa.Integer(), nullable=True),
        sa.Column("expense_type_id", sa.Integer(), nullable=True),
        sa.Column("expense_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("taxable", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('service', 'expense', 'other')", name=op.f("ck_invoice_lines_kind")
        ),
        sa.ForeignKeyConstraint(
            ["expense_id"],
            ["expenses.id"],
            name=op.f("fk_invoice_lines_expense_id_expenses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["expense_type_id"],
            ["expense_types.id"],
            name=op.f("fk_invoice_lines_expense_type_id_expense_types"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_lines_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_type_id"],
            ["service_types.id"],
            name=op.f("fk_invoice_lines_service_type_id_service_types"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint("expense_id", name=op.f("uq_invoice_lines_expense_id")),
    )
    op.create_table(
        "payment_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_payment_applications_invoice_id_invoices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_applications_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_applications")),
        sa.UniqueConstraint(
            "payment_id", "invoice_id", name=op.f("uq_payment_applications_payment_id_invoice_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("payment_applications")
    op.drop_table("invoice_lines")
    op.drop_table("invoice_custom_fields")
    op.drop_table("attachments")
    op.drop_table("project_budgets")
    op.drop_table("invoices")
    op.drop_table("expenses")
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_log_entity")
        batch_op.drop_index("ix_sync_log_at")

    op.drop_table("sync_log")
    op.drop_table("projects")
    op.drop_table("payments")
    op.drop_table("tax_terms")
    op.drop_table("sync_runs")
    op.drop_table("settings")
    op.drop_table("service_types")
    with op.batch_alter_table("qbo_cache", schema=None) as batch_op:
        batch_op.drop_index("ix_qbo_cache_entity_name")

    op.drop_table("qbo_cache")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status")

    op.drop_table("outbox")
    op.drop_table("mappings")
    op.drop_table("expense_types")
    op.drop_table("connection")
    op.drop_table("clients")
    op.drop_table("change_cursors")
