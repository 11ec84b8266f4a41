"""The OAuth pieces that need no QBO peer: redirect parsing, the loopback receiver, tokens."""

from __future__ import annotations

import base64
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses

from factor_desktop.qbo.errors import QboAuthError
from factor_desktop.qbo.oauth import (
    AuthorizationDeniedError,
    Endpoints,
    IntuitOAuth,
    InvalidClientError,
    InvalidGrantError,
    LoopbackReceiver,
    OAuthFlowError,
    StateMismatchError,
    TokenResponse,
    parse_redirect,
    resolve_environment,
)
from factor_desktop.qbo.tokens import ReconnectNeededError, TokenManager
from factor_desktop.secrets import TokenSet, TokenStore


def test_parse_redirect_reads_code_state_and_realm() -> None:
    result = parse_redirect(
        "http://localhost:8765/callback?code=AB11abc&state=s1&realmId=9130355", "s1"
    )
    assert (result.code, result.state, result.realm_id) == ("AB11abc", "s1", "9130355")
    assert parse_redirect("?code=c&state=s1&realmId=1", "s1").code == "c"


@pytest.mark.parametrize(
    ("url", "error", "text"),
    [
        ("http://x/cb?code=c&state=other&realmId=1", StateMismatchError, "state does not match"),
        ("http://x/cb?code=c&realmId=1", StateMismatchError, "Start connecting again"),
        ("http://x/cb?error=access_denied&state=s1", AuthorizationDeniedError, "cancelled"),
        ("http://x/cb?code=c&state=s1", OAuthFlowError, "missing realmId"),
        ("http://x/cb?error=server_error&state=s1", OAuthFlowError, "server_error"),
    ],
)
def test_parse_redirect_refuses_bad_answers(url: str, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        parse_redirect(url, "s1")


def test_environments() -> None:
    assert resolve_environment("sandbox").api_base == "https://sandbox-quickbooks.api.intuit.com"
    assert resolve_environment("production").discovery_url.endswith("openid_configuration")
    local = resolve_environment("http://127.0.0.1:5123/.well-known/openid_configuration")
    assert local.api_base == "http://127.0.0.1:5123"
    with pytest.raises(OAuthFlowError, match="Unknown QuickBooks environment"):
        resolve_environment("staging")


def test_loopback_receiver_accepts_one_matching_redirect() -> None:
    with LoopbackReceiver("st4te") as receiver:
        assert receiver.redirect_uri.startswith("http://localhost:")
        base = f"http://127.0.0.1:{receiver.port}"
        assert requests.get(f"{base}/favicon.ico", timeout=5).status_code == 404
        page = requests.get(f"{base}/callback?code=c1&state=st4te&realmId=42", timeout=5)
        assert page.status_code == 200 and "You can close this tab" in page.text
        url = receiver.wait(5)
        assert parse_redirect(url, "st4te").code == "c1"
        with pytest.raises(requests.ConnectionError):  # single use: the listener is gone
            requests.get(f"{base}/callback?code=c2&state=st4te&realmId=42", timeout=2)


def test_loopback_receiver_answers_a_state_mismatch_and_keeps_waiting() -> None:
    receiver = LoopbackReceiver("expected")
    page = requests.get(
        f"http://127.0.0.1:{receiver.port}/callback?code=c&state=forged&realmId=1", timeout=5
    )
    assert page.status_code == 400 and "does not belong" in page.text
    # A forged redirect cannot end the wait: only the real one (or the timeout) does.
    with pytest.raises(OAuthFlowError, match="No answer from QuickBooks"):
        receiver.wait(0.5)


def test_loopback_receiver_times_out_and_can_be_cancelled() -> None:
    receiver = LoopbackReceiver("s")
    started = time.monotonic()
    with pytest.raises(OAuthFlowError, match=r"No answer from QuickBooks within 0\.3 seconds"):
        receiver.wait(0.3)
    assert time.monotonic() - started < 3
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(OAuthFlowError, match="cancelled"):
        LoopbackReceiver("s").wait(30, cancel)


def test_busy_port_is_explained() -> None:
    with LoopbackReceiver("s") as first, pytest.raises(OAuthFlowError, match="busy"):
        LoopbackReceiver("s", port=first.port)


# --- the token requests, against a token endpoint that answers as told -----------------------

TOKEN_URL = "https://oauth.example.test/oauth2/v1/tokens/bearer"


def _intuit() -> IntuitOAuth:
    endpoints = Endpoints("https://example.test/auth", TOKEN_URL, "https://example.test/revoke", "")
    return IntuitOAuth(endpoints, "the-client", "the-secret")


def test_the_code_exchange_sends_the_grant_with_basic_credentials() -> None:
    with responses.RequestsMock() as mock:
        mock.post(
            TOKEN_URL,
            json={
                "token_type": "bearer",
                "access_token": "a1",
                "refresh_token": "r1",
                "expires_in": 3600,
                "x_refresh_token_expires_in": 8726400,
                "x_refresh_token_hard_expires_in": 157680000,
            },
        )
        tokens = _intuit().exchange_code("the-code", "http://localhost:8765/callback")
        request = mock.calls[0].request
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_in) == ("a1", "r1", 3600)
    assert (tokens.refresh_expires_in, tokens.hard_expires_in) == (8726400, 157680000)
    assert parse_qs(str(request.body)) == {
        "grant_type": ["authorization_code"],
        "code": ["the-code"],
        "redirect_uri": ["http://localhost:8765/callback"],
    }
    basic = base64.b64encode(b"the-client:the-secret").decode()
    assert request.headers["Authorization"] == f"Basic {basic}"
    assert request.headers["x-include-refresh-token-hard-expires-in"] == "true"


