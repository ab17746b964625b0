"""The study spec: what to tune, how to run a trial, and within which budget.

Load one with ``load_spec(path_or_dict)``. Every problem is reported as a ``SpecError`` whose message is
one line naming the field and how to fix it, before anything runs.

Relative paths (``workdir``, and the script in ``command``) are resolved against the spec file's
folder, so a study folder stores absolute paths and ``resume`` works from anywhere.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from agent.core.messages import one_line
from agent.core.space import SearchSpace
from agent.errors import SpecError

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"10m"``, ``"1.5h"``; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a duration must be seconds or a string like '10m'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)\s*([a-z]*)\s*", str(value).lower())
        if not m or (m.group(2) and m.group(2) not in _UNITS):
            raise ValueError(f"cannot read duration {value!r}; write seconds or e.g. '30s', '10m', '2h'")
        seconds = float(m.group(1)) * _UNITS.get(m.group(2) or "s", 1.0)
    if seconds <= 0:
        raise ValueError(f"a duration must be > 0, got {value!r}")
    return seconds


Duration = Annotated[float | None, BeforeValidator(parse_duration)]


class Price(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Objective(_Strict):
    metric: str = Field(
        min_length=1, validation_alias=AliasChoices("metric", "name"), description="the reported metric to optimise"
    )
    direction: Literal["maximize", "minimize"] = Field(validation_alias=AliasChoices("direction", "goal"))

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        if isinstance(data, str):
            raise ValueError("objective needs metric and direction, e.g. {metric: val_acc, direction: maximize}")
        if isinstance(data, Mapping):
            d = dict(data)
            for key in ("direction", "goal"):
                if isinstance(d.get(key), str):
                    d[key] = {"max": "maximize", "min": "minimize"}.get(d[key].lower(), d[key].lower())
            return d
        return data


class Budget(_Strict):
    max_trials: int | None = Field(default=20, ge=1, description="finished trials to run (cancelled excluded)")
    max_time: Duration = Field(default=None, description="total wall-clock for the study")
    trial_timeout: Duration = Field(default=None, description="wall-clock limit for one trial")
    memory_mb: int | None = Field(default=None, ge=16, description="address-space limit for one trial")
    max_processes: int | None = Field(
        default=None,
        ge=1,
        description="processes + threads one trial may run "
        "at once (fork-bomb limit; strict isolation: 4096 unless set)",
    )


class EnvSpec(_Strict):
    passthrough: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("pass", "passthrough"),
        description="variables passed to trials even if they look secret",
    )
    set: dict[str, str] = Field(default_factory=dict, description="variables set for every trial")


class PrunerSpec(_Strict):
    """Early stopping from intermediate reports (Optuna's pruners)."""

    type: Literal["none", "asha", "median", "hyperband"] = "asha"
    min_resource: int = Field(default=1, ge=1, description="steps before a trial may be stopped")
    reduction_factor: int = Field(default=3, ge=2)
    max_resource: int | None = Field(default=None, ge=1, description="steps of a full trial (hyperband)")
    warmup_steps: int = Field(default=0, ge=0, description="median pruner: steps before pruning")


class LLMSpec(_Strict):
    """How an LLM takes part in the study (optional). API keys never go here: they would be stored with the
    study; they come from ``OPENAI_API_KEY`` or the config file (agent/llm/settings.py)."""

    model: str | None = Field(default=None, description="model name, e.g. gpt-4o-mini or llama3.1:8b")
    base_url: str | None = Field(default=None, description="an OpenAI-compatible endpoint, ending in /v1")
    share: float = Field(default=0.3, ge=0.0, le=1.0, description="starting share of trials the LLM proposes")
    min_share: float = Field(default=0.1, ge=0.0, le=0.5, description="floor of each proposer's share")
    first_trials: int = Field(default=2, ge=0, description="trials after the default that the LLM proposes")
    max_tokens: int | None = Field(default=None, ge=1, description="token budget for the whole study")
    max_cost: float | None = Field(default=None, gt=0.0, description="cost budget (USD) for the whole study")
    timeout: Duration = Field(default=60.0, description="one request")
    retries: int = Field(default=3, ge=0, description="retries of a failed request (429, 5xx, timeout)")
    temperature: float | None = Field(default=0.0, ge=0.0, le=2.0)
    max_steps: int = Field(default=6, ge=1, le=50, description="model calls per decision")
    max_mistakes: int = Field(default=3, ge=1, le=20, description="mistakes in a row before the strategy steps in")
    stop_on_finish: bool = Field(default=False, description="end the study when the model calls finish")
    top_k: int = Field(default=5, ge=1, le=50, description="best trials shown per decision")
    recent: int = Field(default=5, ge=0, le=50, description="most recent trials shown per decision")
    prices: dict[str, Price] = Field(
        default_factory=dict, description="USD per 1M tokens: {model: {prompt, completion}}"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and any("key" in str(k).lower() or str(k).lower() == "token" for k in data):
            raise ValueError(
                "never put an API key in a spec (it is stored with the study); set OPENAI_API_KEY "
                "or write it in ~/.config/tunesmith/config.toml"
            )
        if isinstance(data, Mapping) and data.get("base_url") and not re.match(r"https?://", str(data["base_url"])):
            raise ValueError(
                f"base_url {data['base_url']!r} must start with http:// or https:// (and usually end in /v1)"
            )
        return data


class StudySpec(_Strict):
    """A complete, validated study description."""

    name: str | None = None
    objective: Objective = Field(validation_alias=AliasChoices("objective", "metric"))
    space: SearchSpace
    fixed: dict[str, Any] = Field(default_factory=dict, description="constant params passed to every trial")
    command: list[str] | None = Field(default=None, description="argv of one trial, run in workdir")
    function: str | None = Field(default=None, description="'module:function' or 'file.py:function'")
    workdir: str | None = None
    pass_args: bool = Field(default=False, description="also pass params as --name value arguments")
    default: dict[str, Any] | None = Field(default=None, description="configuration run first")
    budget: Budget = Field(default_factory=Budget)
    workers: int = Field(default=1, ge=1, le=1024)
    seed: int | None = None
    strategy: str = "auto"
    env: EnvSpec = Field(default_factory=EnvSpec)
    threads_per_trial: int | None = Field(default=None, ge=1)
    pruner: PrunerSpec | None = None
    isolation: Literal["process", "strict"] = "process"
    network: bool = Field(default=False, description="strict isolation: allow network access")
    read_paths: list[str] = Field(
        default_factory=list,
        description="strict isolation: more folders trials may read (data sets, caches); relative to the spec file",
    )
    gpus: Literal["auto"] | list[int] | None = None
    gpus_per_trial: float = Field(default=0.0, ge=0.0)
    grace_period: float = Field(default=5.0, ge=0.0, description="seconds between SIGTERM and SIGKILL")
    llm: LLMSpec | None = Field(default=None, description="LLM settings; the study is classical without an LLM")

    @model_validator(mode="before")
    @classmethod
    def _shapes(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise ValueError("a spec must be a mapping of keys (objective, space, command, ...)")
        d = dict(data)
        if isinstance(d.get("space"), Mapping) and "params" not in d["space"]:
            d["space"] = {"params": d["space"]}
        if isinstance(d.get("command"), str):
            d["command"] = shlex.split(d["command"])
        if isinstance(d.get("budget"), int) and not isinstance(d.get("budget"), bool):
            d["budget"] = {"max_trials": d["budget"]}
        return d

    @model_validator(mode="after")
    def _check(self) -> StudySpec:
        if not self.command and not self.function:
            raise ValueError("missing command: add command: [python, train.py] (or function: 'module:fn')")
        if self.command and self.function:
            raise ValueError("give either command or function, not both")
        if self.function and ":" not in self.function:
            raise ValueError("function must look like 'package.module:function' or 'file.py:function'")
        overlap = sorted(set(self.fixed) & set(self.space.params))
        if overlap:
            raise ValueError(f"fixed and space both define {overlap}; keep each parameter in one place")
        if self.default is not None:
            problems = self.space.validate_config(self.default)
            if problems:
                raise ValueError(f"default is outside the space: {problems[0]}")
        if self.strategy not in STRATEGY_NAMES:
            raise ValueError(f"unknown strategy '{self.strategy}'; choose one of {', '.join(STRATEGY_NAMES)}")
        return self

    @property
    def direction(self) -> str:
        return self.objective.direction

    @property
    def metric(self) -> str:
        return self.objective.metric

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict that ``load_spec`` reads back to an equal spec."""
        data = self.model_dump(mode="json", by_alias=False, exclude_none=True)
        data["space"] = {name: _param_dict(p) for name, p in data["space"]["params"].items()}
        data["env"] = {"pass": self.env.passthrough, "set": dict(self.env.set)}
        # None means "unlimited" for max_trials (its default is 20), so it must survive the round trip.
        data["budget"]["max_trials"] = self.budget.max_trials
        return data


def _param_dict(p: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in p.items() if v is not None}


STRATEGY_NAMES = ("auto", "random", "qmc", "tpe", "gp", "cmaes")
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")


def script_problem(spec: StudySpec) -> str | None:
    """Why ``command`` cannot run here, checked before the first trial (one line with the fix), or None.

    Only what is certain is checked: a missing ``workdir``, and the script of ``python SCRIPT.py ...``
    missing from it. Everything else a trial may legitimately create or find at run time."""
    if not spec.command:
        return None
    workdir = Path(spec.workdir or ".")
    if not workdir.is_dir():
        return f"workdir: {workdir} does not exist; create it or fix workdir (relative to the spec file)"
    if not _PYTHON.fullmatch(Path(spec.command[0]).name) or len(spec.command) < 2:
        return None
    script = spec.command[1]
    if not script.endswith(".py") or (workdir / script).is_file():
        return None
    return (
        f"command: script {script} not found in {workdir}; fix the path in command (it is relative to workdir, "
        "which is relative to the spec file)"
    )


def _read_file(path: Path) -> Any:
    if not path.exists():
        raise SpecError(f"spec file {path} does not exist; check the path")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise SpecError(f"cannot read spec file {path} ({reason}); give a UTF-8 .yaml, .toml or .json file") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
        if path.suffix == ".toml":
            return tomllib.loads(text)
        if path.suffix == ".json":
            return json.loads(text)
    # ValueError: TOML/JSON syntax, and YAML scalars that look like impossible dates (2020-13-45)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError(f"{path.name}: cannot parse ({first}); fix the syntax") from None
    raise SpecError(f"{path.name}: unknown spec format; use .yaml, .toml or .json")


def load_spec(source: str | Path | Mapping[str, Any] | StudySpec, *, base_dir: Path | None = None) -> StudySpec:
    """Validate a spec from a file path, a dict, or an existing ``StudySpec``.

    Relative ``workdir`` resolves against the spec file's folder (or ``base_dir``, default: cwd).
    """
    if isinstance(source, StudySpec):
        return source
    if isinstance(source, str | Path):
        path = Path(source).expanduser().resolve()
        data = _read_file(path)
        base_dir = path.parent
    else:
        data = source
    base = (base_dir or Path.cwd()).resolve()
    if isinstance(data, Mapping):
        data = dict(data)
        workdir = Path(str(data.get("workdir") or "."))
        data["workdir"] = str(workdir if workdir.is_absolute() else (base / workdir).resolve())
        if isinstance(data.get("read_paths"), list):
            data["read_paths"] = [
                str((base / Path(p).expanduser()).resolve()) if isinstance(p, str) else p for p in data["read_paths"]
            ]
    try:
        return StudySpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(one_line(exc, model=StudySpec)) from None
    except ValueError as exc:  # raised by 'before' validators on the whole spec
        raise SpecError(f"spec: {exc}") from None
