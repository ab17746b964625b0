"""What every executor keeps about its runs, in one place: capacity, the running table, the closed flag and the
event queue (producers ``put``, the agent's ``wait`` takes everything).

Private to the package. ``_lock`` is the queue's lock, so an executor updates which trials are running
atomically with the events it emits; ``wait`` then never sleeps while nothing can come.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from sandbox.base import ExecutorEvent, TrialExecutor, TrialOutcome, TrialRequest, check_submit

R = TypeVar("R")


class EventQueue:
    def __init__(self, busy: Callable[[], bool]) -> None:
        """``busy()`` (called with ``lock`` held) says whether more events may still come."""
        self.lock = threading.Condition(threading.RLock())
        self._items: deque[ExecutorEvent] = deque()
        self._busy = busy

    def put(self, event: ExecutorEvent) -> None:
        with self.lock:
            self._items.append(event)
            self.lock.notify_all()

    def notify(self) -> None:
        """Wake ``take`` after a change to what ``busy`` sees (call with ``lock`` held)."""
        self.lock.notify_all()

    def take(self, timeout: float | None) -> list[ExecutorEvent]:
        """Block until an event is queued, nothing is busy any more, or ``timeout``; drain the queue."""
        with self.lock:
            self.lock.wait_for(lambda: bool(self._items) or not self._busy(), timeout)
            items = list(self._items)
            self._items.clear()
            return items


class RunTable(TrialExecutor, Generic[R]):
    """The bookkeeping the executors share; each subclass keeps one ``R`` per running trial in ``_runs``."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._runs: dict[str, R] = {}
        self._closed = False
        self._events = EventQueue(busy=lambda: bool(self._runs))
        self._lock = self._events.lock

    @property
    def running(self) -> list[str]:
        with self._lock:
            return list(self._runs)

    def wait(self, timeout: float | None = None) -> list[ExecutorEvent]:
        return self._events.take(timeout)

    def _check(self, request: TrialRequest) -> None:
        """Refuse misuse (``check_submit``): call at the start of ``submit``."""
        with self._lock:
            check_submit(request, running=self._runs, capacity=self.capacity, closed=self._closed)

    def _launch_error(self, request: TrialRequest, reason: str, started: float, *, trial_dir: bool = True) -> None:
        """The trial could not start: its outcome says why (a trial's failure is data, never an exception)."""
        info = {"trial_dir": request.trial_dir} if trial_dir else {}
        self._events.put(
            TrialOutcome(
                request.trial_id, "launch_error", reason=reason, started_at=started, finished_at=time.time(), info=info
            )
        )
