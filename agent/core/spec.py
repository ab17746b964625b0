"""The study spec: what to tune, how to run a trial, and within which budget.

Load one with ``load_spec(path_or_dict)``. Every problem is reported as a ``SpecError`` whose message is
one line naming the field and how to fix it, before anything runs.

Relative paths (``workdir``, and the script in ``command``) are resolved against the spec file's
folder, so a study folder stores absolute paths and ``resume`` works from anywhere.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from agent.core.define_by_run import suggested_space
from agent.core.durations import parse_duration
from agent.core.function_source import source_file
from agent.core.grid import GRID_LIMIT, all_configs, grid_problem
from agent.core.messages import one_line
from agent.core.pass_args import PassArgs
from agent.core.space import SearchSpace
from agent.core.spec_file import read_spec_file
from agent.core.sweep import from_sweep, is_sweep
from agent.core.task import TaskSpec
from agent.core.track import TrackSpec, resolve_track
from agent.errors import SpecError

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

    @model_validator(mode="after")
    def _no_secrets(self) -> EnvSpec:
        for name, value in self.set.items():
            if _looks_secret(name, value):
                raise ValueError(
                    f"set.{name} looks like a secret, and a spec is stored with the study (and its database); "
                    f"export {name} in your shell and list it under env.pass instead"
                )
        return self


#: Words of a variable name (split at '_') that mark a secret; TOKENIZERS_PARALLELISM is not one.
_SECRET_WORDS = {"KEY", "APIKEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "CREDENTIALS", "PAT"}
#: How common API keys begin (OpenAI, Anthropic, Hugging Face, GitHub, Slack, AWS, Stripe, W&B local).
_SECRET_VALUE = re.compile(r"(sk-|sk_live_|rk_live_|hf_|ghp_|gho_|github_pat_|xox[abp]-|AKIA|local-)[A-Za-z0-9_-]{12}")


def _looks_secret(name: str, value: str) -> bool:
    """Whether ``env.set`` would store a secret: a secret-looking name (``WANDB_API_KEY``, ``HF_TOKEN``,
    ``OPENAI_*``, ``ANTHROPIC_*``) or a value shaped like a known API key."""
    upper = name.upper()
    words = set(re.split(r"[^A-Z0-9]+", upper))
    return (
        bool(words & _SECRET_WORDS)
        or upper.startswith(("OPENAI_", "ANTHROPIC_"))
        or bool(_SECRET_VALUE.match(value.strip()))
    )


class PrunerSpec(_Strict):
    """Early stopping from intermediate reports (Optuna's pruners)."""

    type: Literal["none", "asha", "median", "hyperband"] = "asha"
    min_resource: int = Field(default=1, ge=1, description="steps before a trial may be stopped")
    reduction_factor: int = Field(default=3, ge=2)
    max_resource: int | None = Field(default=None, ge=1, description="steps of a full trial (hyperband)")
    warmup_steps: int = Field(default=0, ge=0, description="median pruner: steps before pruning")


class SchedulerSpec(_Strict):
    """Population Based Training (Jaderberg et al., 2017; names after Ray Tune's where they are clear): a
    population of ``population`` trainings runs at once; every ``interval`` reported steps a member in the
    bottom ``quantile`` continues from a top member's checkpoint with its ``mutable`` params perturbed
    (times one of ``perturb``, or a neighbouring choice) or, with ``resample_probability``, drawn anew.
    The study ends when every member has finished its training; ``budget.max_trials`` does not apply
    (``max_time`` does). ``checkpoint_root``: where checkpoints live (default: each trial's folder); a Ray
    cluster needs a folder every node shares."""

    type: Literal["pbt"] = "pbt"
    population: int = Field(default=8, ge=2, le=1024, description="members trained at once")
    interval: int = Field(default=2, ge=1, description="reported steps between decisions (perturbation interval)")
    quantile: float = Field(default=0.25, gt=0.0, le=0.5, description="share of members exploited / copied")
    resample_probability: float = Field(default=0.25, ge=0.0, le=1.0)
    perturb: list[float] = Field(default_factory=lambda: [0.8, 1.2], min_length=1, description="factors")
    mutable: list[str] = Field(min_length=1, description="params that may change mid-training (lr, dropout ...)")
    max_step: int | None = Field(
        default=None,
        ge=1,
        description="the step a training ends at (e.g. its epochs): no decision there; learned from the first "
        "member to finish when absent",
    )
    checkpoint_root: str | None = Field(default=None, description="a folder for checkpoints (shared on Ray)")

    @model_validator(mode="after")
    def _check(self) -> SchedulerSpec:
        if any(f <= 0 for f in self.perturb):
            raise ValueError(f"perturb factors must be > 0, got {self.perturb}")
        if len(set(self.mutable)) != len(self.mutable):
            raise ValueError(f"mutable lists a param twice: {self.mutable}")
        return self


class LLMSpec(_Strict):
    """How an LLM takes part in the study (optional). API keys never go here: they would be stored with the
    study; they come from ``OPENAI_API_KEY`` or the config file (agent/llm/settings.py)."""

    model: str | None = Field(default=None, description="model name, e.g. gpt-4o-mini or llama3.1:8b")
    base_url: str | None = Field(default=None, description="an OpenAI-compatible endpoint, ending in /v1")
    share: float = Field(default=0.3, ge=0.0, le=1.0, description="starting share of trials the LLM proposes")
    min_share: float = Field(default=0.1, ge=0.0, le=0.5, description="floor of each proposer's share")
    first_trials: int = Field(default=2, ge=0, description="trials after the default that the LLM proposes")
    min_improvement: float = Field(
        default=0.0, ge=0.0, description="smallest gain of the best value that counts as an improvement (noise)"
    )
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
    task: TaskSpec | None = Field(
        default=None, description="what is being tuned, in words (+ optional facts); every LLM prompt shows it"
    )
    objective: Objective = Field(validation_alias=AliasChoices("objective", "metric"))
    space: SearchSpace
    fixed: dict[str, Any] = Field(default_factory=dict, description="constant params passed to every trial")
    command: list[str] | None = Field(default=None, description="argv of one trial, run in workdir")
    function: str | None = Field(default=None, description="'module:function' or 'file.py:function'")
    workdir: str | None = None
    pass_args: PassArgs = Field(
        default=False,
        description="also pass params as arguments: true: --name value (argparse, click, typer); 'name=value': "
        "Hydra-style overrides (nested keys named with dots: optimizer.lr); '--name=value': Python literals "
        "(nanoGPT's configurator.py, python-fire)",
    )
    default: dict[str, Any] | None = Field(default=None, description="configuration run first")
    budget: Budget = Field(default_factory=Budget)
    workers: int = Field(default=1, ge=1, le=1024)
    seed: int | None = None
    strategy: str = "auto"
    env: EnvSpec = Field(default_factory=EnvSpec)
    threads_per_trial: int | None = Field(default=None, ge=1)
    pruner: PrunerSpec | None = None
    scheduler: SchedulerSpec | None = Field(default=None, description="Population Based Training (type: pbt)")
    reuse_duplicates: bool = Field(
        default=False,
        description="deterministic trials: a configuration equal to a finished trial's (canonical hash) gets its "
        "result recorded instead of running again",
    )
    isolation: Literal["process", "strict"] = "process"
    network: bool = Field(default=False, description="strict isolation: allow network access")
    read_paths: list[str] = Field(
        default_factory=list,
        description="strict isolation: more folders trials may read (data sets, caches); relative to the spec file",
    )
    gpus: Literal["auto"] | list[int] | None = None
    gpus_per_trial: float = Field(default=0.0, ge=0.0)
    grace_period: float = Field(default=5.0, ge=0.0, description="seconds between SIGTERM and SIGKILL")
    broken_setup_after: int = Field(
        default=3,
        description="stop the study after this many identical failures with nothing complete, or this many "
        "trials with different params and bit-identical results (0: never stop; agent/study/doctor.py)",
    )
    llm: LLMSpec | None = Field(default=None, description="LLM settings; the study is classical without an LLM")
    track: TrackSpec | None = Field(default=None, description="trackers logged to live: {mlflow: URI or path}")

    @model_validator(mode="before")
    @classmethod
    def _shapes(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise ValueError("a spec must be a mapping of keys (objective, space, command, ...)")
        d = dict(data)
        if is_sweep(d):  # a W&B sweep configuration (agent/core/sweep.py)
            d = from_sweep(d)
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
        if self.strategy == "grid" and (problem := grid_problem(self.space)) is not None:
            raise ValueError(problem)
        if self.broken_setup_after == 1 or self.broken_setup_after < 0:
            raise ValueError(f"broken_setup_after must be 0 (never stop) or at least 2, got {self.broken_setup_after}")
        if self.scheduler is not None:
            self._check_scheduler(self.scheduler)
        return self

    def _check_scheduler(self, pbt: SchedulerSpec) -> None:
        if self.pruner is not None and self.pruner.type != "none":
            raise ValueError("scheduler pbt and a pruner both decide when trials stop; drop the pruner")
        for name in pbt.mutable:
            if name not in self.space.params:
                raise ValueError(f"scheduler.mutable names '{name}', which is not in the space; list space params")
            if self.space.params[name].when:
                raise ValueError(f"scheduler.mutable: '{name}' is conditional; only unconditional params may change")
            children = [n for n, p in self.space.params.items() if name in (p.when or {})]
            if children:
                raise ValueError(
                    f"scheduler.mutable: '{name}' decides whether {children[0]} is active; it cannot change "
                    "mid-training"
                )
        if pbt.checkpoint_root is not None and self.isolation == "strict":
            raise ValueError(
                "scheduler.checkpoint_root: a strict trial may write only its own folder; drop checkpoint_root "
                "(checkpoints then live in each trial's folder) or use isolation: process"
            )

    @property
    def arg_style(self) -> Literal["flags", "name=value", "--name=value"] | None:
        """How params are passed as arguments: ``flags`` (``pass_args: true``), ``name=value``, ``--name=value``,
        or None (the params file only)."""
        if self.pass_args is True:
            return "flags"
        return self.pass_args or None

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


STRATEGY_NAMES = ("auto", "random", "qmc", "tpe", "gp", "cmaes", "grid")
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


def with_overrides(spec: StudySpec, *, max_trials: int | None = None, **fields: Any) -> StudySpec:
    """``spec`` with the command line's or the API's overrides (a None keeps the spec's value). Switching to
    ``strategy: grid`` without a trial budget, here or in the spec's own file, runs the whole grid."""
    data = spec.to_dict()
    if max_trials is not None:
        data["budget"]["max_trials"] = max_trials
    elif fields.get("strategy") == "grid" and "max_trials" not in spec.budget.model_fields_set:
        del data["budget"]["max_trials"]
    data.update({k: v for k, v in fields.items() if v is not None})
    return load_spec(data)


def _space_from_function(data: dict[str, Any]) -> dict[str, Any]:
    """A spec without ``space:`` whose function is an Optuna objective gets the space its ``trial.suggest_*``
    calls name (agent/core/define_by_run.py); anything else is left for validation to refuse."""
    source = source_file(data["function"], Path(data["workdir"]))
    space = suggested_space(source, data["function"].rpartition(":")[2]) if source is not None else None
    return {**data, "space": space} if space is not None else data


def load_spec(source: str | Path | Mapping[str, Any] | StudySpec, *, base_dir: Path | None = None) -> StudySpec:
    """Validate a spec from a file path, a dict, or an existing ``StudySpec``.

    Relative ``workdir`` resolves against the spec file's folder (or ``base_dir``, default: cwd).
    """
    if isinstance(source, StudySpec):
        return source
    if isinstance(source, str | Path):
        path = Path(source).expanduser().resolve()
        data = read_spec_file(path)
        base_dir = path.parent
    else:
        data = source
    base = (base_dir or Path.cwd()).resolve()
    if isinstance(data, Mapping):
        data = dict(data)
        workdir = Path(str(data.get("workdir") or "."))
        data["workdir"] = str(workdir if workdir.is_absolute() else (base / workdir).resolve())
        scheduler = data.get("scheduler")
        if isinstance(scheduler, Mapping) and isinstance(scheduler.get("checkpoint_root"), str):
            root = Path(scheduler["checkpoint_root"]).expanduser()
            data["scheduler"] = {**scheduler, "checkpoint_root": str(root if root.is_absolute() else base / root)}
        if "track" in data:
            data["track"] = resolve_track(data["track"], base)
        if isinstance(data.get("function"), str) and data.get("space") is None:
            data = _space_from_function(data)
        if isinstance(data.get("read_paths"), list):
            data["read_paths"] = [
                str((base / Path(p).expanduser()).resolve()) if isinstance(p, str) else p for p in data["read_paths"]
            ]
    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(one_line(exc, model=StudySpec)) from None
    except ValueError as exc:  # raised by 'before' validators on the whole spec
        raise SpecError(f"spec: {exc}") from None
    if spec.strategy == "grid" and "max_trials" not in spec.budget.model_fields_set:
        grid = all_configs(spec.space, GRID_LIMIT) or []  # a grid study runs the whole grid unless told
        spec = spec.model_copy(update={"budget": spec.budget.model_copy(update={"max_trials": max(1, len(grid))})})
    return spec
