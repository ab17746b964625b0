"""Requests must name this server, and state changes must come from its own page (DNS rebinding, CSRF).

A page on another site can make a browser send requests to ``127.0.0.1`` (or, after rebinding its own name
to that address, read the answers). Two checks, applied to every request before the token:

* ``Host`` must be the address the server is bound to, with its port: for a loopback address also
  ``localhost``, ``127.0.0.1`` and ``[::1]``; for all interfaces (``0.0.0.0``, ``::``) any IP address and
  this machine's own names. A rebound name (``evil.example``) is refused with 400.
* A state-changing request (anything but GET, HEAD, OPTIONS) that carries an ``Origin`` must come from
  ``http://HOST`` (the same Host it was sent to); another origin, or ``null``, is refused with 403.
  Requests without ``Origin`` (curl, scripts) pass: they still need the token.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _split(host: str) -> tuple[str, int | None]:
    """``name:port`` (or ``[v6]:port``) -> (name lower-cased, port or None)."""
    name, sep, port = host.rpartition(":")
    if not sep or name.endswith(":") or (host.startswith("[") and not name.endswith("]")):
        return host.lower(), None  # no port (a bare name, or a bare IPv6 literal in brackets)
    try:
        return name.lower(), int(port)
    except ValueError:
        return host.lower(), None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Address:
    """The address the server is bound to; ``port`` None accepts any port (an app not yet bound)."""

    host: str = "127.0.0.1"
    port: int | None = None

    @property
    def shown(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return f"{name}:{self.port}" if self.port is not None else name

    def _names(self) -> set[str]:
        bound = self.host.lower()
        names = {f"[{bound}]" if ":" in bound else bound}
        loopback = bound == "localhost" or (_is_ip(bound) and ipaddress.ip_address(bound).is_loopback)
        if loopback or bound in WILDCARDS:
            names.update(LOOPBACK_NAMES)
        if bound in WILDCARDS:
            names.update(n.lower() for n in (socket.gethostname(), socket.getfqdn()) if n)
        return names

    def host_problem(self, host: str | None) -> str | None:
        """None when a request's ``Host`` header names this server; else the one-line reason to refuse it."""
        name, port = _split(host or "")
        ok_name = name in self._names() or (self.host.lower() in WILDCARDS and _is_ip(name))
        ok_port = self.port is None or (port or 80) == self.port
        if ok_name and ok_port:
            return None
        return (
            f"refused: Host {host or '(none)'!r} is not this server's address ({self.shown}); open the link "
            "that 'tunesmith serve' printed (a page on another site cannot use this server)"
        )

    def origin_problem(self, method: str, origin: str | None, host: str | None) -> str | None:
        """None unless a state-changing request comes from a page of another site."""
        if method.upper() in SAFE_METHODS or origin is None:
            return None
        if origin.lower() == f"http://{(host or '').lower()}":
            return None
        return (
            f"refused: this request came from another site ({origin}); steer and chat from the page that "
            "'tunesmith serve' printed, or from a script without an Origin header"
        )
