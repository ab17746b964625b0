"""``MemoryStore``: the in-memory ``TrialStore`` fake, for tests and throwaway studies.

Behaves like ``SQLiteStore`` in everything but durability: same numbering, same errors for unknown
trials, and meta values and event data go through the same JSON encoding (so a value the real store
would reject or change is rejected or changed here too). Thread-safe: one lock guards every call.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from agent.core.records import Event, EventKind, MetricPoint, Trial, TrialDraft, TrialState
from agent.study.store._codec import dumps, loads
from agent.study.store.base import TrialStore


class MemoryStore(TrialStore):
    """A ``TrialStore`` that lives and dies with the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trials: list[Trial] = []  # index == number: numbers are dense and never reused
        self._metrics: dict[int, list[MetricPoint]] = {}
        self._events: list[Event] = []
        self._meta: dict[str, str] = {}

    def create_trial(self, draft: TrialDraft) -> Trial:
        with self._lock:
            trial = Trial(
                number=len(self._trials),
                params=draft.params,
                state=TrialState.RUNNING,
                proposer=draft.proposer,
                rationale=draft.rationale,
                model=draft.model,
                strategy=draft.strategy,
                retry_of=draft.retry_of,
                lineage=draft.lineage,
            )
            self._trials.append(trial)
            return trial

    def update_trial(self, trial: Trial) -> None:
        with self._lock:
            if not 0 <= trial.number < len(self._trials):
                raise KeyError(trial.number)
            self._trials[trial.number] = trial

    def add_metrics(self, number: int, points: Sequence[MetricPoint]) -> None:
        with self._lock:
            if not 0 <= number < len(self._trials):
                raise KeyError(number)
            self._metrics.setdefault(number, []).extend(points)

    def metrics(self, number: int) -> list[MetricPoint]:
        with self._lock:
            return list(self._metrics.get(number, []))

    def add_event(self, kind: EventKind, data: dict[str, Any] | None = None, *, trial: int | None = None) -> Event:
        encoded = dumps(data or {})
        with self._lock:
            event = Event(id=len(self._events) + 1, kind=str(kind), trial=trial, data=loads(encoded))
            self._events.append(event)
            return event

    def trials(self) -> list[Trial]:
        with self._lock:
            return list(self._trials)

    def trial(self, number: int) -> Trial:
        with self._lock:
            if not 0 <= number < len(self._trials):
                raise KeyError(number)
            return self._trials[number]

    def events(self, kind: EventKind | None = None, *, after: int = 0) -> list[Event]:
        with self._lock:
            # ids are 1..len, so ``after`` is also a list offset.
            tail = self._events[max(after, 0) :]
            return [e for e in tail if kind is None or e.kind == kind]

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            text = self._meta.get(key)
        return default if text is None else loads(text)

    def set_meta(self, key: str, value: Any) -> None:
        encoded = dumps(value)
        with self._lock:
            self._meta[key] = encoded
