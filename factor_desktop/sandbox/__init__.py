"""A faithful local QuickBooks Online: OAuth 2.0 and the v3 JSON API over real HTTP.

It is the peer of the integration tests and of the app's demo mode::

    with SandboxServer(SandboxConfig(seed="demo", auto_approve=True)) as qbo:
        qbo.base_url, qbo.discovery_url, qbo.client_id, qbo.client_secret, qbo.realm_id
        qbo.clock.advance(3600)

The package depends on the standard library and werkzeug only.

Rate limits (off unless asked for): QBO's published limits, 500 requests a minute per company,
10 a second per company and app, 10 requests in flight per company, 40 batch requests a minute
per company and app and 120 per company, 30 items per batch, each refused with QBO's 429 (XML
body, no ``Retry-After``). Requests are stamped when they arrive. ``time_scale`` X multiplies the
length of every window (X = 0.01: a QBO minute lasts 0.6 s, a second 10 ms) so a benchmark can
run compressed; the client under test should scale its own windows by the same X. Start one::

    SandboxServer(SandboxConfig(rate_limits=True, time_scale=0.01))    # in-process
    factor-desktop sandbox --rate-limits --time-scale 0.01             # or python -m ...sandbox

``server.rate_limits()`` (also ``rate_limits`` in the JSON line the CLI prints first, and in
``/_sandbox/admin/state``) reports the counts and the windows' real lengths (``minute_s``,
``second_s``); ``rate_limits`` and ``time_scale`` are knobs, changeable while it runs.

Admin endpoints (outside /v3, for tests and demo mode; no authentication, so keep the sandbox on
127.0.0.1). Every request must name the server by its own host and port (``127.0.0.1:PORT``,
``localhost:PORT``, ``[::1]:PORT``; anything else is a 400, against DNS rebinding); an admin
request carrying a foreign ``Origin`` or a ``Sec-Fetch-Site`` other than same-origin/none is a
403, and admin POSTs must be ``application/json`` (what a page on another site cannot send
without a preflight), so a web page open while the demo runs cannot drive them.
The endpoints: ``GET|POST /_sandbox/admin/clock`` ({"advance": seconds} or {"set": ISO datetime}),
``GET|POST /_sandbox/admin/knobs`` (any :class:`~.knobs.Knobs` field), ``GET|POST
/_sandbox/admin/preferences`` (deep-merged into Preferences; ``custom_fields`` {"1": "Crew #",
"2": null} names or switches off sales-form custom fields), ``POST /_sandbox/admin/tax-rate``
({"id": "1", "RateValue": "9"}: a tax agency's rate changes, as in QuickBooks' sales tax
settings; the API only reads tax rates), ``GET /_sandbox/admin/state`` and
``POST /_sandbox/admin/tokens`` (a token pair for the app, as after a consent; with
{"client_id": "..."} another app is connected to the company and the answer adds its
``client_id`` and ``client_secret``, e.g. to reach the per-realm limits shared between apps).

Where Intuit documents no wording, the sandbox chooses (and tests pin) these answers:

* CDC with ``changedSince`` more than 30 days back: HTTP 400 ValidationFault, code ``500``
  "Unsupported Operation", Detail "Operation cdc with changedSince date … which is older than
  fixed days is not supported." (the text QBO sends for this case). More than 1000 objects, or an
  entity CDC does not cover (TaxCode, TaxRate, CompanyInfo, …): the same fault shape, the Detail
  saying to query shorter periods or naming the entity.
* Over-applied payments, a payment applied to another customer's invoice, sub-customers deeper
  than four levels, a billable expense line without a customer: 6000 business validation faults.
* Batch over 30 items: 1040 "Batch size exceeds allowed limit". A 429 comes before any other
  check except authentication, and injected 5xx faults are 500 (SystemFault JSON), 502 or 503
  (gateway HTML), chosen at random.
* ``time_scale`` multiplies the length of the rate-limit windows (0.01: a QBO minute lasts
  0.6 s); moving the clock forward also moves the windows.
* DisplayName and other name uniqueness ignores case and repeated spaces. A deactivated
  customer, vendor, employee, item or account gets QBO's " (deleted)" after its DisplayName or
  Name and FullyQualifiedName (as recorded QBO traffic shows; terms keep their names, as nothing
  recorded shows otherwise); its plain name stays taken, and sending the suffixed name back
  (full update, reactivation) means the plain name.
* Deactivating a customer that, or one of whose sub-customers, has an open balance: QBO's
  "Delete List Has Balance Error" with code ``6000`` (the code QBO sends was never published).
* A change of a customer's or vendor's Balance (invoices, payments, bills) is a change to it:
  new SyncToken and LastUpdatedTime, and it shows in CDC. An update that changes nothing keeps
  both, as QBO does (recorded: a repeated deactivation).
* No ``id_token`` is issued for OpenID scopes (the JWKS is empty); the refresh-token idle limit
  is 100 days while ``x_refresh_token_expires_in`` reports Intuit's 8726400.
"""

from __future__ import annotations

from .cli import add_arguments, main, run_from_args
from .clock import SandboxClock
from .core import SandboxConfig
from .server import SandboxAdmin, SandboxServer

__all__ = [
    "SandboxAdmin",
    "SandboxClock",
    "SandboxConfig",
    "SandboxServer",
    "add_arguments",
    "main",
    "run_from_args",
]
