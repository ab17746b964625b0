"""The search space: typed parameters, conditions, and validation of configurations.

A ``SearchSpace`` is an ordered mapping name -> parameter. A parameter may carry a condition
(``when: {parent: [values]}``): it is *active* only when every parent named has one of the listed
values. Parameters are kept in dependency order (parents before children), so sampling
in ``space.order`` is always well defined.

Contract of ``validate_config``: returns a list of human-readable problems (empty when valid). A valid
config holds exactly the active parameters, each of the right type, inside its range/choices and on
its step grid. ``check_config`` raises ``ConfigError`` instead.

Identity: ``config_key(config, space)`` is the one hash of a configuration. Through the space it is
canonical (``SearchSpace.canonical``): inactive and unknown params dropped, ints as ints, floats as floats
snapped to their step grid and rounded to 12 significant digits, a categorical value as the choice it
equals (``1.0`` and ``1`` of ``choices: [1, 2]`` are one value); so equivalent encodings of one
configuration have one key.
"""

from __future__ import annotations

import difflib
import json
import math
import random
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from agent.core.messages import single_line
from agent.errors import ConfigError, SpecError

Scalar = str | int | float | bool | None


class _Param(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    when: dict[str, list[Scalar]] | None = Field(
        default=None, description="active only when each named parameter takes one of the listed values"
    )
    description: str | None = None


class FloatParam(_Param):
    type: Literal["float"] = "float"
    low: float = Field(validation_alias=AliasChoices("low", "min"))
    high: float = Field(validation_alias=AliasChoices("high", "max"))
    log: bool = False
    step: float | None = None

    @model_validator(mode="after")
    def _check(self) -> FloatParam:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.low >= self.high:
            raise ValueError(f"low ({self.low:g}) must be < high ({self.high:g}); fix or swap the range")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0 (got {self.low:g}); use a positive low or log: false")
        if self.step is not None:
            if self.log:
                raise ValueError("step and log cannot be combined; drop one of them")
            if self.step <= 0:
                raise ValueError("step must be > 0")
        return self

    def contains(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, got {type(value).__name__} {value!r}"
        v = float(value)
        if not math.isfinite(v):
            return f"must be finite, got {value!r}"
        tol = 1e-9 * max(1.0, abs(self.high - self.low))
        if v < self.low - tol or v > self.high + tol:
            return f"{value!r} is outside [{self.low:g}, {self.high:g}]"
        if self.step is not None:
            k = (v - self.low) / self.step
            if abs(k - round(k)) > 1e-6:
                return f"{value!r} is not on the grid low + k*{self.step:g}"
        return None


class IntParam(_Param):
    type: Literal["int"] = "int"
    low: int = Field(validation_alias=AliasChoices("low", "min"))
    high: int = Field(validation_alias=AliasChoices("high", "max"))
    step: int = 1
    log: bool = False

    @model_validator(mode="after")
    def _check(self) -> IntParam:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be < high ({self.high}); fix or swap the range")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0 (got {self.low}); use low >= 1 or log: false")
        if self.step < 1:
            raise ValueError("step must be >= 1")
        if self.log and self.step != 1:
            raise ValueError("step and log cannot be combined; drop one of them")
        if (self.high - self.low) % self.step:
            raise ValueError(f"high - low ({self.high - self.low}) must be a multiple of step ({self.step})")
        return self

    def contains(self, value: Any) -> str | None:
        if isinstance(value, bool):
            return f"must be an integer, got {value!r}"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            return f"must be an integer, got {type(value).__name__} {value!r}"
        if value < self.low or value > self.high:
            return f"{value} is outside [{self.low}, {self.high}]"
        if (value - self.low) % self.step:
            return f"{value} is not on the grid {self.low} + k*{self.step}"
        return None


class CategoricalParam(_Param):
    type: Literal["categorical"] = "categorical"
    choices: list[Scalar] = Field(validation_alias=AliasChoices("choices", "values"))

    @model_validator(mode="after")
    def _check(self) -> CategoricalParam:
        if not self.choices:
            raise ValueError("choices is empty; list at least one value")
        if len({repr(c) for c in self.choices}) != len(self.choices):
            raise ValueError("choices contains duplicates")
        return self

    def contains(self, value: Any) -> str | None:
        if any(_same(value, c) for c in self.choices):
            return None
        return f"{value!r} is not one of {self.choices!r}"


def _same(a: Any, b: Any) -> bool:
    # 1 == True in Python; a categorical [true, 1] must not confuse the two.
    return (type(a) is type(b) and a == b) or (
        isinstance(a, int | float)
        and isinstance(b, int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and a == b
    )


def same_value(a: Any, b: Any) -> bool:
    """Whether two parameter values are one value: equal numbers (``1`` and ``1.0``), never ``1`` and ``True``."""
    return _same(a, b)


Param = Annotated[FloatParam | IntParam | CategoricalParam, Field(discriminator="type")]


def _infer_type(raw: Any) -> Any:
    """Fill in ``type`` for W&B-style entries ({values: [...]}, {min: 1, max: 9})."""
    if not isinstance(raw, Mapping) or "type" in raw:
        return raw
    out = dict(raw)
    if "choices" in out or "values" in out:
        out["type"] = "categorical"
    else:
        low, high = out.get("low", out.get("min")), out.get("high", out.get("max"))
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high))
        out["type"] = "int" if ints and not isinstance(out.get("step"), float) else "float"
    return out


