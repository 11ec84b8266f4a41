"""Keeping web pages away from the sandbox while it runs next to a browser (demo mode).

The sandbox listens on 127.0.0.1 without authentication on its admin endpoints, so two browser
attacks matter: DNS rebinding (a page whose own host name resolves to 127.0.0.1 reaches the
server under a foreign ``Host``) and cross-site request forgery (a page POSTs to the admin
endpoints). Every request must name the server by one of its own loopback names and port
(``127.0.0.1:PORT``, ``localhost:PORT``, ``[::1]:PORT``, or the host it was started on), and an
admin request coming from a browser must come from the sandbox's own origin; an admin POST must
send ``application/json``, which a page on another origin cannot send without a CORS preflight
the sandbox never grants.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.wrappers import Request

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_WILDCARDS = ("", "0.0.0.0", "::")
_SAME_SITE = ("same-origin", "none")


def allowed_hosts(bind_host: str, port: int) -> frozenset[str]:
    """The ``Host`` values the server answers to."""
    names = set(LOOPBACK_NAMES)
    if bind_host not in _WILDCARDS:
        names.add(
            f"[{bind_host}]" if ":" in bind_host and not bind_host.startswith("[") else bind_host
        )
    hosts = {f"{name}:{port}".lower() for name in names}
    if port == 80:
        hosts.update(name.lower() for name in names)
    return frozenset(hosts)


def host_refused(request: Request, hosts: frozenset[str]) -> bool:
    """True when the request names the server by a host it does not answer to."""
    host = request.headers.get("Host", "").strip().lower()
    return host not in hosts


def admin_refusal(request: Request, hosts: frozenset[str]) -> str | None:
    """Why an admin request is refused (None: it may go on)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        parsed = urlsplit(origin.strip())
        if parsed.scheme != "http" or parsed.netloc.lower() not in hosts:
            return f"requests from another origin are refused ({origin})"
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.strip().lower() not in _SAME_SITE:
        return f"requests from another site are refused (Sec-Fetch-Site: {site})"
    if request.method == "POST" and request.mimetype != "application/json":
        return "admin requests must send Content-Type: application/json"
    return None
