"""Serving a sandbox company over HTTP on a threaded werkzeug server."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import SandboxApp
from .clock import SandboxClock
from .core import Sandbox, SandboxConfig
from .store import JsonDict

log = logging.getLogger("factor_desktop.sandbox.http")


class _QuietHandler(WSGIRequestHandler):
    """Request logging goes to the ``factor_desktop.sandbox.http`` logger at DEBUG level."""

    def log(self, type: str, message: str, *args: Any) -> None:
        log.debug("%s " + message, self.address_string(), *args)


class SandboxAdmin:
    """The knobs of a running sandbox, from Python (the same as the admin endpoints)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    @property
    def knobs(self) -> dict[str, Any]:
        return self._sandbox.knobs.as_dict()

    def set_knobs(self, **changes: Any) -> dict[str, Any]:
        return self._sandbox.set_knobs(changes)

    def advance_clock(self, seconds: float) -> datetime:
        return self._sandbox.advance_clock(seconds)

    def set_clock(self, when: datetime) -> datetime:
        return self._sandbox.set_clock(when)

    def preferences(self) -> JsonDict:
        return self._sandbox.preferences()

    def update_preferences(self, patch: JsonDict) -> JsonDict:
        return self._sandbox.update_preferences(patch)

    def set_tax_rate(self, rate_id: str, rate_value: str) -> JsonDict:
        return self._sandbox.set_tax_rate(rate_id, rate_value)

    def issue_tokens(self, client_id: str | None = None) -> JsonDict:
        return self._sandbox.issue_tokens(client_id)

    def state(self) -> JsonDict:
        return self._sandbox.state()


class SandboxServer:
    """A local QuickBooks Online: ``start()`` returns once it listens, ``stop()`` shuts it down."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config if config is not None else SandboxConfig()
        self._sandbox: Sandbox | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._app: SandboxApp | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._server is not None:
            raise RuntimeError("the sandbox server is already running")
        sandbox = Sandbox(self.config)
        app = SandboxApp(sandbox)
        try:
            server = make_server(
                self.config.host,
                self.config.port,
                app,
                threaded=True,
                request_handler=_QuietHandler,
            )
        except BaseException:
            sandbox.close()
            raise
        base_url = f"http://{_url_host(self.config.host)}:{server.server_port}"
        app.listening(self.config.host, base_url, server.server_port)
        sandbox.signer.base_url = base_url
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="qbo-sandbox"
        )
        thread.daemon = True
        self._sandbox, self._server, self._app, self._thread = sandbox, server, app, thread
        thread.start()
        log.info("QBO sandbox listening on %s (realm %s)", base_url, sandbox.realm_id)
        return self

    def stop(self) -> None:
        server, thread, sandbox = self._server, self._thread, self._sandbox
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()
        if sandbox is not None:
            sandbox.close()
        self._server = self._thread = self._sandbox = self._app = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need -------------------------------------------------------------------------

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            raise RuntimeError("the sandbox server is not running")
        return self._sandbox

    @property
    def base_url(self) -> str:
        if self._app is None:
            raise RuntimeError("the sandbox server is not running")
        return self._app.base_url

    @property
    def api_base(self) -> str:
        """``{base_url}/v3/company/{realm_id}``."""
        return f"{self.base_url}/v3/company/{self.realm_id}"

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid_sandbox_configuration"

    @property
    def client_id(self) -> str:
        return self.sandbox.client_id

    @property
    def client_secret(self) -> str:
        return self.sandbox.client_secret

    @property
    def realm_id(self) -> str:
        return self.sandbox.realm_id

    @property
    def company_name(self) -> str:
        return self.sandbox.company_name

    @property
    def clock(self) -> SandboxClock:
        return self.sandbox.clock

    @property
    def admin(self) -> SandboxAdmin:
        return SandboxAdmin(self.sandbox)

    def describe(self) -> JsonDict:
        """base_url, discovery_url, client_id, client_secret, realm_id, company_name, admin_url,
        and ``rate_limits`` (see :meth:`rate_limits`)."""
        return self.sandbox.describe(self.base_url)

    def rate_limits(self) -> dict[str, Any]:
        """QBO's limits as this sandbox enforces them: ``enforced``, ``time_scale``, the counts
        (``requests_per_minute_per_realm`` 500, ``requests_per_second_per_realm_app`` 10,
        ``concurrent_per_realm`` 10, ``batch_per_minute_per_realm_app`` 40,
        ``batch_per_minute_per_realm`` 120, ``items_per_batch`` 30) and the real length of a
        QBO minute and second (``minute_s``, ``second_s``) at the current time scale."""
        return self.sandbox.rate_limits()

    # -- admin shortcuts -----------------------------------------------------------------------

    def set_knobs(self, **changes: Any) -> dict[str, Any]:
        return self.admin.set_knobs(**changes)

    def advance_clock(self, seconds: float) -> datetime:
        return self.admin.advance_clock(seconds)

    def update_preferences(self, patch: JsonDict) -> JsonDict:
        return self.admin.update_preferences(patch)

    def set_tax_rate(self, rate_id: str, rate_value: str) -> JsonDict:
        """A tax agency's rate changes in QuickBooks (its sales tax settings; the API only reads
        tax rates)."""
        return self.admin.set_tax_rate(rate_id, rate_value)

    def issue_tokens(self, client_id: str | None = None) -> JsonDict:
        """A token pair for the app (or for another app ``client_id``, see the admin docs)."""
        return self.admin.issue_tokens(client_id)

    def state(self) -> JsonDict:
        return self.admin.state()

    def token_source(self) -> SandboxTokens:
        """Bearer tokens for a QBO client that skips the OAuth flow (tests, benchmarks)."""
        return SandboxTokens(self)


class SandboxTokens:
    """A QBO client's token source backed by tokens the sandbox issues directly.

    It has the shape of the client's `TokenSource` (`access_token`, `refresh_after_unauthorized`)
    without importing it: the sandbox depends on nothing of the app.
    """

    def __init__(self, server: SandboxServer) -> None:
        self._server = server
        self._token = str(server.issue_tokens()["access_token"])

    def access_token(self) -> str:
        return self._token

    def refresh_after_unauthorized(self, rejected_token: str) -> str:
        self._token = str(self._server.issue_tokens()["access_token"])
        return self._token


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host
