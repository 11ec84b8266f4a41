"""The pull half of a sync pass: payments, invoice balances, project expenses and receipts.

`pull_changes` reads what changed in QuickBooks for Payment, Invoice, Purchase, Bill and
Attachable (change data capture since each entity's cursor, or in full: see
`factor_desktop.sync.reference`) and applies it, a page of records per commit, each record in
a savepoint of its own, in this order: Purchase and Bill (expenses), Payment, Invoice
(QuickBooks's balance has the last word), Attachable (receipts of the expenses just brought in).
Each entity's cursor moves only once all of its records are committed; a cancelled or failed pass
reads the same changes again next time, and applying a change twice changes nothing the second
time.

One module per kind of record: `expenses` (Purchase and Bill lines), `payments`, `invoices`,
`receipts` (Attachables and their files) and `waiting` (records kept to be applied at a later
pass); `run` holds the order of a pass and its commits, `core` what the parts of a pass share
and its sync log, `common` the readers of QuickBooks values.

Preview
    The engine runs a preview on a scratch copy of the database, so the records are applied
    there as usual and every change is also noted with `ctx.would`; no file is downloaded.
"""

from __future__ import annotations

from factor_desktop.store.attachments import attachment_path
from factor_desktop.sync.pull.common import PULL_ENTITIES, WAITING
from factor_desktop.sync.pull.run import pull_changes

__all__ = ["PULL_ENTITIES", "WAITING", "attachment_path", "pull_changes"]
