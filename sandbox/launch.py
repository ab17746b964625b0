"""What a trial process is started with: its argv, its environment, and the checks that catch a command
that cannot start before any process is spawned.

Pure functions of a ``TrialRequest`` (plus the parent's environment), shared by the local executor and
any executor that starts trial processes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox import proclimit, strict
from sandbox.base import TrialRequest
from sandbox.envscrub import scrub

RUN_FUNCTION = str(Path(__file__).resolve().with_name("run_function.py"))

#: Thread-pool sizes of the usual numeric libraries; all set to ``request.threads`` when it is given.
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
)

PROFILES = ("process", "strict")

__all__ = [
    "PROFILES",
    "RUN_FUNCTION",
    "THREAD_VARS",
    "arg_value",
    "build_argv",
    "build_env",
    "launch_file",
    "launch_problem",
    "max_tasks",
    "profile_problem",
    "trial_paths",
    "wandb_params",
]


#: the trial's params as a W&B sweep run gets them (``{name: {"value": v}}``), named by ``WANDB_SWEEP_PARAM_PATH``:
#: ``wandb.init`` then sets ``wandb.config`` from them (over the script's own defaults), so a script that reads
#: its hyperparameters from ``wandb.config`` gets the trial's, with no change and no W&B server
WANDB_PARAMS = "params.wandb.json"


def wandb_params(params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``params`` in the shape W&B's agent writes for a sweep run (read by ``wandb.init``)."""
    return {name: {"value": value} for name, value in params.items()}


def trial_paths(trial_dir: str) -> dict[str, str]:
    """The files of a trial folder that tunesmith reads or writes (``STOP.seen``: written by the trial's
    ``should_stop()`` when it acts on ``STOP``)."""
    names = (
        "params.json",
        WANDB_PARAMS,
        "reports.jsonl",
        "STOP",
        "STOP.seen",
        "status.json",
        "launch.json",
        "stdout.log",
        "stderr.log",
    )
    return {name: os.path.join(trial_dir, name) for name in names}


HYDRA_RUN_DIR = "hydra.run.dir"


def _hydra_quoted(path: str) -> str:
    """``path`` as a Hydra override value: as is when plain, else single-quoted (Hydra's grammar)."""
    if re.fullmatch(r"[\w/.\-]+", path):
        return path
    return "'" + path.replace("\\", "\\\\").replace("'", "\\'") + "'"


def python_literal(value: Any) -> str:
    """How a parameter is written for a script that reads values with ``ast.literal_eval`` (nanoGPT's
    configurator, python-fire): bools as True/False, None as None, strings as they are (an unparsable literal
    stays a string there), numbers as Python prints them (a float keeps its point), lists as Python writes them."""
    if isinstance(value, str):
        return value
    return repr(value)


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


def _truthy(value: Any) -> bool:
    """A switch's value as a bool: true, 1, "true", "yes", "on" (any case) are on."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def build_argv(request: TrialRequest, python: str = sys.executable) -> list[str]:
    """The trial's argv: the command (plus ``name=value`` per param with ``arg_style`` "name=value", else
    ``--name value`` per param when ``pass_args``; ``name`` as
    ``request.flag_names`` spells it, else the param's own; a flag of ``request.switches`` alone, or not at all,
    by its value), or the function runner for ``request.function``."""
    if request.function is not None:
        return [python, "-u", RUN_FUNCTION, request.function]
    argv = list(request.command or ())
    if request.pass_args and request.arg_style == "--name=value":  # nanoGPT's configurator, python-fire
        return argv + [f"--{name}={python_literal(value)}" for name, value in request.params.items()]
    if request.pass_args and request.arg_style == "name=value":  # Hydra-style overrides: lr=0.01 model.depth=3
        argv += [f"{name}={arg_value(value)}" for name, value in request.params.items()]
        # Hydra's outputs (its logs, the resolved config) in the trial's folder, not workdir/outputs/DATE/TIME:
        # one per trial, and writable under strict isolation
        if request.hydra_app and HYDRA_RUN_DIR not in request.params:
            argv.append(f"{HYDRA_RUN_DIR}={_hydra_quoted(os.path.join(request.trial_dir, 'hydra'))}")
        return argv
    if request.pass_args:
        for name, value in request.params.items():
            flag = request.flag_names.get(name, name)
            action = request.switches.get(name)
            if action is None:
                argv += [f"--{flag}", arg_value(value)]
            elif action == "type_bool":  # argparse's type=bool: bool("false") is True, bool("") is False
                argv += [f"--{flag}", "1" if _truthy(value) else ""]
            elif action == "optional":
                argv.append(f"--{flag}" if _truthy(value) else f"--no-{flag}")
            elif _truthy(value):  # store_true / store_false: the param is named after the flag, true gives it
                argv.append(f"--{flag}")
    return argv


def build_env(request: TrialRequest, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The trial's environment, in increasing precedence: the parent's environment without secrets
    (``envscrub``; ``request.pass_env`` names get through) -- under strict isolation only PATH, locale
    and the names passed (``strict.base_env``) --, thread caps / GPUs / unbuffered Python,
    ``request.env`` (explicit, never scrubbed), then the ``TUNESMITH_*`` contract variables."""
    parent = os.environ if environ is None else environ
    if request.isolation == "strict":
        env = strict.base_env(scrub(parent, request.pass_env), request.pass_env)
    else:
        env = scrub(parent, request.pass_env)
    if request.threads is not None:
        env.update(dict.fromkeys(THREAD_VARS, str(request.threads)))
    if request.gpus is not None:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in request.gpus)
        env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"  # number devices as nvidia-smi does (the indices we hand out)
    env["PYTHONUNBUFFERED"] = "1"  # reports printed by Python scripts arrive as they happen
    # a script that reads wandb.config gets the trial's params (WANDB_PARAMS); request.env may override it
    env["WANDB_SWEEP_PARAM_PATH"] = trial_paths(request.trial_dir)[WANDB_PARAMS]
    env.update(request.env)
    paths = trial_paths(request.trial_dir)
    env.update(
        TUNESMITH_PARAMS=paths["params.json"],
        TUNESMITH_TRIAL_DIR=request.trial_dir,
        TUNESMITH_REPORT_FILE=paths["reports.jsonl"],
        TUNESMITH_STOP_FILE=paths["STOP"],
        TUNESMITH_TRIAL_ID=request.trial_id,
    )
    if request.seed is not None:
        env["TUNESMITH_SEED"] = str(request.seed)
    return env


