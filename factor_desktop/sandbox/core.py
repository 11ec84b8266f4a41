"""One sandbox company with everything around it: store, clock, OAuth, knobs and limits."""

from __future__ import annotations

import logging
import random
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from . import faults
from .attachments import LinkSigner
from .clock import SandboxClock, format_datetime
from .company import Company
from .entities import BY_NAME
from .entities.lists import deep_merge
from .knobs import KnobBoard, Knobs
from .limits import RateLimiter, describe_limits
from .oauth import OAuthProvider
from .store import JsonDict, Store

log = logging.getLogger("factor_desktop.sandbox")

SeedName = Literal["demo", "empty"]


@dataclass
class SandboxConfig:
    """How to run a sandbox. ``state_path`` None keeps the company in memory only."""

    host: str = "127.0.0.1"
    port: int = 0
    state_path: Path | None = None
    seed: SeedName = "empty"
    auto_approve: bool = False
    client_id: str | None = None
    client_secret: str | None = None
    company_name: str | None = None
    rotation_interval_s: float = 86400.0
    rotation_grace_s: float = 0.0
    rate_limits: bool = False
    latency_ms: float = 0.0
    fail_5xx_rate: float = 0.0
    burst_429: int = 0
    drop_after_commit_rate: float = 0.0
    time_scale: float = 1.0
    random_seed: int | None = None
    user_name: str = "Sandbox Admin"


DEFAULT_COMPANY_NAMES: dict[str, str] = {
    "empty": "Sandbox Company_US_1",
    "demo": "Alder & Finch Architects",
}


class Sandbox:
    """The state behind a running sandbox server (usable without HTTP, e.g. to seed)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = Store(config.state_path)
        self.rng = random.Random(config.random_seed)
        self._rng_lock = threading.Lock()
        fresh = self.store.get_meta("realm_id") is None
        if fresh:
            self.store.set_meta("realm_id", str(self.rng.randrange(10**15, 10**16)))
            self.store.set_meta("client_id", "AB" + secrets.token_hex(24))
            self.store.set_meta("client_secret", secrets.token_urlsafe(30))
            self.store.set_meta("signing_secret", secrets.token_hex(32))
            self.store.set_meta(
                "company_name", config.company_name or DEFAULT_COMPANY_NAMES[config.seed]
            )
            self.store.set_meta("clock_offset", "0")
        for key in ("client_id", "client_secret", "company_name"):
            override = getattr(config, key)
            if override:
                self.store.set_meta(key, override)
        self.realm_id = self._meta("realm_id")
        self.client_id = self._meta("client_id")
        self.client_secret = self._meta("client_secret")
        self.company_name = self._meta("company_name")
        self.clock = SandboxClock(float(self.store.get_meta("clock_offset") or 0))
        self.clock.on_change(lambda offset: self.store.set_meta("clock_offset", repr(offset)))
        self.knobs = KnobBoard(
            Knobs(
                auto_approve=config.auto_approve,
                rotation_interval_s=config.rotation_interval_s,
                rotation_grace_s=config.rotation_grace_s,
                rate_limits=config.rate_limits,
                latency_ms=config.latency_ms,
                fail_5xx_rate=config.fail_5xx_rate,
                burst_429=config.burst_429,
                drop_after_commit_rate=config.drop_after_commit_rate,
                time_scale=config.time_scale,
            )
        )
        self.limiter = RateLimiter(self.clock, self.knobs)
        self.signer = LinkSigner(
            bytes.fromhex(self._meta("signing_secret")), self.clock, f"http://{config.host}"
        )
        self.oauth = OAuthProvider(
            self.store,
            self.clock,
            self.knobs,
            self.realm_id,
            self.client_id,
            self.client_secret,
            self.company_name,
        )
        self.company = Company(
            self.store,
            self.clock,
            self.realm_id,
            lambda: config.user_name,
            lambda attachable_id, name: self.signer.url(self.realm_id, attachable_id, name),
        )
        self.oauth.purge()
        if fresh:
            from .seeds import seed_company

            seed_company(self, config.seed)
            self.store.set_meta("seed", config.seed)

    def _meta(self, key: str) -> str:
        value = self.store.get_meta(key)
        assert value is not None, key
        return value

    def close(self) -> None:
        self.store.close()

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._rng_lock:
            return self.rng.random() < rate

    def choice(self, options: list[int]) -> int:
        with self._rng_lock:
            return self.rng.choice(options)

    # -- admin operations ----------------------------------------------------------------------

    def advance_clock(self, seconds: float) -> datetime:
        return self.clock.advance(seconds)

    def set_clock(self, when: datetime) -> datetime:
        return self.clock.set(when)

    def set_knobs(self, changes: dict[str, Any]) -> dict[str, Any]:
        self.knobs.update(changes)
        return self.knobs.as_dict()

    def preferences(self) -> JsonDict:
        record = self.store.get(self.realm_id, "Preferences", "1")
        assert record is not None
        return record.doc

    def update_preferences(self, patch: JsonDict) -> JsonDict:
        """Deep-merge ``patch`` into Preferences; ``custom_fields`` {"1": "Crew #", "2": null}
        switches sales-form custom fields on (named) or off (null)."""
        patch = dict(patch)
        custom = patch.pop("custom_fields", None)
        rule = BY_NAME["Preferences"]
        unknown = [key for key in patch if key not in rule.fields]
        if unknown:
            raise faults.unsupported_property("Preferences", unknown[0], sorted(rule.fields))
        with self.store.transaction():
            record = self.store.get(self.realm_id, "Preferences", "1")
            assert record is not None
            doc: JsonDict = deep_merge(record.doc, patch)
            if custom is not None:
                if not isinstance(custom, dict):
                    raise faults.malformed_request("custom_fields must be an object")
                doc["SalesFormsPrefs"] = set_custom_fields(doc.get("SalesFormsPrefs") or {}, custom)
            record.doc = doc
            self.company.ctx().bump(record)
        return self.preferences()

    def set_tax_rate(self, rate_id: str, rate_value: str) -> JsonDict:
        """A tax agency's rate changes, as in QuickBooks' sales tax settings (the API reads tax
        rates only): the TaxRate's ``RateValue`` becomes ``rate_value`` (a percent)."""
        with self.store.transaction():
            record = self.store.get(self.realm_id, "TaxRate", rate_id)
            if record is None:
                raise faults.invalid_reference("TaxRate")
            try:
                record.doc["RateValue"] = float(rate_value)
            except ValueError:
                raise faults.malformed_request("RateValue must be a number") from None
            self.company.ctx().bump(record)
        return record.doc

    def issue_tokens(self, client_id: str | None = None) -> JsonDict:
        """A token pair for the configured app, or for the app ``client_id`` (connected to the
        company on first use)."""
        return self.oauth.issue_tokens(client_id=client_id)

    def state(self) -> JsonDict:
        return {
            "realm_id": self.realm_id,
            "company_name": self.company_name,
            "seed": self.store.get_meta("seed"),
            "now": format_datetime(self.clock.now()),
            "clock_offset_s": self.clock.offset,
            "knobs": self.knobs.as_dict(),
            "rate_limits": self.rate_limits(),
            "counts": self.store.count(self.realm_id),
        }

    def describe(self, base_url: str) -> JsonDict:
        return {
            "base_url": base_url,
            "discovery_url": f"{base_url}/.well-known/openid_sandbox_configuration",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "realm_id": self.realm_id,
            "company_name": self.company_name,
            "admin_url": f"{base_url}/_sandbox/admin",
            "rate_limits": self.rate_limits(),
        }

    def rate_limits(self) -> dict[str, Any]:
        knobs = self.knobs.get()
        return describe_limits(knobs.rate_limits, knobs.time_scale)


