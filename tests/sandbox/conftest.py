"""Fixtures: sandbox servers on a free port and an authorised HTTP client for their API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from factor_desktop.sandbox import SandboxConfig, SandboxServer


class Api:
    """A QBO client for tests: bearer token, JSON in and out, helpers for common calls."""

    def __init__(self, server: SandboxServer, client_id: str | None = None) -> None:
        """The sandbox's app, or another app ``client_id`` connected to the same company."""
        self.server = server
        self.tokens = server.issue_tokens(client_id)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.tokens['access_token']}"
        self.session.headers["Accept"] = "application/json"

    def url(self, path: str) -> str:
        return f"{self.server.api_base}/{path}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url(path), timeout=10, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        if body is not None:
            kwargs["json"] = body
        return self.session.post(self.url(path), timeout=10, **kwargs)

    def ok(self, response: requests.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def create(self, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
        answer = self.ok(self.post(entity.lower(), body, params=params))
        doc: dict[str, Any] = answer[entity]
        return doc

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        doc: dict[str, Any] = self.ok(self.get(f"{entity.lower()}/{entity_id}"))[entity]
        return doc

    def query(self, statement: str) -> dict[str, Any]:
        body: dict[str, Any] = self.ok(self.get("query", params={"query": statement}))[
            "QueryResponse"
        ]
        return body

    def fault(self, response: requests.Response, status: int = 400) -> dict[str, Any]:
        assert response.status_code == status, response.text
        error: dict[str, Any] = response.json()["Fault"]["Error"][0]
        return error

    def find(self, entity: str, name: str) -> dict[str, Any]:
        key = "Name" if entity in ("Item", "Account", "Term") else "DisplayName"
        escaped = name.replace("'", "\\'")
        rows = self.query(f"select * from {entity} where {key} = '{escaped}'")
        found: dict[str, Any] = rows[entity][0]
        return found

    def close(self) -> None:
        self.session.close()


def _serve(config: SandboxConfig) -> Iterator[SandboxServer]:
    server = SandboxServer(config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def qbo() -> Iterator[SandboxServer]:
    yield from _serve(SandboxConfig(random_seed=7))


@pytest.fixture
def demo() -> Iterator[SandboxServer]:
    yield from _serve(SandboxConfig(seed="demo", random_seed=7))


@pytest.fixture
def api(qbo: SandboxServer) -> Iterator[Api]:
    client = Api(qbo)
    yield client
    client.close()


@pytest.fixture
def demo_api(demo: SandboxServer) -> Iterator[Api]:
    client = Api(demo)
    yield client
    client.close()


def service_item(api: Api) -> dict[str, Any]:
    return api.find("Item", "Services")


def new_customer(api: Api, name: str, **extra: Any) -> dict[str, Any]:
    return api.create("Customer", {"DisplayName": name, **extra})


def invoice_body(customer_id: str, *amounts: float, item_id: str = "1") -> dict[str, Any]:
    return {
        "CustomerRef": {"value": customer_id},
        "Line": [
            {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": item_id}},
            }
            for amount in amounts
        ],
    }
