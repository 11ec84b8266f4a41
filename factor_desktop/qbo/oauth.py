"""OAuth 2.0 with Intuit, for a desktop app.

The endpoints come from Intuit's OpenID discovery document (production, sandbox, or the URL of a
local QBO sandbox). The token requests' bodies and the reading of their answers (tokens, RFC 6749
error codes) are oauthlib's; the requests themselves are made here with `requests`, the app's
credentials in HTTP Basic authentication. Intuit's revoke endpoint takes JSON rather than
RFC 7009's form body, so that call is plain too.

A loopback listener on 127.0.0.1 receives the browser's redirect (single use, `state` checked, a
timeout; a request with another `state` is answered and ignored, so it cannot cancel the wait),
and `parse_redirect` completes the same flow from a URL the administrator pastes when the
redirect goes to a hosted page (Intuit allows `http://localhost` redirects only for development
keys).
"""

from __future__ import annotations

import html
import logging
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from oauthlib.oauth2 import OAuth2Error, WebApplicationClient

log = logging.getLogger(__name__)

SCOPE_ACCOUNTING = "com.intuit.quickbooks.accounting"
DISCOVERY_URLS = {
    "production": "https://developer.api.intuit.com/.well-known/openid_configuration",
    "sandbox": "https://developer.api.intuit.com/.well-known/openid_sandbox_configuration",
}
API_BASES = {
    "production": "https://quickbooks.api.intuit.com",
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
}


class OAuthFlowError(Exception):
    """A connection step failed; the message tells the administrator what to do."""


class StateMismatchError(OAuthFlowError):
    pass


class AuthorizationDeniedError(OAuthFlowError):
    pass


class InvalidGrantError(OAuthFlowError):
    """The refresh token (or code) is no longer accepted: the company must be reconnected."""


class InvalidClientError(OAuthFlowError):
    pass


@dataclass(frozen=True)
class Environment:
    name: str
    discovery_url: str
    api_base: str


def resolve_environment(value: str) -> Environment:
    """`production`, `sandbox`, or the discovery URL of a local QBO sandbox.

    For a discovery URL of our own, the API is served from the same origin.
    """
    if value in DISCOVERY_URLS:
        return Environment(value, DISCOVERY_URLS[value], API_BASES[value])
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OAuthFlowError(
            f"Unknown QuickBooks environment {value!r}: use production, sandbox, "
            "or the URL of a discovery document."
        )
    return Environment(value, value, f"{parts.scheme}://{parts.netloc}")


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    revocation: str
    issuer: str


def discover(environment: Environment, session: requests.Session | None = None) -> Endpoints:
    http = session or requests.Session()
    try:
        response = http.get(environment.discovery_url, timeout=(5, 30))
        response.raise_for_status()
        doc = response.json()
        return Endpoints(
            authorization=doc["authorization_endpoint"],
            token=doc["token_endpoint"],
            revocation=doc["revocation_endpoint"],
            issuer=doc.get("issuer", ""),
        )
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise OAuthFlowError(
            f"Intuit's sign-in settings could not be read from {environment.discovery_url} "
            f"({type(exc).__name__}). Check the internet connection and try again."
        ) from None
    finally:
        if session is None:
            http.close()


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int | None
    hard_expires_in: int | None

    def __repr__(self) -> str:
        return f"TokenResponse(expires_in={self.expires_in}, refresh={self.refresh_expires_in})"

    __str__ = __repr__


@dataclass(frozen=True)
class RedirectResult:
    code: str
    state: str
    realm_id: str

    def __repr__(self) -> str:
        return f"RedirectResult(realm_id={self.realm_id!r})"


def parse_redirect(url_or_query: str, expected_state: str) -> RedirectResult:
    """Read `code`, `state` and `realmId` from the redirect URL (or its query string)."""
    text = url_or_query.strip()
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    if "error" in params:
        if params.get("state") not in (None, expected_state):
            raise StateMismatchError(_STATE_MESSAGE)
        if params["error"] == "access_denied":
            raise AuthorizationDeniedError(
                "The connection was cancelled in QuickBooks; nothing was changed."
            )
        raise OAuthFlowError(f"QuickBooks refused the connection: {params['error']}.")
    if params.get("state") != expected_state:
        raise StateMismatchError(_STATE_MESSAGE)
    missing = [name for name in ("code", "realmId") if not params.get(name)]
    if missing:
        raise OAuthFlowError(
            "That address is not a complete QuickBooks sign-in response "
            f"(missing {', '.join(missing)}). Paste the whole address you were redirected to."
        )
    return RedirectResult(params["code"], params["state"], params["realmId"])


