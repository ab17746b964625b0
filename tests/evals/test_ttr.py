"""Time to result: targets, evaluations and seconds to them on a known curve, and the performance profile."""

from __future__ import annotations

import math

import pytest

from evals.scoring import Baseline
from evals.ttr import TAUS, profile, targets, time_to_target, ttr_rows

BASE = {"p": Baseline(clip=1.0, best=0.0, clip_test=1.0, best_test=0.0)}  # score = 100 * (1 - loss) on [0, 1]


def unit(contender: str, losses: list[float], *, seed: int = 0, default: bool = True) -> dict[str, object]:
    evals = [
        {"loss": v, "test_loss": v, "eval_s": 1.0, "proposer": "default" if i == 0 and default else "strategy"}
        for i, v in enumerate(losses)
    ]
    return {
        "problem": "p",
        "contender": contender,
        "seed": seed,
        "protocol": "6x1",
        "batch": 1,
        "evals": evals,
        "ask_s": [0.5] * len(losses),
    }


def test_the_target_is_the_default_plus_half_its_gap_to_the_best() -> None:
    results = [unit("a", [0.6, 0.5, 0.3, 0.2])]  # the default scores 40: the target is 40 + 0.5 * 60 = 70
    assert targets(results, BASE)["p"] == pytest.approx(70.0)
    n, s = time_to_target(results[0], BASE["p"], 70.0)
    assert n == 3 and s == pytest.approx(3 * (0.5 + 1.0))  # reached at the third evaluation (loss 0.3 -> 70)
    assert time_to_target(unit("b", [0.6, 0.6, 0.6]), BASE["p"], 70.0) == (None, None)
    assert targets([unit("c", [0.6], default=False)], BASE)["p"] == 50.0  # no default in the run


def test_the_performance_profile_counts_units_within_tau_of_the_fastest() -> None:
    results = [
        unit("fast", [0.6, 0.2, 0.1]),  # reaches 70 at evaluation 2 (3 s)
        unit("slow", [0.6, 0.5, 0.4, 0.3, 0.1]),  # at evaluation 4 (6 s): 2x the fastest
        unit("never", [0.6, 0.6, 0.6]),
    ]
    rows = ttr_rows(results, BASE)
    curves = profile(rows)
    assert curves["fast"] == [1.0] * len(TAUS)
    assert curves["slow"][TAUS.index(1.5)] == 0.0 and curves["slow"][TAUS.index(2.0)] == 1.0
    assert curves["never"] == [0.0] * len(TAUS)
    assert all(math.isfinite(r["target"]) for r in rows)
