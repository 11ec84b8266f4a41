"""OAuth 2.0 as Intuit runs it: discovery, consent, code exchange, refresh rotation, revoke."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from factor_desktop.sandbox import SandboxConfig, SandboxServer

REDIRECT = "http://localhost:8765/callback"
SCOPE = "com.intuit.quickbooks.accounting"


@pytest.fixture
def auto() -> Iterator[SandboxServer]:
    server = SandboxServer(SandboxConfig(auto_approve=True))
    with server:
        yield server


def discovery(server: SandboxServer) -> dict[str, Any]:
    body: dict[str, Any] = requests.get(server.discovery_url, timeout=5).json()
    return body


def authorize(
    server: SandboxServer, state: str = "xyz", redirect: str = REDIRECT
) -> dict[str, str]:
    doc = discovery(server)
    response = requests.get(
        doc["authorization_endpoint"],
        params={
            "client_id": server.client_id,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": redirect,
            "state": state,
        },
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}


def token(
    server: SandboxServer, data: dict[str, str], *, secret: str | None = None, **headers: str
) -> requests.Response:
    creds = f"{server.client_id}:{secret or server.client_secret}".encode()
    return requests.post(
        discovery(server)["token_endpoint"],
        data=data,
        headers={
            "Authorization": "Basic " + base64.b64encode(creds).decode(),
            "Accept": "application/json",
            **headers,
        },
        timeout=5,
    )


def exchange(server: SandboxServer) -> dict[str, Any]:
    code = authorize(server)["code"]
    response = token(
        server, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refresh(server: SandboxServer, refresh_token: str) -> requests.Response:
    return token(server, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def company_info(server: SandboxServer, access_token: str) -> requests.Response:
    return requests.get(
        f"{server.api_base}/companyinfo/{server.realm_id}",
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        timeout=5,
    )


def test_discovery_document_has_intuits_keys_pointing_here(qbo: SandboxServer) -> None:
    doc = discovery(qbo)
    for key in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "revocation_endpoint",
        "jwks_uri",
    ):
        assert doc[key].startswith(qbo.base_url)
    assert doc["response_types_supported"] == ["code"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_post",
        "client_secret_basic",
    }
    assert "realmid" in doc["claims_supported"]
    assert requests.get(doc["jwks_uri"], timeout=5).json() == {"keys": []}


def test_consent_page_connect_and_cancel(qbo: SandboxServer) -> None:
    doc = discovery(qbo)
    params = {
        "client_id": qbo.client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": REDIRECT,
        "state": "s1",
    }
    page = requests.get(doc["authorization_endpoint"], params=params, timeout=5)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert qbo.company_name.replace("&", "&amp;") in page.text
    assert "Connect" in page.text and 'method="post"' in page.text
    approved = requests.post(
        doc["authorization_endpoint"],
        data={**params, "decision": "approve"},
        allow_redirects=False,
        timeout=5,
    )
    assert approved.status_code == 302
    query = parse_qs(urlsplit(approved.headers["Location"]).query)
    assert query["state"] == ["s1"] and query["realmId"] == [qbo.realm_id] and query["code"]
    cancelled = requests.post(
        doc["authorization_endpoint"],
        data={**params, "decision": "deny"},
        allow_redirects=False,
        timeout=5,
    )
    location = cancelled.headers["Location"]
    assert location.startswith(REDIRECT)
    assert parse_qs(urlsplit(location).query) == {"error": ["access_denied"], "state": ["s1"]}


def test_authorize_rejects_unknown_client_and_bad_scope(qbo: SandboxServer) -> None:
    endpoint = discovery(qbo)["authorization_endpoint"]
    unknown = requests.get(
        endpoint,
        params={
            "client_id": "nope",
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": REDIRECT,
        },
        allow_redirects=False,
        timeout=5,
    )
    assert unknown.status_code == 400
    bad_scope = requests.get(
        endpoint,
        params={
            "client_id": qbo.client_id,
            "response_type": "code",
            "scope": "everything",
            "redirect_uri": REDIRECT,
            "state": "a",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert parse_qs(urlsplit(bad_scope.headers["Location"]).query)["error"] == ["invalid_scope"]


def test_auto_approve_exchange_and_api_call(auto: SandboxServer) -> None:
    params = authorize(auto, state="st4te")
    assert params["state"] == "st4te" and params["realmId"] == auto.realm_id
    tokens = exchange(auto)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 8726400
    assert set(tokens) == {
        "token_type",
        "expires_in",
        "refresh_token",
        "x_refresh_token_expires_in",
        "access_token",
    }
    info = company_info(auto, tokens["access_token"])
    assert info.status_code == 200
    assert info.json()["CompanyInfo"]["CompanyName"] == auto.company_name


def test_code_is_single_use_and_bound_to_redirect_uri(auto: SandboxServer) -> None:
    code = authorize(auto)["code"]
    wrong = token(
        auto,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost:9/other",
        },
    )
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_grant"})
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert token(auto, data).status_code == 200
    again = token(auto, data)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})


def test_code_expires_after_ten_minutes(auto: SandboxServer) -> None:
    code = authorize(auto)["code"]
    auto.clock.advance(601)
    response = token(
        auto, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert (response.status_code, response.json()) == (400, {"error": "invalid_grant"})


def test_invalid_client_and_client_secret_post(auto: SandboxServer) -> None:
    code = authorize(auto)["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    bad = token(auto, data, secret="wrong")
    assert (bad.status_code, bad.json()) == (401, {"error": "invalid_client"})
    assert bad.headers["intuit_tid"]
    posted = requests.post(
        discovery(auto)["token_endpoint"],
        data={**data, "client_id": auto.client_id, "client_secret": auto.client_secret},
        timeout=5,
    )
    assert posted.status_code == 200
    assert "application/json" in posted.headers["Content-Type"]


def test_refresh_keeps_token_within_interval_then_rotates(auto: SandboxServer) -> None:
    first = exchange(auto)
    same = refresh(auto, first["refresh_token"])
    assert same.status_code == 200
    assert same.json()["refresh_token"] == first["refresh_token"]
    assert same.json()["access_token"] != first["access_token"]
    auto.clock.advance(86400)
    rotated = refresh(auto, first["refresh_token"])
    assert rotated.status_code == 200
    new_token = rotated.json()["refresh_token"]
    assert new_token != first["refresh_token"]
    stale = refresh(auto, first["refresh_token"])
    assert (stale.status_code, stale.json()) == (400, {"error": "invalid_grant"})
    assert refresh(auto, new_token).status_code == 200


def test_superseded_token_works_during_grace() -> None:
    config = SandboxConfig(auto_approve=True, rotation_interval_s=100, rotation_grace_s=3600)
    with SandboxServer(config) as server:
        first = exchange(server)
        server.clock.advance(100)
        newer = refresh(server, first["refresh_token"]).json()["refresh_token"]
        assert newer != first["refresh_token"]
        server.clock.advance(60)
        during = refresh(server, first["refresh_token"])
        assert during.status_code == 200
        assert during.json()["refresh_token"] == newer
        server.clock.advance(3600)
        after = refresh(server, first["refresh_token"])
        assert (after.status_code, after.json()) == (400, {"error": "invalid_grant"})


def test_refresh_token_dies_after_100_idle_days(auto: SandboxServer) -> None:
    config_tokens = exchange(auto)
    auto.admin.set_knobs(rotation_interval_s=10**9)
    auto.clock.advance(99 * 86400)
    assert refresh(auto, config_tokens["refresh_token"]).status_code == 200
    auto.clock.advance(100 * 86400 + 1)
    dead = refresh(auto, config_tokens["refresh_token"])
    assert (dead.status_code, dead.json()) == (400, {"error": "invalid_grant"})


def test_hard_expiry_header(auto: SandboxServer) -> None:
    tokens = exchange(auto)
    response = token(
        auto,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        **{"x-include-refresh-token-hard-expires-in": "true"},
    )
    assert 0 < response.json()["x_refresh_token_hard_expires_in"] <= 5 * 365 * 86400


def test_access_token_expires_with_clock_and_401_shape(auto: SandboxServer) -> None:
    tokens = exchange(auto)
    assert company_info(auto, tokens["access_token"]).status_code == 200
    auto.clock.advance(3600)
    expired = company_info(auto, tokens["access_token"])
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    body = expired.json()
    assert body["fault"]["type"] == "AUTHENTICATION"
    error = body["fault"]["error"][0]
    assert error["code"] == "3200"
    assert error["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert error["detail"].startswith("Token expired")
    assert tokens["access_token"] not in expired.text
    assert isinstance(body["time"], int)
    fresh = refresh(auto, tokens["refresh_token"]).json()
    assert company_info(auto, fresh["access_token"]).status_code == 200


def test_missing_or_garbage_token_is_401(qbo: SandboxServer) -> None:
    url = f"{qbo.api_base}/customer/1"
    assert requests.get(url, timeout=5).status_code == 401
    garbage = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert garbage.status_code == 401
    assert garbage.headers["Intuit-Tid"] == garbage.headers["intuit_tid"]


def test_revoke_kills_refresh_and_access_tokens(auto: SandboxServer) -> None:
    tokens = exchange(auto)
    endpoint = discovery(auto)["revocation_endpoint"]
    creds = base64.b64encode(f"{auto.client_id}:{auto.client_secret}".encode()).decode()
    bad = requests.post(
        endpoint,
        json={"token": tokens["refresh_token"]},
        headers={"Authorization": "Basic eDp5"},
        timeout=5,
    )
    assert bad.status_code == 401
    response = requests.post(
        endpoint,
        json={"token": tokens["refresh_token"]},
        headers={"Authorization": f"Basic {creds}", "Accept": "application/json"},
        timeout=5,
    )
    assert response.status_code == 200
    assert company_info(auto, tokens["access_token"]).status_code == 401
    dead = refresh(auto, tokens["refresh_token"])
    assert (dead.status_code, dead.json()) == (400, {"error": "invalid_grant"})


def test_userinfo_needs_a_valid_token(auto: SandboxServer) -> None:
    tokens = exchange(auto)
    endpoint = discovery(auto)["userinfo_endpoint"]
    ok = requests.get(
        endpoint, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=5
    )
    assert ok.status_code == 200 and ok.json()["sub"]
    assert requests.get(endpoint, timeout=5).status_code == 401


def test_another_app_connected_through_the_admin_endpoint(auto: SandboxServer) -> None:
    admin = f"{auto.base_url}/_sandbox/admin/tokens"
    other = requests.post(admin, json={"client_id": "ABsecondapp01"}, timeout=5).json()
    assert other["client_id"] == "ABsecondapp01" and other["realmId"] == auto.realm_id
    assert company_info(auto, other["access_token"]).status_code == 200
    creds = f"{other['client_id']}:{other['client_secret']}".encode()
    renewed = requests.post(
        discovery(auto)["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": other["refresh_token"]},
        headers={"Authorization": "Basic " + base64.b64encode(creds).decode()},
        timeout=5,
    )
    assert renewed.status_code == 200 and renewed.json()["access_token"]
    assert refresh(auto, other["refresh_token"]).json() == {"error": "invalid_grant"}
    again = requests.post(admin, json={"client_id": "ABsecondapp01"}, timeout=5).json()
    assert again["client_secret"] == other["client_secret"]
    assert "client_secret" not in requests.post(admin, json={}, timeout=5).json()
    assert requests.post(admin, json={"client_id": "no spaces"}, timeout=5).status_code == 400
