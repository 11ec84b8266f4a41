"""OAuth 2.0 the way Intuit runs it: discovery, consent, token, revoke, userinfo.

Lifetimes follow Intuit: access tokens 3600 s, authorization codes 10 minutes and single-use,
refresh tokens valid for 100 days of inactivity (rolling) and at most five years, rotated when
older than the rotation interval (24 h at Intuit), the superseded one failing after a grace
period. Token values are kept in the sandbox database and never written to logs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import secrets
import string
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from .clock import SandboxClock
from .knobs import KnobBoard
from .store import JsonDict, Store

ACCESS_TOKEN_LIFETIME_S = 3600
AUTH_CODE_LIFETIME_S = 600
REFRESH_IDLE_LIMIT_S = 100 * 86400
REFRESH_EXPIRES_IN_S = 8726400
REFRESH_HARD_LIMIT_S = 5 * 365 * 86400
KNOWN_SCOPES = frozenset(
    {
        "com.intuit.quickbooks.accounting",
        "com.intuit.quickbooks.payment",
        "com.intuit.quickbooks.payroll",
        "com.intuit.quickbooks.payroll.timetracking",
        "com.intuit.quickbooks.payroll.benefits",
        "com.intuit.quickbooks.payroll.payslip.read",
        "project-management.project",
        "app-foundations.custom-field-definitions",
        "app-foundations.custom-field-definitions.read",
        "payroll.compensation.read",
        "indirect-tax.tax-calculation.quickbooks",
        "intuit_name",
        "openid",
        "profile",
        "email",
        "phone",
        "address",
    }
)
COMPANY_SCOPES = frozenset({"com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment"})
_ALNUM = string.ascii_letters + string.digits
AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/op/v1/jwks"
DISCOVERY_PATH = "/.well-known/openid_sandbox_configuration"


def _intuit_style_token() -> str:
    return "AB11" + "".join(secrets.choice(_ALNUM) for _ in range(46))


def fingerprint(token: str) -> str:
    """A short non-secret identifier of a token, safe to show in messages."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


@dataclass
class BearerCheck:
    ok: bool
    reason: str = ""
    client_id: str = ""
    realm: str = ""


class OAuthProvider:
    def __init__(
        self,
        store: Store,
        clock: SandboxClock,
        knobs: KnobBoard,
        realm: str,
        client_id: str,
        client_secret: str,
        company_name: str,
    ) -> None:
        self.store = store
        self.clock = clock
        self.knobs = knobs
        self.realm = realm
        self.client_id = client_id
        self.client_secret = client_secret
        self.company_name = company_name

    # -- discovery ---------------------------------------------------------------------------------

    def discovery(self, base_url: str) -> JsonDict:
        return {
            "issuer": f"{base_url}/op/v1",
            "authorization_endpoint": f"{base_url}{AUTHORIZE_PATH}",
            "token_endpoint": f"{base_url}{TOKEN_PATH}",
            "userinfo_endpoint": f"{base_url}{USERINFO_PATH}",
            "revocation_endpoint": f"{base_url}{REVOKE_PATH}",
            "jwks_uri": f"{base_url}{JWKS_PATH}",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }

    # -- authorization -----------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        params = request.form if request.method == "POST" else request.args
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        state = params.get("state")
        if self.app_secret(client_id) is None:
            return _error_page(400, "The app you are connecting is not recognised (client_id).")
        if not _valid_redirect(redirect_uri):
            return _error_page(400, "The redirect_uri is missing or is not an absolute URL.")
        if params.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        scopes = params.get("scope", "").split()
        if not scopes or any(s not in KNOWN_SCOPES for s in scopes):
            return _redirect(redirect_uri, {"error": "invalid_scope", "state": state})
        if request.method == "POST":
            if params.get("decision") != "approve":
                return _redirect(redirect_uri, {"error": "access_denied", "state": state})
            return self._approve(client_id, redirect_uri, scopes, state)
        if self.knobs.get().auto_approve:
            return self._approve(client_id, redirect_uri, scopes, state)
        return self._consent_page(client_id, redirect_uri, scopes, state)

    def _approve(
        self, client_id: str, redirect_uri: str, scopes: list[str], state: str | None
    ) -> Response:
        code = _intuit_style_token()
        with self.store.transaction():
            self.store.oauth_put(
                "code",
                code,
                {
                    "client_id": client_id,
                    "redirect_uri": redirect_uri,
                    "scope": " ".join(scopes),
                    "realm": self.realm,
                    "issued": self.clock.timestamp(),
                    "used": False,
                },
            )
        query: dict[str, str | None] = {"code": code, "state": state}
        if COMPANY_SCOPES.intersection(scopes):
            query["realmId"] = self.realm
        return _redirect(redirect_uri, query)

    def _consent_page(
        self, client_id: str, redirect_uri: str, scopes: list[str], state: str | None
    ) -> Response:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in (
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("scope", " ".join(scopes)),
                ("state", state or ""),
            )
            if k != "state" or state is not None
        )
        company = html.escape(self.company_name)
        items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
        page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Connect to QuickBooks</title>