def test_a_refresh_keeps_the_rotated_token_or_the_one_it_used() -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "a2", "refresh_token": "r2", "expires_in": 60})
        mock.post(TOKEN_URL, json={"access_token": "a3", "token_type": "bearer"})
        rotated = _intuit().refresh("r1")
        kept = _intuit().refresh("r2")
        form = parse_qs(str(mock.calls[0].request.body))
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == ["r1"]
    assert (rotated.access_token, rotated.refresh_token, rotated.expires_in) == ("a2", "r2", 60)
    assert (kept.access_token, kept.refresh_token, kept.expires_in) == ("a3", "r2", 3600)


@pytest.mark.parametrize(
    ("status", "answer", "error", "text"),
    [
        (400, {"error": "invalid_grant"}, InvalidGrantError, "Reconnect to QuickBooks"),
        (401, {"error": "invalid_client"}, InvalidClientError, "Client ID and Client Secret"),
        (400, {"error": "invalid_request"}, OAuthFlowError, "refused the sign-in: invalid_request"),
        (200, {"token_type": "bearer"}, OAuthFlowError, "without usable tokens"),
        (200, {"access_token": "a", "expires_in": "soon"}, OAuthFlowError, "without usable"),
        (200, "<html>maintenance</html>", OAuthFlowError, "unreadable reply"),
        (200, "[1, 2]", OAuthFlowError, "unreadable reply"),
        (502, "<html>bad gateway</html>", OAuthFlowError, r"could not be reached \(HTTPError\)"),
        (429, "<html>slow down</html>", OAuthFlowError, r"could not be reached \(HTTPError\)"),
    ],
)
def test_token_endpoint_refusals_are_plain_messages(
    status: int, answer: object, error: type[Exception], text: str
) -> None:
    with responses.RequestsMock() as mock:
        if isinstance(answer, dict):
            mock.post(TOKEN_URL, status=status, json=answer)
        else:
            mock.post(TOKEN_URL, status=status, body=str(answer))
        with pytest.raises(error, match=text) as info:
            _intuit().refresh("the-refresh-token")
    assert "the-refresh-token" not in str(info.value) and "the-secret" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_an_unreachable_token_endpoint_is_explained() -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, body=requests.ConnectionError("refused"))
        with pytest.raises(OAuthFlowError, match=r"could not be reached \(ConnectionError\)"):
            _intuit().exchange_code("c", "http://localhost:1/callback")


