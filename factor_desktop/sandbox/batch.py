"""Batch: up to 30 operations and queries in one request, answered item by item.

Voids are accepted both ways clients send them in a batch: ``operation: "void"`` and
``operation: "update"`` with ``optionsData: "void"``, for Invoice and Payment alike.
"""

from __future__ import annotations

from typing import Any

from . import faults
from .company import Company
from .entities import BY_NAME
from .limits import MAX_BATCH_ITEMS
from .store import JsonDict

_CONTROL_KEYS = frozenset({"bId", "operation", "optionsData"})


def run_batch(company: Company, body: Any) -> list[JsonDict]:
    """The ``BatchItemResponse`` list; each item runs (and fails) on its own, in order."""
    if not isinstance(body, dict):
        raise faults.malformed_request("the request body must be a JSON object")
    items = body.get("BatchItemRequest")
    if items is None:
        raise faults.required_param("BatchItemRequest")
    if not isinstance(items, list):
        raise faults.malformed_request("BatchItemRequest must be an array")
    if len(items) > MAX_BATCH_ITEMS:
        raise faults.batch_too_large(len(items), MAX_BATCH_ITEMS)
    answers: list[JsonDict] = []
    for item in items:
        answer: JsonDict
        try:
            if not isinstance(item, dict):
                raise faults.malformed_request("BatchItemRequest elements must be objects")
            with company.store.transaction():
                answer = _run_item(company, item)
        except faults.QBOFault as fault:
            answer = {"Fault": fault.fault_json()}
        if isinstance(item, dict) and item.get("bId") is not None:
            answer["bId"] = item["bId"]
        answers.append(answer)
    return answers


def _run_item(company: Company, item: JsonDict) -> JsonDict:
    if "Query" in item:
        return {"QueryResponse": company.query(str(item["Query"]))}
    if "CDCQuery" in item:
        cdc = item["CDCQuery"] if isinstance(item["CDCQuery"], dict) else {}
        return {"CDCResponse": company.cdc(cdc.get("Entities"), cdc.get("ChangedSince"))}
    payload_keys = [key for key in item if key not in _CONTROL_KEYS]
    if len(payload_keys) != 1:
        raise faults.malformed_request("a BatchItemRequest carries exactly one object")
    entity = payload_keys[0]
    rule = BY_NAME.get(entity)
    if rule is None:
        raise faults.malformed_request(f"BatchItemRequest element {entity}")
    options = {
        part.strip().lower() for part in str(item.get("optionsData") or "").split(",") if part
    }
    operation = str(item.get("operation") or "create").lower()
    if operation == "create":
        key, doc = company.write(rule, item[entity], "create", options)
    elif operation == "update" and "void" in options and rule.void_mode == "operation":
        key, doc = company.write(rule, item[entity], "void", options - {"void"})
    elif operation == "update":
        key, doc = company.write(rule, item[entity], "update", options)
    elif operation == "void" and rule.void_mode == "include":
        key, doc = company.write(rule, item[entity], "update", options | {"void"})
    elif operation in ("delete", "void"):
        key, doc = company.write(rule, item[entity], operation, options)
    else:
        raise faults.invalid_enumeration(operation, "operation")
    return {key: doc}
