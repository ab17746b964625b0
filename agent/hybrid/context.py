"""The task context: what the model is told about the study it helps with, in every prompt (hybrid, chat).

An LLM earns its place in a tuning loop only through what it knows about the task, so the model is told:
the user's description of the task (the spec's ``task:``, or the words of a request) and its facts; the
command and how params reach it; a bounded excerpt of the training script, quoted as untrusted data (and of a
Hydra app's primary config, where its keys and defaults live); the objective and the other metrics trials
report; the limits of one trial; and the machine.

Bounded: the rendered section is at most ``CONTEXT_CHARS`` characters (the script excerpt gives way first, then
the config's),
so it costs the same at trial 500 as at trial 5. ``tunesmith show DIR --context`` prints exactly this text.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from typing import Any

from agent.core.spec import StudySpec
from agent.hybrid.prompting import render
from agent.strategies.steplaw import law_of
from agent.study.hydra_app import config_text
from agent.study.script import PassMode, ScriptScan, flag_names, pass_modes, scan_script, script_path
from tools.untrusted import defuse

CONTEXT_CHARS = 6000
SCRIPT_EXCERPT_CHARS = 2500
CONFIG_EXCERPT_CHARS = 1200
_PASS_TEXT = {
    "params_file": "a JSON file named by TUNESMITH_PARAMS (tunesmith.params() reads it)",
    "flags": "--name value command-line arguments (pass_args: true)",
    "name=value": "name=value command-line overrides, Hydra style (pass_args: name=value; dots name nested keys)",
    "--name=value": "--name=value command-line arguments read as Python literals (pass_args: --name=value)",
    "function": "the arguments of a Python function (function: in the spec)",
    "trial": "an Optuna trial: the function is an Optuna objective, and each trial.suggest_* returns the param of "
    "that name",
}


def _pass_text(mode: PassMode, spec: StudySpec, scan: ScriptScan | None) -> str:
    """How params reach the script in ``mode``; for flags, the spellings the script declares when they differ
    from the params' names (``pass_args`` passes them so)."""
    spelled = flag_names(spec, scan) if mode == "flags" else {}
    if not spelled:
        return _PASS_TEXT[mode]
    shown = ", ".join(f"--{flag} for {name}" for name, flag in list(spelled.items())[:6])
    return f"{_PASS_TEXT[mode]}, spelled as the script declares them ({shown})"


def _machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count() or 1}


def _limits(spec: StudySpec) -> dict[str, Any]:
    b = spec.budget
    limits: dict[str, Any] = {
        "trial_timeout_s": b.trial_timeout,
        "memory_mb": b.memory_mb,
        "max_processes": b.max_processes,
        "trials_in_parallel": spec.workers,
        "gpus_per_trial": spec.gpus_per_trial or None,
        "gpus": spec.gpus,
        "isolation": spec.isolation,
    }
    return {k: v for k, v in limits.items() if v is not None}


def _excerpt(name: str, text: str, chars: int) -> dict[str, Any]:
    """The start of a file's ``text`` for an untrusted block, its markers defused so it cannot close it."""
    return {"path": name, "chars": len(text), "text": defuse(text[:chars]), "truncated": len(text) > chars}


def context_data(
    spec: StudySpec,
    *,
    metrics: Iterable[str] = (),
    excerpt_chars: int = SCRIPT_EXCERPT_CHARS,
    config_chars: int = CONFIG_EXCERPT_CHARS,
) -> dict[str, Any]:
    """The facts of the task context (module docstring), for the ``task_context`` template."""
    path = script_path(spec)
    scan = scan_script(path) if path is not None else None
    excerpt = _excerpt(path.name, scan.text, excerpt_chars) if scan is not None and path else None
    config = config_text(scan) if scan is not None else None
    others = sorted((set(metrics) | (set(scan.reported) if scan else set())) - {spec.metric})
    return {
        "description": spec.task.description if spec.task else None,
        "facts": spec.task.facts() if spec.task else {},
        "command": shlex.join(spec.command) if spec.command else None,
        "function": spec.function,
        "pass": [_pass_text(m, spec, scan) for m in pass_modes(spec)],
        "fixed": spec.fixed,
        "script": excerpt,
        "config": _excerpt(*config, config_chars) if config and config_chars > 0 else None,
        "metric": spec.metric,
        "direction": spec.direction,
        "other_metrics": others[:20],
        "limits": _limits(spec),
        "machine": _machine(),
        "prior": _prior(spec),
    }


def _prior(spec: StudySpec) -> str | None:
    """What a known scaling law says about this task (tunesmith also proposes its point: prior:steplaw)."""
    law = law_of(spec.task)
    return law.rationale(spec.task.seq_len if spec.task else None) if law else None


def task_context(spec: StudySpec, *, metrics: Iterable[str] = ()) -> str:
    """The task section of every prompt, at most ``CONTEXT_CHARS`` characters."""
    metrics = list(metrics)
    text = render("task_context", **context_data(spec, metrics=metrics))
    if len(text) <= CONTEXT_CHARS:
        return text
    # The script excerpt gives way first, then the config's, then (a pathological description) the end.
    over = len(text) - CONTEXT_CHARS
    spare = max(0, SCRIPT_EXCERPT_CHARS - over)
    config_spare = max(0, CONFIG_EXCERPT_CHARS - max(0, over - SCRIPT_EXCERPT_CHARS))
    data = context_data(spec, metrics=metrics, excerpt_chars=spare, config_chars=config_spare)
    text = render("task_context", **data)
    return text if len(text) <= CONTEXT_CHARS else text[: CONTEXT_CHARS - 3] + "..."
