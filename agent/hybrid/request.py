"""A request in plain words becomes a validated ``StudySpec`` through the model's structured output.

The model fills ``SpecDraft`` by calling ``submit_spec``; we check it and build the spec ourselves:

* the **script** must appear verbatim in the request and exist: the model extracts what the person
  wrote, it never chooses a path (the command is always ``python SCRIPT`` in the script's folder);
* the **budget** likewise comes from the request ("30 trials"), an answer or ``--trials``: a count the
  model made up, or one that contradicts the request, is not used;
* missing or ambiguous **essentials** (script, metric, direction, budget) are asked back through
  ``ask`` in an interactive terminal; without one, ``SpecError`` says precisely what to add;
* a draft that does not validate (bad ranges, a default outside the space) goes back to the model
  with the one-line problem, at most ``attempts`` times.

The script's text is shown to the model (truncated, labelled untrusted) so that parameter and metric
names match what it reads and reports. How params reach the script is decided from the script and checked:
a script that reads ``--name`` flags for the space's parameters and not the params file gets
``pass_args: true`` whatever the draft says (otherwise every trial would run the script's own defaults).
The request's words become the spec's ``task:``, with the model family and data the drafter names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.core.spec import StudySpec, load_spec
from agent.core.task import DESCRIPTION_CHARS
from agent.errors import SpecError
from agent.hybrid.prompting import render
from agent.llm.base import LLMClient, Message, ToolSpec
from agent.study.hydra_app import config_keys, hydra_keys_problem
from agent.study.script import scan_script, scan_text, undeclared_flags_problem
from tools.untrusted import defuse

SCRIPT_CHARS = 6000
Scalar = str | int | float | bool


class ParamDraft(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(description="parameter name as the script reads it")
    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Scalar] | None = None
    default: Scalar | None = Field(default=None, description="a good first value inside the range")


class SpecDraft(BaseModel):
    """What the model extracts from the request (unknown keys it adds are ignored)."""

    model_config = ConfigDict(extra="ignore")
    script: str | None = Field(description="the training script's path, copied from the request; null if none")
    metric: str | None = Field(description="the metric to optimise; null if the request does not say")
    direction: Literal["maximize", "minimize"] | None = None
    max_trials: int | None = Field(default=None, ge=1, description="trials asked for; null if not said")
    params: list[ParamDraft] = Field(default_factory=list)
    pass_mode: Literal["params_file", "flags", "name=value", "--name=value"] | None = Field(
        default=None,
        description="how the script reads its hyperparameters: params_file (tunesmith.params() or "
        "TUNESMITH_PARAMS), flags (argparse --name value), name=value (Hydra overrides; nested keys with dots) or "
        "--name=value (Python literals: nanoGPT's configurator.py, python-fire)",
    )
    model_family: str | None = Field(default=None, description="what the script trains, e.g. 'PyTorch MLP'")
    data: str | None = Field(default=None, description="the data set it trains on and its size, if the script says")
    trial_timeout: str | None = Field(default=None, description="e.g. '10m', only when the request says")
    max_time: str | None = Field(default=None, description="e.g. '2h', only when the request says")
    notes: str | None = Field(default=None, description="assumptions made, one or two sentences")


SUBMIT = ToolSpec(
    name="submit_spec",
    description="Submit the study specification drafted from the request.",
    parameters=SpecDraft.model_json_schema(),
)


@dataclass
class Drafted:
    spec: StudySpec
    notes: str | None = None
    warnings: list[str] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)


def script_candidates(request: str, cwd: Path) -> list[str]:
    """Paths written in the request that name existing files (``*.py``), in order."""
    found = []
    for token in re.findall(r"[\w./~-]+\.py\b", request):
        if (cwd / Path(token).expanduser()).is_file() and token not in found:
            found.append(token)
    return found


def read_script(path: Path) -> dict[str, Any]:
    """Text (start), the metric names it reports (``report(...)`` calls and ``TUNESMITH_REPORT`` lines), the
    parameter names it appears to read, and how it reads them (agent/study/script.py)."""
    scan = scan_text(path.read_text(encoding="utf-8", errors="replace"), path)
    text = scan.text
    return {
        "path": str(path),
        "text": defuse(text[:SCRIPT_CHARS]),  # inside an untrusted block: it must not be able to close it
        "chars": len(text),
        "truncated": len(text) > SCRIPT_CHARS,
        "metrics": sorted(scan.reported),
        "params": scan.params[:40],
        "flags": sorted(scan.flags)[:40],
        "reads_params_file": scan.reads_params_file,
        "hydra": scan.uses_hydra,
        "hydra_keys": (config_keys(scan) or [])[:60],
    }


def _parse(completion_calls: Sequence[Any], text: str | None) -> tuple[SpecDraft | None, str | None]:
    call = next((c for c in completion_calls if c.name == "submit_spec"), None)
    if call is None:
        if text and "{" in text:  # some servers return the JSON as text despite tool_choice
            try:
                return SpecDraft.model_validate_json(text[text.index("{") : text.rindex("}") + 1]), None
            except (ValidationError, ValueError):
                pass
        return None, "you did not call submit_spec"
    if call.arguments is None:
        return None, f"the submit_spec arguments were not valid JSON ({call.error})"
    try:
        return SpecDraft.model_validate(call.arguments), None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        return None, f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def trials_in(request: str, drafted: int | None) -> int | None:
    """The number of trials the request asks for. A count written as "N trials" wins over the model's;
    otherwise the model's count is kept only when that number appears in the request (it may have read
    "a budget of 40"), never one it made up."""
    stated = re.findall(r"\b(\d+)\s*(?:trials?|runs?|configurations?)\b", request, re.I)
    if stated:
        return int(stated[-1]) or None
    if drafted is not None and re.search(rf"(?<![\d.]){drafted}(?![\d.])", request):
        return drafted
    return None


def _in_request(path: str, request: str) -> bool:
    return path.strip() in request or path.strip().removeprefix("./") in request


class _Missing(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems


def _essentials(
    draft: SpecDraft,
    request: str,
    cwd: Path,
    answers: dict[str, str],
    trials: int | None,
    ask: Callable[[str], str] | None,
    reported: list[str],
) -> tuple[str, str, str, int]:
    """(script, metric, direction, max_trials), asking for what is missing; ``_Missing`` when it cannot."""
    problems: list[str] = []
    script = answers.get("script")
    if script is None:
        if draft.script and _in_request(draft.script, request) and (cwd / draft.script).expanduser().is_file():
            script = draft.script
        else:
            found = script_candidates(request, cwd)
            script = found[0] if len(found) == 1 else None
    if script is None and ask is not None:
        script = answers["script"] = ask("Which training script should each trial run? (path)").strip()
        if not (cwd / script).expanduser().is_file():
            raise SpecError(f"script {script} does not exist (relative to {cwd}); check the path")
    if script is None:
        named = f" ('{draft.script}' does not exist here)" if draft.script else ""
        problems.append(
            f"the request names no training script that exists here{named}; write its path in the "
            "request, e.g. 'tune lr of examples/torch-mlp/train.py for val_acc, 30 trials'"
        )
    metric = answers.get("metric") or draft.metric
    if metric is None and ask is not None:
        hint = f" (it reports {', '.join(reported)})" if reported else ""
        metric = answers["metric"] = ask(f"Which metric should be optimised{hint}?").strip()
    if not metric:
        hint = f" ({', '.join(reported)})" if reported else ""
        problems.append(
            f"the request does not say which metric to optimise; add e.g. 'for val_acc' (a metric the "
            f"script reports{hint})"
        )
    direction = answers.get("direction") or draft.direction
    if direction is None and metric and ask is not None:
        reply = ask(f"Should {metric} be maximized or minimized? [max/min]").strip().lower()
        direction = answers["direction"] = "minimize" if reply.startswith("min") else "maximize"
    if direction is None and metric:
        problems.append(
            f"the request does not say whether to maximize or minimize {metric}; add 'maximize "
            f"{metric}' or 'minimize {metric}'"
        )
    budget = trials or (int(answers["trials"]) if "trials" in answers else trials_in(request, draft.max_trials))
    if budget is None and ask is not None:
        reply = ask("How many trials should the study run?").strip()
        if not reply.isdigit() or int(reply) < 1:
            raise SpecError(f"'{reply}' is not a number of trials; answer with a whole number like 30")
        answers["trials"] = reply
        budget = int(reply)
    if budget is None:
        problems.append("the request does not say how many trials to run; add e.g. '30 trials' or pass --trials N")
    if problems:
        raise _Missing(problems)
    assert script is not None and metric and direction and budget
    return script, metric, direction, budget


def _space(draft: SpecDraft) -> tuple[dict[str, Any], dict[str, Any]]:
    space: dict[str, Any] = {}
    default: dict[str, Any] = {}
    for p in draft.params:
        entry: dict[str, Any] = {"type": p.type}
        if p.type == "categorical":
            entry["choices"] = p.choices
        else:
            cast = int if p.type == "int" else float
            entry.update(
                low=cast(p.low) if p.low is not None else None,
                high=cast(p.high) if p.high is not None else None,
                log=p.log,
            )
        space[p.name] = entry
        if p.default is not None:
            default[p.name] = p.default
    return space, default


def build(
    draft: SpecDraft,
    *,
    script: str,
    metric: str,
    direction: str,
    max_trials: int,
    cwd: Path,
    llm: dict[str, Any],
    request: str = "",
) -> tuple[StudySpec, list[str]]:
    """The spec for a checked draft; ``SpecError`` when it does not validate. Returns warnings too."""
    if not draft.params:
        raise SpecError("the draft has no parameters; list the hyperparameters the request names")
    path = (cwd / script).expanduser().resolve()
    space, default = _space(draft)
    budget: dict[str, Any] = {"max_trials": max_trials}
    if draft.trial_timeout:
        budget["trial_timeout"] = draft.trial_timeout
    if draft.max_time:
        budget["max_time"] = draft.max_time
    data: dict[str, Any] = {
        "name": re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{path.parent.name}-{path.stem}").strip("-"),
        "objective": {"metric": metric, "direction": direction},
        "command": ["python", path.name],
        "workdir": str(path.parent),
        "space": space,
        "budget": budget,
        "llm": {k: v for k, v in llm.items() if v is not None},
    }
    warnings: list[str] = []
    scan = scan_script(path)
    as_flags = sorted(set(space) & set(scan.flags)) if scan else []
    if scan is not None and scan.uses_literal_args and not scan.reads_params_file and not scan.flags:
        data["pass_args"] = "--name=value"  # configurator.py / fire: Python literals, True not true
        if draft.pass_mode != "--name=value":
            warnings.append(f"{script} reads --name=value Python literals: pass_args: --name=value set")
    elif scan is not None and scan.uses_hydra and not scan.reads_params_file:
        data["pass_args"] = "name=value"  # a Hydra app takes its params as overrides, never as --flags
        if draft.pass_mode != "name=value":
            warnings.append(f"{script} is a Hydra app: pass_args: name=value set (params as lr=0.01 overrides)")
    elif as_flags and scan is not None and not scan.reads_params_file:
        data["pass_args"] = True  # the script reads flags, not the params file: without them it measures nothing
        if draft.pass_mode != "flags":
            flags = ", ".join("--" + scan.spelled.get(n, n) for n in as_flags)
            warnings.append(f"{script} reads {flags} as flags: pass_args: true set")
    elif draft.pass_mode == "flags" and as_flags:
        data["pass_args"] = True
    task: dict[str, Any] = {"description": request.strip()[:DESCRIPTION_CHARS]}
    if draft.model_family:
        task["model_family"] = draft.model_family.strip()[:200]
    if draft.data:
        task["data"] = draft.data.strip()[:300]
    data["task"] = task
    if default:
        from agent.core.space import SearchSpace

        try:
            problems = SearchSpace.from_dict(space).validate_config(default)
        except SpecError:
            problems = []  # the space itself is wrong: load_spec below reports it
        if problems:
            warnings.append(f"dropped the drafted default ({problems[0]})")
        else:
            data["default"] = default
    spec = load_spec(data)
    # argparse, or Hydra, would reject a param in every trial
    rejected = undeclared_flags_problem(spec, scan) or hydra_keys_problem(spec, scan)
    if rejected is not None:
        raise SpecError(rejected)
    return spec, warnings


def draft_spec(
    request: str,
    client: LLMClient,
    *,
    cwd: Path | None = None,
    ask: Callable[[str], str] | None = None,
    trials: int | None = None,
    llm: dict[str, Any] | None = None,
    attempts: int = 3,
) -> Drafted:
    """A validated spec for ``request`` (module docstring). ``agent.errors.LLMError`` propagates."""
    cwd = (cwd or Path.cwd()).resolve()
    found = script_candidates(request, cwd)
    script_info = {**read_script(cwd / found[0]), "path": found[0]} if len(found) == 1 else None
    reported = list(script_info["metrics"]) if script_info else []
    system = Message(role="system", content=render("spec_system", machine={"cpus": os.cpu_count() or 1}))
    answers: dict[str, str] = {}
    problem: str | None = None
    for _ in range(attempts):
        user = render("spec_request", request=request, script=script_info, answers=answers, problem=problem)
        completion = client.complete(
            [system, Message(role="user", content=user)], [SUBMIT], tool_choice="submit_spec", temperature=0.0
        )
        draft, problem = _parse(completion.tool_calls, completion.text)
        if draft is None:
            continue
        try:
            script, metric, direction, budget = _essentials(draft, request, cwd, answers, trials, ask, reported)
        except _Missing as missing:
            raise SpecError("; ".join(missing.problems)) from None
        try:
            spec, warnings = build(
                draft,
                script=script,
                metric=metric,
                direction=direction,
                max_trials=budget,
                cwd=cwd,
                llm=llm or {},
                request=request,
            )
        except SpecError as exc:
            problem = str(exc)
            continue
        info = read_script((cwd / script).expanduser()) if script_info is None else script_info
        unknown = [n for n in spec.space.names if info["params"] and n not in info["params"] and n not in info["text"]]
        if unknown:
            warnings.append(f"{', '.join(unknown)} not found in {script}; check the script reads them")
        if info["metrics"] and metric not in info["metrics"]:
            warnings.append(f"{script} seems to report {', '.join(info['metrics'])}, not {metric}")
        return Drafted(spec=spec, notes=draft.notes, warnings=warnings, answers=answers)
    raise SpecError(
        f"the model could not draft a valid spec from the request ({problem}); write a spec file "
        "instead (see README: Describe a study) or rephrase the request"
    )


__all__ = ["Drafted", "SpecDraft", "draft_spec"]
