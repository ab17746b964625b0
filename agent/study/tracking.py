"""Live logging to an experiment tracker (``track:`` in the spec): each trial is logged as it ends.

``LiveTracker`` is an engine observer. On each finished trial it reads the trial and its curve from the store
(in the engine's thread) and hands them to a ``TrackerSink`` in a background thread, so a slow or dead tracker
never slows or stops the study. Contract:

* A trial is logged once: on resume the sink says which trials it already holds (``open``) and those are
  skipped; a trial cancelled as interrupted (re-run on resume) is logged too, as MLflow's KILLED.
* The first failure of the sink is told to the person once (``on_error``, from the engine's thread: a
  ``tracker_failed`` event the faces show) with how to get the runs anyway (``tunesmith export DIR -f
  mlflow``), and the sink is then left alone: the study goes on, nothing is lost (the store has it all).
* At the end of the run (finished, stopped or interrupted) the study's own run gets the best value and its
  status, and the background thread is given ``FLUSH_S`` seconds to finish (``INTERRUPTED_FLUSH_S`` after
  Ctrl-C); what it could not log by then is in the store for the export, and the person is told.

The sink is one interface (``TrackerSink``); ``MlflowSink`` (agent/study/track_mlflow.py) is the real one and
tests use a fake.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from agent.core.events import EventData, StudyFinished, TrackerFailed, payload
from agent.core.records import Event, EventKind, MetricPoint, Trial, best_trial

if TYPE_CHECKING:
    from pathlib import Path

    from agent.core.spec import StudySpec
    from agent.study.store.base import TrialStore

FLUSH_S = 30.0
INTERRUPTED_FLUSH_S = 5.0


class TrackerSink(Protocol):
    """Where trials are logged. Every method runs in the tracker's background thread, in call order."""

    name: str
    later: str  # the export options that write the same runs later (``-f mlflow -o URI``)

    def open(self) -> set[int]:
        """Connect, and find or create the study's run; returns the trial numbers already logged."""
        ...

    def trial(self, trial: Trial, curve: list[MetricPoint]) -> None:
        """Log one finished trial (params, curve, final metrics, state)."""
        ...

    def close(self, best: Trial | None, status: str) -> None:
        """Record the best trial on the study's run and end it with ``status`` (FINISHED, KILLED, FAILED)."""
        ...


class LiveTracker:
    """An observer logging each finished trial to ``sink`` (module docstring)."""

    def __init__(
        self,
        sink: TrackerSink,
        *,
        read: Callable[[int], tuple[Trial, list[MetricPoint]]],
        trials: Callable[[], list[Trial]],
        direction: str,
        on_error: Callable[[str], None],
    ) -> None:
        self.sink = sink
        self._read = read
        self._trials = trials
        self._direction = direction
        self._on_error = on_error
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._logged: set[int] = set()
        self._error: str | None = None
        self._told = False
        self._thread: threading.Thread | None = None
        self.logged = 0  # trials the sink took (read after close)

    def __call__(self, event: Event) -> None:
        self._tell()
        if event.kind in (EventKind.STUDY_STARTED, EventKind.STUDY_RESUMED):
            self._start()
        elif event.kind == EventKind.TRIAL_FINISHED and event.trial is not None and self._thread is not None:
            trial, curve = self._read(event.trial)
            if trial.state.finished:
                self._jobs.put(lambda: self._log(trial, curve))
        elif event.kind in (EventKind.STUDY_FINISHED, EventKind.STUDY_INTERRUPTED) and self._thread is not None:
            finished = event.kind == EventKind.STUDY_FINISHED
            reason = payload(event, StudyFinished).reason if finished else "interrupted"
            status = "FAILED" if reason == "broken_setup" else "FINISHED" if finished else "KILLED"
            best = best_trial(self._trials(), self._direction)
            self._jobs.put(lambda: self.sink.close(best, status))
            self.close(FLUSH_S if finished else INTERRUPTED_FLUSH_S)  # Ctrl-C: the person is waiting

    def _start(self) -> None:
        if self._thread is not None:
            return
        self._jobs.put(self._open)
        self._thread = threading.Thread(target=self._work, name=f"tracker-{self.sink.name}", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        self._logged = set(self.sink.open())

    def _log(self, trial: Trial, curve: list[MetricPoint]) -> None:
        if trial.number in self._logged:
            return
        self.sink.trial(trial, curve)
        self._logged.add(trial.number)
        self.logged += 1

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._error is not None:
                continue  # the sink failed: left alone for the rest of the run (module docstring)
            try:
                job()
            except Exception as exc:  # any failure of a tracker library or its server: the study goes on
                self._error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"

    def _tell(self) -> None:
        """Say the sink's first failure once, from the engine's thread."""
        if self._error is not None and not self._told:
            self._told = True
            self._on_error(self._error)

    def close(self, timeout: float = FLUSH_S) -> None:
        """Let the background thread log what is queued (at most ``timeout`` seconds), then say any failure."""
        if self._thread is None:
            return
        self._jobs.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive() and self._error is None:
            self._error = f"it had not finished after {timeout:.0f} s (is the tracking server slow or down?)"
        self._thread = None
        self._tell()


def live_trackers(
    spec: StudySpec, folder: Path, store: TrialStore, emit: Callable[[EventData], object]
) -> list[LiveTracker]:
    """The live trackers the spec's ``track:`` asks for, reading ``store`` and telling a failure through ``emit``
    (a ``tracker_failed`` event the faces show). Raises ``DependencyError`` when a tracker's library is missing."""
    track = spec.track
    sinks: list[TrackerSink] = []
    if track is not None and track.mlflow:
        from agent.study.track_mlflow import MlflowSink

        sinks.append(MlflowSink(track.mlflow, spec=spec, folder=folder))
    if track is not None and track.wandb:
        from agent.study.track_wandb import WandbSink

        sinks.append(WandbSink(track.wandb, spec=spec, folder=folder))
    return [_live(sink, spec, folder, store, emit) for sink in sinks]


def _live(
    sink: TrackerSink, spec: StudySpec, folder: Path, store: TrialStore, emit: Callable[[EventData], object]
) -> LiveTracker:
    def failed(message: str) -> None:
        later = f"the study goes on, and `tunesmith export {folder} {sink.later}` writes its runs later"
        emit(TrackerFailed(tracker=sink.name, message=f"{message}; {later}"))

    return LiveTracker(
        sink,
        read=lambda n: (store.trial(n), store.metrics(n)),
        trials=store.trials,
        direction=spec.direction,
        on_error=failed,
    )
