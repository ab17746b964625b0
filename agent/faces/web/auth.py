"""The web app's token: every request must carry it, the event stream included; only the page itself
(a static file with no data) is public, so that it can reload once it has dropped the token from the
address bar (it keeps the token in the tab's sessionStorage).

Accepted as ``Authorization: Bearer TOKEN``, ``X-Tunesmith-Token: TOKEN`` or ``?token=TOKEN`` (the link
printed at start, and EventSource, which cannot set headers). Compared in constant time. A missing token
is 401, a wrong one 403; both say where the right one is.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection

from fastapi import HTTPException, Request

HOW = "open the link that 'tunesmith serve' printed (it carries ?token=...)"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def presented(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-tunesmith-token") or request.query_params.get("token")


def checker(token: str, *, public: Collection[str] = ()) -> Callable[[Request], None]:
    """A FastAPI dependency that refuses requests without ``token``, except GETs of the ``public`` paths."""
    expected = token.encode()

    def check(request: Request) -> None:
        if request.method in ("GET", "HEAD") and request.url.path in public:
            return
        got = presented(request)
        if not got:
            raise HTTPException(401, f"missing token: {HOW}")
        if not secrets.compare_digest(got.encode(), expected):
            raise HTTPException(403, f"wrong token: {HOW}")

    return check
