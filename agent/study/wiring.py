"""Concrete collaborators for a spec: the one place that picks implementations for the CLI and API.

The eval harness (evals/) wires its own; tests inject fakes directly into ``StudyEngine``.

Executor choice (``make_executor``): ``local`` (default) runs ``spec.workers`` trials at once as local
processes; ``ray`` runs them on an existing Ray cluster at ``ray_address`` (``auto``: the cluster this
machine belongs to, or ``RAY_ADDRESS``). A study folder remembers the choice (``ExecutorChoice``), so
``resume`` runs where ``tune`` ran unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.core.records import MetricPoint
from agent.core.spec import StudySpec
from agent.errors import DependencyError, ResourceError, SandboxError, SpecError
from agent.study.hooks import Pruner, Resources
from sandbox.base import TrialExecutor

EXECUTORS = ("local", "ray")


class ExecutorChoice(BaseModel):
    """Where a study's trials run (kept in the study folder's meta under ``executor``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["local", "ray"] = "local"
    ray_address: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None) -> ExecutorChoice:
        try:
            return cls.model_validate(dict(data or {}))
        except ValidationError:
            raise SpecError(f"executor must be one of {', '.join(EXECUTORS)}; got {dict(data or {})}") from None


def make_executor(spec: StudySpec, choice: ExecutorChoice | None = None) -> TrialExecutor:
    """A local subprocess executor with one slot per worker, or a Ray executor on an existing cluster.

    Locally, raises ``SandboxError`` when the spec's isolation (or process limit) cannot be provided on
    this machine, before any trial starts; on Ray each node checks that for its own trials (a node that
    cannot provide it ends the trial as a launch error, never runs it with less isolation)."""
    choice = choice or ExecutorChoice()
    if choice.kind == "ray":
        return _ray_executor(spec, choice.ray_address or "auto")
    from sandbox.launch import profile_problem
    from sandbox.local_executor import LocalExecutor

    problem = profile_problem(spec.isolation, spec.budget.max_processes)
    if problem is not None:
        raise SandboxError(problem)
    return LocalExecutor(capacity=spec.workers)


def preflight(spec: StudySpec, choice: ExecutorChoice | None = None) -> None:
    """Raise ``SandboxError`` now, before a study folder is created, when this machine cannot give local
    trials the spec's isolation (Ray nodes check for themselves when their trials start)."""
    if (choice or ExecutorChoice()).kind == "local":
        from sandbox.launch import profile_problem

        problem = profile_problem(spec.isolation, spec.budget.max_processes)
        if problem is not None:
            raise SandboxError(problem)


def _ray_executor(spec: StudySpec, address: str) -> TrialExecutor:
    from sandbox.ray_executor import RayExecutor, RayMissing, RayUnavailable

    try:
        return RayExecutor(address, capacity=spec.workers)
    except RayMissing:
        raise DependencyError("--executor ray needs Ray; install it with: pip install 'tunesmith[ray]'") from None
    except RayUnavailable as exc:
        raise ResourceError(str(exc)) from None


def make_pruner(spec: StudySpec, curves: Callable[[int], Sequence[MetricPoint]] | None = None) -> Pruner | None:
    """Early stopping from the spec's ``pruner`` section (None: never stop early). ``curves`` reads a
    stored trial's reports, so a resumed study's pruner sees the curves of trials run before."""
    from agent.study.pruning import make_optuna_pruner

    return make_optuna_pruner(spec, curves)


def make_resources(spec: StudySpec, executor: TrialExecutor | None = None) -> Resources | None:
    """GPU assignment from the spec's ``gpus``/``gpus_per_trial`` (None: no devices managed).

    An executor that schedules devices itself (Ray: ``schedules_devices``) gets None: the cluster hands
    out GPUs from the requests' ``num_gpus``."""
    if getattr(executor, "schedules_devices", False):
        return None
    from agent.study.gpus import gpu_pool

    return gpu_pool(spec.gpus, spec.gpus_per_trial)
