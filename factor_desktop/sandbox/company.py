"""The API operations on one sandbox company: read, create, update, delete, void, query, CDC.

Every write runs inside one store transaction, so a failed validation leaves nothing behind and
concurrent writers are serialised.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from . import faults
from .clock import SandboxClock, format_datetime
from .context import Ctx
from .entities import BY_LOWER_NAME, BY_NAME, EntityRule
from .entities.base import ENVELOPE_FIELDS, check_line_properties, is_true
from .paging import indexed_query, present_fresh
from .query import QueryError, parse_query, run_query
from .store import JsonDict, Record, Store

CDC_LOOKBACK_DAYS = 30
CDC_MAX_OBJECTS = 1000
_HEAD_FIELDS: dict[str, tuple[str, ...]] = {
    "Customer": (
        "Taxable",
        "BillAddr",
        "ShipAddr",
        "Job",
        "BillWithParent",
        "ParentRef",
        "Level",
        "Balance",
        "BalanceWithJobs",
        "CurrencyRef",
        "PreferredDeliveryMethod",
    ),
    "Vendor": ("BillAddr", "TermRef", "Balance", "AcctNum", "Vendor1099", "CurrencyRef"),
    "Employee": ("BillableTime",),
    "Account": (
        "Name",
        "SubAccount",
        "ParentRef",
        "FullyQualifiedName",
        "Active",
        "Classification",
        "AccountType",
        "AccountSubType",
        "CurrentBalance",
        "CurrentBalanceWithSubAccounts",
        "CurrencyRef",
    ),
    "Item": (
        "Name",
        "Description",
        "Active",
        "SubItem",
        "ParentRef",
        "Level",
        "FullyQualifiedName",
        "Taxable",
        "UnitPrice",
        "Type",
        "IncomeAccountRef",
        "PurchaseCost",
        "ExpenseAccountRef",
        "AssetAccountRef",
        "TrackQtyOnHand",
        "QtyOnHand",
    ),
    "Invoice": (
        "AllowIPNPayment",
        "AllowOnlinePayment",
        "AllowOnlineCreditCardPayment",
        "AllowOnlineACHPayment",
    ),
    "Bill": ("DueDate", "Balance"),
    "Purchase": ("AccountRef", "PaymentType", "EntityRef", "Credit", "TotalAmt"),
    "Payment": ("CustomerRef", "DepositToAccountRef", "TotalAmt", "UnappliedAmt", "ProcessPayment"),
    "Attachable": ("FileName", "FileAccessUri", "TempDownloadUri", "Size", "ContentType"),
    "Term": ("Name", "Active", "Type", "DueDays", "DiscountDays"),
}


def clean(value: Any) -> Any:
    """Drop JSON nulls: QBO treats a null property as one that was not sent."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [clean(v) for v in value if v is not None]
    return value


def arrange(entity: str, doc: JsonDict, envelope: JsonDict) -> JsonDict:
    """Lay the properties out in the order QBO sends them (head fields, envelope, the rest)."""
    out: JsonDict = {}
    for key in _HEAD_FIELDS.get(entity, ()):
        if key in doc:
            out[key] = doc[key]
    out.update(envelope)
    for key, value in doc.items():
        if key not in out:
            out[key] = value
    return out


