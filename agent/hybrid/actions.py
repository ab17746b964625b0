"""``Actions``: the agent's implementation of the tools' ``StudyActions`` protocol, and toolbox factories.

One class serves both places tools are used; what differs is injected:

* the hybrid loop (agent/hybrid/proposer.py) passes a ``sink`` that collects proposals as the engine's next
  trials, and its own ``finish``;
* chat and the web page call ``session_toolbox(session)``: proposals go to the running study's queue
  (``Session.queue``), space edits to the engine when it runs here, or to the store (applied on resume).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agent.core.events import EventData, Recommendation
from agent.core.records import Event, ProposerKind, Trial, TrialDraft, TrialState
from agent.core.space import SearchSpace, config_key
from agent.core.spec import StudySpec
from agent.hybrid.space_edit import Approver, SpaceEditor, leave_pending
from agent.strategies.base import Strategy
from agent.study.folder import trial_dir
from agent.study.store.base import TrialStore
from tools.protocol import (
    EditResult,
    FinishKind,
    Proposal,
    Rejection,
    SpaceEdit,
    StudyInfo,
    SubmitResult,
    TrialDetail,
    TrialView,
)
from tools.toolbox import Toolbox, build_toolbox

if TYPE_CHECKING:
    from agent.study.session import Session

TAIL_BYTES = 4096


class Sink(Protocol):
    """Where accepted proposals go."""

    full_note: str  # said to the model when capacity() is 0

    def capacity(self) -> int | None:
        """How many more proposals may be accepted now (None: no limit)."""
        ...

    def put(self, drafts: list[TrialDraft]) -> list[str]:
        """Take the drafts; one line per draft saying what happens to it."""
        ...


def trial_view(t: Trial) -> TrialView:
    return TrialView(
        number=t.number,
        state=t.state.value,
        params=dict(t.params),
        value=t.value,
        proposer=t.proposer.value,
        reason=t.reason,
        failure=t.failure.value if t.failure else None,
        duration=t.duration,
        last_step=t.last_step,
        metrics=dict(t.metrics),
        rationale=t.rationale,
    )


def read_tail(path: Path, limit: int = TAIL_BYTES) -> str | None:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return None


class Actions:
    """``StudyActions`` over one study (see the module docstring for what is injected)."""

    def __init__(
        self,
        *,
        spec: StudySpec,
        store: TrialStore,
        study_dir: Path | None,
        space: Callable[[], SearchSpace],
        history: Callable[[], Sequence[Trial]],
        strategy: Strategy | None = None,
        sink: Sink | None = None,
        editor: SpaceEditor | None = None,
        finish: Callable[[str, int | None, FinishKind], str] | None = None,
        model: str | None = None,
        proposer: ProposerKind = ProposerKind.LLM,
        running: Callable[[], int] | None = None,
        stop: Callable[[int, str], bool] | None = None,
    ) -> None:
        self.spec = spec
        self.store = store
        self.study_dir = study_dir
        self.space = space
        self.history = history
        self.strategy = strategy
        self.sink = sink
        self.editor = editor
        self._finish = finish
        self.model = model
        self.proposer = proposer
        self._running = running
        self._stop = stop

    def info(self) -> StudyInfo:
        history = self.history()
        running = self._running() if self._running else sum(t.state is TrialState.RUNNING for t in history)
        return StudyInfo(
            metric=self.spec.metric,
            direction=self.spec.direction,
            space=self.space().describe(),
            budget=self.spec.budget.max_trials,
            done=sum(t.state.counts for t in history),
            running=running,
            name=self.spec.name,
        )

    def trials(self) -> list[TrialView]:
        return [trial_view(t) for t in self.history()]

    def detail(self, number: int) -> TrialDetail | None:
        trial = next((t for t in self.history() if t.number == number), None)
        if trial is None:
            return None
        curve = [{"step": p.step, **p.values} for p in self.store.metrics(number)]
        folder = (
            Path(str(trial.info["trial_dir"]))
            if trial.info.get("trial_dir")
            else (trial_dir(self.study_dir, number) if self.study_dir else None)
        )
        stdout = read_tail(folder / "stdout.log") if folder else None
        stderr = trial.stderr_tail or (read_tail(folder / "stderr.log") if folder else None)
        return TrialDetail(trial=trial_view(trial), curve=curve, stderr_tail=stderr, stdout_tail=stdout)

    def submit(self, proposals: Sequence[Proposal]) -> SubmitResult:
        if self.sink is None:
            return SubmitResult(
                accepted=[],
                note="this study is not running in this process, so nothing can be "
                "queued; resume it (tunesmith resume DIR) to run new trials",
            )
        cap = self.sink.capacity()
        if cap == 0:
            return SubmitResult(accepted=[], note=self.sink.full_note)
        space = self.space()
        tried = {config_key(t.params): t for t in self.history() if t.state is not TrialState.CANCELLED}
        drafts: list[TrialDraft] = []
        rejected: list[Rejection] = []
        seen: set[str] = set()
        dropped = 0
        for i, p in enumerate(proposals):
            problems = space.validate_config(p.params)
            if problems:
                rejected.append(Rejection(i, "invalid", problems))
                continue
            params = space.normalise(p.params)
            key = config_key(params)
            if key in tried:
                t = tried[key]
                value = f", {self.spec.metric}={t.value:.6g}" if t.value is not None else ""
                rejected.append(
                    Rejection(
                        i,
                        "duplicate",
                        [f"identical to trial {t.number} ({t.state.value}{value}); propose something new"],
                    )
                )
                continue
            if key in seen:
                rejected.append(Rejection(i, "repeat_in_batch", ["repeats another configuration of this batch"]))
                continue
            if cap is not None and len(drafts) >= cap:
                dropped += 1
                continue
            seen.add(key)
            drafts.append(
                TrialDraft(params=params, proposer=self.proposer, rationale=p.rationale.strip(), model=self.model)
            )
        accepted = self.sink.put(drafts) if drafts else []
        note = f"{dropped} extra configuration(s) not run: only {cap} were asked for" if dropped else None
        return SubmitResult(accepted=accepted, rejected=rejected, note=note)

    def suggest(self, n: int) -> list[dict[str, Any]]:
        if self.strategy is None:
            return []
        return self.strategy.ask(self.space(), list(self.history()), n)

    def edit_space(self, edit: SpaceEdit) -> EditResult:
        if self.editor is None:
            return EditResult("rejected", "space edits are not available here")
        return self.editor.propose(edit, source=self.proposer.value)

    def finish(self, recommendation: str, best_trial: int | None, kind: FinishKind = "done") -> str:
        if self._finish is not None:
            return self._finish(recommendation, best_trial, kind)
        self.store.record(Recommendation(text=recommendation, trial=best_trial, model=self.model, kind=kind))
        return "recorded"

    def stop_trials(self, numbers: Sequence[int], reason: str) -> list[str]:
        if self._stop is None:
            return [f"trial {n}: stopping trials is not available here; ask the person to stop it" for n in numbers]
        return [f"trial {n}: " + ("stopping" if self._stop(n, reason) else "not running") for n in numbers]


class _QueueSink:
    full_note = (
        "nothing can be run now: the study is not running in this process (resume it with 'tunesmith resume DIR')"
    )

    def __init__(self, session: Session) -> None:
        self.session = session

    def capacity(self) -> int | None:
        running = self.session.engine is not None and self.session.store.get_meta("status") == "running"
        return None if running else 0

    def put(self, drafts: list[TrialDraft]) -> list[str]:
        self.session.queue.put(drafts)
        return [f"queued: runs as the next free slot opens ({json.dumps(d.params)})" for d in drafts]


def session_actions(
    session: Session,
    *,
    approve: Approver = leave_pending,
    strategy: Strategy | None = None,
    proposer: ProposerKind = ProposerKind.USER,
    model: str | None = None,
) -> Actions:
    """``Actions`` over a ``Session`` for chat and the web page (see the module docstring)."""
    from agent.strategies.registry import make_strategy

    state = session.state  # while an engine runs here, its events reach that engine's observers

    def space() -> SearchSpace:
        return state.space if session.engine is not None else state.refresh().space

    def apply(new: SearchSpace, *, rationale: str, source: str) -> None:
        state.set_space(new, rationale=rationale, source=source)

    def emit(data: EventData) -> Event:
        return state.emit(data)  # looked up at call time: an engine may have started since

    editor = (
        None
        if session.readonly
        else SpaceEditor(current=space, apply=apply, emit=emit, approve=approve, fixed=session.spec.fixed)
    )
    strategy = strategy or make_strategy(
        session.spec.strategy,
        direction=session.spec.direction,
        seed=session.seed,
        budget=session.spec.budget.max_trials,
    )
    sink = None if session.readonly else _QueueSink(session)
    return Actions(
        spec=session.spec,
        store=session.store,
        study_dir=session.dir,
        space=space,
        history=session.store.trials,
        strategy=strategy,
        sink=sink,
        editor=editor,
        model=model,
        proposer=proposer,
    )


def session_toolbox(
    session: Session,
    *,
    approve: Approver = leave_pending,
    read_only: bool = False,
    proposer: ProposerKind = ProposerKind.USER,
    model: str | None = None,
) -> Toolbox:
    """The tools over a session (chat, web, LangChain agents); ``read_only`` offers only the reading tools."""
    from tools.toolbox import READ_ONLY

    actions = session_actions(session, approve=approve, proposer=proposer, model=model)
    return build_toolbox(actions, only=READ_ONLY if read_only else None)
