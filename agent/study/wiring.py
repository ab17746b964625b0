"""Concrete collaborators for a spec: the one place that picks implementations for the CLI and API.

The eval harness (evals/) wires its own; tests inject fakes directly into ``StudyEngine``.

Executor choice (``make_executor``): ``local`` (default) runs ``spec.workers`` trials at once as local
processes; ``ray`` runs them on an existing Ray cluster at ``ray_address`` (``auto``: the cluster this
machine belongs to, or ``RAY_ADDRESS``). A study folder remembers the choice (``ExecutorChoice``), so
``resume`` runs where ``tune`` ran unless told otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.core.records import MetricPoint
from agent.core.spec import StudySpec
from agent.errors import DependencyError, ResourceError, SandboxError, SpecError
from agent.study.hooks import Pruner, Resources
from agent.study.trial_request import default_threads, trial_request
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
        problem = executor_problem(spec, choice)
        if problem is not None:
            raise SpecError(problem)
        return _ray_executor(spec, choice.ray_address or "auto")
    from sandbox.launch import profile_problem
    from sandbox.local_executor import LocalExecutor

    problem = profile_problem(spec.isolation, spec.budget.max_processes)
    if problem is not None:
        raise SandboxError(problem)
    return LocalExecutor(capacity=spec.workers)


def preflight(spec: StudySpec, choice: ExecutorChoice | None = None, directory: Path | None = None) -> None:
    """Raise now, before a study folder is created, what would fail every local trial alike: the spec's
    isolation, a first trial that could not start (``trial_problem``: strict sandbox paths, the command) as
    ``SandboxError``, and GPUs that are not there as ``ResourceError``. Ray nodes check for themselves
    when their trials start. ``directory`` is where the study will live (default: a new ``studies/``)."""
    problem = executor_problem(spec, choice or ExecutorChoice())
    if problem is not None:
        raise SpecError(problem)
    if (choice or ExecutorChoice()).kind != "local":
        return
    problem = trial_problem(spec, directory)
    if problem is not None:
        raise SandboxError(problem)
    make_resources(spec)  # gpus: auto on a machine without one raises here, not after the folder exists


def executor_problem(spec: StudySpec, choice: ExecutorChoice) -> str | None:
    """Why ``spec`` cannot run on the chosen executor (one line with the fix), or None. Population Based
    Training on Ray: a segment continues from a checkpoint another node wrote, and tunesmith (on the head)
    copies it, so checkpoints must live in a folder every node and the head see at the same path."""
    if choice.kind == "ray" and spec.scheduler is not None and spec.scheduler.checkpoint_root is None:
        return (
            "scheduler pbt on --executor ray needs a checkpoint folder shared by the head and every node: set "
            "scheduler.checkpoint_root: /shared/path (an NFS or similar mount at the same path everywhere)"
        )
    return None


def trial_problem(spec: StudySpec, directory: Path | None = None) -> str | None:
    """Why no local trial of ``spec`` could start (one line with the fix), or None: the checks the local
    executor makes before every trial (``sandbox.launch.launch_problem``: isolation profile, workdir,
    command, strict sandbox paths), made once on the first trial's request, plus strict ``read_paths``
    that do not exist."""
    from sandbox.launch import build_argv, build_env, launch_problem

    if spec.isolation == "strict":
        for path in spec.read_paths:
            if not os.path.exists(path):
                return (
                    f"read_paths: {path} does not exist; create it or remove it from read_paths (relative paths "
                    "are relative to the spec file)"
                )
    folder = directory.expanduser().resolve() if directory is not None else Path.cwd() / "studies" / "new"
    request = trial_request(spec, folder, 0, {}, seed=spec.seed, threads=default_threads(spec))
    return launch_problem(request, build_argv(request), build_env(request))


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