# --- the token manager, with a fake Intuit token endpoint -----------------------------------

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class FakeIntuit:
    """Stands in for IntuitOAuth: counts refreshes, can rotate, refuse, and be slow."""

    def __init__(self) -> None:
        self.refreshes = 0
        self.rotate = False
        self.invalid_grant = False
        self.delay = 0.0
        self.lock = threading.Lock()

    def refresh(self, refresh_token: str) -> TokenResponse:
        time.sleep(self.delay)
        with self.lock:
            self.refreshes += 1
            n = self.refreshes
        if self.invalid_grant:
            raise InvalidGrantError("QuickBooks no longer accepts this connection")
        return TokenResponse(
            access_token=f"access-{n}",
            refresh_token=f"refresh-{n}" if self.rotate else refresh_token,
            expires_in=3600,
            refresh_expires_in=8726400,
            hard_expires_in=None,
        )


def _seed(store: TokenStore, expires_in: timedelta = timedelta(hours=1)) -> None:
    store.save_tokens(
        TokenSet("123", "refresh-0", "access-0", NOW + expires_in, NOW - timedelta(days=3))
    )


def _manager(store: TokenStore, intuit: FakeIntuit, **kwargs: object) -> TokenManager:
    return TokenManager(store, intuit, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def test_valid_access_token_is_used_without_refreshing() -> None:
    store, intuit = TokenStore(), FakeIntuit()
    _seed(store)
    assert _manager(store, intuit).access_token() == "access-0"
    assert intuit.refreshes == 0


def test_access_token_is_refreshed_before_it_expires() -> None:
    store, intuit = TokenStore(), FakeIntuit()
    _seed(store, expires_in=timedelta(minutes=2))  # inside the five-minute margin
    assert _manager(store, intuit).access_token() == "access-1"
    assert intuit.refreshes == 1
    saved = store.load_tokens()
    assert saved is not None and saved.access_token == "access-1"
    assert saved.access_expires_at == NOW + timedelta(hours=1)


def test_concurrent_401s_are_coalesced_into_one_refresh() -> None:
    store, intuit = TokenStore(), FakeIntuit()
    intuit.delay = 0.2
    _seed(store)
    manager = _manager(store, intuit)
    results: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(manager.refresh_after_unauthorized("access-0"))
        )
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert intuit.refreshes == 1
    assert results == ["access-1"] * 8


def test_rotated_refresh_token_is_saved_before_the_access_token_is_used() -> None:
    intuit = FakeIntuit()
    intuit.rotate = True
    order: list[str] = []

    class WatchingStore(TokenStore):
        def save_tokens(self, tokens: TokenSet) -> None:
            order.append(f"saved {tokens.refresh_token}")
            super().save_tokens(tokens)

    store = WatchingStore()
    _seed(store)
    order.clear()
    token = _manager(store, intuit).refresh_after_unauthorized("access-0")
    order.append(f"used {token}")
    assert order == ["saved refresh-1", "used access-1"]
    saved = store.load_tokens()
    assert saved is not None and saved.refresh_token == "refresh-1"
    assert saved.refresh_issued_at == NOW


def test_tokens_rotated_by_another_process_are_picked_up_instead_of_refreshing() -> None:
    store, intuit = TokenStore(), FakeIntuit()
    _seed(store)
    manager = _manager(store, intuit)
    assert manager.access_token() == "access-0"
    # the command line refreshed meanwhile and saved a new set
    store.save_tokens(TokenSet("123", "refresh-9", "access-9", NOW + timedelta(hours=1), NOW))
    assert manager.refresh_after_unauthorized("access-0") == "access-9"
    assert intuit.refreshes == 0


def test_invalid_grant_asks_for_reconnect_and_keeps_nothing_half_done() -> None:
    store, intuit = TokenStore(), FakeIntuit()
    intuit.invalid_grant = True
    _seed(store)
    reasons: list[str] = []
    manager = _manager(store, intuit, on_reconnect_needed=reasons.append)
    with pytest.raises(ReconnectNeededError) as info:
        manager.refresh_after_unauthorized("access-0")
    assert isinstance(info.value, QboAuthError)
    assert reasons and "no longer accepts" in reasons[0]
    saved = store.load_tokens()
    assert saved is not None and saved.refresh_token == "refresh-0"  # untouched


def test_not_connected_is_a_clear_auth_error() -> None:
    with pytest.raises(ReconnectNeededError, match="Not connected"):
        _manager(TokenStore(), FakeIntuit()).access_token()