<style>body{{font-family:sans-serif;max-width:34em;margin:3em auto;color:#393a3d}}
button{{font-size:1em;padding:.6em 1.4em;margin-right:.6em;border-radius:4px;
border:1px solid #2ca01c}}
.connect{{background:#2ca01c;color:#fff}}.cancel{{background:#fff;color:#2ca01c}}</style></head>
<body><h1>Connect to QuickBooks</h1>
<p>An app is asking to connect to your company <strong class="company">{company}</strong>.</p>
<p>It will be able to:</p><ul>{items}</ul>
<form method="post" action="{AUTHORIZE_PATH}">{hidden}
<button class="connect" type="submit" name="decision" value="approve">Connect</button>
<button class="cancel" type="submit" name="decision" value="deny">Cancel</button>
</form></body></html>"""
        return Response(page, status=200, content_type="text/html; charset=utf-8")

    # -- token endpoint ----------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        client_id, client_secret = _client_credentials(request)
        if client_id is None or not self._credentials_ok(client_id, client_secret):
            return _json(401, {"error": "invalid_client"})
        grant_type = request.form.get("grant_type")
        hard = request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
        with self.store.transaction():
            if grant_type == "authorization_code":
                return self._exchange_code(request, client_id, hard)
            if grant_type == "refresh_token":
                return self._refresh(request, client_id, hard)
        return _json(400, {"error": "unsupported_grant_type"})

    def _exchange_code(self, request: Request, client_id: str, hard: bool) -> Response:
        code = request.form.get("code", "")
        redirect_uri = request.form.get("redirect_uri", "")
        if not code or not redirect_uri:
            return _json(400, {"error": "invalid_request"})
        record = self.store.oauth_get("code", code)
        now = self.clock.timestamp()
        if (
            record is None
            or record["used"]
            or record["client_id"] != client_id
            or record["redirect_uri"] != redirect_uri
            or now - float(record["issued"]) > AUTH_CODE_LIFETIME_S
        ):
            return _json(400, {"error": "invalid_grant"})
        record["used"] = True
        self.store.oauth_put("code", code, record)
        family = uuid.uuid4().hex
        refresh = self._new_refresh(client_id, str(record["scope"]), family, now, now)
        return self._token_answer(
            refresh, self._new_access(client_id, family, str(record["scope"])), hard
        )

    def _refresh(self, request: Request, client_id: str, hard: bool) -> Response:
        token = request.form.get("refresh_token", "")
        if not token:
            return _json(400, {"error": "invalid_request"})
        record = self.store.oauth_get("refresh", token)
        now = self.clock.timestamp()
        knobs = self.knobs.get()
        if record is None or record["revoked"] or record["client_id"] != client_id:
            return _json(400, {"error": "invalid_grant"})
        if record.get("superseded_at") is not None:
            if now - float(record["superseded_at"]) >= knobs.rotation_grace_s:
                return _json(400, {"error": "invalid_grant"})
            while record.get("successor"):
                token = str(record["successor"])
                successor = self.store.oauth_get("refresh", token)
                if successor is None:
                    return _json(400, {"error": "invalid_grant"})
                record = successor
            if record["revoked"]:
                return _json(400, {"error": "invalid_grant"})
        if now - float(record["last_used"]) > REFRESH_IDLE_LIMIT_S:
            return _json(400, {"error": "invalid_grant"})
        if now - float(record["family_started"]) > REFRESH_HARD_LIMIT_S:
            return _json(400, {"error": "invalid_grant"})
        family = str(record["family"])
        scope = str(record["scope"])
        if now - float(record["issued"]) >= knobs.rotation_interval_s:
            new_token = self._new_refresh(
                client_id, scope, family, now, float(record["family_started"])
            )
            record["superseded_at"] = now
            record["successor"] = new_token
            self.store.oauth_put("refresh", token, record)
            token = new_token
        else:
            record["last_used"] = now
            self.store.oauth_put("refresh", token, record)
        return self._token_answer(token, self._new_access(client_id, family, scope), hard)

    def _new_refresh(
        self, client_id: str, scope: str, family: str, now: float, family_started: float
    ) -> str:
        token = _intuit_style_token()
        self.store.oauth_put(
            "refresh",
            token,
            {
                "client_id": client_id,
                "realm": self.realm,
                "scope": scope,
                "family": family,
                "family_started": family_started,
                "issued": now,
                "last_used": now,
                "superseded_at": None,
                "successor": None,
                "revoked": False,
            },
        )
        return token

    def _new_access(self, client_id: str, family: str, scope: str) -> str:
        token = secrets.token_urlsafe(64)
        now = self.clock.timestamp()
        self.store.oauth_put(
            "access",
            token,
            {
                "client_id": client_id,
                "realm": self.realm,
                "family": family,
                "scope": scope,
                "issued": now,
                "expires": now + ACCESS_TOKEN_LIFETIME_S,
                "revoked": False,
            },
        )
        return token

    def _token_answer(self, refresh: str, access: str, hard: bool) -> Response:
        record = self.store.oauth_get("refresh", refresh)
        assert record is not None
        body: JsonDict = {
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME_S,
            "refresh_token": refresh,
            "x_refresh_token_expires_in": REFRESH_EXPIRES_IN_S,
            "access_token": access,
        }
        if hard:
            remaining = REFRESH_HARD_LIMIT_S - (
                self.clock.timestamp() - float(record["family_started"])
            )
            body["x_refresh_token_hard_expires_in"] = max(0, int(remaining))
        return _json(200, body)

    def issue_tokens(
        self, scope: str = "com.intuit.quickbooks.accounting", client_id: str | None = None
    ) -> JsonDict:
        """A fresh token pair, as if the user had just connected the app.

        The app is the configured one unless ``client_id`` names another: that app is then
        connected to the company too (QBO serves many apps per company, and throttles some
        calls per app), and the answer carries its ``client_id`` and ``client_secret``.
        """
        app = self.client_id if client_id is None else client_id
        if app != self.client_id and not _valid_client_id(app):
            raise ValueError("client_id must be 1 to 100 letters, digits, '-' or '_'")
        with self.store.transaction():
            secret = self.app_secret(app)
            if secret is None:
                secret = secrets.token_urlsafe(30)
                self.store.oauth_put("app", app, {"client_secret": secret})
            now = self.clock.timestamp()
            family = uuid.uuid4().hex
            refresh = self._new_refresh(app, scope, family, now, now)
            access = self._new_access(app, family, scope)
        answer: JsonDict = {
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME_S,
            "refresh_token": refresh,
            "x_refresh_token_expires_in": REFRESH_EXPIRES_IN_S,
            "access_token": access,
            "realmId": self.realm,
        }
        if app != self.client_id:
            answer["client_id"] = app
            answer["client_secret"] = secret
        return answer

    def app_secret(self, client_id: str) -> str | None:
        """The client secret of an app connected to this company; None for an unknown app."""
        if client_id == self.client_id:
            return self.client_secret
        record = self.store.oauth_get("app", client_id) if client_id else None
        return None if record is None else str(record["client_secret"])

    def _credentials_ok(self, client_id: str, client_secret: str | None) -> bool:
        secret = self.app_secret(client_id)
        return secret is not None and secrets.compare_digest(client_secret or "", secret)

    # -- revoke ------------------------------------------------------------------------------------

    def revoke(self, request: Request) -> Response:
        client_id, client_secret = _client_credentials(request)
        if client_id is None or not self._credentials_ok(client_id, client_secret):
            return _json(401, {"error": "invalid_client"})
        token = ""
        try:
            payload = json.loads(request.get_data(as_text=True) or "{}")
            if isinstance(payload, dict):
                token = str(payload.get("token") or "")
        except ValueError:
            token = request.form.get("token", "")
        if not token:
            return _json(400, {"error": "invalid_request"})
        with self.store.transaction():
            family: str | None = None
            for kind in ("refresh", "access"):
                record = self.store.oauth_get(kind, token)
                if record is not None and record["client_id"] == client_id:
                    family = str(record["family"])
            if family is not None:
                for kind in ("refresh", "access"):
                    for key, record in self.store.oauth_all(kind):
                        if record.get("family") == family and not record["revoked"]:
                            record["revoked"] = True
                            self.store.oauth_put(kind, key, record)
        return Response(b"", status=200)

    # -- bearer tokens -----------------------------------------------------------------------------

    def check_bearer(self, header: str | None) -> BearerCheck:
        if not header or not header.lower().startswith("bearer "):
            return BearerCheck(False, "Authorization header missing or not a Bearer token")
        token = header[7:].strip()
        record = self.store.oauth_get("access", token)
        if record is None:
            return BearerCheck(False, f"Token invalid: {fingerprint(token)}")
        if record["revoked"]:
            return BearerCheck(False, f"Token revoked: {fingerprint(token)}")
        if self.clock.timestamp() >= float(record["expires"]):
            return BearerCheck(False, f"Token expired: {fingerprint(token)}")
        return BearerCheck(True, client_id=str(record["client_id"]), realm=str(record["realm"]))

    def userinfo(self, request: Request) -> Response:
        check = self.check_bearer(request.headers.get("Authorization"))
        if not check.ok:
            return _json(401, {"error": "invalid_token"})
        return _json(
            200,
            {
                "sub": uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-user:{self.realm}").hex,
                "email": "owner@example.com",
                "emailVerified": True,
                "givenName": "Sandbox",
                "familyName": "Owner",
            },
        )

    def purge(self) -> None:
        """Forget expired access tokens and used or expired authorization codes."""
        now = self.clock.timestamp()
        with self.store.transaction():
            for key, record in self.store.oauth_all("access"):
                if now - float(record["expires"]) > 86400:
                    self.store.oauth_delete("access", key)
            for key, record in self.store.oauth_all("code"):
                if now - float(record["issued"]) > AUTH_CODE_LIFETIME_S:
                    self.store.oauth_delete("code", key)


def _valid_client_id(client_id: str) -> bool:
    return 0 < len(client_id) <= 100 and all(c in _ALNUM or c in "-_" for c in client_id)


def _client_credentials(request: Request) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return request.form.get("client_id"), request.form.get("client_secret")


def _valid_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


def _redirect(uri: str, params: dict[str, str | None]) -> Response:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    target = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return Response(b"", status=302, headers={"Location": target})


def _error_page(status: int, message: str) -> Response:
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Error</title>'
        f"</head><body><h1>Something went wrong</h1><p>{html.escape(message)}</p></body></html>"
    )
    return Response(page, status=status, content_type="text/html; charset=utf-8")


def _json(status: int, body: Any) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        content_type="application/json;charset=utf-8",
        headers={"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"},
    )
