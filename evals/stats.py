"""Paired statistics over (problem, seed) units: bootstrap intervals, win/tie/loss, Wilcoxon signed-rank.

Every comparison pairs the two contenders' scores on the same unit (same problem, seed and protocol),
so problem difficulty cancels out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: two scores closer than this are a tie (scores are in [0, 200]; equal configurations give equal scores)
TIE_TOLERANCE = 1e-6
BOOTSTRAP_RESAMPLES = 10_000


def bootstrap_ci(
    values: Sequence[float], *, level: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean, resampling units with replacement (seeded)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (float("nan"), float("nan"))
    if x.size == 1:
        return (float(x[0]), float(x[0]))
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return (float(lo), float(hi))


@dataclass(frozen=True)
class Paired:
    """``a`` against ``b`` over the same units."""

    n: int
    wins: int
    ties: int
    losses: int
    mean_diff: float
    p_value: float  # Wilcoxon signed-rank, two-sided; 1.0 when every pair ties

    @property
    def win_rate(self) -> float:
        """Wins plus half the ties, over all pairs (0.5 = even)."""
        return (self.wins + 0.5 * self.ties) / self.n if self.n else float("nan")


def paired(a: Sequence[float], b: Sequence[float]) -> Paired:
    """Compare scores ``a[i]`` with ``b[i]`` (higher is better)."""
    from scipy.stats import wilcoxon

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.size} and {y.size}")
    d = x - y
    tie = np.abs(d) <= TIE_TOLERANCE
    wins, losses = int(np.sum((d > 0) & ~tie)), int(np.sum((d < 0) & ~tie))
    nonzero = d[~tie]
    p = 1.0
    if nonzero.size:
        p = float(wilcoxon(nonzero, zero_method="wilcox", alternative="two-sided").pvalue)
    return Paired(
        n=int(d.size),
        wins=wins,
        ties=int(np.sum(tie)),
        losses=losses,
        mean_diff=float(d.mean()) if d.size else float("nan"),
        p_value=p,
    )
