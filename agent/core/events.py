"""The typed payload of every event kind: what each entry of a study's event log carries.

An event is written as one of these models (``emit(TrialStarted(params=..., ...), trial=3)``), never as a
kind plus a free dict, so a misspelt field fails mypy where it is written; and it is read back through
:func:`payload` (``payload(event, CommandDone).ok``), so a misspelt field fails mypy where it is read, too.
Resume, steering, approvals and every face read these back.

Contract: :meth:`EventData.as_data` stores exactly the fields the writer set (``exclude_unset``), so the
stored JSON is what a dict literal gave before these types existed, and old study folders read back
unchanged; reading ignores keys a model does not know (an older or newer writer) and fills defaults for
the ones it lacks. Field types are as loose as the stored data has ever been (``Any`` for free-form
nested values) because the log outlives any one version of the code.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from agent.core.records import Event, EventKind


class EventData(BaseModel):
    """Base of every payload. ``KIND`` is the event kind the payload is stored under."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    KIND: ClassVar[EventKind]

    def as_data(self) -> dict[str, Any]:
        """The dict stored in the log: the fields the writer set, nothing else."""
        return self.model_dump(exclude_unset=True)


P = TypeVar("P", bound=EventData)


def payload(event: Event, kind: type[P]) -> P:
    """``event``'s data as ``kind``'s model. Raises ValueError when the event is of another kind."""
    if event.kind != kind.KIND:
        raise ValueError(f"event #{event.id} is {event.kind!r}, not {kind.KIND.value!r}")
    return kind.model_validate(event.data)


# ------------------------------------------------------------------ the study's lifecycle
class StudyStarted(EventData):
    KIND = EventKind.STUDY_STARTED
    pid: int | None = None
    counted: int = 0
    retries: list[int] = []


class StudyResumed(StudyStarted):
    KIND = EventKind.STUDY_RESUMED


class StudyFinished(EventData):
    KIND = EventKind.STUDY_FINISHED
    reason: str = ""
    counted: int = 0
    best: int | None = None
    message: str | None = None


class StudyInterrupted(EventData):
    KIND = EventKind.STUDY_INTERRUPTED
    counted: int = 0


# ------------------------------------------------------------------ trials
class TrialStarted(EventData):
    KIND = EventKind.TRIAL_STARTED
    params: dict[str, Any] = {}
    proposer: str | None = None
    strategy: str | None = None
    retry_of: int | None = None
    lineage: dict[str, Any] | None = None  # a Population Based Training segment's Lineage, dumped


class TrialFinished(EventData):
    KIND = EventKind.TRIAL_FINISHED
    state: str = ""
    value: float | None = None
    reason: str | None = None
    failure: str | None = None
    duration: float | None = None


class TrackerFailed(EventData):
    """Live logging to an experiment tracker (``track:``) failed; the study goes on (agent/study/tracking.py)."""

    KIND = EventKind.TRACKER_FAILED
    tracker: str = ""
    message: str = ""


class TrialInterrupted(EventData):
    KIND = EventKind.TRIAL_INTERRUPTED


class StopRequest(EventData):
    """Base of the events that ask a running trial to stop; ``reason`` is shown to the person."""

    KIND = EventKind.STOP_REQUESTED
    reason: str = ""


class StopRequested(StopRequest):
    KIND = EventKind.STOP_REQUESTED
    source: str | None = None


class PruneRequested(StopRequest):
    KIND = EventKind.PRUNE_REQUESTED
    step: int | None = None


class PbtDecision(StopRequest):
    KIND = EventKind.PBT_DECISION
    action: str = ""  # "exploit", "explore" or "pause" (agent/study/pbt.py)
    member: int | None = None
    step: int | None = None


class EquivalentTrial(StopRequest):
    KIND = EventKind.EQUIVALENT_TRIAL
    equivalent_to: int | None = None


# ------------------------------------------------------------------ a setup that cannot work: the study stopped
class SetupBroken(EventData):
    """Base of the doctor's findings (agent/study/doctor.py, agent/study/pbt.py)."""

    KIND = EventKind.IDENTICAL_FAILURES
    message: str = ""
    trials: list[int] = []


class IdenticalFailures(SetupBroken):
    KIND = EventKind.IDENTICAL_FAILURES


class IdenticalMetrics(SetupBroken):
    KIND = EventKind.IDENTICAL_METRICS


class NoCheckpoint(SetupBroken):
    KIND = EventKind.NO_CHECKPOINT


SETUP_BROKEN: tuple[type[SetupBroken], ...] = (IdenticalFailures, IdenticalMetrics, NoCheckpoint)


def setup_broken(kind: EventKind, message: str, trials: list[int]) -> SetupBroken:
    """The payload of a doctor's finding of ``kind`` (one of :data:`SETUP_BROKEN`'s kinds)."""
    for model in SETUP_BROKEN:
        if model.KIND is kind:
            return model(message=message, trials=trials)
    raise ValueError(f"{kind!r} is not a broken-setup kind")


# ------------------------------------------------------------------ proposals
class DuplicateProposal(EventData):
    KIND = EventKind.DUPLICATE_PROPOSAL
    proposer: str | None = None
    params: dict[str, Any] = {}
    duplicate_of: int | None = None
    reused: bool = False  # True: the earlier result was recorded for it (reuse_duplicates)


class InvalidProposal(EventData):
    KIND = EventKind.INVALID_PROPOSAL
    proposer: str | None = None
    problems: list[str] = []
    params: dict[str, Any] = {}
    pbt: bool = False


