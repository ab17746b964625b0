"""Durable memory of a study (the ``TrialStore`` seam, its SQLite implementation and its fake)."""

from agent.store.base import TrialStore
from agent.store.memory import MemoryStore
from agent.store.sqlite import SQLiteStore

__all__ = ["MemoryStore", "SQLiteStore", "TrialStore"]
