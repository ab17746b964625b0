"""Paired statistics: bootstrap interval, win/tie/loss, Wilcoxon."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wilcoxon

from evals.stats import bootstrap_ci, paired


def test_bootstrap_ci_contains_the_mean_and_is_reproducible() -> None:
    x = np.random.default_rng(1).normal(50, 10, size=40)
    lo, hi = bootstrap_ci(x)
    assert lo < x.mean() < hi
    assert (lo, hi) == bootstrap_ci(x)
    assert hi - lo == pytest.approx(2 * 1.96 * x.std(ddof=1) / np.sqrt(40), rel=0.2)
    assert bootstrap_ci([3.0]) == (3.0, 3.0)


def test_paired_counts_and_p_value() -> None:
    a = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    b = [5.0, 20.0, 35.0, 30.0, 45.0, 50.0]
    p = paired(a, b)
    assert (p.wins, p.ties, p.losses, p.n) == (4, 1, 1, 6)
    assert p.win_rate == pytest.approx(4.5 / 6)
    assert p.mean_diff == pytest.approx(np.mean(np.subtract(a, b)))
    assert p.p_value == pytest.approx(wilcoxon([5.0, -5.0, 10.0, 5.0, 10.0]).pvalue)
    assert paired([1.0, 2.0], [1.0, 2.0]).p_value == 1.0
    with pytest.raises(ValueError, match="differ in length"):
        paired([1.0], [1.0, 2.0])
