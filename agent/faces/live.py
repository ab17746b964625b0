"""How a running study looks in the terminal: a live progress line and one line per finished trial.

Modes: ``rich`` (on a TTY a live block: the progress line with the best so far and the time left, then
one row per running trial with its params, like Ray Tune's RUNNING rows; plain lines otherwise),
``quiet`` (nothing until the summary) and ``json`` (one JSON object per finished trial on stdout).

A pause or resume asked from any face (the page, a chat, ``tunesmith steer``) is said where it happens:
``paused by the web page ...`` and ``resumed by ...``; while paused the progress line says so instead of
the time left.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from agent.core.events import (
    BudgetChanged,
    CommandDone,
    CommandPosted,
    Fallback,
    TrackerFailed,
    TrialStarted,
    payload,
)
from agent.core.records import Event, EventKind, Trial, TrialState, better
from agent.faces.endnote import gain_line, gain_over_default, model_verdicts, next_commands
from agent.faces.format import fmt_duration, fmt_params, fmt_value
from agent.study.progress import time_to_result, ttr_line
from agent.study.store.base import TrialStore

if TYPE_CHECKING:
    from agent.study.hooks import RunSummary
    from agent.study.proposers import Proposer
    from agent.study.session import Session

_STYLE = {
    TrialState.COMPLETE: "green",
    TrialState.FAILED: "red",
    TrialState.TIMEOUT: "yellow",
    TrialState.PRUNED: "cyan",
    TrialState.CANCELLED: "dim",
}
#: who sent a command, as people say it (the ``source`` of a steering command)
FACES = {"web": "the web page", "terminal": "the terminal chat", "cli": "tunesmith steer"}
#: running trials listed under the progress line; the rest are counted
RUNNING_ROWS = 8


def face_name(source: object) -> str:
    return FACES.get(str(source), str(source))


class StudyDisplay:
    """An engine observer that renders progress; use as a context manager around ``Session.run``.

    The engine calls it from its own thread while the live block redraws from rich's: the state both read
    is guarded by a lock."""

    def __init__(
        self,
        store: TrialStore,
        *,
        metric: str,
        direction: str,
        budget: int | None,
        mode: str = "rich",
        console: Console | None = None,
        folder: Path | None = None,
        max_time: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.metric = metric
        self.direction = direction
        self.budget = budget
        self.max_time = max_time
        self.mode = mode
        self.folder = folder
        self.console = console or Console(stderr=False, highlight=False)
        self.clock = clock
        self.best: Trial | None = None
        self.done = 0
        self.paused_by: str | None = None
        self._running: dict[int, tuple[dict[str, Any], float]] = {}  # number -> (params, start as wall-clock time)
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task: Any = None
        self._started = clock()
        self._done_before = 0
        self._elapsed_before = 0.0
        self._paused_at: float | None = None
        self._estimate: tuple[float, float] | None = None  # (seconds left, clock) as of the last finished trial

    @property
    def running(self) -> int:
        return len(self._running)

    def __enter__(self) -> StudyDisplay:
        trials = self.store.trials()
        self.done = self._done_before = sum(1 for t in trials if t.state.counts)
        self._elapsed_before = float(self.store.get_meta("elapsed_s", 0.0) or 0.0)
        self._started = self.clock()
        for t in trials:
            self._consider(t)
        if self.mode == "rich" and self.console.is_terminal:
            self._progress = _LiveBlock(
                self,
                TextColumn("[bold]trials"),
                BarColumn(),
                MofNCompleteColumn(),
                _InfoColumn(self),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._progress.add_task("study", total=self.budget, completed=self.done)
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _consider(self, t: Trial) -> bool:
        if t.ok and (self.best is None or better(t.value, self.best.value, self.direction)):  # type: ignore[arg-type]
            self.best = t
            return True
        return False

    # ------------------------------------------------------------ the live line
    def eta(self) -> float | None:
        """Seconds left: at each finished trial, this run's pace times the trials left, counting down until the
        next one finishes; capped by what is left of the time budget. None before the first trial finished
        (and without a trial or time budget)."""
        now = self.clock()
        elapsed = now - self._started
        left: float | None = None
        if self._estimate is not None and self.budget is not None:
            estimate, at = self._estimate
            left = max(0.0, estimate - (now - at))
        if self.max_time is not None:
            remaining = max(0.0, self.max_time - self._elapsed_before - elapsed)
            left = remaining if left is None else min(left, remaining)
        return left

    def _estimate_now(self) -> None:
        now, finished = self.clock(), self.done - self._done_before
        if self.budget is not None and finished > 0:
            self._estimate = ((now - self._started) / finished * max(0, self.budget - self.done), now)

    def info(self) -> str:
        """The progress line's text: pause or time left, running count, best so far."""
        with self._lock:
            parts = []
            if self.paused_by is not None:
                parts.append(f"[bold yellow]paused by {escape(self.paused_by)}[/]")
            elif self.budget is not None or self.max_time is not None:  # no end, no time left to tell
                eta = self.eta()
                parts.append(f"ETA {fmt_duration(float(math.ceil(eta)))}" if eta is not None else "ETA …")
            parts.append(f"running {len(self._running)}")
            if self.best is None:
                parts.append("no result yet")
            else:
                parts.append(f"best {escape(self.metric)}={fmt_value(self.best.value)} (#{self.best.number})")
            return " • ".join(parts)

    def running_rows(self, width: int) -> list[str]:
        """One line per running trial (number, time so far, params), the oldest first; the rest counted."""
        now = time.time()
        with self._lock:
            rows = sorted(self._running.items())
        lines = []
        for number, (params, started) in rows[:RUNNING_ROWS]:
            head = f"  #{number:<4} running {fmt_duration(float(max(0, int(now - started)))):>6}  "
            lines.append(head + fmt_params(params, max(20, width - len(head) - 1)))
        if len(rows) > RUNNING_ROWS:
            lines.append(f"  … and {len(rows) - RUNNING_ROWS} more running")
        return lines

    # ------------------------------------------------------------- the events
    def __call__(self, event: Event) -> None:
        if event.kind == EventKind.TRIAL_STARTED and event.trial is not None:
            with self._lock:
                self._running[event.trial] = (dict(payload(event, TrialStarted).params), event.time)
        elif event.kind == EventKind.TRIAL_FINISHED and event.trial is not None:
            trial = self.store.trial(event.trial)
            with self._lock:
                self._running.pop(event.trial, None)
                if trial.state.counts:
                    self.done += 1
                    self._estimate_now()
                improved = self._consider(trial)
            self._line(trial, improved)
        elif event.kind == EventKind.COMMAND_DONE:
            self._steered(payload(event, CommandDone))
        elif event.kind == EventKind.BUDGET_CHANGED:
            budget = payload(event, BudgetChanged).budget
            with self._lock:
                self.budget = budget.get("max_trials", self.budget)
                self.max_time = budget.get("max_time", self.max_time)
                self._estimate_now()
        elif event.kind == EventKind.FALLBACK and self.mode == "rich":  # say why the LLM is not proposing
            why = escape(payload(event, Fallback).reason)
            self._say(f"[yellow]LLM fallback:[/] {why}; the strategy proposes instead")
        elif event.kind == EventKind.TRACKER_FAILED and self.mode != "quiet":  # once per run (tracking.py)
            failed = payload(event, TrackerFailed)
            self._warn(f"logging to {failed.tracker} failed: {failed.message}")
        if self._progress is not None:
            self._progress.update(self._task, total=self.budget, completed=self.done)

    def _steered(self, done: CommandDone) -> None:
        """A pause or resume that the running engine applied: say who asked, and how to go on."""
        op = done.op
        if not done.ok or op not in ("pause", "resume"):
            return
        command = done.command
        asked = [e for e in self.store.events(EventKind.COMMAND, after=int(command or 1) - 1) if e.id == command]
        who = face_name(payload(asked[0], CommandPosted).source if asked else "another face")
        now = self.clock()
        if op == "pause":
            with self._lock:
                self.paused_by, self._paused_at = who, now
            where = f"tunesmith steer {self.folder} resume" if self.folder else "tunesmith steer DIR resume"
            self._say(
                f"[bold yellow]⏸ paused by {escape(who)}[/] at {time.strftime('%H:%M:%S')}: running trials "
                f"finish, no new ones start. Resume from the page or a chat (/resume), or: {escape(where)}"
            )
        else:
            with self._lock:
                since, self.paused_by, self._paused_at = self._paused_at, None, None
            after = f" after {fmt_duration(now - since)} paused" if since is not None else ""
            self._say(f"[bold green]▶ resumed by {escape(who)}[/]{after}: new trials start again")

    def _say(self, line: str) -> None:
        if self.mode == "rich":
            self.console.print(line, highlight=False, soft_wrap=True)

    def _warn(self, text: str) -> None:
        """A warning the person must see in every mode but quiet: stderr keeps --json's stdout parseable."""
        if self.mode == "rich":
            self._say(f"[yellow]warning:[/] {escape(text)}")
        else:
            sys.stderr.write(f"warning: {text}\n")

    def _line(self, t: Trial, improved: bool) -> None:
        if self.mode == "quiet":
            return
        if self.mode == "json":
            sys.stdout.write(
                json.dumps(
                    {
                        "trial": t.number,
                        "state": t.state.value,
                        "value": t.value,
                        "params": t.params,
                        "proposer": t.proposer.value,
                        "reason": t.reason,
                        "duration_s": t.duration,
                    }
                )
                + "\n"
            )
            sys.stdout.flush()
            return
        style = _STYLE.get(t.state, "")
        mark = " [bold green]★ best[/]" if improved else ""
        dur = fmt_duration(t.duration)
        who = t.proposer.value if t.proposer.value != "strategy" else (t.strategy or "strategy")
        detail = f"{self.metric}={fmt_value(t.value)}" if t.state is TrialState.COMPLETE else (t.reason or "")
        self.console.print(
            f"#{t.number:<4} [{style}]{t.state.value:<9}[/] {escape(detail)}{mark}  [dim]{dur} {who}  "
            f"{escape(fmt_params(t.params, max(40, self.console.width - 60)))}[/]",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )


