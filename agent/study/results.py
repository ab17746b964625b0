"""The engine's handling of what running trials send back: reports (pruning, Population Based Training's
exploit decisions, functional fingerprints) and outcomes (the final record, the proposer told, the setup
doctor asked), and the cancelling of everything still running when the study ends or is stopped.

A mixin of ``StudyEngine`` (agent/study/engine.py), kept apart so each file reads in one sitting, as
``ProposalIntake`` (intake.py) is. What it uses of the engine is declared for the type checker only, so
nothing here shadows the engine's or the intake's own methods at run time.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from agent.core.events import EventData, PbtDecision, PruneRequested, StopRequest, TrialFinished, setup_broken
from agent.core.records import Event, FailureKind, MetricPoint, Trial, TrialState
from agent.study.dedupe import result_fields, split_fingerprint, without_fingerprints
from agent.study.doctor import Finding, SetupDoctor, no_metric_reason
from agent.study.hooks import Pruner, Resources
from agent.study.outcome import classify, to_points
from agent.study.pbt import PopulationScheduler
from agent.study.proposers import Proposer
from agent.study.store.base import TrialStore
from sandbox.base import Report, TrialExecutor, TrialOutcome
from sandbox.report import PRUNED_KEY

if TYPE_CHECKING:
    from agent.core.spec import StudySpec


class TrialResults:
    """What the engine does with reports and outcomes (module docstring)."""

    store: TrialStore
    executor: TrialExecutor
    proposer: Proposer
    pruner: Pruner | None
    resources: Resources | None
    population: PopulationScheduler | None
    doctor: SetupDoctor
    _running: dict[str, Trial]
    _stopping: set[str]
    _history: list[Trial]
    _broken: Finding | None

    if TYPE_CHECKING:  # provided by the engine and the intake; declared here for the type checker only

        @property
        def spec(self) -> StudySpec: ...

        @property
        def elapsed(self) -> float: ...

        def emit(self, data: EventData, *, trial: int | None = None) -> Event: ...

        def _replace(self, trial: Trial) -> None: ...

        def _request_stop(self, trial_id: str, trial: Trial, request: StopRequest) -> None: ...

        def _on_fingerprint(self, trial_id: str, trial: Trial, fingerprint: str) -> Trial: ...

    def _on_report(self, report: Report) -> None:
        trial = self._running.get(report.trial_id)
        if trial is None:
            return
        fingerprint, metrics = split_fingerprint(report.metrics)
        if fingerprint is not None:
            trial = self._on_fingerprint(report.trial_id, trial, fingerprint)
        if not metrics:
            return
        point = MetricPoint(step=report.step, values=metrics, time=report.time or time.time(), final=report.final)
        self.store.add_metrics(trial.number, [point])
        if self.spec.metric not in metrics or report.trial_id in self._stopping:
            return
        if self.pruner is not None:
            reason = self.pruner.check(trial, self.store.metrics(trial.number), self._history)
            if reason:
                self._request_stop(report.trial_id, trial, PruneRequested(reason=reason, step=report.step))
        lineage = trial.lineage
        if self.population is not None and lineage is not None and not report.final:
            free = self.executor.capacity - len(self._running)
            decision = self.population.on_report(trial, report.step, self._history, free)
            if decision is not None:
                trial = self._annotate(report.trial_id, trial, pbt={"action": decision.action, "step": decision.step})
                self._request_stop(
                    report.trial_id,
                    trial,
                    PbtDecision(
                        reason=decision.reason, action=decision.action, member=lineage.member, step=decision.step
                    ),
                )

    def _annotate(self, trial_id: str, trial: Trial, **info: Any) -> Trial:
        """Add ``info`` to a running trial's record, stored at once (so a kill -9 keeps it)."""
        trial = trial.model_copy(update={"info": {**trial.info, **info}})
        self._running[trial_id] = trial
        self._replace(trial)
        return trial

    def _on_outcome(self, outcome: TrialOutcome) -> None:
        trial = self._running.pop(outcome.trial_id, None)
        if trial is None:
            return
        self._stopping.discard(outcome.trial_id)
        if self.resources:
            self.resources.release(trial.number)
        if any(PRUNED_KEY in r.metrics for r in outcome.reports):  # it pruned itself (Optuna's TrialPruned)
            outcome = dataclasses.replace(outcome, info={**outcome.info, "self_pruned": True})
        outcome = dataclasses.replace(outcome, reports=without_fingerprints(outcome.reports))
        streamed = len(self.store.metrics(trial.number))
        missing = to_points(outcome.reports)[streamed:]
        if missing:
            self.store.add_metrics(trial.number, missing)
        fields = classify(outcome, self.spec.metric, timeout=self.spec.budget.trial_timeout)
        fields["info"] = {**trial.info, **fields["info"]}
        if fields.get("failure") is FailureKind.NO_METRIC:
            fields["reason"] = no_metric_reason(self.spec.metric, fields["metrics"]) or fields["reason"]
        if self.population is not None:
            fields = self.population.settle(trial, fields)
        equivalent = trial.info.get("equivalent_to")
        earlier = None if equivalent is None else next((t for t in self._history if t.number == equivalent), None)
        if earlier is not None and fields["state"] is TrialState.PRUNED:  # stopped as an equivalent: its result
            note = f"equivalent to #{earlier.number} (the same functional fingerprint): its result is recorded"
            fields.update(result_fields(earlier, note))
        done = trial.model_copy(update=fields)
        self._replace(done)
        self.store.set_meta("elapsed_s", self.elapsed)
        self._finished_event(done)
        self.proposer.observe(done, self._history)
        finding = self.doctor.check(done, self._history) if self._broken is None else None
        if finding is not None:
            self._broken = finding
            self.emit(setup_broken(finding.kind, finding.message, list(finding.trials)), trial=done.number)

    def _finished_event(self, done: Trial) -> None:
        self.emit(
            TrialFinished(
                state=done.state.value,
                value=done.value,
                reason=done.reason,
                failure=done.failure.value if done.failure else None,
                duration=done.duration,
            ),
            trial=done.number,
        )

    def _abort(self, reason: str, *, interrupted: bool = True) -> None:
        """Cancel everything running and record it (interrupted ones are re-run on resume)."""
        for trial_id in list(self._running):
            self.executor.cancel(trial_id, reason)
        deadline = time.monotonic() + self.spec.grace_period + 5.0
        while self._running and time.monotonic() < deadline:
            for ev in self.executor.wait(timeout=0.5):
                if isinstance(ev, TrialOutcome) and ev.trial_id in self._running:
                    trial = self._running.pop(ev.trial_id)
                    if self.resources:
                        self.resources.release(trial.number)
                    fields = classify(ev, self.spec.metric)
                    self._replace(
                        trial.model_copy(
                            update={
                                **fields,
                                "state": TrialState.CANCELLED,
                                "reason": reason,
                                "info": trial.info,
                                "failure": FailureKind.INTERRUPTED if interrupted else None,
                            }
                        )
                    )
                    self.emit(TrialFinished(state="cancelled", reason=reason), trial=trial.number)
