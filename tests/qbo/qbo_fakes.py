"""Helpers for the QBO client's unit tests: recorded QBO traffic, a token source, a fake clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses
import yaml

from factor_desktop.qbo.errors import QboAuthError

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "qbo-recordings"
BASE_URL = "https://sandbox-quickbooks.api.intuit.com"
REALM = "9130357766900456"
COMPANY = f"{BASE_URL}/v3/company/{REALM}"

# Shaped like real Intuit tokens so that pattern-based redaction is exercised too.
ACCESS_TOKEN_1 = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..xq1Access7Token1Value9Zz"
ACCESS_TOKEN_2 = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..kk2Access8Token2Value3Yy"
TOKENS = (ACCESS_TOKEN_1, ACCESS_TOKEN_2)


@dataclass
class Recorded:
    """One recorded request/response pair of a cassette."""

    method: str
    uri: str
    request_body: str
    status: int
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def intuit_tid(self) -> str:
        return self.headers["Intuit-Tid"]

    def add_to(self, mock: responses.RequestsMock, method: str, url: str) -> None:
        """Serve this recorded response (status, body and QBO's headers) at ``url``."""
        kept = {
            name: value
            for name, value in self.headers.items()
            if name in ("Intuit-Tid", "Www-Authenticate", "Retry-After")
        }
        mock.add(
            method,
            url,
            body=self.body,
            status=self.status,
            headers=kept,
            content_type=self.headers.get("Content-Type", "application/json"),
        )


def load_recording(name: str) -> list[Recorded]:
    data = yaml.safe_load((RECORDINGS / name).read_text(encoding="utf-8"))
    pairs: list[Recorded] = []
    for interaction in data["http_interactions"]:
        request, response = interaction["request"], interaction["response"]
        pairs.append(
            Recorded(
                method=request["method"].upper(),
                uri=request["uri"],
                request_body=request["body"]["string"] or "",
                status=int(response["status"]["code"]),
                headers={key: values[0] for key, values in response["headers"].items()},
                body=response["body"]["string"],
            )
        )
    return pairs


def recording(name: str, index: int = 0) -> Recorded:
    return load_recording(name)[index]


@dataclass
class FakeTokens:
    """A TokenSource that hands out known tokens and records refresh requests."""

    tokens: tuple[str, ...] = TOKENS
    refresh_fails: bool = False
    position: int = 0
    refreshed_after: list[str] = field(default_factory=list)

    def access_token(self) -> str:
        return self.tokens[self.position]

    def refresh_after_unauthorized(self, rejected_token: str) -> str:
        self.refreshed_after.append(rejected_token)
        if self.refresh_fails:
            raise QboAuthError("The QuickBooks connection must be renewed", code="invalid_grant")
        self.position = min(self.position + 1, len(self.tokens) - 1)
        return self.tokens[self.position]


@dataclass
class FakeTime:
    """A clock that only moves when something sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def query_params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def raw_query(url: str) -> str:
    return urlsplit(url).query
