"""The event queue shared by the executors: producers ``put``, the agent's ``wait`` takes everything.

Private to the package. ``lock`` is exposed so an executor can update its own bookkeeping (which trials
are running) atomically with the events it emits; ``take`` then never sleeps while nothing can come.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from sandbox.base import ExecutorEvent


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
