"""Suggested mappings and links: Factor records whose names match QuickBooks records.

Names are compared the way an administrator reads them: case, "&" for "and", punctuation and a
trailing "Consultants" or "Fees" aside ("Printing & Reproduction" matches "Printing and
Reproduction", "Structural Engineering" matches "Structural Engineering Consultants"). Each
suggestion says why it was made.

* Service types, expense types (their account, and a product/service of the same name) and tax
  terms (by code or name) that are not mapped yet are proposed a QuickBooks record of the kind
  they map to; `apply_suggestions` maps them through `set_mapping`, with its checks. A tax term
  whose code has another rate is mapped with the default rule (Factor's tax amount is sent), and
  the suggestion says so.
* Clients and projects not linked yet are proposed a QuickBooks customer or sub-customer to link
  to ("link"), or "create" when QuickBooks has none of that name; "review" when the match is not
  clear. These are shown only: linking is done by hand, and creating by the sync.

Nothing here reads QuickBooks: the suggestions come from the lists last read into the cache.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from factor_desktop.domain.kinds import MappingKind
from factor_desktop.qbo.mappers import customer_matches, live_name
from factor_desktop.services.errors import ServiceError
from factor_desktop.services.mappings import (
    DEFAULT_TAX_RULE,
    ENTITY_LABEL,
    ENTITY_PLURAL,
    LOCAL_FOR_KIND,
    QBO_ENTITY_FOR_KIND,
    TAX_RULE_TEXT,
    LocalType,
    candidates,
    describe,
    display_name,
    local_for_qbo,
    local_name,
    mapped_qbo_id,
    percent_text,
    set_mapping,
    tax_rate_difference,
    tax_rate_values,
)
from factor_desktop.settings import load_settings
from factor_desktop.store.models import Client, Project, QboRecord, TaxTerm

__all__ = [
    "LinkSuggestion",
    "MappingSuggestion",
    "Suggestions",
    "Unmatched",
    "apply_suggestions",
    "match_key",
    "match_reason",
    "suggest",
]

#: Words a QuickBooks name (or a Factor one) may end with and still match without them.
TRAILING_WORDS = ("consultants", "consultant", "fees", "fee")
# The kinds suggested, in the order they are listed. An expense type's product/service is
# optional: it is proposed when one matches, and not listed as missing otherwise.
_KINDS: tuple[str, ...] = tuple(MappingKind)
_OPTIONAL_KINDS: frozenset[str] = frozenset({MappingKind.EXPENSE_TYPE_ITEM})
_EXCLUSIVE_KINDS: frozenset[str] = frozenset({MappingKind.EXPENSE_TYPE})
_DROPPED = re.compile(r"['’.]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")


# --- comparing names --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Key:
    text: str
    ampersands: int
    punctuation: bool
    trailing: str | None  # the trailing word set aside, as it was written


def _key(name: str) -> _Key:
    text = unicodedata.normalize("NFKC", name)
    ampersands = text.count("&")
    folded = text.casefold().replace("&", " and ")
    words = _PUNCTUATION.sub(" ", _DROPPED.sub("", folded)).split()
    punctuation = words != folded.split()
    trailing: str | None = None
    if len(words) > 1 and words[-1] in TRAILING_WORDS:
        trailing = text.split()[-1] if text.split() else words[-1]
        words = words[:-1]
    return _Key(" ".join(words), ampersands, punctuation, trailing)


def match_key(name: str) -> str:
    """What two names must share to match: "Printing & Reproduction" and "printing and
    reproduction." both give "printing and reproduction"; "MEP Engineering Consultants" gives
    "mep engineering"."""
    return _key(name).text


def match_reason(factor_name: str, qbo_name: str) -> str:
    """Why two names match, in words ("same name", "same name apart from case", ...)."""
    if factor_name == qbo_name:
        return "same name"
    if " ".join(factor_name.casefold().split()) == " ".join(qbo_name.casefold().split()):
        return "same name apart from case"
    mine, theirs = _key(factor_name), _key(qbo_name)
    notes: list[str] = []
    if mine.ampersands != theirs.ampersands:
        notes.append("'&' read as 'and'")
    for key in (theirs, mine):
        if key.trailing is not None:
            notes.append(f"a trailing {key.trailing!r} aside")
    if mine.punctuation or theirs.punctuation:
        notes.append("punctuation aside")
    if not notes:
        return "same name apart from case and spacing"
    return "same name, " + ", ".join(dict.fromkeys(notes))


# --- what is suggested ------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingSuggestion:
    """A Factor type and the QuickBooks record proposed for it."""

    kind: str
    local_id: int
    local_name: str
    qbo_entity: str
    qbo_id: str
    qbo_name: str
    reason: str
    # Tax terms whose code has another rate: both rates, and the rule applying would choose.
    rate: Decimal | None = None
    qbo_rate: Decimal | None = None
    tax_rule: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "local_id": self.local_id,
            "name": self.local_name,
            "qbo_entity": self.qbo_entity,
            "qbo_id": self.qbo_id,
            "qbo_name": self.qbo_name,
            "reason": self.reason,
            "rate": None if self.rate is None else str(self.rate),
            "qbo_rate": None if self.qbo_rate is None else str(self.qbo_rate),
            "tax_rule": self.tax_rule,
        }


@dataclass(frozen=True)
class Unmatched:
    """A Factor type no QuickBooks record was proposed for, and why."""

    kind: str
    local_id: int
    local_name: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "local_id": self.local_id,
            "name": self.local_name,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class LinkSuggestion:
    """What would become of a client or project not linked yet: "link" to the QuickBooks
    customer or sub-customer named, "create" one, or "review" (no clear match)."""

    action: Literal["link", "create", "review"]
    entity: Literal["client", "project"]
    local_id: int
    name: str
    reason: str
    qbo_id: str | None = None
    qbo_name: str | None = None
    client_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "entity": self.entity,
            "local_id": self.local_id,
            "name": self.name,
            "client": self.client_name,
            "qbo_id": self.qbo_id,
            "qbo_name": self.qbo_name,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Suggestions:
    mappings: tuple[MappingSuggestion, ...] = ()
    unmatched: tuple[Unmatched, ...] = ()
    links: tuple[LinkSuggestion, ...] = ()
    # Factor types left out because they are mapped already, per kind.
    already_mapped: dict[str, int] = field(default_factory=dict)
    # Whether any QuickBooks list has been read into the cache.
    lists_read: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "lists_read": self.lists_read,
            "mappings": [s.to_json() for s in self.mappings],
            "unmatched": [u.to_json() for u in self.unmatched],
            "already_mapped": dict(self.already_mapped),
            "links": [link.to_json() for link in self.links],
        }


# --- types ------------------------------------------------------------------------------------


def _names_of(local: LocalType) -> list[str]:
    if isinstance(local, TaxTerm):
        return [local.code, local.name]
    return [local.name]


def _local_types(session: Session, kind: str) -> list[LocalType]:
    model, _label = LOCAL_FOR_KIND[kind]
    rows: Iterable[LocalType] = session.scalars(select(model).where(model.active.is_(True)))
    return sorted(rows, key=lambda r: local_name(r).casefold())


def _listed(records: Sequence[QboRecord]) -> str:
    return "; ".join(describe(r) for r in records)


def _type_suggestions(
    session: Session,
) -> tuple[list[MappingSuggestion], list[Unmatched], dict[str, int]]:
    found: list[MappingSuggestion] = []
    unmatched: list[Unmatched] = []
    already: dict[str, int] = {}
    rates = tax_rate_values(session)
    for kind in _KINDS:
        entity = QBO_ENTITY_FOR_KIND[kind]
        by_key: dict[str, list[QboRecord]] = {}
        for record in candidates(session, kind):
            by_key.setdefault(match_key(record.name), []).append(record)
        taken: dict[str, list[tuple[LocalType, QboRecord, str]]] = {}
        for local in _local_types(session, kind):
            if mapped_qbo_id(session, kind, local.id) is not None:
                already[kind] = already.get(kind, 0) + 1
                continue
            matches: dict[str, tuple[QboRecord, str]] = {}
            for name in _names_of(local):
                for record in by_key.get(match_key(name), []):
                    matches.setdefault(record.qbo_id, (record, match_reason(name, record.name)))
            if not matches:
                if kind not in _OPTIONAL_KINDS:
                    unmatched.append(
                        Unmatched(
                            kind,
                            local.id,
                            local_name(local),
                            f"no QuickBooks {ENTITY_LABEL[entity]} of that name",
                        )
                    )
                continue
            if len(matches) > 1:
                # Several match: the one spelt exactly as the Factor type, else the one that
                # differs only by case, when there is just one such.
                names = _names_of(local)
                own = {name.casefold() for name in names}
                closest = [m for m in matches.values() if m[0].name in names]
                if len(closest) != 1:
                    closest = [m for m in matches.values() if m[0].name.casefold() in own]
                if len(closest) != 1:
                    unmatched.append(
                        Unmatched(
                            kind,
                            local.id,
                            local_name(local),
                            f"{len(matches)} QuickBooks {ENTITY_PLURAL[entity]} match: "
                            f"{_listed([r for r, _ in matches.values()])}; map it by hand",
                        )
                    )
                    continue
                matches = {closest[0][0].qbo_id: closest[0]}
            ((record, reason),) = matches.values()
            taken.setdefault(record.qbo_id, []).append((local, record, reason))
        for qbo_id, claims in taken.items():
            if kind in _EXCLUSIVE_KINDS:
                holder = local_for_qbo(session, kind, qbo_id)
                if holder is not None or len(claims) > 1:
                    for local, record, _reason in claims:
                        unmatched.append(
                            Unmatched(
                                kind,
                                local.id,
                                local_name(local),
                                f"the QuickBooks {describe(record)} would stand for more than "
                                "one expense type; map them by hand",
                            )
                        )
                    continue
            for local, record, reason in claims:
                suggestion = MappingSuggestion(
                    kind, local.id, local_name(local), entity, qbo_id, display_name(record), reason
                )
                if isinstance(local, TaxTerm):
                    difference = tax_rate_difference(session, local, record, rates)
                    if difference is not None:
                        suggestion = MappingSuggestion(
                            **{
                                **suggestion.__dict__,
                                "rate": difference[0],
                                "qbo_rate": difference[1],
                                "tax_rule": DEFAULT_TAX_RULE,
                            }
                        )
                found.append(suggestion)
    order = {kind: index for index, kind in enumerate(_KINDS)}
    found.sort(key=lambda s: (order[s.kind], s.local_name.casefold()))
    unmatched.sort(key=lambda u: (order[u.kind], u.local_name.casefold()))
    return found, unmatched, already


# --- clients and projects ---------------------------------------------------------------------


def _customers(session: Session) -> list[QboRecord]:
    return list(session.scalars(select(QboRecord).where(QboRecord.entity == "Customer")))


def _name_holders(session: Session, name: str) -> list[QboRecord]:
    """Vendors and employees holding the DisplayName a Factor name would get (QuickBooks keeps
    one namespace for customers, vendors and employees)."""
    rows = session.scalars(select(QboRecord).where(QboRecord.entity.in_(("Vendor", "Employee"))))
    return [r for r in rows if isinstance(r.data, dict) and customer_matches(r.data, name)]


def _matching(records: Iterable[QboRecord], name: str) -> list[tuple[QboRecord, str]]:
    key = match_key(name)
    return [
        (r, match_reason(name, live_name(r.data) or r.name))
        for r in records
        if key and match_key(live_name(r.data) or r.name) == key
    ]


def _link_or_review(
    entity: Literal["client", "project"],
    local_id: int,
    name: str,
    matches: list[tuple[QboRecord, str]],
    client_name: str | None = None,
) -> LinkSuggestion | None:
    """A link when exactly one active record matches; a review when the match is unclear."""
    active = [(r, why) for r, why in matches if r.active]
    if len(active) == 1:
        record, reason = active[0]
        return LinkSuggestion(
            "link", entity, local_id, name, reason, record.qbo_id, record.name, client_name
        )
    if len(active) > 1:
        listed = "; ".join(f"{r.name!r} (Id {r.qbo_id})" for r, _ in active)
        return LinkSuggestion(
            "review",
            entity,
            local_id,
            name,
            f"{len(active)} QuickBooks records could be it: {listed}; link one by hand",
            client_name=client_name,
        )
    if matches:
        record, _ = matches[0]
        return LinkSuggestion(
            "review",
            entity,
            local_id,
            name,
            f"QuickBooks has it as {record.name!r} (Id {record.qbo_id}), which is inactive; "
            "make it active in QuickBooks to link it",
            client_name=client_name,
        )
    return None


def _link_suggestions(session: Session) -> list[LinkSuggestion]:
    settings = load_settings(session)
    customers = _customers(session)
    linked = {c.qbo_id for c in session.scalars(select(Client)) if c.qbo_id is not None}
    linked |= {p.qbo_id for p in session.scalars(select(Project)) if p.qbo_id is not None}
    top = [c for c in customers if c.kind != "project" and c.parent_qbo_id is None]
    subs = [c for c in customers if c.parent_qbo_id is not None]
    out: list[LinkSuggestion] = []
    parent_of: dict[int, str | None] = {}
    clients = session.scalars(select(Client).where(Client.archived.is_(False)))
    for client in sorted(clients, key=lambda c: c.name.casefold()):
        if client.qbo_id is not None:
            parent_of[client.id] = client.qbo_id
            continue
        free = [c for c in top if c.qbo_id not in linked]
        suggestion = _link_or_review("client", client.id, client.name, _matching(free, client.name))
        if suggestion is None:
            holders = _name_holders(session, client.name)
            reason = "QuickBooks has no customer of that name"
            if holders:
                held = ", ".join(f"{r.entity.lower()} {r.name!r}" for r in holders)
                reason += f", but the {held} holds the name: the sync will ask for another"
            elif not settings.auto_create_customers:
                reason += " (auto-create is off: link it by hand or turn auto-create on)"
            suggestion = LinkSuggestion("create", "client", client.id, client.name, reason)
        out.append(suggestion)
        parent_of[client.id] = suggestion.qbo_id if suggestion.action == "link" else None
    projects = session.scalars(select(Project).where(Project.qbo_id.is_(None)))
    for project in sorted(projects, key=lambda p: (p.client.name.casefold(), p.number)):
        if project.client.archived:
            continue
        parent = parent_of.get(project.client_id)
        client_name = project.client.name
        suggestion = None
        if parent is not None:
            under = [c for c in subs if c.parent_qbo_id == parent and c.qbo_id not in linked]
            suggestion = _link_or_review(
                "project", project.id, project.name, _matching(under, project.name), client_name
            )
        if suggestion is None:
            if parent is None:
                reason = "under the client's customer, once it is in QuickBooks"
            else:
                reason = "QuickBooks has no sub-customer of that name under the client's customer"
            if not settings.auto_create_projects:
                reason += (
                    " (auto-create for projects is off: its invoices go to the client's customer)"
                )
            suggestion = LinkSuggestion(
                "create", "project", project.id, project.name, reason, client_name=client_name
            )
        out.append(suggestion)
    return out


# --- the service ------------------------------------------------------------------------------


def suggest(session: Session) -> Suggestions:
    """Every suggestion the lists read so far allow (nothing is changed)."""
    lists_read = session.scalar(select(QboRecord.id).limit(1)) is not None
    mappings, unmatched, already = _type_suggestions(session)
    return Suggestions(
        tuple(mappings),
        tuple(unmatched),
        tuple(_link_suggestions(session)),
        already,
        lists_read,
    )


def apply_suggestions(
    session: Session, suggestions: Iterable[MappingSuggestion]
) -> tuple[list[str], list[str]]:
    """Map each suggested type (a tax term of another rate with its suggested rule).

    Returns what was mapped and what was refused, a sentence each. A refusal leaves the other
    mappings be.
    """
    done: list[str] = []
    refused: list[str] = []
    for suggestion in suggestions:
        label = f"the {LOCAL_FOR_KIND[suggestion.kind][1]} {suggestion.local_name!r}"
        try:
            set_mapping(
                session,
                suggestion.kind,
                suggestion.local_id,
                suggestion.qbo_id,
                entity=suggestion.qbo_entity,
                tax_rule=suggestion.tax_rule,
            )
        except ServiceError as error:
            refused.append(f"{label[:1].upper()}{label[1:]} was not mapped: {error.message}")
            continue
        what = f"{ENTITY_LABEL[suggestion.qbo_entity]} {suggestion.qbo_name!r}"
        text = f"Mapped {label} to the QuickBooks {what} (Id {suggestion.qbo_id})"
        if suggestion.tax_rule is not None:
            text += (
                f"; its rate is {percent_text(suggestion.qbo_rate)} against Factor's "
                f"{percent_text(suggestion.rate)}, so {TAX_RULE_TEXT[suggestion.tax_rule].lower()}"
                f" ({suggestion.tax_rule})"
            )
        done.append(text + ".")
    return done, refused
