"""What the end of ``tune`` and ``resume`` says after the summary line: the gain over the default
configuration, the LLM's verdict, and the commands to look further (``show``, ``plot``, ``serve``, ``export``).

Lines carry rich markup (the CLI's consoles print them); every piece of user text in them is escaped.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape

from agent.core.events import LlmFinished, Reflection, payload
from agent.core.records import EventKind, ProposerKind, Trial
from agent.faces.format import fmt_value
from agent.faces.plots import KINDS
from agent.study.store.base import TrialStore

#: where ``tunesmith serve`` looks for studies unless told otherwise (its ``--root`` default)
SERVE_ROOT = Path("studies")


def default_trial(trials: Sequence[Trial]) -> Trial | None:
    """The first finished trial of the spec's default configuration (None when the spec had none)."""
    return next((t for t in trials if t.proposer is ProposerKind.DEFAULT and t.state.counts), None)


def gain_over_default(trials: Sequence[Trial], best: Trial | None, direction: str) -> dict[str, Any] | None:
    """``{"trial", "value", "gain", "relative"}`` of the best against the default (gain > 0: better, in either
    direction; relative None when the default's value is 0); None without a completed default or best."""
    default = default_trial(trials)
    if default is None or not default.ok or best is None or best.value is None or default.value is None:
        return None
    diff = best.value - default.value
    gain = diff if direction == "maximize" else -diff
    relative = gain / abs(default.value) if default.value else None
    return {"trial": default.number, "value": default.value, "gain": gain, "relative": relative}


def gain_line(trials: Sequence[Trial], best: Trial | None, metric: str, direction: str) -> str | None:
    """``gain over the default (#0): score 0.91 -> 0.955 (+0.045, +4.9 %)``, or why there is none."""
    default = default_trial(trials)
    if default is None or best is None:
        return None
    if not default.ok:
        return f"the default (#{default.number}) ended {default.state.value}; every completed trial beats it"
    gain = gain_over_default(trials, best, direction)
    if gain is None:
        return None
    if best.number == default.number or gain["gain"] <= 0:
        return f"the default (#{default.number}, {metric}={fmt_value(default.value)}) is still the best"
    diff = (best.value or 0.0) - (default.value or 0.0)
    rel = f", {100 * diff / abs(default.value or 1):+.3g} %" if gain["relative"] is not None else ""
    return (
        f"[bold]gain over the default[/] (#{default.number}): {escape(metric)} {fmt_value(default.value)} → "
        f"{fmt_value(best.value)} ({diff:+.6g}{rel})"
    )


def next_commands(folder: Path, *, cwd: Path | None = None) -> list[str]:
    """The commands to look further at the study in ``folder``, ready to paste (paths quoted)."""
    here = (cwd or Path.cwd()).resolve()
    try:
        shown = folder.resolve().relative_to(here)
    except ValueError:
        shown = folder.resolve()
    d = shlex.quote(str(shown))
    root = folder.resolve().parent
    serve = "tunesmith serve" + ("" if root == (here / SERVE_ROOT).resolve() else f" --root {shlex.quote(str(root))}")
    rows = [
        (f"tunesmith show {d}", "every trial (--sort value --top 10; show DIR N: one trial)"),
        (f"tunesmith plot {d} history", "the page's plots as SVG: " + ", ".join([*KINDS, "all"])),
        (serve, "the web page: watch, chat, steer"),
        (f"tunesmith export {d} -f csv", "csv, json, parquet, optuna; mlflow or wandb runs"),
    ]
    width = max(len(c) for c, _ in rows)
    return ["next:"] + [f"  {escape(f'{c:<{width}}')}  [dim]{w}[/]" for c, w in rows]


def model_verdicts(store: TrialStore, *, since: int = 0, folder: object = "DIR") -> list[str]:
    """What the LLM concluded in this run, for the end of ``tune``: its finish recommendation (a broken setup
    first, with what to do next) and its last note."""
    lines: list[str] = []
    finished = store.events(EventKind.LLM_FINISHED, after=since)
    if finished:
        finish = payload(finished[-1], LlmFinished)
        text = escape(finish.recommendation)
        if finish.kind == "setup_broken":
            lines.append(
                f"[bold yellow]paused: the model says the setup is broken:[/] {text}\n"
                f"fix it, then continue with: tunesmith resume {folder}"
            )
        else:
            lines.append(f"[bold]the model's recommendation:[/] {text}")
    notes = store.events(EventKind.REFLECTION, after=since)
    if notes:
        lines.append(f"[dim]the model's last note: {escape(payload(notes[-1], Reflection).text)}[/]")
    return lines
