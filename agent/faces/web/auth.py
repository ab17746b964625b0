"""The web app's token: every request must carry it, the page and the event stream included.

Accepted as ``Authorization: Bearer TOKEN``, ``X-Tunesmith-Token: TOKEN`` or ``?token=TOKEN`` (the link
printed at start, and EventSource, which cannot set headers). Compared in constant time. A missing token
is 401, a wrong one 403; both say where the right one is.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from fastapi import HTTPException, Request

HOW = "open the link that 'tunesmith serve' printed (it carries ?token=...)"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def presented(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-tunesmith-token") or request.query_params.get("token")


def checker(token: str) -> Callable[[Request], None]:
    """A FastAPI dependency that refuses requests without ``token``."""
    expected = token.encode()

    def check(request: Request) -> None:
        got = presented(request)
        if not got:
            raise HTTPException(401, f"missing token: {HOW}")
        if not secrets.compare_digest(got.encode(), expected):
            raise HTTPException(403, f"wrong token: {HOW}")

    return check
