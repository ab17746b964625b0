"""The ``TrialStore`` seam: the study's durable memory.

Contract (every implementation passes ``tests/agent/study/test_store_contract.py``):

* ``create_trial`` assigns the next trial number (0, 1, 2, ...) atomically and stores the trial as
  RUNNING; numbers are never reused, even across processes and crashes.
* ``update_trial`` replaces the stored record of ``trial.number`` (it must exist).
* ``add_metrics`` appends curve points of one trial; ``metrics`` returns them in insertion order.
* ``add_event`` appends to the event log and returns the event with its id (strictly increasing).
* ``trials`` returns every trial ordered by number; ``events`` the log ordered by id, optionally
  filtered by kind and ``after`` an id (for live followers).
* ``get_meta``/``set_meta`` keep small JSON values (the spec, the seed, study status ...).
* Each call is atomic: a process killed at any moment leaves either the whole write or none of it.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from agent.core.events import EventData
from agent.core.records import Event, EventKind, MetricPoint, Trial, TrialDraft


class TrialStore(abc.ABC):
    """The durable memory of one study (contract in the module docstring; SQLite and in-memory
    implementations both pass tests/agent/study/test_store_contract.py)."""

    @abc.abstractmethod
    def create_trial(self, draft: TrialDraft) -> Trial:
        """Store a new RUNNING trial with the next number and return it."""

    @abc.abstractmethod
    def update_trial(self, trial: Trial) -> None:
        """Replace the stored record of ``trial.number``; KeyError if it does not exist."""

    @abc.abstractmethod
    def add_metrics(self, number: int, points: Sequence[MetricPoint]) -> None:
        """Append curve points to trial ``number``."""

    @abc.abstractmethod
    def metrics(self, number: int) -> list[MetricPoint]:
        """Every point of trial ``number``, in the order added."""

    @abc.abstractmethod
    def add_event(self, kind: EventKind, data: dict[str, Any] | None = None, *, trial: int | None = None) -> Event:
        """Append an event and return it with its id."""

    def record(self, data: EventData, *, trial: int | None = None) -> Event:
        """Append a typed event (agent/core/events.py): how every writer outside the store records one."""
        return self.add_event(data.KIND, data.as_data(), trial=trial)

    @abc.abstractmethod
    def trials(self) -> list[Trial]:
        """All trials, ordered by number."""

    @abc.abstractmethod
    def events(self, kind: EventKind | None = None, *, after: int = 0) -> list[Event]:
        """Events with id > ``after`` (optionally only ``kind``), ordered by id."""

    @abc.abstractmethod
    def get_meta(self, key: str, default: Any = None) -> Any:
        """A JSON value stored with ``set_meta``, or ``default``."""

    @abc.abstractmethod
    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under ``key``."""

    def trial(self, number: int) -> Trial:
        """One trial by number; KeyError if absent."""
        for t in self.trials():
            if t.number == number:
                return t
        raise KeyError(number)

    def close(self) -> None:
        """Release resources. Idempotent."""
