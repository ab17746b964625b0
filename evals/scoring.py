"""Scoring as bayesmark defines it (docs/scoring.rst, experiment_analysis.py), on our own baselines.

For a unit (one problem, contender, seed and protocol) and an objective (``val``: the loss the
optimizer saw; ``test``: the held-out loss), after ``n`` evaluations:

* ``perf(n)``: for ``val``, the lowest validation loss among the first ``n`` evaluations; for ``test``,
  the held-out loss of *that* configuration (the one the optimizer would pick, bayesmark's
  ``get_perf_array``). A failed evaluation has loss +inf. In the batched protocol ``n`` advances a
  whole round at a time (the score after round ``t`` counts ``t * batch`` evaluations).
* ``normalized(n) = clip((perf(n) - best) / (clip - best), -1, 1)`` where ``clip`` is the median of
  random-search evaluations of the problem and ``best`` the best value seen by the long random search
  (``evals/data/baselines.json``). Bounded at 1 (no better than clip) and -1 (beating the reference
  best by a lot), as bayesmark does to limit the influence of one run.
* ``score(n) = 100 * (1 - normalized(n))``: 0 is as good as a typical random configuration, 100 reaches
  the reference best; above 100 beats it. A contender's score is the mean over its units.

Problems without a held-out split (synthetic) score ``test`` as ``val``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import TunesmithError

BASELINES_PATH = Path(__file__).resolve().parent / "data" / "baselines.json"
OBJECTIVES = ("val", "test")


@dataclass(frozen=True)
class Baseline:
    clip: float
    best: float
    clip_test: float
    best_test: float

    def pair(self, objective: str) -> tuple[float, float]:
        return (self.clip, self.best) if objective == "val" else (self.clip_test, self.best_test)


def load_baselines(path: Path = BASELINES_PATH) -> dict[str, Baseline]:
    """The committed baselines, by problem name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TunesmithError(f"no baselines at {path}; create them with 'tunesmith eval-baselines'") from None
    return {
        name: Baseline(clip=b["clip"], best=b["best"], clip_test=b["clip_test"], best_test=b["best_test"])
        for name, b in data["problems"].items()
    }


def normalized(perf: float, clip: float, best: float) -> float:
    """bayesmark's normalized loss, bounded to [-1, 1]; a degenerate baseline (clip == best) gives 0 or 1."""
    if clip <= best:
        return 0.0 if perf <= best else 1.0
    if math.isinf(perf):
        return 1.0
    return min(1.0, max(-1.0, (perf - best) / (clip - best)))


def score(perf: float, clip: float, best: float) -> float:
    return 100.0 * (1.0 - normalized(perf, clip, best))


def perf_trace(evals: Sequence[Mapping[str, Any]], batch: int, test: bool = False) -> list[float]:
    """``perf(n)`` for n = 1..len(evals) (see the module docstring); rounds count whole in batch mode.

    ``evals`` are the unit's evaluations in order, each with ``loss`` and ``test_loss`` (None when failed).
    """
    best_val, best_out = math.inf, math.inf
    out: list[float] = []
    for e in evals:
        loss = e.get("loss")
        val = math.inf if loss is None else float(loss)
        if val < best_val:
            best_val = val
            t = e.get("test_loss")
            best_out = val if not test else (val if t is None else float(t))
        out.append(best_out)
    if batch > 1:  # within a round, only the state at its end is visible
        out = [out[min(len(out), (i // batch + 1) * batch) - 1] for i in range(len(out))]
    return out


def unit_scores(result: Mapping[str, Any], baseline: Baseline, checkpoints: Sequence[int]) -> dict[str, list[float]]:
    """``{objective: [score at each checkpoint]}`` of one unit; a unit that stopped early keeps its last state."""
    out: dict[str, list[float]] = {}
    evals = result["evals"]
    for objective in OBJECTIVES:
        trace = perf_trace(evals, int(result["batch"]), test=objective == "test")
        clip, best = baseline.pair(objective)
        out[objective] = [score(trace[min(n, len(trace)) - 1] if trace else math.inf, clip, best) for n in checkpoints]
    return out