_STATE_MESSAGE = (
    "This sign-in response does not belong to the connection Factor Desktop started "
    "(its state does not match). Start connecting again."
)


def new_state() -> str:
    return secrets.token_urlsafe(24)


class IntuitOAuth:
    """Token exchange, refresh and revoke for one Intuit app."""

    def __init__(
        self,
        endpoints: Endpoints,
        client_id: str,
        client_secret: str,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.endpoints = endpoints
        self._client_id = client_id
        self._client_secret = client_secret
        self._timeout = timeout
        self._session = session

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        params = {
            "client_id": self._client_id,
            "response_type": "code",
            "scope": SCOPE_ACCOUNTING,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self.endpoints.authorization}?{urlencode(params)}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenResponse:
        client = WebApplicationClient(self._client_id)
        body = client.prepare_request_body(
            code=code, redirect_uri=redirect_uri, include_client_id=False
        )
        return self._token_response(self._request_token(client, body))

    def refresh(self, refresh_token: str) -> TokenResponse:
        client = WebApplicationClient(self._client_id)
        body = client.prepare_refresh_body(refresh_token=refresh_token, scope=SCOPE_ACCOUNTING)
        token = self._request_token(client, body)
        # Intuit answers every refresh with the refresh token to keep (the same or a new one);
        # should an answer leave it out, the one just used is still the one to keep.
        token.setdefault("refresh_token", refresh_token)
        return self._token_response(token)

    def revoke(self, token: str) -> None:
        http = self._session or requests.Session()
        try:
            response = http.post(
                self.endpoints.revocation,
                json={"token": token},
                auth=(self._client_id, self._client_secret),
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise OAuthFlowError(
                f"QuickBooks could not be reached to revoke the connection ({type(exc).__name__})."
            ) from None
        finally:
            if self._session is None:
                http.close()
        if response.status_code == 401:
            raise InvalidClientError(_INVALID_CLIENT)
        if response.status_code not in (200, 204, 400):
            # 400 means the token is already unknown to Intuit: nothing left to revoke.
            raise OAuthFlowError(
                f"QuickBooks did not revoke the connection (HTTP {response.status_code}, "
                f"intuit_tid {response.headers.get('intuit_tid', '-')})."
            )

    @staticmethod
    def _headers() -> dict[str, str]:
        return {"Accept": "application/json", "x-include-refresh-token-hard-expires-in": "true"}

    def _request_token(self, client: WebApplicationClient, body: str) -> dict[str, Any]:
        """POST `body` to the token endpoint; the answer's tokens, or an OAuthFlowError."""
        http = self._session or requests.Session()
        try:
            response = http.post(
                self.endpoints.token,
                data=body,
                auth=(self._client_id, self._client_secret),
                headers={
                    **self._headers(),
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                timeout=self._timeout,
            )
            if response.status_code >= 500:
                response.raise_for_status()
            try:
                answer = response.json()
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                # Not an OAuth answer (a gateway's error page, say): its HTTP error if it has
                # one, otherwise unreadable.
                response.raise_for_status()
                raise ValueError("the token endpoint's answer is not a JSON object")
        except requests.RequestException as exc:
            raise OAuthFlowError(
                f"QuickBooks sign-in could not be reached ({type(exc).__name__}). "
                "Check the internet connection and try again."
            ) from None
        except ValueError:
            raise OAuthFlowError(
                "QuickBooks answered the sign-in with an unreadable reply."
            ) from None
        finally:
            if self._session is None:
                http.close()
        try:
            token: dict[str, Any] = dict(client.parse_request_body_response(response.text))
            return token
        except OAuth2Error as exc:
            if exc.error == "invalid_grant":
                raise InvalidGrantError(
                    "QuickBooks no longer accepts this connection (invalid_grant). "
                    "Reconnect to QuickBooks; nothing waiting to sync is lost."
                ) from None
            if exc.error == "invalid_client":
                raise InvalidClientError(_INVALID_CLIENT) from None
            if exc.error == "missing_token":
                raise OAuthFlowError(_NO_TOKENS) from None
            raise OAuthFlowError(f"QuickBooks refused the sign-in: {exc.error}.") from None
        except ValueError:  # a malformed field, such as an expires_in that is not a number
            raise OAuthFlowError(_NO_TOKENS) from None

    @staticmethod
    def _token_response(token: dict[str, Any]) -> TokenResponse:
        try:
            return TokenResponse(
                access_token=str(token["access_token"]),
                refresh_token=str(token["refresh_token"]),
                expires_in=int(token.get("expires_in", 3600)),
                refresh_expires_in=_opt_int(token.get("x_refresh_token_expires_in")),
                hard_expires_in=_opt_int(token.get("x_refresh_token_hard_expires_in")),
            )
        except (KeyError, TypeError, ValueError):
            raise OAuthFlowError(_NO_TOKENS) from None


_NO_TOKENS = "QuickBooks answered the sign-in without usable tokens."
_INVALID_CLIENT = (
    "Intuit did not accept the app's Client ID and Client Secret (invalid_client). "
    "Check them in the Intuit developer portal and connect again."
)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


# --- loopback redirect receiver --------------------------------------------------------------

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Factor Desktop</title>
<style>body{{font-family:system-ui,sans-serif;margin:15vh auto;max-width:32em;color:#1d2b36}}
h1{{font-size:1.4em}}</style></head><body><h1>{title}</h1><p>{text}</p></body></html>"""


class LoopbackReceiver:
    """Receives one OAuth redirect on 127.0.0.1 and hands its URL to the waiting caller."""

    def __init__(self, expected_state: str, port: int = 0, path: str = "/callback") -> None:
        self.expected_state = expected_state
        self.path = path
        self._result: str | None = None
        self._error: OAuthFlowError | None = None
        self._done = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("loopback redirect: %s", self.path.split("?")[0])

        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise OAuthFlowError(
                f"Port {port} on this computer is busy, so the sign-in redirect cannot be "
                f"received ({exc.strerror}). Choose another redirect port."
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="oauth-loopback", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        # Intuit accepts localhost (not a bare IP address) for development keys.
        return f"http://localhost:{self.port}{self.path}"

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        if parts.path != self.path or self._done.is_set():
            self._reply(request, 404, "Nothing here", "This address is not expecting a sign-in.")
            return
        try:
            parse_redirect(parts.query, self.expected_state)
        except StateMismatchError as exc:
            # Not the browser we sent (another page, or someone guessing the port): answer it
            # and keep waiting, so it cannot cancel the connection being made.
            log.warning("Ignored a sign-in redirect whose state does not match this connection")
            self._reply(request, 400, "Not connected", html.escape(str(exc)))
            return
        except OAuthFlowError as exc:
            self._error = exc
            self._done.set()
            self._reply(request, 400, "Not connected", html.escape(str(exc)))
            return
        self._result = f"{self.redirect_uri}?{parts.query}"
        self._done.set()
        self._reply(
            request,
            200,
            "Connected to QuickBooks",
            "Factor Desktop has the connection. You can close this tab.",
        )

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=html.escape(title), text=text).encode()
        request.send_response(status)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(body)))
        request.send_header("Cache-Control", "no-store")
        request.end_headers()
        request.wfile.write(body)

    def wait(self, timeout: float, cancel: threading.Event | None = None) -> str:
        """The redirect URL, once received. Raises on timeout, cancel, or a bad response."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not self._done.wait(0.1):
                if deadline.is_set():
                    raise OAuthFlowError(
                        f"No answer from QuickBooks within {timeout:g} seconds. "
                        "Start connecting again, or paste the address you were redirected to."
                    )
                if cancel is not None and cancel.is_set():
                    raise OAuthFlowError("Connecting was cancelled.")
        finally:
            timer.cancel()
            self.close()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
