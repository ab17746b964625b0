"""Benchmark problems and suites: ``get_problem(name)``, ``suite_problems(suite)``, ``SUITES``.

Suites: ``bayesmark`` (90 scikit-learn problems), ``synthetic`` (4 functions), ``torch`` (an MLP on
digits, 2 metrics), ``all`` (everything). Names are unique across suites.
"""

from __future__ import annotations

from functools import cache

from agent.errors import TunesmithError
from evals.problems import bayesmark, synthetic
from evals.problems.base import Evaluation, EvaluationError, Problem, QuadraticProblem

__all__ = ["SUITES", "Evaluation", "EvaluationError", "Problem", "QuadraticProblem", "get_problem", "suite_problems"]

_TORCH = ("torch-mlp_digits_acc", "torch-mlp_digits_nll")


def _suites() -> dict[str, list[str]]:
    bm = bayesmark.problem_names()
    syn = sorted(synthetic.FUNCTIONS)
    return {"bayesmark": bm, "synthetic": syn, "torch": list(_TORCH), "all": [*bm, *syn, *_TORCH]}


SUITES: dict[str, list[str]] = _suites()


def suite_problems(suite: str) -> list[str]:
    """The problem names of ``suite``; a one-line error naming the suites otherwise."""
    if suite not in SUITES:
        raise TunesmithError(f"unknown suite '{suite}'; choose one of {', '.join(SUITES)}")
    return list(SUITES[suite])


@cache
def get_problem(name: str) -> Problem:
    """The problem called ``name`` (cached per process); a one-line error with a hint otherwise."""
    if name in _TORCH:
        from evals.problems.torch_mlp import TorchMLPProblem

        return TorchMLPProblem(name.rsplit("_", 1)[1])
    if name in synthetic.FUNCTIONS:
        return synthetic.SyntheticProblem(name)
    if name in SUITES["bayesmark"]:
        return bayesmark.make(name)
    import difflib

    hint = difflib.get_close_matches(name, SUITES["all"], n=1)
    extra = f"; did you mean '{hint[0]}'?" if hint else "; 'tunesmith eval --list' shows them"
    raise TunesmithError(f"unknown problem '{name}'{extra}")
