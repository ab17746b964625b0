"""The ``Problem`` seam (DESIGN's ``BenchmarkTask``): a benchmark objective the harness evaluates in-process.

Contract:

* ``evaluate(params)`` takes a configuration valid for ``space`` and returns an ``Evaluation`` whose
  ``loss`` is *lower is better* (bayesmark's convention: accuracy is reported as ``-accuracy``). It is a
  deterministic function of ``params``: models are seeded with a fixed seed of the problem, never of the
  study, so two strategies proposing the same configuration see the same result.
* ``test_loss`` is the held-out ("generalization") loss of the same configuration, or None when the
  problem has no held-out split (synthetic functions: then validation is also the test).
* A configuration that makes the model crash or produce a non-finite loss raises ``EvaluationError``
  (or anything else): the harness records it as a FAILED trial, exactly like a crashing training script.
* ``default`` is the configuration a practitioner would run first (the library's defaults, projected
  into the space); ``group`` is used to stratify the dev/test split.

Problems must be cheap to construct and picklable by name: worker processes rebuild them with
``evals.problems.get_problem(name)``; data sets are loaded lazily and cached per process.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.core.space import SearchSpace


class EvaluationError(RuntimeError):
    """The configuration could not be evaluated (the model crashed, or the loss is not finite)."""


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: the validation loss the optimizer sees, the held-out loss, an optional curve."""

    loss: float
    test_loss: float | None = None
    curve: list[float] = field(default_factory=list)  # per-epoch validation loss, for iterative problems

    def __post_init__(self) -> None:
        if not math.isfinite(self.loss) or (self.test_loss is not None and not math.isfinite(self.test_loss)):
            raise EvaluationError(f"loss is not finite (loss={self.loss}, test_loss={self.test_loss})")


class Problem(abc.ABC):
    """A benchmark objective: a search space, a default configuration and a loss to minimise."""

    #: unique name, used on the command line and in results ("SVM_wine_nll", "branin")
    name: str
    #: family the problem belongs to ("bayesmark", "synthetic", "torch")
    family: str
    #: stratum of the dev/test split (bayesmark: the model; otherwise the family)
    group: str

    @property
    @abc.abstractmethod
    def space(self) -> SearchSpace:
        """The search space."""

    @property
    @abc.abstractmethod
    def default(self) -> dict[str, Any]:
        """The configuration a practitioner would try first; valid for ``space``."""

    @abc.abstractmethod
    def evaluate(self, params: Mapping[str, Any]) -> Evaluation:
        """The losses of ``params`` (see the module docstring for the contract)."""

    @property
    def has_test(self) -> bool:
        """Whether ``evaluate`` reports a held-out loss."""
        return True

    @property
    def task(self) -> str:
        """What is tuned, as a user would tell the LLM agent (the spec's ``task:``): model, data and its size,
        the metric and how it is measured. Every problem says it, so the agent's prior knowledge can apply."""
        return f"the {self.family} benchmark problem {self.name}"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "group": self.group,
            "dims": len(self.space),
            "task": self.task,
            "kinds": sorted(self.space.kinds()),
        }


class QuadraticProblem(Problem):
    """A fake for tests: ``sum((x_i - 0.3)^2)`` on ``[0, 1]^d``; its test loss adds a fixed offset."""

    family = "fake"
    group = "fake"

    def __init__(self, name: str = "quadratic", dims: int = 2, fail_above: float | None = None) -> None:
        self.name = name
        self._space = SearchSpace.from_dict({f"x{i}": {"type": "float", "low": 0.0, "high": 1.0} for i in range(dims)})
        self.fail_above = fail_above  # x0 above this crashes, to exercise failure handling

    @property
    def space(self) -> SearchSpace:
        return self._space

    @property
    def default(self) -> dict[str, Any]:
        return {n: 0.5 for n in self._space.names}

    @property
    def task(self) -> str:
        return f"a synthetic quadratic bowl in {len(self._space)} dimensions (a test fake); lower is better"

    def evaluate(self, params: Mapping[str, Any]) -> Evaluation:
        if self.fail_above is not None and params["x0"] > self.fail_above:
            raise EvaluationError(f"x0={params['x0']} > {self.fail_above}")
        loss = sum((float(v) - 0.3) ** 2 for v in params.values())
        return Evaluation(loss=loss, test_loss=loss + 0.01)
