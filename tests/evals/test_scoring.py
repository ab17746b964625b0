"""bayesmark scoring against hand-computed cases."""

from __future__ import annotations

import math

import pytest

from evals.scoring import Baseline, normalized, perf_trace, score, unit_scores


def ev(loss: float | None, test: float | None = None) -> dict[str, float | None]:
    return {"loss": loss, "test_loss": test}


def test_normalized_and_score_by_hand() -> None:
    # clip 3, best 1: perf 2 is half way -> normalized 0.5 -> score 50
    assert normalized(2.0, 3.0, 1.0) == pytest.approx(0.5)
    assert score(2.0, 3.0, 1.0) == pytest.approx(50.0)
    assert score(1.0, 3.0, 1.0) == pytest.approx(100.0)  # reaches the reference best
    assert score(3.0, 3.0, 1.0) == pytest.approx(0.0)  # a median random configuration
    assert score(9.0, 3.0, 1.0) == pytest.approx(0.0)  # worse than clip is bounded at 0
    assert score(0.5, 3.0, 1.0) == pytest.approx(125.0)  # beats the reference best: (0.5-1)/2 = -0.25
    assert score(-100.0, 3.0, 1.0) == pytest.approx(200.0)  # bounded at normalized -1, as bayesmark
    assert score(math.inf, 3.0, 1.0) == 0.0  # nothing succeeded yet
    assert normalized(1.0, 1.0, 1.0) == 0.0 and normalized(1.5, 1.0, 1.0) == 1.0  # degenerate baseline


def test_perf_trace_keeps_the_best_validation_and_its_test_loss() -> None:
    evals = [ev(3.0, 4.0), ev(None), ev(1.0, 0.5), ev(2.0, 0.1)]
    assert perf_trace(evals, batch=1) == [3.0, 3.0, 1.0, 1.0]
    # test: the held-out loss of the configuration with the best validation loss (not the best test loss)
    assert perf_trace(evals, batch=1, test=True) == [4.0, 4.0, 0.5, 0.5]
    assert perf_trace([ev(None), ev(None)], batch=1) == [math.inf, math.inf]


def test_batched_protocol_sees_only_round_ends() -> None:
    evals = [ev(2.0, 2.0), ev(1.5, 1.5), ev(1.0, 1.0), ev(3.0, 3.0), ev(0.5, 0.5)]
    assert perf_trace(evals, batch=2) == [1.5, 1.5, 1.0, 1.0, 0.5]


def test_unit_scores_by_hand() -> None:
    result = {"batch": 1, "evals": [ev(3.0, 4.0), ev(None), ev(1.0, 0.5), ev(2.0, 0.1)]}
    base = Baseline(clip=3.0, best=1.0, clip_test=4.0, best_test=0.0)
    got = unit_scores(result, base, [1, 2, 3, 4, 10])
    assert got["val"] == pytest.approx([0.0, 0.0, 100.0, 100.0, 100.0])
    # test perf 0.5 with clip 4, best 0: normalized 0.125 -> 87.5
    assert got["test"] == pytest.approx([0.0, 0.0, 87.5, 87.5, 87.5])
    # no held-out loss (synthetic): test is scored on validation
    synthetic = {"batch": 1, "evals": [ev(2.0), ev(1.0)]}
    assert unit_scores(synthetic, base, [2])["test"] == pytest.approx([100 * (1 - (1.0 - 0.0) / 4.0)])
