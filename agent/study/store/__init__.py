"""Durable memory of a study (the ``TrialStore`` seam, its SQLite implementation and its fake)."""

from agent.study.store.base import TrialStore
from agent.study.store.memory import MemoryStore
from agent.study.store.sqlite import SQLiteStore

__all__ = ["MemoryStore", "SQLiteStore", "TrialStore"]
