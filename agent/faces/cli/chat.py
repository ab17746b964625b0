"""``tunesmith chat [DIR]``: the terminal chat (registered in agent/faces/cli/app.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.faces.cli.app import app, fail


@app.command()
def chat(
    dir: Annotated[Path | None, typer.Argument(help="a study folder to open (default: none; /start or /open)")] = None,
    root: Annotated[Path, typer.Option("--root", help="where studies are listed and created")] = Path("studies"),
    specs: Annotated[list[Path] | None, typer.Option("--specs", help="extra folder of spec files for /start")] = None,
    live: Annotated[bool, typer.Option("--live/--no-live", help="print trials as they finish")] = True,
    model: Annotated[str | None, typer.Option("--model", help="LLM model name (with OPENAI_BASE_URL/KEY)")] = None,
    script: Annotated[
        Path | None, typer.Option("--llm-script", hidden=True, help="replay LLM replies from a JSON file (tests)")
    ] = None,
) -> None:
    """Chat with a study: slash-commands without an LLM; questions and steering with one."""
    from agent.errors import TunesmithError
    from agent.faces.catalog import SpecCatalog
    from agent.faces.chat.assistant import connect
    from agent.faces.chat.conversation import Conversation
    from agent.faces.chat.repl import repl
    from agent.faces.handle import Handles

    handles = Handles("terminal")
    try:
        conv = Conversation(
            root=root,
            handles=handles,
            catalog=SpecCatalog.default(specs),
            assistant=connect(model=model, script=script),
            allow_paths=True,
        )
        if dir is not None:
            conv.open(str(dir))
    except TunesmithError as exc:
        handles.close()
        raise fail(str(exc)) from None
    raise typer.Exit(repl(conv, live=live))