class Company:
    def __init__(
        self,
        store: Store,
        clock: SandboxClock,
        realm: str,
        user_name: Callable[[], str],
        download_uri: Callable[[str, str], str],
    ) -> None:
        self.store = store
        self.clock = clock
        self.realm = realm
        self._user_name = user_name
        self._download_uri = download_uri

    def ctx(self) -> Ctx:
        return Ctx(self.store, self.clock, self.realm, self._user_name(), self._download_uri)

    # -- reads -------------------------------------------------------------------------------------

    def read(self, rule: EntityRule, entity_id: str) -> JsonDict:
        check_id(rule, entity_id)
        ctx = self.ctx()
        record = ctx.get(rule.name, entity_id)
        if record is None or record.deleted:
            raise faults.object_not_found()
        return rule.present(ctx, record)

    def record(self, entity: str, entity_id: str) -> Record | None:
        return self.store.get(self.realm, entity, entity_id)

    # -- writes ------------------------------------------------------------------------------------

    def write(
        self, rule: EntityRule, body: Any, operation: str | None, include: set[str]
    ) -> tuple[str, JsonDict]:
        """Dispatch a POST to an entity endpoint; returns (response key, document)."""
        if not isinstance(body, dict):
            raise faults.malformed_request("the request body must be a JSON object")
        body = clean(body)
        op = (operation or "").lower()
        if op == "delete":
            return rule.name, self.delete(rule, body)
        if op == "void":
            if rule.void_mode != "operation":
                raise faults.operation_not_supported("void")
            return rule.name, self.void(rule, body)
        if op not in ("", "create", "update"):
            raise faults.operation_not_supported(op)
        if "void" in include:
            if rule.void_mode != "include":
                raise faults.operation_not_supported("void")
            return rule.name, self.void(rule, body)
        if op == "update" or (op == "" and body.get("Id") not in (None, "")):
            return rule.name, self.update(rule, body, include)
        return rule.name, self.create(rule, body, include)

    def create(self, rule: EntityRule, body: JsonDict, options: set[str]) -> JsonDict:
        if not rule.writable:
            raise faults.operation_not_supported("create")
        self._check_properties(rule, body)
        with self.store.transaction():
            ctx = self.ctx()
            doc = rule.build(ctx, body, None, options)
            entity_id = ctx.next_id(rule.id_family or rule.name, rule.id_start)
            while ctx.get(rule.name, entity_id) is not None:
                entity_id = ctx.next_id(rule.id_family or rule.name, rule.id_start)
            now = ctx.now_str()
            envelope = {
                "domain": "QBO",
                "sparse": False,
                "Id": entity_id,
                "SyncToken": "0",
                "MetaData": {"CreateTime": now, "LastUpdatedTime": now},
            }
            record = Record(rule.name, entity_id, arrange(rule.name, doc, envelope))
            ctx.save(record)
            rule.after_write(ctx, None, record)
            fresh = ctx.get(rule.name, entity_id)
            assert fresh is not None
            return rule.present(ctx, fresh)

    def update(self, rule: EntityRule, body: JsonDict, options: set[str]) -> JsonDict:
        if not rule.writable:
            raise faults.operation_not_supported("update")
        self._check_properties(rule, body)
        with self.store.transaction():
            ctx = self.ctx()
            record = self._current(ctx, rule, body)
            sparse = is_true(body.get("sparse", False))
            if sparse:
                src = {k: v for k, v in record.doc.items() if k not in ENVELOPE_FIELDS}
                src.update({k: v for k, v in body.items() if k not in ENVELOPE_FIELDS})
            else:
                src = {k: v for k, v in body.items() if k not in ENVELOPE_FIELDS}
            old = copy.deepcopy(record.doc)
            doc = rule.build(ctx, src, record, options)
            if doc == {k: v for k, v in old.items() if k not in ENVELOPE_FIELDS}:
                # QBO leaves SyncToken and LastUpdatedTime alone when an update changes nothing
                # (recordings deactivate/*.yml: the repeated deactivation keeps both).
                return rule.present(ctx, record)
            envelope = {
                "domain": "QBO",
                "sparse": False,
                "Id": record.id,
                "SyncToken": str(int(str(record.doc.get("SyncToken", "0"))) + 1),
                "MetaData": {
                    "CreateTime": (record.doc.get("MetaData") or {}).get(
                        "CreateTime", ctx.now_str()
                    ),
                    "LastUpdatedTime": ctx.now_str(),
                },
            }
            record.doc = arrange(rule.name, doc, envelope)
            ctx.save(record)
            rule.after_write(ctx, old, record)
            fresh = ctx.get(rule.name, record.id)
            assert fresh is not None
            return rule.present(ctx, fresh)

    def delete(self, rule: EntityRule, body: JsonDict) -> JsonDict:
        if not rule.deletable:
            raise faults.operation_not_supported("delete")
        with self.store.transaction():
            ctx = self.ctx()
            record = self._current(ctx, rule, body)
            old = Record(rule.name, record.id, copy.deepcopy(record.doc), dict(record.internal))
            now = ctx.now_str()
            record.internal["DocNumber"] = record.doc.get("DocNumber")
            record.internal["deleted_at"] = now
            record.doc = {"domain": "QBO", "status": "Deleted", "Id": record.id}
            record.deleted = True
            ctx.save(record)
            rule.after_delete(ctx, old)
            return dict(record.doc)

    def void(self, rule: EntityRule, body: JsonDict) -> JsonDict:
        with self.store.transaction():
            ctx = self.ctx()
            record = self._current(ctx, rule, body)
            old = copy.deepcopy(record.doc)
            rule.void(ctx, record)
            record.doc["SyncToken"] = str(int(str(record.doc.get("SyncToken", "0"))) + 1)
            record.doc.setdefault("MetaData", {})["LastUpdatedTime"] = ctx.now_str()
            ctx.save(record)
            rule.after_write(ctx, old, record)
            fresh = ctx.get(rule.name, record.id)
            assert fresh is not None
            return rule.present(ctx, fresh)

    def _current(self, ctx: Ctx, rule: EntityRule, body: JsonDict) -> Record:
        raw_id = body.get("Id")
        if raw_id in (None, ""):
            raise faults.required_param("Id")
        entity_id = str(raw_id)
        check_id(rule, entity_id)
        record = ctx.get(rule.name, entity_id)
        if record is None:
            raise faults.object_not_found()
        if record.deleted:
            raise faults.deleted_transaction()
        if body.get("SyncToken") in (None, ""):
            raise faults.required_param("SyncToken")
        if str(body["SyncToken"]) != str(record.doc.get("SyncToken")):
            raise faults.stale_object(ctx.user_name)
        return record

    def _check_properties(self, rule: EntityRule, body: JsonDict) -> None:
        known = rule.known_properties()
        for key in body:
            if key not in known:
                raise faults.unsupported_property(rule.name, key, sorted(known))
        lines = body.get("Line")
        if "Line" in known and isinstance(lines, list):
            check_line_properties(lines)
        if body.get("Id") not in (None, ""):
            check_id(rule, str(body["Id"]))

    # -- query -------------------------------------------------------------------------------------

    def query(self, text: str) -> JsonDict:
        """The content of a ``QueryResponse`` for one query statement."""
        try:
            parsed = parse_query(text)
            rule = BY_NAME.get(parsed.entity)
            ctx = self.ctx()
            answer = None if rule is None else indexed_query(ctx, rule, parsed)
            if answer is not None:
                page, total = answer
            else:
                rows: list[dict[str, Any]] = []
                if rule is not None:
                    rows = [present_fresh(ctx, rule, record) for record in ctx.all(rule.name)]
                page, total = run_query(parsed, rows)
        except QueryError as exc:
            raise faults.query_fault(exc.code, exc.message, exc.detail) from None
        if parsed.count:
            return {"totalCount": total}
        if not page:
            return {}
        return {
            parsed.entity: page,
            "startPosition": parsed.start_position,
            "maxResults": len(page),
        }

    # -- change data capture -----------------------------------------------------------------------

    def cdc(self, entities: str | None, changed_since: str | None) -> list[JsonDict]:
        """The ``CDCResponse`` list for ``entities`` changed at or after ``changed_since``."""
        if not entities or not entities.strip():
            raise faults.required_param("entities")
        if not changed_since or not changed_since.strip():
            raise faults.required_param("changedSince")
        rules: list[EntityRule] = []
        for name in (part.strip() for part in entities.split(",")):
            if not name:
                continue
            rule = BY_LOWER_NAME.get(name.lower())
            if rule is None or not rule.cdc:
                raise faults.operation_not_supported(f"cdc for entity {name}")
            if rule not in rules:
                rules.append(rule)
        since = parse_changed_since(changed_since.strip(), self.clock)
        if since < self.clock.now() - timedelta(days=CDC_LOOKBACK_DAYS):
            raise faults.single(
                "Unsupported Operation",
                f"Operation cdc with changedSince date {changed_since.strip()} which is older "
                "than fixed days is not supported.",
                "500",
            )
        ctx = self.ctx()
        answers: list[JsonDict] = []
        total = 0
        for rule in rules:
            rows: list[JsonDict] = []
            for record in self.store.changed_since(self.realm, rule.name, since.timestamp()):
                if record.deleted:
                    rows.append(
                        {
                            "domain": "QBO",
                            "status": "Deleted",
                            "Id": record.id,
                            "MetaData": {
                                "LastUpdatedTime": record.internal.get(
                                    "deleted_at", format_datetime(self.clock.now())
                                )
                            },
                        }
                    )
                else:
                    rows.append(present_fresh(ctx, rule, record))
            total += len(rows)
            if rows:
                answers.append({rule.name: rows, "startPosition": 1, "maxResults": len(rows)})
        if total > CDC_MAX_OBJECTS:
            raise faults.single(
                "Unsupported Operation",
                f"Operation cdc returning {total} objects is not supported. A change data capture "
                f"response holds at most {CDC_MAX_OBJECTS} objects; query for shorter time "
                "periods.",
                "500",
            )
        return [{"QueryResponse": answers or [{}]}]


def check_id(rule: EntityRule, entity_id: str) -> None:
    if rule.numeric_ids:
        if not entity_id.isdigit():
            raise faults.invalid_id(entity_id)
    elif not entity_id.isalnum():
        raise faults.invalid_id(entity_id)


def parse_changed_since(raw: str, clock: SandboxClock) -> datetime:
    """``YYYY-MM-DD`` or an ISO date-time with or without offset (company time when naive)."""
    text = raw.replace(" ", "+") if raw.count(" ") == 1 and "T" in raw else raw
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise faults.malformed_request(f"changedSince={raw}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.tz)
    return moment
