"""Durable memory of a study (the ``TrialStore`` seam, its SQLite implementation and its fake)."""

from agent.store.base import TrialStore

__all__ = ["TrialStore"]
