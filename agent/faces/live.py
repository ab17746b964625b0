"""How a running study looks in the terminal: a live progress line and one line per finished trial.

Modes: ``rich`` (live bar on a TTY, plain lines otherwise), ``quiet`` (nothing until the summary) and
``json`` (one JSON object per finished trial on stdout, for scripts).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.core.records import Event, Trial, TrialState, better
from agent.faces.format import fmt_params, fmt_value
from agent.study.store.base import TrialStore

if TYPE_CHECKING:
    from agent.study.proposers import Proposer
    from agent.study.session import Session

_STYLE = {
    TrialState.COMPLETE: "green",
    TrialState.FAILED: "red",
    TrialState.TIMEOUT: "yellow",
    TrialState.PRUNED: "cyan",
    TrialState.CANCELLED: "dim",
}


class StudyDisplay:
    """An engine observer that renders progress; use as a context manager around ``Session.run``."""

    def __init__(
        self,
        store: TrialStore,
        *,
        metric: str,
        direction: str,
        budget: int | None,
        mode: str = "rich",
        console: Console | None = None,
    ) -> None:
        self.store = store
        self.metric = metric
        self.direction = direction
        self.budget = budget
        self.mode = mode
        self.console = console or Console(stderr=False, highlight=False)
        self.best: Trial | None = None
        self.running = 0
        self.done = 0
        self._progress: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> StudyDisplay:
        trials = self.store.trials()
        self.done = sum(1 for t in trials if t.state.counts)
        for t in trials:
            self._consider(t)
        if self.mode == "rich" and self.console.is_terminal:
            self._progress = Progress(
                TextColumn("[bold]trials"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._progress.add_task("study", total=self.budget, completed=self.done, info=self._info())
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

    def _info(self) -> str:
        if self.best is None:
            return f"running {self.running} • no result yet"
        best = f"best {self.metric}={fmt_value(self.best.value)} (#{self.best.number})"
        return f"running {self.running} • {best}"

    def __call__(self, event: Event) -> None:
        if event.kind == "trial_started":
            self.running += 1
        elif event.kind == "trial_finished" and event.trial is not None:
            self.running = max(0, self.running - 1)
            trial = self.store.trial(event.trial)
            if trial.state.counts:
                self.done += 1
            improved = self._consider(trial)
            self._line(trial, improved)
        elif event.kind == "fallback" and self.mode == "rich":  # say why the LLM is not proposing, as it happens
            self.console.print(
                f"[yellow]LLM fallback:[/] {escape(str(event.data.get('reason', '')))}; the strategy proposes instead",
                highlight=False,
                soft_wrap=True,
            )
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, info=self._info())

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
        dur = f"{t.duration:.1f}s" if t.duration is not None else ""
        who = t.proposer.value if t.proposer.value != "strategy" else (t.strategy or "strategy")
        detail = f"{self.metric}={fmt_value(t.value)}" if t.state is TrialState.COMPLETE else (t.reason or "")
        self.console.print(
            f"#{t.number:<4} [{style}]{t.state.value:<9}[/] {detail}{mark}  [dim]{dur} {who}  "
            f"{fmt_params(t.params)}[/]",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )


def run_live(
    session: Session,
    *,
    quiet: bool,
    as_json: bool,
    proposer: Proposer | None = None,
    out: Console | None = None,
    err: Console | None = None,
) -> None:
    """Run ``session`` with the live display; prints the summary (or one JSON line) at the end.

    Ctrl-C stops the study resumably: a line says how to continue, then ``KeyboardInterrupt`` propagates
    (the CLI turns it into exit status 130; a Python caller sees the interrupt it raised).
    """
    out = out or Console(highlight=False, soft_wrap=True)
    err = err or Console(stderr=True, highlight=False, soft_wrap=True)
    mode = "json" if as_json else "quiet" if quiet else "rich"
    if not as_json:
        out.print(
            f"[bold]study[/] {session.dir}  ({session.spec.metric}, {session.spec.direction}, "
            f"strategy {session.spec.strategy}, {session.spec.workers} worker(s))"
        )
    display = StudyDisplay(
        session.store,
        metric=session.spec.metric,
        direction=session.spec.direction,
        budget=session.spec.budget.max_trials,
        mode=mode,
        console=out,
    )
    try:
        with display:
            summary = session.run(observers=[display], proposer=proposer)
    except KeyboardInterrupt:
        err.print(f"interrupted; nothing is lost. Continue with: tunesmith resume {session.dir}")
        raise
    best = summary.best
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "summary": {
                        "dir": str(session.dir),
                        "reason": summary.reason,
                        "trials": summary.counted,
                        "best": None
                        if best is None
                        else {"trial": best.number, "value": best.value, "params": best.params},
                    }
                }
            )
            + "\n"
        )
        return
    out.print(f"done ({summary.reason}): {summary.counted} trials")
    if best is None:
        out.print(f"[yellow]no trial completed successfully[/]; see 'tunesmith show {session.dir}'")
    else:
        out.print(
            f"[bold green]best[/] #{best.number} {session.spec.metric}={fmt_value(best.value)}  "
            f"{escape(fmt_params(best.params, 200))}"
        )