# ------------------------------------------------------------------ the person's changes
class BudgetChanged(EventData):
    KIND = EventKind.BUDGET_CHANGED
    rationale: str = ""
    source: str = ""
    budget: dict[str, Any] = {}


class SpaceEdited(EventData):
    KIND = EventKind.SPACE_EDITED
    rationale: str = ""
    source: str = ""
    space: list[dict[str, Any]] = []


class SpaceEditRecord(EventData):
    """An edit of the search space as the LLM proposed it (tools/protocol.py's SpaceEdit) and who sent it."""

    KIND = EventKind.SPACE_EDIT_PROPOSED
    action: str = ""
    param: str = ""
    rationale: str = ""
    low: float | None = None
    high: float | None = None
    log: bool | None = None
    choices: list[Any] | None = None
    value: Any = None
    type: str | None = None
    source: str = "llm"


class SpaceEditProposed(SpaceEditRecord):
    KIND = EventKind.SPACE_EDIT_PROPOSED


class SpaceEditRejected(SpaceEditRecord):
    KIND = EventKind.SPACE_EDIT_REJECTED
    why: str = ""


class SpaceEditDecided(EventData):
    KIND = EventKind.SPACE_EDIT_DECIDED
    proposal: int
    approved: bool = False
    status: str = ""


class ChangeProposed(EventData):
    """A side effect a chat model asked for; nothing happens until the person approves it."""

    KIND = EventKind.CHANGE_PROPOSED
    op: str = ""
    args: dict[str, Any] = {}
    summary: str = ""
    source: str = ""
    by: str = ""


class ChangeDecision(EventData):
    """The person's answer to a ChangeProposed (``proposal``: its event id)."""

    KIND = EventKind.CHANGE_APPROVED
    proposal: int
    source: str = ""


class ChangeApproved(ChangeDecision):
    KIND = EventKind.CHANGE_APPROVED


class ChangeRejected(ChangeDecision):
    KIND = EventKind.CHANGE_REJECTED


class CommandPosted(EventData):
    """A steering command as posted by a face (agent/study/steering.py validates it as a Command)."""

    KIND = EventKind.COMMAND
    op: str = ""
    args: dict[str, Any] = {}
    source: str = "user"


class CommandDone(EventData):
    KIND = EventKind.COMMAND_DONE
    command: int | None = None
    ok: bool = False
    message: str = ""
    op: str | None = None


class ChatTurn(EventData):
    KIND = EventKind.CHAT
    source: str = ""
    text: str = ""
    reply: str = ""


# ------------------------------------------------------------------ the LLM
class Fallback(EventData):
    KIND = EventKind.FALLBACK
    kind: str = ""
    reason: str = ""
    model: str | None = None
    slots: int | None = None
    retry_after_slots: int | None = None
    explore: bool = False


class LlmBudgetExhausted(EventData):
    KIND = EventKind.LLM_BUDGET_EXHAUSTED
    reason: str = ""
    usage: dict[str, Any] | None = None


class LlmDecision(EventData):
    KIND = EventKind.LLM_DECISION
    model: str | None = None
    asked: int | None = None
    accepted: int = 0
    steps: int | None = None
    mistakes: int | None = None
    trials_so_far: int | None = None
    explore: bool = False  # a Population Based Training explore step (agent/hybrid/explore.py)
    member: int | None = None
    problem: str | None = None


class LlmFinished(EventData):
    KIND = EventKind.LLM_FINISHED
    recommendation: str = ""
    trial: int | None = None
    model: str | None = None
    kind: str = "done"  # "done" or "setup_broken"


class LlmMissing(EventData):
    KIND = EventKind.LLM_MISSING
    message: str = ""


class LlmMistake(EventData):
    KIND = EventKind.LLM_MISTAKE
    kind: str = ""
    detail: str = ""
    consecutive: int = 0
    model: str | None = None


class LlmRetry(EventData):
    KIND = EventKind.LLM_RETRY
    after_failures: int = 0
    model: str | None = None


class Recommendation(EventData):
    KIND = EventKind.RECOMMENDATION
    text: str = ""
    trial: int | None = None
    model: str | None = None
    kind: str = "done"


class Reflection(EventData):
    KIND = EventKind.REFLECTION
    text: str = ""
    trials: list[int] = []
    model: str | None = None


class ToolCall(EventData):
    KIND = EventKind.TOOL_CALL
    tool: str = ""
    arguments: str = ""
    mistake: str | None = None
    result: str = ""
    model: str | None = None


#: Every payload model by the kind it is stored under (a test checks each kind has exactly one).
PAYLOADS: dict[EventKind, type[EventData]] = {
    m.KIND: m
    for m in (
        StudyStarted,
        StudyResumed,
        StudyFinished,
        StudyInterrupted,
        TrialStarted,
        TrialFinished,
        TrialInterrupted,
        TrackerFailed,
        StopRequested,
        PruneRequested,
        PbtDecision,
        EquivalentTrial,
        IdenticalFailures,
        IdenticalMetrics,
        NoCheckpoint,
        DuplicateProposal,
        InvalidProposal,
        BudgetChanged,
        SpaceEdited,
        SpaceEditProposed,
        SpaceEditRejected,
        SpaceEditDecided,
        ChangeProposed,
        ChangeApproved,
        ChangeRejected,
        CommandPosted,
        CommandDone,
        ChatTurn,
        Fallback,
        LlmBudgetExhausted,
        LlmDecision,
        LlmFinished,
        LlmMissing,
        LlmMistake,
        LlmRetry,
        Recommendation,
        Reflection,
        ToolCall,
    )
}
