"""What the tools act on: ``StudyActions``, a small protocol that agent/ implements (agent/hybrid/actions.py).

tools/ imports nothing from the project at run time, so everything crossing this boundary is plain
data defined here. One implementation serves the hybrid loop (proposals become the engine's next
trials); another serves chat and the web page (proposals are queued into a running study). The tools
own argument validation, bounding and formatting; the protocol owns access to the study.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class TrialView:
    """One trial as tools see it. ``reason`` may quote the trial's stderr: untrusted text."""

    number: int
    state: str  # running | complete | failed | timeout | pruned | cancelled
    params: dict[str, Any]
    value: float | None = None
    proposer: str = "strategy"  # default | strategy | llm | user
    reason: str | None = None
    failure: str | None = None  # crash | oom | timeout | nan | no_metric | ...
    duration: float | None = None
    last_step: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    rationale: str | None = None


@dataclass(frozen=True)
class TrialDetail:
    trial: TrialView
    curve: list[dict[str, Any]]  # [{"step": 1, "val_acc": 0.8, ...}, ...] in report order
    stderr_tail: str | None = None  # untrusted
    stdout_tail: str | None = None  # untrusted


@dataclass(frozen=True)
class StudyInfo:
    metric: str
    direction: str  # maximize | minimize
    space: list[dict[str, Any]]  # SearchSpace.describe(): [{"name", "type", "low", "high", ...}]
    budget: int | None  # max trials (None: unbounded)
    done: int  # trials that count against the budget
    running: int
    name: str | None = None


@dataclass(frozen=True)
class Proposal:
    params: dict[str, Any]
    rationale: str


#: Why a proposal was not run: it breaks the space, repeats a finished trial, or repeats one of its batch.
RejectKind = Literal["invalid", "duplicate", "repeat_in_batch"]


@dataclass(frozen=True)
class Rejection:
    index: int  # position in the submitted batch
    kind: RejectKind
    problems: list[str]  # what is wrong, each a sentence that says how to fix it


@dataclass(frozen=True)
class SubmitResult:
    accepted: list[str]  # one line per accepted proposal
    rejected: list[Rejection] = field(default_factory=list)
    note: str | None = None


EditAction = Literal["widen", "narrow", "add", "freeze"]
#: ``done``: the classical strategy completes the budget; ``setup_broken``: the study pauses for the person.
FinishKind = Literal["done", "setup_broken"]


@dataclass(frozen=True)
class SpaceEdit:
    action: EditAction
    param: str
    rationale: str
    low: float | None = None
    high: float | None = None
    log: bool | None = None
    choices: list[Any] | None = None
    value: Any = None
    type: Literal["float", "int", "categorical"] | None = None


@dataclass(frozen=True)
class EditResult:
    status: Literal["applied", "pending", "rejected"]
    message: str
    space: list[dict[str, Any]] | None = None  # the space after the edit, when applied


class StudyActions(Protocol):
    """A study the tools may read and steer. No method can change the command, files or environment."""

    def info(self) -> StudyInfo: ...

    def trials(self) -> Sequence[TrialView]:
        """Every trial so far, by number."""
        ...

    def detail(self, number: int) -> TrialDetail | None:
        """One trial with its curve and output tails; None when there is no such trial."""
        ...

    def submit(self, proposals: Sequence[Proposal]) -> SubmitResult:
        """Validate and queue configurations to run; invalid ones are rejected with their problems."""
        ...

    def suggest(self, n: int) -> list[dict[str, Any]]:
        """``n`` candidates from the classical optimizer (not queued)."""
        ...

    def edit_space(self, edit: SpaceEdit) -> EditResult:
        """Propose a search-space edit; applied at once only when approved."""
        ...

    def finish(self, recommendation: str, best_trial: int | None, kind: FinishKind = "done") -> str:
        """The model is done (``done``), or says the setup cannot measure anything (``setup_broken``: the
        study pauses for the person); returns what happens next (one line)."""
        ...

    def stop_trials(self, numbers: Sequence[int], reason: str) -> list[str]:
        """Ask running trials to stop early (recorded as pruned, with ``reason``); one line per trial."""
        ...
