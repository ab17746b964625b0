"""Scaling-law priors for LLM pretraining: the Step Law (Li et al., 2025, "Predictable Scale: Part I").

For a transformer language model trained from scratch with AdamW, the optimal peak learning rate and batch
size follow power laws of N (non-embedding parameters) and D (training tokens)::

    lr(N, D)        = 1.79 * N**-0.713 * D**0.307
    batch_tokens(D) = 0.58 * D**0.571

The paper reports a broad, convex optimum around these points. When a study's ``task:`` says
``kind: llm_pretraining`` with ``model_params`` and ``tokens``, ``StepLawFirst`` proposes the law's point right
after the default (recorded as strategy ``prior:steplaw``, the formula and inputs as its rationale), converting
batch tokens to the batch-size parameter by ``seq_len``. ``steplaw_warnings`` says when the point lies outside
the search space, with a range around it to use instead.

Parameters are recognised by name: the learning rate as ``lr``/``learning_rate``/``peak_lr``/``max_lr``; the
batch as ``batch_size``/``bs``/``global_batch_size``/``micro_batch_size`` (sequences: needs ``seq_len``) or
``batch_tokens``/``tokens_per_batch`` (tokens). Every other parameter takes the spec's default (or, without
one, is left to the wrapped strategy's choice).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.core.records import Trial
from agent.core.space import CategoricalParam, FloatParam, IntParam, SearchSpace, config_key
from agent.core.task import TaskSpec
from agent.strategies.base import Strategy

LR_NAMES = ("lr", "learning_rate", "peak_lr", "max_lr")
BATCH_NAMES = ("batch_size", "bs", "global_batch_size", "micro_batch_size")
BATCH_TOKEN_NAMES = ("batch_tokens", "tokens_per_batch")
LABEL = "prior:steplaw"


@dataclass(frozen=True)
class StepLaw:
    """The law's optimum for one (N, D)."""

    model_params: float
    tokens: float
    lr: float
    batch_tokens: float

    def rationale(self, seq_len: int | None) -> str:
        batch = f"{self.batch_tokens:.4g} tokens" + (
            f" = {self.batch_tokens / seq_len:.4g} sequences of {seq_len}" if seq_len else ""
        )
        return (
            f"Step Law (Li et al. 2025) for N={self.model_params:.3g} non-embedding parameters, "
            f"D={self.tokens:.3g} tokens: lr = 1.79*N^-0.713*D^0.307 = {self.lr:.3g}; "
            f"batch = 0.58*D^0.571 = {batch}"
        )


def step_law(model_params: float, tokens: float) -> StepLaw:
    """The law's learning rate and batch size (in tokens) for ``model_params`` (N) and ``tokens`` (D)."""
    if model_params <= 0 or tokens <= 0:
        raise ValueError("model_params and tokens must be > 0")
    lr = 1.79 * model_params**-0.713 * tokens**0.307
    return StepLaw(model_params, tokens, lr, 0.58 * tokens**0.571)


def law_of(task: TaskSpec | None) -> StepLaw | None:
    """The law for a task that declares ``kind: llm_pretraining`` (None otherwise)."""
    if task is None or task.kind != "llm_pretraining" or task.model_params is None or task.tokens is None:
        return None
    return step_law(task.model_params, task.tokens)


def _find(space: SearchSpace, names: Sequence[str]) -> str | None:
    return next((n for n in names if n in space.params), None)


def _fit(p: FloatParam | IntParam | CategoricalParam, value: float) -> tuple[Any, bool]:
    """The valid value of ``p`` nearest to ``value`` (on a log scale), and whether ``value`` was inside."""
    if isinstance(p, CategoricalParam):
        numeric = [c for c in p.choices if isinstance(c, int | float) and not isinstance(c, bool) and c > 0]
        if not numeric:
            return p.choices[0], False
        best = min(numeric, key=lambda c: abs(math.log(float(c)) - math.log(value)))
        return best, min(numeric) <= value <= max(numeric)
    inside = p.low <= value <= p.high
    clipped = min(max(value, p.low), p.high)
    if isinstance(p, IntParam):
        return round(clipped), inside
    return float(clipped), inside


