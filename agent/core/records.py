"""Immutable records of a study: trials, metric points and events.

A trial's own failure is data, never an exception: ``Trial.state`` says how it ended and
``Trial.reason`` says why in one line (with ``stderr_tail`` for the details).

Budget accounting: a trial *counts* once it is finished in any state except CANCELLED (cancelled trials
are interrupted or withdrawn ones; an interrupted trial is re-run once under a new number with
``retry_of`` pointing back).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TrialState(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    TIMEOUT = "timeout"
    PRUNED = "pruned"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self is not TrialState.RUNNING

    @property
    def counts(self) -> bool:
        """Whether a trial in this state uses up one unit of the trial budget."""
        return self not in (TrialState.RUNNING, TrialState.CANCELLED)


class ProposerKind(StrEnum):
    DEFAULT = "default"
    STRATEGY = "strategy"
    LLM = "llm"
    USER = "user"


#: proposers whose trials a strategy learns from but that do not take its own draws (``strategies.base``)
FOREIGN_PROPOSERS = (ProposerKind.LLM, ProposerKind.USER)


class FailureKind(StrEnum):
    CRASH = "crash"  # non-zero exit
    SIGNAL = "signal"  # killed by a signal we did not send
    OOM = "oom"  # memory limit hit
    NAN = "nan"  # objective NaN or infinite
    NO_METRIC = "no_metric"  # exited 0 without reporting the objective
    TIMEOUT = "timeout"
    LAUNCH = "launch"  # the command could not start
    LOST = "lost"  # the worker running it disappeared
    INTERRUPTED = "interrupted"  # tunesmith itself stopped while the trial ran


class MetricPoint(BaseModel):
    """One report from a trial: ``values`` at ``step`` (None when the script gave no step)."""

    model_config = ConfigDict(frozen=True)
    step: int | None = None
    values: dict[str, float]
    time: float = Field(default_factory=time.time)
    final: bool = False


#: How a segment of Population Based Training began: a new member from scratch, its own training continued
#: (after a pause, or re-run after an interruption), or a better member's checkpoint with explored params.
SegmentKind = Literal["start", "continue", "retry", "exploit"]


class Lineage(BaseModel):
    """Where a segment of Population Based Training comes from (agent/study/pbt.py): the population
    member it trains, and the checkpoint it started from. A member's segments, in number order, are its
    hyperparameter schedule; ``parent`` links draw the population's family tree."""

    model_config = ConfigDict(frozen=True)
    member: int = Field(ge=0)
    kind: SegmentKind = "start"
    parent: int | None = Field(default=None, description="trial whose checkpoint this segment loaded")
    parent_member: int | None = Field(default=None, description="the member that trial trained")
    start_step: int | None = Field(default=None, description="step of the checkpoint loaded (None: from scratch)")
    checkpoint: str | None = Field(default=None, description="path of the checkpoint loaded, as launched")
    explore: dict[str, str] = Field(default_factory=dict, description="param -> how it changed ('* 1.2', ...)")


class TrialDraft(BaseModel):
    """What a proposer hands to the store: the store assigns the number."""

    model_config = ConfigDict(frozen=True)
    params: dict[str, Any]
    proposer: ProposerKind
    rationale: str | None = None
    model: str | None = None
    strategy: str | None = None
    retry_of: int | None = None
    lineage: Lineage | None = None


class Trial(BaseModel):
    """A trial as stored. Replace with ``trial.model_copy(update=...)``; never mutate."""

    model_config = ConfigDict(frozen=True)
    number: int
    params: dict[str, Any]
    state: TrialState = TrialState.RUNNING
    value: float | None = None
    proposer: ProposerKind = ProposerKind.STRATEGY
    rationale: str | None = None
    model: str | None = None
    strategy: str | None = None
    retry_of: int | None = None
    lineage: Lineage | None = None  # a segment of Population Based Training
    created_at: float = Field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    reason: str | None = None
    failure: FailureKind | None = None
    stderr_tail: str | None = None
    exit_code: int | None = None
    last_step: int | None = None
    metrics: dict[str, float] = Field(default_factory=dict, description="last value of every metric")
    info: dict[str, Any] = Field(default_factory=dict, description="executor details: rss, gpus, host")

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def ok(self) -> bool:
        return self.state is TrialState.COMPLETE and self.value is not None and math.isfinite(self.value)


