"""How values read as text in the window: money, dates, percentages, states and links."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, Inexact, localcontext
from urllib.parse import urlsplit

from factor_desktop.domain.money import format_money, to_cents
from factor_desktop.domain.status import InvoiceStatus
from factor_desktop.views import MappedRecord

__all__ = [
    "age_text",
    "connection_state_label",
    "date_text",
    "datetime_text",
    "environment_label",
    "invoice_status_label",
    "link_text",
    "mapped_text",
    "money_text",
    "percent_text",
    "plain_error",
    "sync_counts_text",
    "time_left_text",
    "total_money",
]

NOT_MAPPED = "Not mapped"
# An optional mapping that is not set.
OPTIONAL = "—"
NOT_LINKED = "Not linked"


def total_money(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of `amounts`, rounded once to the cent, as `sum_money` gives it.

    For the summaries the GUI thread writes over thousands of rows: decimal addition with room
    for every digit (and a trap should any be lost) instead of `sum_money`'s fractions, which
    took the GUI thread most of a second for 10,000 invoices.
    """
    with localcontext() as context:
        context.prec = 60
        context.traps[Inexact] = True
        total = sum(amounts, Decimal(0))
    return to_cents(total)


def money_text(amount: Decimal) -> str:
    """Money as "$1,234.50"; Decimal only (format_money refuses floats)."""
    return format_money(amount)


def percent_text(value: Decimal | None, none: str = "") -> str:
    if value is None:
        return none
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def date_text(value: date | None) -> str:
    if value is None:
        return ""
    return f"{value:%b} {value.day}, {value.year}"


def datetime_text(value: datetime | None) -> str:
    """A UTC datetime shown in the computer's local time zone."""
    if value is None:
        return ""
    local = value.astimezone()
    return f"{date_text(local.date())} {local:%H:%M}"


