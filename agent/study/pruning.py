"""Early stopping from learning curves: the engine's ``Pruner`` over Optuna's pruners.

``OptunaPruner`` keeps an in-memory Optuna study that mirrors the tunesmith study: one Optuna trial per
tunesmith trial, created in trial-number order; each report of the objective becomes an intermediate
value (``trial.report``) and the decision is Optuna's own ``trial.should_prune()``. Finished trials are
told with their state (COMPLETE with the value, PRUNED, or FAIL), so Optuna's pruners see exactly what
they would see in an Optuna study: successive halving's rung values, the median of completed curves,
Hyperband's brackets.

Trials it has not watched (a resumed study) are replayed from their stored curves (``curves``): every
report in order, with ``should_prune()`` called after each as during a live run, which rebuilds the
successive-halving rungs. Without ``curves`` a finished trial contributes its last value at its last
step only.

Steps: a report's ``step``, or its position among the objective's reports when it has none. A report
marked ``final`` is a result, not a point of the curve, and is not fed. Reports at a step already fed
are ignored (Optuna keeps the first).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState as OptunaState

from agent.core.records import MetricPoint, Trial, TrialState
from agent.core.spec import PrunerSpec, StudySpec
from agent.strategies.optuna_strategy import _quiet_optuna

CurveSource = Callable[[int], Sequence[MetricPoint]]

#: MedianPruner: completed trials needed before it prunes anything (Optuna's default)
MEDIAN_STARTUP_TRIALS = 5


@dataclass
class _Mirror:
    handle: optuna.Trial
    steps: set[int]
    count: int = 0  # objective points fed (the step of a point without one)
    told: bool = False


class OptunaPruner:
    """Decides from intermediate reports whether a running trial should stop (engine ``Pruner``)."""

    def __init__(
        self,
        pruner: optuna.pruners.BasePruner,
        *,
        label: str,
        metric: str,
        direction: str,
        curves: CurveSource | None = None,
    ) -> None:
        self.label = label
        self.metric = metric
        self.direction = direction
        self._curves = curves
        way = optuna.study.StudyDirection.MAXIMIZE if direction == "maximize" else optuna.study.StudyDirection.MINIMIZE
        with _quiet_optuna():
            self._study = optuna.create_study(
                direction=way, pruner=pruner, sampler=optuna.samplers.RandomSampler(seed=0)
            )
        self._mirrors: dict[int, _Mirror] = {}
        self._lock = threading.Lock()

    def check(self, trial: Trial, points: Sequence[MetricPoint], history: Sequence[Trial]) -> str | None:
        """A one-line reason to stop ``trial`` now, or None to let it run."""
        with self._lock, _quiet_optuna():
            self._sync(history, current=trial.number)
            mirror = self._mirror(trial.number)
            fed = self._feed(mirror, points, decide=False)
            if fed is None:
                return None
            step, value = fed
            if not mirror.handle.should_prune():
                return None
            return self._reason(trial.number, step, value)

    # ------------------------------------------------------------------ mirroring
    def _mirror(self, number: int) -> _Mirror:
        mirror = self._mirrors.get(number)
        if mirror is None:
            mirror = self._mirrors[number] = _Mirror(self._study.ask(), set())
        return mirror

    def _sync(self, history: Sequence[Trial], *, current: int) -> None:
        """Create mirrors for every trial in number order; tell the finished ones."""
        for t in sorted(history, key=lambda t: t.number):
            mirror = self._mirror(t.number)
            if mirror.told or t.number == current or not t.state.finished:
                continue
            if self._curves is not None:
                self._feed(mirror, self._curves(t.number), decide=True)
            elif t.value is not None and t.last_step is not None and t.last_step not in mirror.steps:
                mirror.handle.report(t.value, t.last_step)
            self._tell(mirror, t)

    def _feed(self, mirror: _Mirror, points: Sequence[MetricPoint], *, decide: bool) -> tuple[int, float] | None:
        """Report the objective points not fed yet; the last (step, value) fed, or None.

        ``decide``: call ``should_prune()`` after each (a replay) so rung bookkeeping happens as live."""
        objective = [p for p in points if self.metric in p.values and not p.final]
        last: tuple[int, float] | None = None
        for p in objective[mirror.count :]:
            step = p.step if p.step is not None else mirror.count
            mirror.count += 1
            if step < 0 or step in mirror.steps:
                continue
            value = p.values[self.metric]
            mirror.handle.report(value, step)
            mirror.steps.add(step)
            last = (step, value)
            if decide:
                mirror.handle.should_prune()
        return last

    def _tell(self, mirror: _Mirror, trial: Trial) -> None:
        if trial.state is TrialState.COMPLETE and trial.ok:
            self._study.tell(mirror.handle, trial.value)
        elif trial.state is TrialState.PRUNED:
            self._study.tell(mirror.handle, state=OptunaState.PRUNED)
        else:
            self._study.tell(mirror.handle, state=OptunaState.FAIL)
        mirror.told = True

    # ------------------------------------------------------------------ explaining
    def _reason(self, number: int, step: int, value: float) -> str:
        me = self._mirrors[number].handle.number
        peers = [
            ft.intermediate_values[step]
            for ft in self._study.get_trials(deepcopy=False)
            if ft.number != me and step in ft.intermediate_values
        ]
        text = f"early-stopped by {self.label} at step {step}: {self.metric}={value:.4g}"
        if peers:
            maximize = self.direction == "maximize"
            rank = 1 + sum(1 for v in peers if (v > value if maximize else v < value))
            best = max(peers) if maximize else min(peers)
            text += f", rank {rank} of {len(peers) + 1} trials at this step (best {best:.4g})"
        return text


def make_optuna_pruner(spec: StudySpec, curves: CurveSource | None = None) -> OptunaPruner | None:
    """The pruner for ``spec.pruner`` (None when absent or ``type: none``)."""
    ps: PrunerSpec | None = spec.pruner
    if ps is None or ps.type == "none":
        return None
    pruner: optuna.pruners.BasePruner
    if ps.type == "asha":
        pruner = optuna.pruners.SuccessiveHalvingPruner(
            min_resource=ps.min_resource, reduction_factor=ps.reduction_factor
        )
        label = f"ASHA (min_resource={ps.min_resource}, reduction_factor={ps.reduction_factor})"
    elif ps.type == "hyperband":
        pruner = optuna.pruners.HyperbandPruner(
            min_resource=ps.min_resource, max_resource=ps.max_resource or "auto", reduction_factor=ps.reduction_factor
        )
        label = (
            f"Hyperband (min_resource={ps.min_resource}, max_resource={ps.max_resource or 'auto'}, "
            f"reduction_factor={ps.reduction_factor})"
        )
    else:
        pruner = optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=ps.warmup_steps)
        label = f"the median pruner (warmup_steps={ps.warmup_steps})"
    return OptunaPruner(pruner, label=label, metric=spec.metric, direction=spec.direction, curves=curves)
