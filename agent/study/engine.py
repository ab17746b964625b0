"""The study engine: keeps the executor's slots busy with validated proposals until the budget is spent.

Order of proposals: interrupted trials are re-run first (once each), then the spec's default (once),
then the proposer. A trial is written to the store (RUNNING) *before* its process starts, and its final
state is written as soon as its outcome arrives, so a ``kill -9`` at any moment loses nothing:
``recover()`` (run at every start) marks trials left RUNNING as interrupted and queues them for one
re-run under a new number.

Stopping conditions: ``budget.max_trials`` counted trials (every finished state except CANCELLED),
``budget.max_time`` of study wall-clock (summed over resumes), a stop request, a proposer with
nothing left to propose, or a broken setup (``broken_setup``: after each finished trial the
``SetupDoctor`` of agent/study/doctor.py looks for failures or results that repeat identically whatever
the params; ``RunSummary.message`` then says why). One trial's failure never stops the study.

Early stops: the pruner is asked on each report of the objective, and ``stop_trial`` lets the agent (or a
person) stop a trial with a reason; either way the trial is asked to stop and ends PRUNED with its curve
(COMPLETE if it had finished its run before the stop took effect: ``outcome.classify``).
With ``resources`` (GPUs), no more trials are launched than ``resources.available()`` allows.

Population Based Training (``spec.scheduler``, agent/study/pbt.py): the ``PopulationScheduler`` says what
runs next (new members from the proposer, paused or exploiting members from checkpoints) and, on reports,
which segment stops; the study ends when every member has finished, and ``budget.max_trials`` does not
apply. Every trial gets a checkpoint folder (``TUNESMITH_CHECKPOINT_DIR``); a segment that continues a
training, and an interrupted trial re-run, get the checkpoint to load (``TUNESMITH_RESTORE_FROM``).

Functional hashing (agent/study/dedupe.py): a proposal equal to a tried configuration (canonical hash) is
not run again, or with ``reuse_duplicates`` gets the earlier result; a trial whose functional fingerprint
equals a finished trial's is stopped and recorded with that trial's result.

Collaborators are injected (store, executor, proposer, observers, pruner, resources); the engine
builds none of them. Its two halves live beside it: where new trials come from (``ProposalIntake``,
intake.py) and what their reports and outcomes do (``TrialResults``, results.py).
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from agent.core.events import (
    EventData,
    StopRequest,
    StopRequested,
    StudyFinished,
    StudyInterrupted,
    StudyResumed,
    StudyStarted,
    TrialInterrupted,
    TrialStarted,
    setup_broken,
)
from agent.core.records import (
    FOREIGN_PROPOSERS,
    Event,
    FailureKind,
    ProposerKind,
    Trial,
    TrialDraft,
    TrialState,
    best_trial,
)
from agent.core.space import SearchSpace
from agent.core.spec import Budget, StudySpec
from agent.study.dedupe import (
    TriedIndex,
)
from agent.study.doctor import Finding, SetupDoctor
from agent.study.hooks import Observer, Pruner, Resources, RunSummary, Steering, StudyControl
from agent.study.hydra_app import hydra_app
from agent.study.intake import ProposalIntake
from agent.study.pbt import CheckpointPaths, PopulationScheduler
from agent.study.proposers import Proposer
from agent.study.results import TrialResults
from agent.study.script import flag_names, flag_switches
from agent.study.state import StudyState
from agent.study.store.base import TrialStore
from agent.study.trial_request import default_threads, trial_request
from sandbox.base import Report, TrialExecutor, TrialRequest

__all__ = ["Observer", "Pruner", "Resources", "RunSummary", "Steering", "StudyControl", "StudyEngine"]


class StudyEngine(TrialResults, ProposalIntake):
    """Runs one study to the end of its budget with injected collaborators (module docstring)."""

    def __init__(
        self,
        *,
        spec: StudySpec,
        store: TrialStore,
        executor: TrialExecutor,
        proposer: Proposer,
        study_dir: Path,
        observers: Sequence[Observer] = (),
        pruner: Pruner | None = None,
        resources: Resources | None = None,
        control: StudyControl | None = None,
        steering: Steering | None = None,
        seed: int | None = None,
        tick: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        state: StudyState | None = None,
        population: PopulationScheduler | None = None,
    ) -> None:
        self.state = state if state is not None else StudyState(store, spec, study_dir)
        self.state.emit = self.emit  # changes made through any face reach this engine's observers
        self.store = store
        self.executor = executor
        self.proposer = proposer
        self.study_dir = study_dir
        self.observers = list(observers)
        self.pruner = pruner
        self.resources = resources
        self.control = control or StudyControl()
        self.steering = steering
        self.seed = seed if seed is not None else spec.seed
        self.tick = tick
        self.clock = clock
        self._running: dict[str, Trial] = {}
        self._stopping: set[str] = set()  # trial ids asked to stop early (not asked again)
        self._stop_requests: queue.SimpleQueue[tuple[int, str, str]] = queue.SimpleQueue()
        self._history: list[Trial] = []
        self._counted = 0  # trials of the history that count against the budget (``counted``)
        self._foreign = 0  # trials of the history an LLM or a person proposed (``records.History``)
        self._tried = TriedIndex()  # the tried configurations, kept up to date (dedupe.py)
        self._elapsed_before = float(store.get_meta("elapsed_s", 0.0) or 0.0)
        self._started = clock()
        self._threads = default_threads(spec)
        self._flags = flag_names(spec)  # pass_args: flags the script spells with dashes ...
        self._switches = flag_switches(spec)  # ... and flags that take no value (store_true)
        self._hydra = hydra_app(spec)  # name=value to a Hydra app: its run dir in each trial's folder
        self.doctor = SetupDoctor(
            after=spec.broken_setup_after, metric=spec.metric, curve=store.metrics, study_dir=study_dir
        )
        self._broken: Finding | None = None  # the doctor's reason to stop, once it has one
        self._default_done = False
        pbt = spec.scheduler
        self.paths = CheckpointPaths(study_dir, Path(pbt.checkpoint_root) if pbt and pbt.checkpoint_root else None)
        if population is None and pbt is not None:
            population = PopulationScheduler(
                pbt,
                metric=spec.metric,
                direction=spec.direction,
                curves=store.metrics,
                paths=self.paths,
                seed=self.seed,
                explorer=proposer.explore,
            )
        self.population = population
        self.proposer.attach(self)

    # ------------------------------------------------------------------ state
    @property
    def spec(self) -> StudySpec:
        return self.state.spec

    @property
    def space(self) -> SearchSpace:
        return self.state.space

    def set_space(self, space: SearchSpace, *, rationale: str, source: str) -> None:
        """Replace the search space (an approved edit); recorded with provenance (``StudyState``)."""
        self.state.set_space(space, rationale=rationale, source=source)

    def set_budget(self, budget: Budget, *, rationale: str, source: str) -> None:
        """Replace the budget (an approved change); recorded with provenance (``StudyState``)."""
        self.state.set_budget(budget, rationale=rationale, source=source)

    @property
    def history(self) -> list[Trial]:
        return self._history

    @property
    def counted(self) -> int:
        """Trials that count against the budget; kept up to date as trials change (asked every tick, so it
        must not cost a pass over the history: flat per-trial overhead at 10,000 stored trials)."""
        return self._counted

    @property
    def elapsed(self) -> float:
        return self._elapsed_before + (self.clock() - self._started)

    def emit(self, data: EventData, *, trial: int | None = None) -> Event:
        """Record a typed event (agent/core/events.py) and tell every observer (the faces' live views)."""
        event = self.store.record(data, trial=trial)
        for obs in self.observers:
            obs(event)
        return event

    def _replace(self, trial: Trial) -> None:
        self.store.update_trial(trial)
        for i in range(len(self._history) - 1, -1, -1):
            if self._history[i].number == trial.number:
                self._counted += int(trial.state.counts) - int(self._history[i].state.counts)
                self._history[i] = trial
                self._tried.note(trial)
                return
        self._history.append(trial)
        self._counted += int(trial.state.counts)
        self._foreign += trial.proposer in FOREIGN_PROPOSERS
        self._tried.note(trial)

    # --------------------------------------------------------------- recovery
    def recover(self) -> list[Trial]:
        """Mark trials left RUNNING by a dead process as interrupted; return those to re-run."""
        self._history = self.store.trials()
        self._counted = sum(1 for t in self._history if t.state.counts)
        self._foreign = sum(1 for t in self._history if t.proposer in FOREIGN_PROPOSERS)
        self._tried = TriedIndex()  # rebuilt from this history on the first proposal
        self._mark_interrupted("interrupted: tunesmith stopped while it ran; it is re-run once as a new trial")
        retried = {t.retry_of for t in self._history if t.retry_of is not None}
        return [
            t
            for t in self._history
            if t.failure is FailureKind.INTERRUPTED and t.retry_of is None and t.number not in retried
        ]

    def _mark_interrupted(self, reason: str) -> None:
        """Record every trial still RUNNING in the history as interrupted (re-run once on the next start)."""
        now = time.time()
        for t in list(self._history):
            if t.state is TrialState.RUNNING:
                self._replace(
                    t.model_copy(
                        update={
                            "state": TrialState.CANCELLED,
                            "failure": FailureKind.INTERRUPTED,
                            "finished_at": now,
                            "reason": reason,
                        }
                    )
                )
                self.emit(TrialInterrupted(), trial=t.number)

    # ------------------------------------------------------------------- run
    def run(self) -> RunSummary:
        """Run until a stopping condition; always leaves the store consistent."""
        retries = self.recover()
        resumed = bool(self._history)
        started = StudyResumed if resumed else StudyStarted
        self.emit(started(pid=os.getpid(), counted=self.counted, retries=[t.number for t in retries]))
        reason = "exhausted"
        try:
            reason = self._loop(retries)
        except BaseException:
            reason = "interrupted: tunesmith was stopped while it ran; it is re-run once on resume"
            self._abort(reason)
            # A trial being launched when the signal came, or one slower to end than the grace period,
            # is recorded as interrupted too: nothing is left marked running by a process that is gone.
            self._running.clear()
            self._mark_interrupted(reason)
            self.emit(StudyInterrupted(counted=self.counted))
            raise
        finally:
            self.store.set_meta("elapsed_s", self.elapsed)
        if self._running:
            self._abort(
                self.control.stop_reason if reason == "stopped" else f"study ended ({reason})",
                interrupted=reason == "stopped",
            )
        best = best_trial(self._history, self.spec.direction)
        message = self._broken.message if self._broken is not None and reason == "broken_setup" else None
        self.emit(
            StudyFinished(reason=reason, counted=self.counted, best=best.number if best else None, message=message)
        )
        return RunSummary(reason=reason, counted=self.counted, best=best, message=message)

    def _budget_left(self) -> int | None:
        if self.population is not None:
            return None  # a population trains until every member has finished (pbt.py)
        cap = self.spec.budget.max_trials
        return None if cap is None else cap - self.counted - len(self._running)

    def _out_of_time(self) -> bool:
        limit = self.spec.budget.max_time
        return limit is not None and self.elapsed >= limit

    def _loop(self, retries: list[Trial]) -> str:
        self._default_done = any(t.proposer is ProposerKind.DEFAULT for t in self._history)
        if self.population is not None:
            retries = []  # the population continues interrupted segments itself, from their checkpoints
        exhausted = False
        while True:
            if self.steering is not None:
                self.steering.poll(self)
            if self.control.stopping:
                return "stopped"
            if self._broken is not None:
                return "broken_setup"
            if self._out_of_time():
                return "time"
            left = self._budget_left()
            if left is not None and left <= 0 and not self._running:
                return "budget"
            self._apply_stop_requests()
            free = self.executor.capacity - len(self._running)
            if self.resources is not None:
                free = min(free, self.resources.available())
            launch = 0 if self.control.paused or exhausted else min(free, left if left is not None else free)
            launched = False
            if launch > 0 and self.population is not None:
                found = self.population.next(self._history, launch, self._fresh, self.space)
                if isinstance(found, Finding):
                    self._broken = found
                    self.emit(setup_broken(found.kind, found.message, list(found.trials)))
                    continue
                self._record_rejected_explores()
                for draft in found:
                    self._launch(draft)
                launched = bool(found)
            elif launch > 0:
                drafts: list[TrialDraft] = []
                while retries and len(drafts) < launch:
                    old = retries.pop(0)
                    drafts.append(
                        TrialDraft(
                            params=old.params,
                            proposer=old.proposer,
                            rationale=old.rationale,
                            model=old.model,
                            strategy=old.strategy,
                            retry_of=old.number,
                        )
                    )
                if len(drafts) < launch:
                    got = self._fresh(launch - len(drafts), left)
                    exhausted = not got and not drafts
                    drafts.extend(got)
                for draft in drafts:
                    self._launch(draft)
            if not self._running:
                if self.population is not None and self.population.done(self._history):
                    return "budget"
                if self.population is not None and not self.control.paused and not launched:
                    return "exhausted"  # members wait, yet none could start (the proposer gave no new one)
                if exhausted:
                    return "exhausted"
                if self.control.paused:
                    time.sleep(min(self.tick, 0.2))
                continue
            wait = self.tick
            if self.spec.budget.max_time is not None:
                wait = max(0.01, min(wait, self.spec.budget.max_time - self.elapsed))
            for ev in self.executor.wait(timeout=wait):
                if isinstance(ev, Report):
                    self._on_report(ev)
                else:
                    self._on_outcome(ev)
            self._apply_stop_requests()

    # ------------------------------------------------------------- stopping
    def stop_trial(self, number: int, reason: str, *, source: str = "agent") -> bool:
        """Ask running trial ``number`` to stop early, e.g. because its curve looks hopeless.

        Safe to call from any thread; the engine's loop carries it out within one ``tick``. The trial is
        asked to stop (stop file and SIGTERM at once, SIGKILL after about two of its steps), ends PRUNED
        with its curve kept and ``reason`` recorded (COMPLETE if its run was over before the stop took
        effect), and counts against the budget. Returns False when the trial is not
        running (finished already, or unknown)."""
        if not reason.strip():
            raise ValueError("stop_trial needs a reason, e.g. 'val_loss diverged'")
        if not any(t.number == number for t in list(self._running.values())):
            return False
        self._stop_requests.put((number, reason.strip(), source))
        return True

    def _apply_stop_requests(self) -> None:
        while True:
            try:
                number, reason, source = self._stop_requests.get_nowait()
            except queue.Empty:
                return
            for trial_id, trial in self._running.items():
                if trial.number == number and trial_id not in self._stopping:
                    self._request_stop(trial_id, trial, StopRequested(reason=reason, source=source))

    def _request_stop(self, trial_id: str, trial: Trial, request: StopRequest) -> None:
        self._stopping.add(trial_id)
        self.emit(request, trial=trial.number)
        self.executor.cancel(trial_id, request.reason, stop=True)

    # ----------------------------------------------------------- one trial
    def _create(self, draft: TrialDraft) -> Trial:
        trial = self.store.create_trial(draft)
        self._history.append(trial)
        self._counted += int(trial.state.counts)
        self._foreign += trial.proposer in FOREIGN_PROPOSERS
        self._tried.note(trial)
        return trial

    def _launch(self, draft: TrialDraft) -> None:
        trial = self._create(draft)
        try:
            env = self._checkpoint_env(trial)
        except OSError as exc:  # the checkpoint to continue from is gone or unreadable: this segment fails
            reason = f"could not copy the checkpoint to continue from ({exc}); its member ends here"
            failed = trial.model_copy(
                update={"state": TrialState.FAILED, "failure": FailureKind.LAUNCH, "reason": reason}
            )
            self._replace(failed.model_copy(update={"finished_at": time.time()}))
            self._finished_event(failed)
            return
        gpus = self.resources.acquire(trial.number) if self.resources else None
        if self.resources is not None and gpus is None:  # available() said there was room
            raise RuntimeError(f"resources refused trial {trial.number} after reporting room for it")
        request = self.build_request(trial, gpus, env)
        trial = trial.model_copy(
            update={"started_at": time.time(), "info": {"trial_dir": request.trial_dir, "gpus": gpus}}
        )
        self._replace(trial)
        self._running[request.trial_id] = trial
        started = TrialStarted(
            params=trial.params,
            proposer=trial.proposer.value,
            strategy=trial.strategy,
            retry_of=trial.retry_of,
            lineage=trial.lineage.model_dump(exclude_defaults=True) if trial.lineage is not None else None,
        )
        self.emit(started, trial=trial.number)
        self.executor.submit(request)

    def _checkpoint_env(self, trial: Trial) -> dict[str, str]:
        """The trial's checkpoint folder, and the checkpoint it continues from (its lineage's, or the latest
        of the interrupted trial it re-runs)."""
        resume_from = None
        if trial.lineage is None and trial.retry_of is not None:
            resume_from = next((t for t in self._history if t.number == trial.retry_of), None)
        return self.paths.env(trial, resume_from)

    def build_request(
        self, trial: Trial, gpus: tuple[int, ...] | None = None, env: dict[str, str] | None = None
    ) -> TrialRequest:
        return trial_request(
            self.spec,
            self.study_dir,
            trial.number,
            trial.params,
            seed=self.seed,
            threads=self._threads,
            gpus=gpus,
            env=env,
            flags=self._flags,
            switches=self._switches,
            hydra_app=self._hydra,
        )
