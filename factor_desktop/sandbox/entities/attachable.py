"""Attachable: notes and files linked to transactions and names."""

from __future__ import annotations

import copy
from typing import ClassVar

from .. import faults
from ..context import Ctx
from ..store import JsonDict, Record
from .base import EntityRule, copy_optional, is_true, ref_value, text

LINKABLE = (
    "Invoice",
    "Payment",
    "Purchase",
    "Bill",
    "Customer",
    "Vendor",
    "Employee",
    "Item",
    "Account",
)
CATEGORIES = ("Image", "Signature", "Contact Photo", "Receipt", "Document", "Sound", "Other")


def link_missing(entity_type: str, value: str) -> faults.QBOFault:
    return faults.business_validation(
        f"The entity {entity_type} {value} that you are trying to link does not exist. "
        f"{entity_type} {value}",
        "",
    )


class AttachableRule(EntityRule):
    name = "Attachable"
    resource = "attachable"
    deletable = True
    id_family = "Attachable"
    id_start = 5000000000000500001
    fields: ClassVar[frozenset[str]] = frozenset(
        {
            "FileName",
            "FileAccessUri",
            "TempDownloadUri",
            "Size",
            "ContentType",
            "Category",
            "Lat",
            "Long",
            "PlaceName",
            "Note",
            "Tag",
            "ThumbnailFileAccessUri",
            "ThumbnailTempDownloadUri",
            "AttachableRef",
            "AttachableEx",
        }
    )
    computed: ClassVar[frozenset[str]] = frozenset(
        {
            "FileAccessUri",
            "TempDownloadUri",
            "Size",
            "ThumbnailFileAccessUri",
            "ThumbnailTempDownloadUri",
        }
    )

    def build(
        self, ctx: Ctx, src: JsonDict, existing: Record | None, options: set[str]
    ) -> JsonDict:
        doc: JsonDict = {}
        has_file = bool(existing and existing.internal.get("has_file"))
        if has_file and existing is not None:
            doc["FileName"] = existing.doc.get("FileName")
            doc["FileAccessUri"] = existing.doc.get("FileAccessUri")
            doc["Size"] = existing.doc.get("Size")
            doc["ContentType"] = existing.doc.get("ContentType")
        else:
            copy_optional(src, doc, ["FileName", "ContentType"])
        category = text(src, "Category")
        if category is not None:
            if category not in CATEGORIES:
                raise faults.invalid_enumeration(category, "Category")
            doc["Category"] = category
        copy_optional(src, doc, ["Note", "Tag", "Lat", "Long", "PlaceName"])
        refs: list[JsonDict] = []
        for raw in src.get("AttachableRef") or []:
            entity_ref = raw.get("EntityRef") or {}
            entity_type = text(entity_ref, "type") or ""
            value = ref_value(entity_ref) or ""
            if entity_type not in LINKABLE:
                raise link_missing(entity_type, value)
            target = ctx.get(entity_type, value)
            if target is None or target.deleted:
                raise link_missing(entity_type, value)
            ref: JsonDict = {"EntityRef": {"value": target.id, "type": entity_type}}
            copy_optional(raw, ref, ["LineInfo"])
            ref["IncludeOnSend"] = is_true(raw.get("IncludeOnSend", False))
            copy_optional(raw, ref, ["CustomField"])
            refs.append(ref)
        if not has_file and "Note" not in doc and "FileName" not in doc:
            raise faults.business_validation("An attachable needs a note or a file.", "Note")
        doc["AttachableRef"] = refs
        return doc

    def present(self, ctx: Ctx, record: Record) -> JsonDict:
        doc = copy.deepcopy(record.doc)
        if not record.internal.get("has_file") or record.deleted:
            return doc
        out: JsonDict = {}
        for key, value in doc.items():
            out[key] = value
            if key == "FileAccessUri":
                out["TempDownloadUri"] = ctx.download_uri(record.id, str(doc.get("FileName", "")))
        return out

    def after_delete(self, ctx: Ctx, old: Record) -> None:
        ctx.store.delete_blob(ctx.realm, old.id)