def age_text(delta: timedelta) -> str:
    days = delta.days
    if days >= 2:
        return f"{days} days"
    if days == 1:
        return "1 day"
    hours = int(delta.total_seconds() // 3600)
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def time_left_text(delta: timedelta) -> str:
    """What remains until a deadline, in whole days rounded up ("100 days left")."""
    seconds = delta.total_seconds()
    if seconds <= 0:
        return "passed"
    if seconds < 86400:
        return f"{age_text(delta)} left"
    days = math.ceil(seconds / 86400)
    return f"{days} days left"


def link_text(qbo_id: str | None) -> str:
    return f"Linked (Id {qbo_id})" if qbo_id else NOT_LINKED


def mapped_text(record: MappedRecord | None) -> str:
    if record is None:
        return NOT_MAPPED
    if record.name is None:
        return f"{record.entity} Id {record.qbo_id} (not in the QuickBooks lists read so far)"
    return record.name if record.active else f"{record.name} (inactive in QuickBooks)"


def invoice_status_label(status: str) -> str:
    try:
        return InvoiceStatus(status).label
    except ValueError:
        return status


PROJECT_STATUS = {"active": "Active", "on_hold": "On hold", "closed": "Closed"}

CONNECTION_STATES = {
    "connected": "Connected",
    "disconnected": "Not connected",
    "reconnect_needed": "Reconnect needed",
}


def connection_state_label(state: str) -> str:
    return CONNECTION_STATES.get(state, state)


def environment_label(environment: str | None) -> str:
    if not environment:
        return ""
    if environment == "production":
        return "Production"
    if environment == "sandbox":
        return "Sandbox (Intuit developer sandbox)"
    host = urlsplit(environment).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        return f"Local sandbox ({environment})"
    return f"Custom ({environment})"


# The order a sync's counts are told in: what happened first, what went wrong last.
_COUNT_ORDER = (
    "created",
    "updated",
    "linked",
    "applied",
    "voided",
    "deleted",
    "downloaded",
    "skipped",
    "blocked",
    "failed",
)


def sync_counts_text(counts: dict[str, int], limit: int | None = None) -> str:
    """A sync's counts per action, e.g. "12 created, 1 blocked" (zeros left out).

    `limit` keeps the first few, but always those that went wrong; a preview's "would_create"
    reads "would create".
    """
    # Only what happened to records; the passes' own tallies (cursors, CDC reads, records that
    # are not the firm's) stay in the run's counts for support, not in the summary.
    present = {k: v for k, v in counts.items() if v and k.removeprefix("would_") in _COUNT_ORDER}

    def order(key: str) -> tuple[int, str]:
        base = key.removeprefix("would_")
        return (_COUNT_ORDER.index(base) if base in _COUNT_ORDER else len(_COUNT_ORDER), key)

    keys = sorted(present, key=order)
    if limit is not None and len(keys) > limit:
        problems = [k for k in keys if k in ("blocked", "failed")]
        keys = [k for k in keys if k not in problems][: max(0, limit - len(problems))] + problems
    return ", ".join(f"{present[k]} {k.replace('_', ' ')}" for k in keys)


# --- failures, in plain words -----------------------------------------------------------------

UNREACHABLE = "QuickBooks can't be reached; your changes are kept and go out on the next sync."

# What a failure to reach QuickBooks (or Intuit's sign-in) looks like in the messages of the
# client, the token manager and requests: no reply arrived at all.
_UNREACHABLE_SIGNS = re.compile(
    r"could not reach QuickBooks|could not be reached|can't be reached|"
    r"ConnectionError|ConnectTimeout|ReadTimeout|Timeout\b|Max retries exceeded|"
    r"NewConnectionError|Connection refused|RemoteDisconnected|ConnectionResetError|"
    r"Name or service not known|Temporary failure in name resolution|SSLError|ProxyError",
    re.IGNORECASE,
)
_SERVER_TROUBLE = re.compile(r"QuickBooks had a problem on its side|\bHTTP 5\d\d\b")
_SLOW_DOWN = re.compile(r"asked Factor Desktop to slow down|\bHTTP 429\b|ThrottleExceeded")
_REFUSED = re.compile(
    r"refused the connection|invalid_grant|reconnect(?:ion)? (?:is )?needed|Reconnect to",
    re.IGNORECASE,
)
_BUSY = re.compile(r"already running", re.IGNORECASE)
# An unexpected failure of the firm's database (SQLite's errors, as a job reports them when it
# did not expect them): the class, then SQLite's own words.
_STORE_FAULT = re.compile(
    r"^Something went wrong \((?:sqlite3\.)?(?:OperationalError|DatabaseError|InternalError|"
    r"DataError|ProgrammingError|NotSupportedError): (?:\(sqlite3\.\w+\) )?(?P<reason>[^\n)]*)"
)


@dataclass(frozen=True)
class PlainError:
    """A failure said for the administrator: what happened and what to do (`text`), whether
    QuickBooks could not be reached at all, and the original message for the details."""

    text: str
    unreachable: bool
    details: str


def plain_error(message: str | None) -> PlainError:
    """The administrator's version of an error message from a job or a sync run.

    Messages already written for the administrator are kept; technical ones (an HTTP library's
    "Max retries exceeded", a server error) become a sentence that says what to do.
    """
    details = (message or "").strip()
    if not details:
        return PlainError("Something went wrong; the log file has the details.", False, "")
    if _UNREACHABLE_SIGNS.search(details) and not _REFUSED.search(details):
        return PlainError(UNREACHABLE, True, details)
    if _SERVER_TROUBLE.search(details):
        return PlainError(
            "QuickBooks is having trouble on its side; your changes are kept and go out on the "
            "next sync.",
            False,
            details,
        )
    if _SLOW_DOWN.search(details):
        return PlainError(
            "QuickBooks asked for fewer requests for a while; the next sync carries on where "
            "this one stopped.",
            False,
            details,
        )
    store = _STORE_FAULT.match(details)
    if store is not None:
        reason = store.group("reason").strip().rstrip(".")
        return PlainError(
            f"The firm's database could not be read or saved ({reason}). Check that the disk "
            "holding the data folder is connected, has room and can be written, then try "
            "again. The log file has the details.",
            False,
            details,
        )
    if details.startswith("Something went wrong (") and len(details) > 160:
        # An unexpected failure: its class and message are for the log and for support.
        return PlainError("Something went wrong; the log file has the details.", False, details)
    if _BUSY.search(details):
        return PlainError(
            "Another sync of this firm is running (perhaps from the command line); try again "
            "when it has finished.",
            False,
            details,
        )
    return PlainError(details, False, details)