def max_tasks(request: TrialRequest) -> int | None:
    """The process + thread limit of ``request``'s trial: ``max_processes``, which strict trials
    always have (``strict.STRICT_MAX_TASKS`` unless set)."""
    if request.max_processes is None and request.isolation == "strict":
        return strict.STRICT_MAX_TASKS
    return request.max_processes


def profile_problem(isolation: str, max_processes: int | None = None) -> str | None:
    """Why no trial of this isolation profile and process limit can run on this machine (one line that
    says how to fix it), or None. The agent calls this before a study's first trial."""
    if isolation not in PROFILES:
        return f"isolation {isolation!r} is not supported by the local executor; use isolation 'process' or 'strict'"
    if isolation == "strict":
        found = strict.preflight()
        if found is not None:
            return found
        if max_processes is None:
            max_processes = strict.STRICT_MAX_TASKS
    return proclimit.limit_problem(max_processes)


def launch_problem(
    request: TrialRequest, argv: list[str], env: Mapping[str, str], python: str = sys.executable
) -> str | None:
    """Why ``argv`` cannot start (one line that says how to fix it), or None when it looks runnable.
    Never a reason to run a trial with less isolation than it asked for."""
    found = profile_problem(request.isolation, request.max_processes)
    if found is not None:
        return found
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
            return (
                f"command {exe!r} is not executable; run 'chmod +x {exe}' or start it through its "
                f"interpreter (e.g. ['python', {exe!r}])"
            )
    elif shutil.which(exe, path=env.get("PATH", os.defpath)) is None:
        return f"command {exe!r} not found on PATH; install it, fix PATH, or give its full path"
    if request.isolation == "strict":
        return strict.problem(request, argv, env, python)
    return None


def launch_file(
    request: TrialRequest, argv: list[str], rlimits: Mapping[str, int], python: str = sys.executable
) -> dict[str, Any]:
    """The supervisor's ``launch.json`` for ``request`` (see supervisor.py), less ``parent_pid`` and
    ``status_path``: rlimits, the process limit (a pids cgroup, or RLIMIT_NPROC), and under strict
    isolation ``argv`` wrapped in bubblewrap. Check ``launch_problem`` first."""
    limits = dict(rlimits)
    if request.memory_mb is not None:
        limits["as"] = request.memory_mb << 20
    launch: dict[str, Any] = {"argv": argv, "cwd": request.workdir, "rlimits": limits}
    tasks = max_tasks(request)
    if tasks is not None:
        if request.isolation == "strict":
            tasks += strict.SANDBOX_TASKS
        limit = proclimit.plan(tasks)
        if limit is not None and limit.cgroup_parent is not None:
            launch["pids"] = {"parent": limit.cgroup_parent, "max": tasks}
        elif limit is not None and limit.nproc is not None:
            limits["nproc"] = limit.nproc
        launch["max_tasks"] = tasks
    if request.isolation == "strict":
        launch["argv"] = strict.wrap(request, argv, python)
        launch["strict"] = True
    return launch