class _InfoColumn(ProgressColumn):
    """The progress line's text, computed at each redraw so the time left counts down between trials."""

    def __init__(self, display: StudyDisplay) -> None:
        super().__init__()
        self.display = display

    def render(self, task: Task) -> Text:
        return Text.from_markup(self.display.info())


class _LiveBlock(Progress):
    """The progress line with the running trials below it."""

    def __init__(self, display: StudyDisplay, *columns: str | ProgressColumn, **kwargs: Any) -> None:
        self.display = display  # before Progress.__init__, which may render already
        super().__init__(*columns, **kwargs)

    def get_renderables(self) -> Iterable[RenderableType]:
        yield from super().get_renderables()
        rows = self.display.running_rows(self.display.console.width)
        if rows:
            yield Text("\n".join(rows), style="dim", no_wrap=True, overflow="ellipsis")


def header(session: Session) -> str:
    """The first line of ``tune``: the folder, the objective and the budget, durations as written."""
    spec = session.spec
    budget = spec.budget
    limits = [f"{budget.max_trials} trials" if budget.max_trials else "no trial limit"]
    if budget.max_time:
        limits.append(f"time {fmt_duration(budget.max_time)}")
    if budget.trial_timeout:
        limits.append(f"trial timeout {fmt_duration(budget.trial_timeout)}")
    return (
        f"[bold]study[/] {escape(str(session.dir))}  ({escape(spec.metric)}, {spec.direction}, strategy "
        f"{escape(spec.strategy)}, {spec.workers} worker(s), {', '.join(limits)})"
    )


