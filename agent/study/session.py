"""The session API: one study folder, opened to run or to read. CLI, chat, web and Python all use it.

    session = Session.create(spec, directory)     # new study (writes spec + seed to study.db)
    session = Session.open(directory)             # existing study, to resume or steer
    session = Session.open(directory, readonly=True)  # watch while another process runs it
    summary = session.run()                       # wires the default executor + strategy unless given

Running takes the study lock, so a second runner of the same folder gets a clear ``StudyError``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.core.events import SETUP_BROKEN, DuplicateProposal, Fallback, LlmFinished, Reflection, payload
from agent.core.records import Event, EventKind, MetricPoint, Trial, TrialState, best_trial
from agent.core.spec import StudySpec, load_spec, script_problem
from agent.errors import SandboxError, SpecError, StudyError
from agent.strategies.steplaw import StepLawFirst, law_of
from agent.study.engine import StudyEngine
from agent.study.folder import DB_NAME, StudyLock, check_usable, default_dir, prepare, runner_gone
from agent.study.function_check import function_problem
from agent.study.hooks import Observer, RunSummary, StudyControl
from agent.study.hydra_app import hydra_keys_problem
from agent.study.progress import time_to_result
from agent.study.proposers import Proposer, StrategyProposer
from agent.study.queue import ProposalQueue, QueuedProposer
from agent.study.script import checkpoint_problem, params_problem, syntax_problem, undeclared_flags_problem
from agent.study.state import StudyState
from agent.study.steering import CommandInbox
from agent.study.store.base import TrialStore
from agent.study.store.sqlite import SQLiteStore
from agent.study.tracking import live_trackers
from sandbox.base import TrialExecutor


def setup_problem(spec: StudySpec) -> str | None:
    """What the spec alone shows would fail every trial (one line with the fix), or None: a missing command
    script or one that does not compile, a function that cannot be found, params that never reach the script
    (or flags or Hydra overrides it would reject), a script that does not checkpoint under Population Based Training."""
    return (
        script_problem(spec)
        or syntax_problem(spec)
        or function_problem(spec)
        or params_problem(spec)
        or undeclared_flags_problem(spec)
        or hydra_keys_problem(spec)
        or checkpoint_problem(spec)
    )


class Session:
    """One study folder opened to run or to read (module docstring); what every surface uses."""

    def __init__(
        self, directory: Path, store: TrialStore, spec: StudySpec, *, readonly: bool, state: StudyState | None = None
    ) -> None:
        self.dir = directory
        self.store = store
        self.state = state if state is not None else StudyState(store, spec, directory)
        self.readonly = readonly
        self.control = StudyControl()
        self.engine: StudyEngine | None = None
        self.queue = ProposalQueue()  # proposals from chat, the web page or tools, run before the proposer's

    # ------------------------------------------------------------ opening
    @classmethod
    def create(cls, spec: StudySpec, directory: Path | None = None, *, request: str | None = None) -> Session:
        """A new study in ``directory`` (new or empty; default ``studies/NAME-TIME``). What the spec alone
        shows would fail every trial (a missing script or function, params that never reach the script) is
        refused before the folder exists; the faces also call ``wiring.preflight`` for the machine's part."""
        problem = setup_problem(spec)
        if problem is not None:  # before the study folder exists: nothing to clean up
            raise SpecError(problem)
        directory = prepare(directory or default_dir(spec.name or "study"), new=True)
        store = SQLiteStore(directory / DB_NAME)
        seed = spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**31)
        state = StudyState(store, spec, directory)
        state.set_spec(spec)
        store.set_meta("seed", seed)
        store.set_meta("status", "created")
        if request:
            store.set_meta("request", request)
        return cls(directory, store, spec, readonly=False, state=state)

    @classmethod
    def open(cls, directory: Path, *, readonly: bool = False) -> Session:
        directory = prepare(directory, new=False) if not readonly else check_usable(directory.expanduser().resolve())
        store = SQLiteStore(directory / DB_NAME, readonly=readonly, create=False)
        state = StudyState.load(store, directory)
        if state is None:
            raise StudyError(
                f"{directory / DB_NAME} holds no spec; the study was never started — start it "
                "again with 'tunesmith tune SPEC --dir ...'"
            )
        return cls(directory, store, state.spec, readonly=readonly, state=state)

    @property
    def spec(self) -> StudySpec:
        """The study's spec as this session knows it (``StudyState``; ``state.refresh()`` re-reads it)."""
        return self.state.spec

    @property
    def seed(self) -> int | None:
        value = self.store.get_meta("seed")
        return int(value) if value is not None else self.spec.seed

    def update_spec(self, **budget_and_more: Any) -> None:
        """Apply CLI overrides (trials, workers, strategy ...) and store the new spec."""
        data = self.spec.to_dict()
        for key, value in budget_and_more.items():
            if value is None:
                continue
            if key in ("max_trials", "max_time", "trial_timeout", "memory_mb"):
                data.setdefault("budget", {})[key] = value
            else:
                data[key] = value
        self.state.set_spec(load_spec(data))

    # --------------------------------------------------------------- running
    def default_executor(self) -> TrialExecutor:
        """Local processes, or the Ray cluster chosen at ``tune`` (meta ``executor``, see agent/study/wiring.py)."""
        from agent.study.wiring import ExecutorChoice, make_executor

        return make_executor(self.spec, ExecutorChoice.parse(self.store.get_meta("executor")))

    def default_proposer(self) -> Proposer:
        from agent.strategies.registry import make_strategy

        strategy = make_strategy(
            self.spec.strategy, direction=self.spec.direction, seed=self.seed, budget=self.spec.budget.max_trials
        )
        if law_of(self.spec.task) is not None and self.spec.task is not None:
            strategy = StepLawFirst(strategy, self.spec.task, self.spec.default)  # the law's point first
        return StrategyProposer(strategy)

    def run(
        self,
        *,
        executor: TrialExecutor | None = None,
        proposer: Proposer | None = None,
        observers: Sequence[Observer] = (),
        **engine_kwargs: Any,
    ) -> RunSummary:
        """Run (or resume) the study to the end of its budget; holds the study lock meanwhile."""
        if self.readonly:
            raise StudyError("this session was opened read-only; open it without readonly to run it")
        from agent.study.wiring import ExecutorChoice, make_pruner, make_resources, trial_problem

        problem = setup_problem(self.spec)
        if problem is not None:  # the script moved since: rather than as many failed trials as the budget allows
            raise SpecError(problem)
        if executor is None and ExecutorChoice.parse(self.store.get_meta("executor")).kind == "local":
            problem = trial_problem(self.spec, self.dir)  # e.g. a read_path gone, or resumed as strict
            if problem is not None:
                raise SandboxError(problem)
        trackers = live_trackers(self.spec, self.dir, self.store, lambda e: self.state.emit(e))
        observers = [*observers, *trackers]
        with StudyLock(self.dir):
            executor = executor or self.default_executor()
            proposer = QueuedProposer(proposer or self.default_proposer(), self.queue)
            engine_kwargs.setdefault("pruner", make_pruner(self.spec, self.store.metrics))
            engine_kwargs.setdefault("resources", make_resources(self.spec, executor))
            engine_kwargs.setdefault("steering", CommandInbox(self.store))  # built under the lock: see its doc
            self.engine = StudyEngine(
                spec=self.spec,
                store=self.store,
                executor=executor,
                proposer=proposer,
                study_dir=self.dir,
                observers=observers,
                control=self.control,
                seed=self.seed,
                state=self.state,
                **engine_kwargs,
            )
            self.store.set_meta("status", "running")
            status = "interrupted"
            try:
                summary = self.engine.run()
                status = "finished" if summary.reason in ("budget", "time", "exhausted") else summary.reason
                return summary
            finally:
                try:
                    self.store.set_meta("status", status)
                finally:  # a full disk fails the line above too; the trials must still be stopped
                    self.state.emit = self.store.record  # the engine is gone: events go straight to the store
                    executor.close()
                    proposer.close()
                    for tracker in trackers:
                        tracker.close(timeout=5.0)  # a no-op after the study's end event (tracking.py)

    # --------------------------------------------------------------- reading
    def trials(self) -> list[Trial]:
        return self.store.trials()

    def best(self) -> Trial | None:
        return best_trial(self.store.trials(), self.spec.direction)

    def metrics(self, number: int) -> list[MetricPoint]:
        return self.store.metrics(number)

    def events(self, kind: EventKind | None = None, *, after: int = 0) -> list[Event]:
        return self.store.events(kind, after=after)

    def runner_gone(self) -> bool:
        """Whether the process that last ran this study is gone: its RUNNING trials were interrupted."""
        return runner_gone(self.dir)

    def stop_message(self) -> str | None:
        """Why the last run stopped early on a broken setup (agent/study/doctor.py), or None."""
        if self.store.get_meta("status") != "broken_setup":
            return None
        found = [(e.id, payload(e, kind).message) for kind in SETUP_BROKEN for e in self.events(kind.KIND)]
        return max(found)[1] if found else None

    def status(self) -> dict[str, Any]:
        """A JSON-friendly summary (the basis of ``tunesmith status --json``). ``status`` is what the last
        runner recorded (created, running, finished, interrupted, ...), except that a study recorded as
        running whose process is gone (kill -9) reads ``interrupted``, its running trials counted as such."""
        trials = self.store.trials()
        counts: dict[str, int] = {s.value: 0 for s in TrialState}
        proposers: dict[str, int] = {}
        for t in trials:
            counts[t.state.value] += 1
            proposers[t.proposer.value] = proposers.get(t.proposer.value, 0) + 1
        best = best_trial(trials, self.spec.direction)
        fallbacks = self.store.events(EventKind.FALLBACK)
        state = self.store.get_meta("status", "unknown")
        if state == "running" and self.runner_gone():
            # its process died without a word (kill -9): its RUNNING trials run no more; resume re-runs them
            state = "interrupted"
            counts["interrupted"] = counts.pop("running")
        return {
            "dir": str(self.dir),
            "name": self.spec.name,
            "status": state,
            "metric": self.spec.metric,
            "direction": self.spec.direction,
            "budget": self.spec.budget.max_trials,
            "done": sum(1 for t in trials if t.state.counts),
            "states": counts,
            "proposers": proposers,
            "fallbacks": len(fallbacks),
            "last_fallback": payload(fallbacks[-1], Fallback).reason if fallbacks else None,
            "best": None if best is None else {"trial": best.number, "value": best.value, "params": best.params},
            "elapsed_s": float(self.store.get_meta("elapsed_s", 0.0) or 0.0),
            "seed": self.seed,
            "usage": self.store.get_meta("usage"),
            "chat_usage": self.store.get_meta("chat_usage"),
            "stop_reason": self.stop_message(),
            "model": self._model_verdict(),
            "time_to_result": time_to_result(trials, self.spec.direction),
            "duplicates": self._duplicates(trials),
        }

    def _duplicates(self, trials: Sequence[Trial]) -> dict[str, int]:
        """Functional hashing at work (agent/study/dedupe.py): proposals refused as repeats of a tried
        configuration, duplicates given an earlier result, trials stopped as equivalent by fingerprint."""
        events = self.store.events(EventKind.DUPLICATE_PROPOSAL)
        return {
            "refused": sum(1 for e in events if not payload(e, DuplicateProposal).reused),
            "reused": sum(1 for t in trials if "duplicate_of" in t.info),
            "equivalent": sum(1 for t in trials if "equivalent_to" in t.info),
        }

    def _model_verdict(self) -> dict[str, Any] | None:
        """The LLM's last note and its finish (kind and recommendation), when it wrote any."""
        notes = self.store.events(EventKind.REFLECTION)[-1:]
        finished = self.store.events(EventKind.LLM_FINISHED)[-1:]
        if not notes and not finished:
            return None
        out: dict[str, Any] = {"last_note": payload(notes[0], Reflection).text if notes else None}
        if finished:
            finish = payload(finished[0], LlmFinished)
            out["finish"] = {"kind": finish.kind, "recommendation": finish.recommendation}
        return out

    def close(self) -> None:
        self.store.close()
