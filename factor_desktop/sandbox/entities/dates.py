"""Transaction dates: parsing and due-date rules."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from .. import faults
from ..context import Ctx
from ..store import JsonDict
from .base import ref_value


def parse_date(value: Any, element: str) -> date:
    raw = str(value)
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise faults.malformed_request(
            f"Can not construct instance of java.util.Date from String value '{raw}' for {element}"
        ) from None


def txn_date(ctx: Ctx, src: JsonDict) -> date:
    value = src.get("TxnDate")
    return ctx.clock.today() if value in (None, "") else parse_date(value, "TxnDate")


def due_from_term(term: JsonDict, start: date) -> date:
    if term.get("Type") == "DATE_DRIVEN":
        day = int(term.get("DayOfMonthDue", 1))
        cutoff = int(term.get("DueNextMonthDays", 0))
        year, month = start.year, start.month
        if (
            cutoff
            and (date(year, month, calendar.monthrange(year, month)[1]) - start).days < cutoff
        ) or start.day > day:
            month += 1
        if month > 12:
            year, month = year + 1, 1
        return date(year, month, min(day, calendar.monthrange(year, month)[1]))
    return start + timedelta(days=int(term.get("DueDays", 0)))


def term_record_doc(ctx: Ctx, ref: Any) -> JsonDict | None:
    value = ref_value(ref)
    if value is None:
        return None
    record = ctx.get("Term", value)
    return None if record is None else record.doc