def steplaw_point(space: SearchSpace, task: TaskSpec | None) -> tuple[dict[str, Any], list[str]] | None:
    """The law's values for the parameters it speaks of, and a warning per value outside the space
    (None: the task declares no pretraining, or the space has neither a learning rate nor a batch)."""
    law = law_of(task)
    if law is None or task is None:
        return None
    values: dict[str, Any] = {}
    warnings: list[str] = []
    lr_name = _find(space, LR_NAMES)
    if lr_name is not None:
        value, inside = _fit(space.params[lr_name], law.lr)
        values[lr_name] = value
        if not inside:
            warnings.append(
                f"{lr_name}: the Step Law's optimum {law.lr:.3g} lies outside the space; the optimum is broad, "
                f"so a range like [{law.lr / 4:.3g}, {law.lr * 4:.3g}] (log) around it is a good start"
            )
    token_name = _find(space, BATCH_TOKEN_NAMES)
    batch_name = _find(space, BATCH_NAMES)
    target, name = None, None
    if token_name is not None:
        target, name = law.batch_tokens, token_name
    elif batch_name is not None and task.seq_len:
        target, name = law.batch_tokens / task.seq_len, batch_name
    if target is not None and name is not None:
        value, inside = _fit(space.params[name], target)
        values[name] = value
        if not inside:
            warnings.append(
                f"{name}: the Step Law's optimum {target:.4g} lies outside the space; consider a range like "
                f"[{target / 4:.4g}, {target * 4:.4g}] around it"
            )
    return (values, warnings) if values else None


def steplaw_warnings(space: SearchSpace, task: TaskSpec | None) -> list[str]:
    """What the user should know before the study starts (module docstring)."""
    point = steplaw_point(space, task)
    return point[1] if point else []


class StepLawFirst(Strategy):
    """Proposes the Step Law's point once (completed from ``defaults`` and the inner strategy), then defers to
    ``inner``. A pure function of the history, like every strategy: the point is proposed while no trial of
    the history holds it."""

    def __init__(self, inner: Strategy, task: TaskSpec, defaults: Mapping[str, Any] | None = None) -> None:
        super().__init__(direction=inner.direction, seed=inner.seed, budget=inner.budget)
        self.inner = inner
        self.task = task
        self.defaults = dict(defaults or {})
        self.name = inner.name

    def point(self, space: SearchSpace, history: Sequence[Trial]) -> dict[str, Any] | None:
        if any(t.strategy == LABEL for t in history):
            return None  # proposed once, whatever became of it
        found = steplaw_point(space, self.task)
        if found is None:
            return None
        values = found[0]
        base = self.inner.ask(space, history, 1)[0] if len(values) < len(space) else {}
        config = space.normalise({**base, **{k: v for k, v in self.defaults.items() if k in space.params}, **values})
        if space.validate_config(config):
            return None
        key = config_key(config)
        tried = (space.normalise({k: v for k, v in t.params.items() if k in space.params}) for t in history)
        if any(config_key(c) == key for c in tried):
            return None
        return config

    def ask(self, space: SearchSpace, history: Sequence[Trial], n: int = 1) -> list[dict[str, Any]]:
        first = self.point(space, history)
        if first is None:
            return self.inner.ask(space, history, n)
        if n == 1:
            return [first]
        pending = Trial(number=max((t.number for t in history), default=-1) + 1, params=first)
        return [first, *self.inner.ask(space, [*history, pending], n - 1)]

    def label(self, space: SearchSpace, history: Sequence[Trial]) -> str:
        return LABEL if self.point(space, history) is not None else self.inner.label(space, history)

    def note(self, space: SearchSpace, history: Sequence[Trial]) -> str | None:
        if self.point(space, history) is None:
            return self.inner.note(space, history)
        law = law_of(self.task)
        return law.rationale(self.task.seq_len) if law else None
