"""What a trial process is started with: its argv, its environment, and the checks that catch a command
that cannot start before any process is spawned.

Pure functions of a ``TrialRequest`` (plus the parent's environment), shared by the local executor and
any executor that starts trial processes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox.base import TrialRequest
from sandbox.envscrub import scrub

RUN_FUNCTION = str(Path(__file__).resolve().with_name("run_function.py"))

#: Thread-pool sizes of the usual numeric libraries; all set to ``request.threads`` when it is given.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")

__all__ = ["RUN_FUNCTION", "THREAD_VARS", "arg_value", "build_argv", "build_env", "launch_problem",
           "trial_paths"]


def trial_paths(trial_dir: str) -> dict[str, str]:
    """The files of a trial folder that tunesmith reads or writes."""
    names = ("params.json", "reports.jsonl", "STOP", "status.json", "launch.json", "stdout.log", "stderr.log")
    return {name: os.path.join(trial_dir, name) for name in names}


def arg_value(value: Any) -> str:
    """How a parameter is written as a ``--name value`` argument: bools as true/false, strings as they
    are, numbers as Python prints them, anything else (None, lists) as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def build_argv(request: TrialRequest, python: str = sys.executable) -> list[str]:
    """The trial's argv: the command (plus ``--name value`` per param when ``pass_args``), or the
    function runner for ``request.function``."""
    if request.function is not None:
        return [python, "-u", RUN_FUNCTION, request.function]
    argv = list(request.command or ())
    if request.pass_args:
        for name, value in request.params.items():
            argv += [f"--{name}", arg_value(value)]
    return argv


def build_env(request: TrialRequest, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The trial's environment, in increasing precedence: the parent's environment without secrets
    (``envscrub``; ``request.pass_env`` names get through), thread caps / GPUs / unbuffered Python,
    ``request.env`` (explicit, never scrubbed), then the ``TUNESMITH_*`` contract variables."""
    env = scrub(os.environ if environ is None else environ, request.pass_env)
    if request.threads is not None:
        env.update(dict.fromkeys(THREAD_VARS, str(request.threads)))
    if request.gpus is not None:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in request.gpus)
        env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"  # number devices as nvidia-smi does (the indices we hand out)
    env["PYTHONUNBUFFERED"] = "1"  # reports printed by Python scripts arrive as they happen
    env.update(request.env)
    paths = trial_paths(request.trial_dir)
    env.update(TUNESMITH_PARAMS=paths["params.json"], TUNESMITH_TRIAL_DIR=request.trial_dir,
               TUNESMITH_REPORT_FILE=paths["reports.jsonl"], TUNESMITH_STOP_FILE=paths["STOP"],
               TUNESMITH_TRIAL_ID=request.trial_id)
    if request.seed is not None:
        env["TUNESMITH_SEED"] = str(request.seed)
    return env


def launch_problem(request: TrialRequest, argv: list[str], env: Mapping[str, str]) -> str | None:
    """Why ``argv`` cannot start (one line that says how to fix it), or None when it looks runnable."""
    if request.isolation != "process":
        return (f"isolation {request.isolation!r} is not supported by the local executor; "
                "use isolation 'process' or an executor that provides it")
    if not os.path.isdir(request.workdir):
        return f"working directory {request.workdir!r} does not exist; create it or fix the trial's workdir"
    exe = argv[0] if argv else ""
    if not exe:
        return "the trial command is empty; give a command such as ['python', 'train.py']"
    if os.sep in exe:
        path = os.path.join(request.workdir, exe)  # an absolute exe stays as it is
        if not os.path.isfile(path):
            return f"command {exe!r} not found (no file at {path}); fix the path in the command"
        if not os.access(path, os.X_OK):
            return (f"command {exe!r} is not executable; run 'chmod +x {exe}' or start it through its "
                    f"interpreter (e.g. ['python', {exe!r}])")
        return None
    if shutil.which(exe, path=env.get("PATH", os.defpath)) is None:
        return f"command {exe!r} not found on PATH; install it, fix PATH, or give its full path"
    return None