def run_live(
    session: Session,
    *,
    quiet: bool,
    as_json: bool,
    proposer: Proposer | None = None,
    out: Console | None = None,
    err: Console | None = None,
) -> RunSummary:
    """Run ``session`` with the live display; prints the summary (or one JSON line) at the end, with the
    one line saying why when the study stopped on a broken setup, the gain over the default and the
    commands to look further, and returns the ``RunSummary``.

    Ctrl-C stops the study resumably: a line says how to continue, then ``KeyboardInterrupt`` propagates
    (the CLI turns it into exit status 130; a Python caller sees the interrupt it raised).
    """
    out = out or Console(highlight=False, soft_wrap=True)
    err = err or Console(stderr=True, highlight=False, soft_wrap=True)
    mode = "json" if as_json else "quiet" if quiet else "rich"
    spec = session.spec
    if not as_json:
        out.print(header(session))
    display = StudyDisplay(
        session.store,
        metric=spec.metric,
        direction=spec.direction,
        budget=spec.budget.max_trials,
        max_time=spec.budget.max_time,
        mode=mode,
        console=out,
        folder=session.dir,
    )
    started = session.store.events()[-1].id if session.store.events() else 0
    try:
        with display:
            summary = session.run(observers=[display], proposer=proposer)
    except KeyboardInterrupt:
        err.print(f"interrupted; nothing is lost. Continue with: tunesmith resume {session.dir}")
        raise
    best = summary.best
    trials = session.trials()
    if as_json:
        vs_default = gain_over_default(trials, best, spec.direction)
        sys.stdout.write(
            json.dumps(
                {
                    "summary": {
                        "dir": str(session.dir),
                        "reason": summary.reason,
                        "trials": summary.counted,
                        "message": summary.message,
                        "best": None
                        if best is None
                        else {"trial": best.number, "value": best.value, "params": best.params},
                        "default": None
                        if vs_default is None
                        else {"trial": vs_default["trial"], "value": vs_default["value"]},
                        "gain_over_default": None if vs_default is None else vs_default["gain"],
                    }
                }
            )
            + "\n"
        )
        return summary
    out.print(f"done ({summary.reason}): {summary.counted} trials")
    if summary.message:
        out.print(f"[bold red]{escape(summary.message)}[/]")
    for line in model_verdicts(session.store, since=started, folder=session.dir):
        out.print(line, highlight=False)
    if best is None:
        out.print(f"[yellow]no trial completed successfully[/]; see 'tunesmith show {session.dir}'")
    else:
        out.print(
            f"[bold green]best[/] #{best.number} {escape(spec.metric)}={fmt_value(best.value)}  "
            f"{escape(fmt_params(best.params, 200))}"
        )
    gain = gain_line(trials, best, spec.metric, spec.direction)
    ttr = ttr_line(time_to_result(trials, spec.direction))
    for note in [gain, ttr, *next_commands(session.dir)]:
        if note:
            out.print(note, highlight=False)
    return summary


__all__ = ["StudyDisplay", "face_name", "header", "model_verdicts", "run_live"]
