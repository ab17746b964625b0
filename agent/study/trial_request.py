"""What a trial of a spec is asked to run: the ``TrialRequest`` handed to the executor.

One function, used by the engine for every trial and by ``wiring.preflight`` to check, before a study
folder exists, that a first trial could start at all (strict sandbox, command, paths).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.core.spec import StudySpec
from agent.study.folder import trial_dir
from sandbox.base import TrialRequest


def default_threads(spec: StudySpec) -> int:
    """CPU threads of one trial: the spec's ``threads_per_trial``, else the cores shared by the workers."""
    return spec.threads_per_trial or max(1, (os.cpu_count() or 1) // max(1, spec.workers))


def trial_request(
    spec: StudySpec,
    study_dir: Path,
    number: int,
    params: Mapping[str, Any],
    *,
    seed: int | None,
    threads: int,
    gpus: tuple[int, ...] | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, str] | None = None,
    switches: Mapping[str, str] | None = None,
    hydra_app: bool = False,
) -> TrialRequest:
    """The request of trial ``number`` of ``spec`` with ``params`` (the spec's ``fixed`` added) in
    ``study_dir``; a ``python`` command runs tunesmith's own interpreter. ``env``: more contract variables
    (the checkpoint folder and the checkpoint to restore); ``flags``: params whose ``--flag`` the script spells
    otherwise, ``switches``: params whose flag takes no value (``script.flag_names`` and ``flag_switches``: read
    once per study, not per trial); ``hydra_app``: the script is a Hydra app (``hydra_app.hydra_app``)."""
    command = list(spec.command) if spec.command else None
    if command and command[0] in ("python", "python3"):
        command[0] = sys.executable  # the interpreter tunesmith runs in, with its packages
    return TrialRequest(
        trial_id=str(number),
        params={**spec.fixed, **params},
        trial_dir=str(trial_dir(study_dir, number)),
        workdir=spec.workdir or str(Path.cwd()),
        command=command,
        function=spec.function,
        pass_args=spec.arg_style is not None,
        arg_style=spec.arg_style or "flags",
        hydra_app=hydra_app,
        flag_names=dict(flags or {}),
        switches=dict(switches or {}),
        env={**spec.env.set, "TUNESMITH_OBJECTIVE": spec.metric, **(env or {})},
        pass_env=tuple(spec.env.passthrough),
        timeout=spec.budget.trial_timeout,
        memory_mb=spec.budget.memory_mb,
        threads=threads,
        gpus=gpus,
        seed=seed,
        grace=spec.grace_period,
        isolation=spec.isolation,
        network=spec.network,
        max_processes=spec.budget.max_processes,
        read_paths=tuple(spec.read_paths),
        hide=(str(study_dir),),
        num_cpus=float(threads),
        num_gpus=spec.gpus_per_trial,
    )
