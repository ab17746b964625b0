"""``tunesmith steer DIR ACTION``: steer a study from the shell, wherever it runs (registered in app.py).

The same command channel as the chat and the web page: ``stop``, ``pause`` and ``resume`` reach the
process running the study; ``budget key=value ...`` changes its budget at once (typing the command is the
confirmation). Prints the one-line answer; exit status 1 when the study refused or did not answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.faces.cli.app import DirArg, app, fail, out


@app.command()
def steer(
    dir: DirArg,
    action: Annotated[str, typer.Argument(help="stop | pause | resume | budget")],
    settings: Annotated[list[str] | None, typer.Argument(help="for budget: trials=N time=2h timeout=10m")] = None,
) -> None:
    """Stop, pause, resume or re-budget a study, in whichever process runs it."""
    from agent.errors import TunesmithError
    from agent.faces.chat.slash import BUDGET_ALIASES
    from agent.faces.handle import StudyHandle

    if action not in ("stop", "pause", "resume", "budget"):
        raise fail(f"unknown action {action!r}; use stop, pause, resume or budget")
    try:
        handle = StudyHandle(Path(dir), source="cli")
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    try:
        if action == "budget":
            changes: dict[str, object] = {}
            for item in settings or []:
                key, sep, value = item.partition("=")
                if not sep or BUDGET_ALIASES.get(key, key) not in BUDGET_ALIASES.values():
                    raise fail(f"expected trials=N, time=2h, timeout=10m or memory=MB, got {item!r}")
                changes[BUDGET_ALIASES.get(key, key)] = (
                    None if value.lower() == "none" else (int(value) if value.isdigit() else value)
                )
            if not changes:
                raise fail("what should change? e.g. tunesmith steer DIR budget trials=40 timeout=10m")
            reply = handle.send("set_budget", {"budget": changes})
        elif action == "resume" and not handle.running():
            raise fail(f"the study is not running; continue it with: tunesmith resume {handle.dir}")
        else:
            reply = handle.send(action)
    finally:
        handle.close()
    if not reply.ok:
        raise fail(reply.message, code=1)
    out.print(reply.message)