def set_custom_fields(sales: JsonDict, names: dict[str, Any]) -> JsonDict:
    enabled: dict[str, bool] = {}
    labels: dict[str, str] = {}
    for group in sales.get("CustomField") or []:
        for field in group.get("CustomField") or []:
            key = str(field.get("Name", ""))
            if key.startswith("SalesFormsPrefs.UseSalesCustom"):
                enabled[key[-1]] = bool(field.get("BooleanValue"))
            elif key.startswith("SalesFormsPrefs.SalesCustomName"):
                labels[key[-1]] = str(field.get("StringValue", ""))
    for number, label in names.items():
        if str(number) not in ("1", "2", "3"):
            raise faults.malformed_request(f"custom field {number} (only 1, 2 and 3 exist)")
        if label in (None, ""):
            enabled[str(number)] = False
            labels.pop(str(number), None)
        else:
            enabled[str(number)] = True
            labels[str(number)] = str(label)
    out = dict(sales)
    out["CustomField"] = custom_field_groups(enabled, labels)
    return out


def custom_field_groups(enabled: dict[str, bool], labels: dict[str, str]) -> list[JsonDict]:
    """Preferences' two-group CustomField layout, as QBO returns it."""
    return [
        {
            "CustomField": [
                {
                    "Name": f"SalesFormsPrefs.UseSalesCustom{n}",
                    "Type": "BooleanType",
                    "BooleanValue": bool(enabled.get(n)),
                }
                for n in ("1", "2", "3")
            ]
        },
        {
            "CustomField": [
                {
                    "Name": f"SalesFormsPrefs.SalesCustomName{n}",
                    "Type": "StringType",
                    "StringValue": labels[n],
                }
                for n in ("1", "2", "3")
                if n in labels
            ]
        },
    ]