class EventKind(StrEnum):
    """Every kind of entry in a study's event log. Resume and every face read these back, so a kind is
    named through this enum (a typo fails mypy); the stored value is the lower-case string."""

    STUDY_STARTED = "study_started"
    STUDY_RESUMED = "study_resumed"
    STUDY_FINISHED = "study_finished"
    STUDY_INTERRUPTED = "study_interrupted"
    TRIAL_STARTED = "trial_started"
    TRIAL_FINISHED = "trial_finished"
    TRIAL_INTERRUPTED = "trial_interrupted"
    PRUNE_REQUESTED = "prune_requested"
    STOP_REQUESTED = "stop_requested"
    BUDGET_CHANGED = "budget_changed"
    SPACE_EDITED = "space_edited"
    SPACE_EDIT_PROPOSED = "space_edit_proposed"
    SPACE_EDIT_DECIDED = "space_edit_decided"
    SPACE_EDIT_REJECTED = "space_edit_rejected"
    CHANGE_PROPOSED = "change_proposed"
    CHANGE_APPROVED = "change_approved"
    CHANGE_REJECTED = "change_rejected"
    COMMAND = "command"
    COMMAND_DONE = "command_done"
    CHAT = "chat"
    IDENTICAL_FAILURES = "identical_failures"  # the setup looks broken: the study stopped (study/doctor.py)
    IDENTICAL_METRICS = "identical_metrics"  # params seem not to reach the script: the study stopped
    NO_CHECKPOINT = "no_checkpoint"  # PBT: a segment saved no checkpoint to continue from: the study stopped
    PBT_DECISION = "pbt_decision"  # PBT: a member paused, exploited (with its donor) or kept training
    DUPLICATE_PROPOSAL = "duplicate_proposal"  # a proposal equal to a tried configuration (canonical hash)
    EQUIVALENT_TRIAL = "equivalent_trial"  # a trial's functional fingerprint equals a finished trial's
    FALLBACK = "fallback"
    INVALID_PROPOSAL = "invalid_proposal"
    LLM_BUDGET_EXHAUSTED = "llm_budget_exhausted"
    LLM_DECISION = "llm_decision"
    LLM_FINISHED = "llm_finished"
    LLM_MISSING = "llm_missing"
    LLM_MISTAKE = "llm_mistake"
    LLM_RETRY = "llm_retry"
    RECOMMENDATION = "recommendation"
    REFLECTION = "reflection"
    TOOL_CALL = "tool_call"
    TRACKER_FAILED = "tracker_failed"  # live logging to MLflow (track:) failed; the study went on


class Event(BaseModel):
    """An entry of the study's event log (trial lifecycle, fallbacks, reflections, space edits ...)."""

    model_config = ConfigDict(frozen=True)
    id: int = 0
    time: float = Field(default_factory=time.time)
    kind: str
    trial: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)


def better(a: float, b: float, direction: str) -> bool:
    """Whether value ``a`` is strictly better than ``b`` under ``direction``."""
    return a > b if direction == "maximize" else a < b


def best_trial(trials: list[Trial], direction: str) -> Trial | None:
    """The best complete trial; ties go to the earliest."""
    best: Trial | None = None
    for t in trials:
        if t.ok and (best is None or better(t.value, best.value, direction)):  # type: ignore[arg-type]
            best = t
    return best


class History(tuple[Trial, ...]):
    """A snapshot of a study's trials that knows how many of them an LLM or a person proposed.

    The engine keeps that count as trials are created, so a strategy's ``own_trials`` is O(1) on it instead of
    a pass over the whole history on every proposal (what kept the overhead per trial growing with the study).
    Immutable, so the count cannot drift from the trials; any other sequence of trials works too, counted.
    """

    foreign: int

    def __new__(cls, trials: Iterable[Trial], foreign: int) -> History:
        self = super().__new__(cls, trials)
        self.foreign = foreign
        return self

    def __getnewargs__(self) -> tuple[tuple[Trial, ...], int]:
        return tuple(self), self.foreign  # pickle and deepcopy rebuild it through __new__ with both arguments
