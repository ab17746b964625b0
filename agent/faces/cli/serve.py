"""``tunesmith serve``: the local web app (registered in agent/faces/cli/app.py)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.faces.cli.app import app, fail, out


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
        str | None, typer.Option("--token", envvar="TUNESMITH_TOKEN", help="access token (default: a new random one)")
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
        llm = assistant() is not None  # an assistant per chat, when an endpoint is configured
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    application = create_app(
        root, token, catalog=SpecCatalog.default(specs), assistant_factory=assistant if llm else None
    )
    shown = f"[{host}]" if ":" in host else host
    out.print(f"tunesmith serving studies in {root.resolve()}")
    out.print(f"open: http://{shown}:{bound}/?token={token}", soft_wrap=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        out.print(f"[yellow]warning:[/] listening on {host}: anyone who can reach it and has the token can run studies")
    config = uvicorn.Config(application, log_level="warning", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
