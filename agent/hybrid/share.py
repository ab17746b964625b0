"""Who proposes the next trial: the LLM's share adapts to which proposer has been improving the incumbent.

Pure functions of the history (no hidden state), so a resumed or replayed study makes the same choices.

* ``credit``: over the last ``window`` finished trials, how many each proposer ran and how many of
  them improved the best value found before them by more than the noise (the incumbent is tracked over the
  whole history). An improvement counts only when it exceeds ``min_improvement`` (the spec's
  ``llm.min_improvement``, absolute) and ``rel_improvement`` of the incumbent's size (default 0.1 %): a gain
  of 1e-4 on an accuracy whose cross-validation noise is 5e-4 moves nothing.
* ``llm_share``: ``base`` scaled by the ratio of the LLM's and the strategy's improvement rates
  (Laplace-smoothed, so no data means ``base``), clipped to ``[floor, 1 - floor]``: each proposer keeps
  at least ``floor`` of the trials.
* ``llm_slots``: of the next ``n`` slots, how many go to the LLM. The first ``first`` slots after the
  default do (prior knowledge is what an LLM adds early); afterwards slot *i* goes to the LLM when
  ``floor((i + 1) * share) > floor(i * share)``, which spreads the LLM's share evenly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from agent.core.records import ProposerKind, Trial, better


@dataclass(frozen=True)
class ShareConfig:
    base: float = 0.3
    floor: float = 0.1
    window: int = 30
    first: int = 2
    min_improvement: float = 0.0
    rel_improvement: float = 1e-3


def hybrid_slots_used(history: Sequence[Trial]) -> int:
    """Slots the hybrid has filled so far (LLM or strategy trials; re-runs and user trials excluded)."""
    return sum(1 for t in history if t.proposer in (ProposerKind.LLM, ProposerKind.STRATEGY) and t.retry_of is None)


def significant(new: float, incumbent: float, direction: str, cfg: ShareConfig) -> bool:
    """Whether ``new`` beats ``incumbent`` by more than the noise (module docstring)."""
    gain = new - incumbent if direction == "maximize" else incumbent - new
    return gain > max(cfg.min_improvement, cfg.rel_improvement * abs(incumbent))


def credit(
    history: Sequence[Trial], direction: str, window: int = 30, cfg: ShareConfig | None = None
) -> dict[ProposerKind, tuple[int, int]]:
    """proposer -> (finished trials, improvements of the incumbent beyond the noise) over the last ``window``
    finished."""
    cfg = cfg or ShareConfig(window=window)
    finished = sorted((t for t in history if t.state.counts), key=lambda t: t.number)
    recent = {t.number for t in finished[-window:]}
    out: dict[ProposerKind, tuple[int, int]] = {}
    incumbent: float | None = None
    for t in finished:
        improved = False
        if t.ok:
            assert t.value is not None
            improved = incumbent is not None and significant(t.value, incumbent, direction, cfg)
            if incumbent is None or better(t.value, incumbent, direction):
                incumbent = t.value
        if t.number in recent:
            n, k = out.get(t.proposer, (0, 0))
            out[t.proposer] = (n + 1, k + int(improved))
    return out


def llm_share(history: Sequence[Trial], direction: str, cfg: ShareConfig = ShareConfig()) -> float:
    c = credit(history, direction, cfg.window, cfg)
    n_llm, k_llm = c.get(ProposerKind.LLM, (0, 0))
    n_str, k_str = c.get(ProposerKind.STRATEGY, (0, 0))
    rate_llm = (k_llm + 1) / (n_llm + 2)
    rate_str = (k_str + 1) / (n_str + 2)
    share = cfg.base * rate_llm / rate_str
    return min(max(share, cfg.floor), 1.0 - cfg.floor)


def llm_slots(history: Sequence[Trial], n: int, share: float, cfg: ShareConfig = ShareConfig()) -> int:
    """How many of the next ``n`` slots go to the LLM."""
    used = hybrid_slots_used(history)
    count = 0
    for i in range(used, used + n):
        if i < cfg.first or math.floor((i + 1) * share) > math.floor(i * share):
            count += 1
    return count