def _when_fix(name: str, when: str, params: Mapping[str, Any]) -> str:
    """The fix for ``when: kernal`` (a bare name): the condition's shape, with the parent it likely meant."""
    others = [str(k) for k in params if str(k) != name]
    hint = difflib.get_close_matches(when, others, n=1)
    parent = hint[0] if hint else (others[0] if others else "parent")
    raw = params.get(parent)
    choices = raw.get("choices", raw.get("values")) if isinstance(raw, Mapping) else None
    example = choices[0] if isinstance(choices, list) and choices else "value"
    meant = f" (did you mean '{parent}'?)" if hint and parent != when else ""
    return f"{name}.when must name a parent parameter and its values, e.g. when: {{{parent}: [{example}]}}{meant}"


class SearchSpace(BaseModel):
    """Ordered, validated parameters. Build with ``SearchSpace.from_dict({...})``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    params: dict[str, Param]

    @model_validator(mode="before")
    @classmethod
    def _infer(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("params"), Mapping):
            params = data["params"]
            for name, raw in params.items():
                if isinstance(raw, Mapping) and isinstance(raw.get("when"), str):
                    raise ValueError(_when_fix(str(name), raw["when"], params))
            return {"params": {k: _infer_type(v) for k, v in params.items()}}
        return data

    @model_validator(mode="after")
    def _check_conditions(self) -> SearchSpace:
        if not self.params:
            raise ValueError("the search space is empty; add at least one parameter")
        for name, p in self.params.items():
            for parent, values in (p.when or {}).items():
                if parent not in self.params:
                    hint = difflib.get_close_matches(parent, list(self.params), n=1)
                    extra = f" (did you mean '{hint[0]}'?)" if hint else ""
                    raise ValueError(f"{name}.when refers to '{parent}', which is not in the space{extra}")
                if parent == name:
                    raise ValueError(f"{name}.when refers to itself")
                if not values:
                    raise ValueError(f"{name}.when.{parent} lists no values")
                for v in values:
                    if (err := self.params[parent].contains(v)) is not None:
                        raise ValueError(f"{name}.when.{parent}: {err}")
        self._topo_order()  # raises on cycles
        return self

    def _topo_order(self) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(n: str, path: tuple[str, ...]) -> None:
            if state.get(n) == 2:
                return
            if state.get(n) == 1:
                raise ValueError(f"conditions form a cycle: {' -> '.join((*path, n))}")
            state[n] = 1
            for parent in self.params[n].when or {}:
                visit(parent, (*path, n))
            state[n] = 2
            order.append(n)

        for n in self.params:
            visit(n, ())
        return order

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> SearchSpace:
        """Build from ``{name: {type: ..., ...}}``; raises ``SpecError`` with one line."""
        from pydantic import ValidationError

        from agent.core.messages import one_line

        try:
            return cls.model_validate({"params": dict(params)})
        except ValidationError as exc:
            raise SpecError(one_line(exc, prefix="space")) from None

    # ----------------------------------------------------------------- queries
    @property
    def order(self) -> list[str]:
        """Parameter names with every parent before its children."""
        return self._topo_order()

    @property
    def names(self) -> list[str]:
        return list(self.params)

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def is_conditional(self) -> bool:
        return any(p.when for p in self.params.values())

    def kinds(self) -> set[str]:
        return {p.type for p in self.params.values()}

    def is_active(self, name: str, config: Mapping[str, Any]) -> bool:
        """Whether ``name`` is active given the (partial) values of its parents in ``config``."""
        cond = self.params[name].when
        if not cond:
            return True
        for parent, values in cond.items():
            if parent not in config or not self.is_active(parent, config):
                return False
            if not any(_same(config[parent], v) for v in values):
                return False
        return True

    def active_names(self, config: Mapping[str, Any]) -> list[str]:
        return [n for n in self.order if self.is_active(n, config)]

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        """Every problem with ``config``; an empty list means it may run."""
        if not isinstance(config, Mapping):
            return [f"a configuration must be an object of parameter values, got {type(config).__name__}"]
        problems: list[str] = []
        for key in config:
            if key not in self.params:
                hint = difflib.get_close_matches(str(key), self.names, n=1)
                extra = f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(self.names)})"
                problems.append(f"unknown parameter '{key}'{extra}")
        for name in self.order:
            active = self.is_active(name, config)
            if name in config and not active:
                problems.append(f"'{name}' is inactive here ({self._cond_text(name)}); leave it out")
            elif name not in config and active:
                problems.append(f"missing parameter '{name}'")
            elif name in config and (err := self.params[name].contains(config[name])) is not None:
                problems.append(f"'{name}' {err}")
        return [single_line(p) for p in problems]

    def check_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Return a normalised copy of ``config`` (ints as int) or raise ``ConfigError``."""
        problems = self.validate_config(config)
        if problems:
            raise ConfigError(problems)
        return self.normalise(config)

    def normalise(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` in space order with ints as int, floats as float (on their step grid: ``0.1 * 3``
        is ``0.3``) and each categorical value as the choice it equals."""
        out: dict[str, Any] = {}
        for name in self.order:
            if name not in config:
                continue
            out[name] = _norm_value(self.params[name], config[name])
        return out

    def canonical(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The canonical form of ``config`` for hashing (module docstring): only active known params,
        normalised, floats rounded to 12 significant digits. Never raises for a bad value: it is kept."""
        out: dict[str, Any] = {}
        for name in self.order:
            if name not in config or not self.is_active(name, config):
                continue
            p = self.params[name]
            try:
                v = _norm_value(p, config[name])
            except (TypeError, ValueError, OverflowError):
                v = config[name]
            if isinstance(p, FloatParam) and isinstance(v, float) and math.isfinite(v):
                v = _round12(v) + 0.0  # + 0.0: -0.0 and 0.0 are one value
            out[name] = v
        return out

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """One configuration drawn from the space (uniform, or log-uniform for ``log`` params; on the step
        grid), with only the active params; reproducible from ``rng``."""
        config: dict[str, Any] = {}
        for name in self.order:
            if self.is_active(name, config):
                config[name] = self.sample_param(name, rng)
        return config

    def sample_param(self, name: str, rng: random.Random) -> Any:
        """One value of parameter ``name`` drawn as ``sample`` does."""
        p = self.params[name]
        if isinstance(p, CategoricalParam):
            return p.choices[rng.randrange(len(p.choices))]
        if isinstance(p, IntParam):
            if p.log:  # log-uniform over [low, high + 1), floored
                return min(p.high, max(p.low, int(math.exp(rng.uniform(math.log(p.low), math.log(p.high + 1))))))
            return p.low + p.step * rng.randrange((p.high - p.low) // p.step + 1)
        if p.log:
            return math.exp(rng.uniform(math.log(p.low), math.log(p.high)))
        if p.step is not None:
            points = math.floor((p.high - p.low) / p.step + 1e-9) + 1
            return _norm_value(p, p.low + p.step * rng.randrange(points))
        return rng.uniform(p.low, p.high)

    def warnings(self) -> list[str]:
        """Legal but probably unintended: a float ``step`` that leaves one value in its range."""
        found = []
        for name, p in self.params.items():
            if isinstance(p, FloatParam) and p.step is not None and p.high - p.low < p.step * (1 - 1e-9):
                found.append(
                    f"space.{name}: step {p.step:g} leaves one value ({p.low:g}) in [{p.low:g}, {p.high:g}]; "
                    f"use a smaller step, or move {name} to fixed"
                )
        return found

    def _cond_text(self, name: str) -> str:
        cond = self.params[name].when or {}
        return " and ".join(f"{k} in {v!r}" for k, v in cond.items()) or "always"

    def describe(self) -> list[dict[str, Any]]:
        """JSON-friendly description, used in prompts and the web page."""
        return [{"name": n, **self.params[n].model_dump(exclude_none=True)} for n in self.order]


def _round12(v: float) -> float:
    return float(f"{v:.12g}")


def _norm_value(p: FloatParam | IntParam | CategoricalParam, v: Any) -> Any:
    if isinstance(p, IntParam):
        return int(v)
    if isinstance(p, FloatParam):
        v = float(v)
        if p.step is not None and math.isfinite(v):
            v = _round12(p.low + round((v - p.low) / p.step) * p.step)
        return v
    for choice in p.choices:
        if _same(v, choice):
            return choice
    return v


def config_key(config: Mapping[str, Any], space: SearchSpace | None = None) -> str:
    """The one identity of a configuration: equal keys mean the same trial. With ``space`` the key is
    canonical (``SearchSpace.canonical``: inactive params, ``1`` versus ``1.0``, float noise and step
    grids do not make two keys); without it, the config is taken as written."""
    if space is not None:
        config = space.canonical(config)
    return json.dumps(config, sort_keys=True, default=repr)
