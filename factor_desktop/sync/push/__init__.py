"""The push half of a sync pass: clients and projects (`customers.py`), then the outbox of
invoices (`invoices.py`, with what an invoice needs checked in `prepare.py`)."""

from factor_desktop.sync.push.common import FAILED_RETRY_LIMIT
from factor_desktop.sync.push.customers import push_customers
from factor_desktop.sync.push.outbox import push_outbox, retry_outbox

__all__ = ["FAILED_RETRY_LIMIT", "push_customers", "push_outbox", "retry_outbox"]
