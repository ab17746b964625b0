"""Concrete collaborators for a spec: the one place that picks implementations for the CLI and API.

The eval harness (evals/) wires its own; tests inject fakes directly into ``StudyEngine``.
"""

from __future__ import annotations

from agent.engine import Pruner, Resources
from agent.errors import SandboxError
from agent.spec import StudySpec
from sandbox.base import TrialExecutor


def make_executor(spec: StudySpec) -> TrialExecutor:
    """A local subprocess executor with one slot per worker. Raises ``SandboxError`` when the spec's
    isolation (or process limit) cannot be provided on this machine, before any trial starts."""
    from sandbox.launch import profile_problem
    from sandbox.subprocess_executor import LocalExecutor

    problem = profile_problem(spec.isolation, spec.budget.max_processes)
    if problem is not None:
        raise SandboxError(problem)
    return LocalExecutor(capacity=spec.workers)


def make_pruner(spec: StudySpec) -> Pruner | None:
    """Early stopping from the spec's ``pruner`` section (None: never stop early)."""
    return None


def make_resources(spec: StudySpec) -> Resources | None:
    """GPU assignment from the spec's ``gpus``/``gpus_per_trial`` (None: no devices managed)."""
    return None
