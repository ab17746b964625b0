"""``tunesmith serve``: the local web app (registered in agent/faces/cli/app.py)."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from agent.faces.cli.app import app, fail, out

#: a token a person chose: long enough not to be guessed, and safe in a link as it is
TOKEN = re.compile(r"[A-Za-z0-9._~-]{16,}")


@app.command()
def serve(
    root: Annotated[Path, typer.Option("--root", help="folder whose studies are listed; new ones go there")] = Path(
        "studies"
    ),
    host: Annotated[str, typer.Option("--host", help="address to bind (default: this machine only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port (0: any free one)")] = 8765,
    specs: Annotated[list[Path] | None, typer.Option("--specs", help="extra folder of spec files to start")] = None,
    model: Annotated[str | None, typer.Option("--model", help="LLM for the chat (see README)")] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="TUNESMITH_TOKEN",
            help="access token, kept across restarts (default: a new random one each start); 16+ characters "
            "of A-Z a-z 0-9 . _ ~ -",
        ),
    ] = None,
) -> None:
    """A local web page to start, watch, chat with and steer studies (needs the token it prints)."""
    from agent.errors import DependencyError, TunesmithError, require

    try:
        require("fastapi", "web")
        require("uvicorn", "web")
    except DependencyError as exc:
        raise fail(str(exc)) from None
    import uvicorn

    from agent.faces.catalog import SpecCatalog
    from agent.faces.chat.assistant import connect
    from agent.faces.web.app import create_app
    from agent.faces.web.auth import new_token
    from agent.llm.settings import HOW_TO_CONNECT

    chosen = token is not None
    if token is not None and not TOKEN.fullmatch(token):
        raise fail(
            "the token (--token or TUNESMITH_TOKEN) must be 16 or more characters of A-Z a-z 0-9 . _ ~ -; "
            'make one with: python -c "import secrets; print(secrets.token_urlsafe(24))"'
        )
    token = token or new_token()
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise fail(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port (0 picks a free one)"
        ) from None
    bound = sock.getsockname()[1]

    def assistant() -> Any:
        return connect(model=model)

    try:
        probe = assistant()  # an assistant per chat, when an endpoint is configured
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    application = create_app(
        root,
        token,
        host=host,
        port=bound,
        catalog=SpecCatalog.default(specs),
        assistant_factory=assistant if probe is not None else None,
    )
    shown = f"[{host}]" if ":" in host else host
    out.print(f"tunesmith serving studies in {root.resolve()}")
    out.print(f"open: http://{shown}:{bound}/?token={token}", soft_wrap=True)
    if not chosen:
        out.print(f"[dim]the same link after a restart: export TUNESMITH_TOKEN={token} (or --token)[/]", soft_wrap=True)
    if probe is None:
        out.print(f"chat: slash-commands only; free text needs an LLM: {escape(HOW_TO_CONNECT)}", soft_wrap=True)
    elif (problem := probe.check()) is not None:
        out.print(
            f"[yellow]warning:[/] the chat's LLM is unreachable: {escape(problem)}; free text fails until it answers"
        )
    else:
        out.print(f"chat: LLM connected: {escape(probe.label)}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        out.print(
            f"[yellow]warning:[/] listening on {host}: anyone who can reach it and has the token can start any "
            "catalog spec's command and steer every study under --root"
        )
    config = uvicorn.Config(application, log_level="warning", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
