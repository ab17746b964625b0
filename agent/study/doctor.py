"""Run-time checks that a study's setup works, consulted by the engine after each finished trial.

Some setups fail the same way whatever the params, and every further trial only burns budget. The
``SetupDoctor`` stops the study, with one line naming the likely cause and the fix, when either holds
(``spec.broken_setup_after`` = N, default 3; 0 turns both checks off):

- **identical failures**: N trials failed with the same deterministic failure (crash, launch error, or no
  objective reported) and the same reason, and no trial of the study has completed. Values that follow a
  ``--flag`` in a reason (argparse echoing the argv of ``pass_args``: ``unrecognized arguments: --lr 0.01``)
  do not make reasons differ, nor do dates and times (a run folder named after the clock: ``outputs/2026-12-06/
  13-19-49``); any other difference does (``lr=0.1 too large`` may depend on the params).
  The trial that just finished must be one of them, so a study resumed after a fix is not stopped for the old failures.
- **identical metrics**: every completed trial so far returned bit-identical metrics (the last value of every
  metric and the whole reported curve), and they ran at least N different configurations: the params are
  probably not reaching the script (an argparse script run without ``pass_args: true`` that does not read
  the params file). Once two completed trials differ, this check is done for the run.

``no_metric_reason`` rewrites the reason of a trial that reported metrics but not the objective, so that
it names what was reported (``reported: score``) and the likely fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.core.records import EventKind, FailureKind, MetricPoint, Trial, TrialState
from agent.core.space import config_key
from agent.study.dedupe import carried

#: Failures that a different configuration would not change: each repeats identically.
DETERMINISTIC = frozenset({FailureKind.CRASH, FailureKind.LAUNCH, FailureKind.NO_METRIC})

_FLAG_VALUE = re.compile(r"(--[A-Za-z_][\w-]*)(?:=|\s+)(?!--)('[^']*'|\"[^\"]*\"|\S+)")


_CLOCK = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T_ ]?\d{2}[-:]\d{2}[-:]\d{2}(?:[.,]\d+)?)?\b|\b\d{2}[-:]\d{2}[-:]\d{2}\b")


def failure_key(reason: str | None) -> str | None:
    """A failure's reason with the values passed after ``--flags``, and dates and times, masked (module
    docstring)."""
    return None if reason is None else _CLOCK.sub("<time>", _FLAG_VALUE.sub(r"\1 <value>", reason))


@dataclass(frozen=True)
class Finding:
    """Why the study should stop: the event ``kind`` to record, the one-line ``message`` and the trials."""

    kind: EventKind
    message: str
    trials: tuple[int, ...]


def no_metric_reason(metric: str, reported: Mapping[str, float]) -> str | None:
    """The reason for a trial that reported ``reported`` but never ``metric``; None when it reported nothing
    (the plain "finished without reporting" reason says it all then)."""
    if not reported:
        return None
    names = sorted(reported)
    hint = difflib.get_close_matches(metric, names, n=1)
    fix = (
        f"did you mean objective.metric: {hint[0]}?"
        if hint
        else f"report {metric} from the script, or set objective.metric to one of these"
    )
    return f"finished without reporting '{metric}' (reported: {', '.join(names)}); {fix}"


def _nums(trials: Sequence[Trial]) -> str:
    shown = [f"#{t.number}" for t in trials[:5]]
    return ", ".join(shown) + (f" and {len(trials) - 5} more" if len(trials) > 5 else "")


class SetupDoctor:
    """The two run-time checks of the module docstring. ``curve(number)`` reads a trial's stored reports."""

    def __init__(
        self, *, after: int, metric: str, curve: Callable[[int], Sequence[MetricPoint]], study_dir: Path
    ) -> None:
        self.after = after
        self.metric = metric
        self.curve = curve
        self.dir = study_dir
        self._prints: dict[int, str] = {}
        self._varied = False  # two completed trials differed: the params reach the script
        self._completed: bool | None = None  # a trial completed (failures are the params', not the setup's)

    def check(self, trial: Trial, history: Sequence[Trial]) -> Finding | None:
        """A reason to stop now that ``trial`` (part of ``history``) has finished, or None. Trials whose
        result was copied (a reused duplicate, a functional equivalent) and segments of Population Based
        Training (which share checkpoints, so results may repeat) are not evidence either way."""
        if self.after < 2:
            return None
        if trial.lineage is not None or carried(trial):
            return None
        # Settled questions return before any pass over the history: the check runs after every trial, and
        # its cost must not grow with the study (the per-trial overhead stays flat at 10,000 trials).
        if trial.ok:
            self._completed = True
            if self._varied:
                return None
            return self._identical_metrics(_evidence(history))
        if trial.state is TrialState.FAILED and trial.failure in DETERMINISTIC and self._completed is not True:
            return self._identical_failures(trial, _evidence(history))
        return None

    # ------------------------------------------------------------------ checks
    def _identical_failures(self, trial: Trial, history: Sequence[Trial]) -> Finding | None:
        if self._completed is None:  # once: a resumed study's history
            self._completed = any(t.ok for t in history)
        if self._completed:
            return None
        key = failure_key(trial.reason)
        same = [
            t
            for t in history
            if t.state is TrialState.FAILED and (t.failure, failure_key(t.reason)) == (trial.failure, key)
        ]
        if len(same) < self.after:
            return None
        last = same[-1].number
        hint = ""
        if any(s in (trial.reason or "") for s in ("unrecognized arguments", "No such option")):
            hint = " (pass_args: true passes every param as --name value: the script's parser must declare each)"
        elif "Could not override '" in (trial.reason or ""):
            hint = (
                " (pass_args: name=value passes every param as a Hydra override: the config must have the key;"
                " name the param +KEY to add one it lacks)"
            )
        message = (
            f"stopped: {len(same)} trials ({_nums(same)}) failed the same way and none completed, so the setup "
            f"is broken, not the params: {trial.reason}{hint}; fix it (details: tunesmith show {self.dir} {last}), "
            "then "
            f"continue with tunesmith resume {self.dir} (a fix in the spec needs a new study: tunesmith tune SPEC)"
        )
        return Finding(EventKind.IDENTICAL_FAILURES, message, tuple(t.number for t in same))

    def _identical_metrics(self, history: Sequence[Trial]) -> Finding | None:
        if self._varied:
            return None
        done = [t for t in history if t.ok]
        if len(done) < self.after:
            return None
        first = self._print(done[0])
        if any(self._print(t) != first for t in done[1:]):  # stops at the first difference
            self._varied = True
            return None
        if len({config_key(t.params) for t in done}) < self.after:
            return None  # the same configuration re-run (a retry) proves nothing
        value = done[-1].value
        message = (
            f"stopped: trials {_nums(done)} ran different params but returned bit-identical results "
            f"({self.metric}={value!r}, the same curve), so the params are probably not reaching the script: "
            "a script that reads --name flags needs pass_args: true in the spec, otherwise read them with "
            "tunesmith.params(); fix it and start a new study (or set broken_setup_after: 0 if the params "
            "truly do not change the result)"
        )
        return Finding(EventKind.IDENTICAL_METRICS, message, tuple(t.number for t in done))

    def _print(self, trial: Trial) -> str:
        """Everything a trial measured, as one exact string (floats round-trip through repr in JSON)."""
        found = self._prints.get(trial.number)
        if found is None:
            curve = [(p.step, sorted(p.values.items()), p.final) for p in self.curve(trial.number)]
            found = json.dumps([trial.value, sorted(trial.metrics.items()), curve])
            self._prints[trial.number] = found
        return found


def _evidence(history: Sequence[Trial]) -> list[Trial]:
    """The trials that count as evidence: no PBT segment, no copied result."""
    return [t for t in history if t.lineage is None and not carried(t)]
