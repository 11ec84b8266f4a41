from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from factor_desktop.logs import RedactingFilter, redact, register_secret, setup_logging
from factor_desktop.secrets import (
    AppCredentials,
    KeyringUnavailable,
    MemoryKeyring,
    TokenSet,
    TokenStore,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _tokens(refresh: str = "AB11700000000000000000000000000000000000000refresh1") -> TokenSet:
    return TokenSet(
        realm_id="9130355",
        refresh_token=refresh,
        access_token="eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl",
        access_expires_at=NOW + timedelta(hours=1),
        refresh_issued_at=NOW,
    )


def test_tokens_round_trip_through_the_keyring(memory_keyring: MemoryKeyring) -> None:
    store = TokenStore("firm-a")
    assert store.load_tokens() is None
    store.save_tokens(_tokens())
    loaded = store.load_tokens()
    assert loaded == _tokens()
    # stored under the profile's own service name, as one entry
    assert memory_keyring.get_password("Factor Desktop/firm-a", "tokens") is not None
    assert TokenStore("firm-b").load_tokens() is None


def test_a_rotated_refresh_token_replaces_the_whole_set_in_one_write(
    memory_keyring: MemoryKeyring,
) -> None:
    store = TokenStore()
    store.save_tokens(_tokens())
    writes: list[str] = []
    original = memory_keyring.set_password

    def counting(service: str, username: str, password: str) -> None:
        writes.append(username)
        original(service, username, password)

    memory_keyring.set_password = counting  # type: ignore[method-assign]
    later = NOW + timedelta(days=1)
    rotated = _tokens().with_refresh(
        "eyJnew.eyJaccess.token",
        3600,
        "AB11new0000000000000000000000000000000000rotated",
        8726400,
        later,
    )
    store.save_tokens(rotated)
    assert writes == ["tokens"]
    loaded = store.load_tokens()
    assert loaded is not None
    assert loaded.refresh_token.endswith("rotated")
    assert loaded.access_token == "eyJnew.eyJaccess.token"
    assert loaded.refresh_issued_at == later  # a new refresh token restarts its age
    same = loaded.with_refresh(
        "eyJx.eyJy.z", 3600, loaded.refresh_token, None, later + timedelta(hours=2)
    )
    assert same.refresh_issued_at == later  # the same refresh token keeps its age


def test_token_values_never_appear_in_repr() -> None:
    tokens = _tokens()
    text = repr(tokens) + str(tokens) + repr(AppCredentials("client-id", "very-secret-value"))
    assert tokens.refresh_token not in text
    assert tokens.access_token not in text
    assert "very-secret-value" not in text


def test_no_keyring_backend_is_reported_plainly_without_fallback(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    store = TokenStore()
    with pytest.raises(KeyringUnavailable, match="No system keyring") as info:
        store.save_tokens(_tokens())
    assert "session only" in str(info.value)
    assert not list(tmp_path.iterdir())  # nothing written anywhere as a fallback


def test_app_credentials_stored_and_cleared() -> None:
    store = TokenStore()
    store.save_app(AppCredentials("ABcid", "s3cr3t-client-secret"))
    store.save_tokens(_tokens())
    assert store.load_app() == AppCredentials("ABcid", "s3cr3t-client-secret")
    store.clear_all()
    assert store.load_app() is None
    assert store.load_tokens() is None


def test_damaged_keyring_entry_asks_for_reconnect(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("Factor Desktop/default", "tokens", "{not json")
    with pytest.raises(Exception, match="reconnect"):
        TokenStore().load_tokens()


@pytest.mark.parametrize(
    "message",
    [
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.abcdefgh",
        "Authorization: Basic QUJjbGllbnQ6c2VjcmV0MTIzNDU2",
        'body {"access_token": "eyJraWQiOiJ0ZXN0.eyJhIjoxfQ.sig123", "expires_in": 3600}',
        "refresh_token=AB11784521369874563214569874563214569874&grant_type=refresh_token",
        '{"refresh_token":"L311478109728tAC93tTXAeEb1pPfyLaXBdJIJ8Y9rFKuvkq0Q"}',
        "client_secret=Zx9vQwErTyUiOp123456",
        "Token expired: AB01601391072830abcdefghijklmnopqrstuvwx",
    ],
)
def test_redaction_masks_token_shapes(message: str) -> None:
    cleaned = redact(message)
    assert "[redacted]" in cleaned
    for secret in (
        "eyJhbGciOiJSUzI1NiJ9",
        "QUJjbGllbnQ6c2VjcmV0MTIzNDU2",
        "eyJraWQiOiJ0ZXN0",
        "AB11784521369874563214569874563214569874",
        "L311478109728tAC93tTXAeEb1pPfyLaXBdJIJ8Y9rFKuvkq0Q",
        "Zx9vQwErTyUiOp123456",
        "AB01601391072830abcdefghijklmnopqrstuvwx",
    ):
        assert secret not in cleaned


def test_redaction_leaves_ordinary_text_alone() -> None:
    text = "Invoice INV-0042 for O'Brien & Sons Builders pushed (code 6140, intuit_tid 1-5f73)"
    assert redact(text) == text


def test_registered_secret_is_masked_in_log_files_and_tracebacks(tmp_path: Path) -> None:
    log_file = setup_logging(tmp_path / "logs", verbose=1)
    secret = "plain-looking-secret-value-42"
    register_secret(secret)
    logger = logging.getLogger("factor_desktop.test")
    logger.info("refreshing with %s", secret)
    try:
        raise RuntimeError(f"token {secret} rejected")
    except RuntimeError:
        logger.exception("refresh failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    content = log_file.read_text()
    assert "refreshing with [redacted]" in content
    assert "refresh failed" in content and "token [redacted] rejected" in content
    assert secret not in content


def test_filter_rewrites_record_arguments() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "sending %s", ("Bearer abcdefghijklmnop",), None
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "sending Bearer [redacted]"


def test_plaintext_and_null_keyrings_are_refused() -> None:
    from keyring.backends import null

    from factor_desktop.secrets import keyring_problem

    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]
    assert keyring_problem() == "keyring.backends.null.Keyring"
    with pytest.raises(KeyringUnavailable):
        TokenStore().save_tokens(_tokens())

    class PlaintextKeyring(MemoryKeyring):
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    keyring.set_keyring(PlaintextKeyring())
    with pytest.raises(KeyringUnavailable, match="writes secrets to a plain file"):
        TokenStore().save_tokens(_tokens())
    keyring.set_keyring(MemoryKeyring())
    assert keyring_problem() is None
