"""The study's mutable state, with one owner: the spec (its budget among it) and the current search space.

Every change goes through ``StudyState``, which writes the value and records its event together (the
store's meta ``spec``/``space``, the folder's ``spec.yaml`` copy, and a ``budget_changed`` or
``space_edited`` event with its rationale and source). The engine, the session, the chat and web handles,
the hybrid's actions and the eval host all hold a ``StudyState`` instead of re-deriving these values from
meta keys.

``emit`` is how events are recorded: by default straight into the store; a running engine plugs in its own
(which also tells its observers), so a change made through any face while the engine runs in this process
reaches the live display too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from agent.core.events import BudgetChanged, EventData, SpaceEdited
from agent.core.records import Event
from agent.core.space import SearchSpace
from agent.core.spec import Budget, StudySpec, load_spec
from agent.study.folder import write_spec_copy
from agent.study.store.base import TrialStore


class Emit(Protocol):
    """Records a typed event: ``emit(data, trial=None) -> Event``."""

    def __call__(self, data: EventData, *, trial: int | None = None) -> Event: ...


SPEC_KEY = "spec"
SPACE_KEY = "space"


class StudyState:
    """The spec and the current space of one study (module docstring). Not thread-safe for writes: the
    engine's thread is the one writer while it runs; others read."""

    def __init__(self, store: TrialStore, spec: StudySpec, directory: Path | None = None) -> None:
        self.store = store
        self.dir = directory
        self._spec = spec
        self._spec_raw: Any = None
        self._space = self._stored_space()
        self.emit: Emit = store.record

    @classmethod
    def load(cls, store: TrialStore, directory: Path | None = None) -> StudyState | None:
        """The state stored in ``store`` (None: no spec was ever stored)."""
        raw = store.get_meta(SPEC_KEY)
        if not raw:
            return None
        state = cls(store, load_spec(raw), directory)
        state._spec_raw = raw
        return state

    # ------------------------------------------------------------ reading
    @property
    def spec(self) -> StudySpec:
        return self._spec

    @property
    def space(self) -> SearchSpace:
        """The search space trials are drawn from now: the spec's, or the last approved edit."""
        return self._space

    def refresh(self) -> StudyState:
        """Re-read what another process may have changed (the budget, the space); returns ``self``."""
        raw = self.store.get_meta(SPEC_KEY)
        if raw and raw != self._spec_raw:
            self._spec = load_spec(raw)
            self._spec_raw = raw
        self._space = self._stored_space()
        return self

    def _stored_space(self) -> SearchSpace:
        data = self.store.get_meta(SPACE_KEY)
        return SearchSpace.model_validate(data) if data else self._spec.space

    # ------------------------------------------------------------ writing
    def set_spec(self, spec: StudySpec) -> None:
        """Store a new spec (CLI overrides at resume, a changed budget): meta and the folder's copy."""
        self._spec = spec
        self._spec_raw = spec.to_dict()
        self.store.set_meta(SPEC_KEY, self._spec_raw)
        if self.dir is not None:
            write_spec_copy(self.dir, self._spec_raw)

    def set_space(self, space: SearchSpace, *, rationale: str, source: str) -> Event:
        """Replace the search space (an approved edit); stored and recorded with its provenance."""
        self._space = space
        self.store.set_meta(SPACE_KEY, space.model_dump(mode="json"))
        return self.emit(SpaceEdited(rationale=rationale, source=source, space=space.describe()))

    def set_budget(self, budget: Budget, *, rationale: str, source: str) -> Event:
        """Replace the budget (an approved change); stored in the spec and recorded with its provenance."""
        self.set_spec(self._spec.model_copy(update={"budget": budget}))
        return self.emit(BudgetChanged(rationale=rationale, source=source, budget=budget.model_dump(mode="json")))
