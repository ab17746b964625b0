"""What the engine is handed: observer, pruner, resources and steering protocols, the thread-safe
``StudyControl``, and the ``RunSummary`` it returns. Kept apart from the loop so each file reads in one sitting.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from agent.core.records import Event, MetricPoint, Trial

if TYPE_CHECKING:
    from agent.study.engine import StudyEngine


class Observer(Protocol):
    def __call__(self, event: Event) -> None: ...


class Pruner(Protocol):
    """Decides from intermediate reports whether a running trial should stop early."""

    def check(self, trial: Trial, points: Sequence[MetricPoint], history: Sequence[Trial]) -> str | None:
        """A one-line reason to stop ``trial`` now, or None to let it run."""
        ...


class Steering(Protocol):
    """Steering requests from other processes (agent/study/steering.py), applied between engine ticks."""

    def poll(self, engine: StudyEngine) -> None:
        """Apply what was asked since the last call, through the engine's public methods."""
        ...


class Resources(Protocol):
    """Hands out devices (GPUs) per trial; see agent/study/gpus.py."""

    def acquire(self, number: int) -> tuple[int, ...] | None: ...

    def release(self, number: int) -> None: ...

    def available(self) -> int:
        """How many more trials could get their devices now; the engine launches no more than that."""
        ...


@dataclass
class StudyControl:
    """Thread-safe steering of a running engine (used by the CLI's Ctrl-C, chat and the web app)."""

    _stop: threading.Event = field(default_factory=threading.Event)
    _pause: threading.Event = field(default_factory=threading.Event)
    stop_reason: str = "stopped by the user"

    def stop(self, reason: str = "stopped by the user") -> None:
        self.stop_reason = reason
        self._stop.set()

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return self._pause.is_set()


@dataclass(frozen=True)
class RunSummary:
    reason: str  # budget | time | stopped | exhausted | broken_setup
    counted: int
    best: Trial | None
    message: str | None = None  # broken_setup: the one line saying what is wrong and how to fix it


__all__ = ["Observer", "Pruner", "Resources", "RunSummary", "Steering", "StudyControl"]
