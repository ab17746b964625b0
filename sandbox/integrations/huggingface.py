"""A Hugging Face ``transformers.Trainer`` callback for trials: evaluations reach tunesmith, a stop ends training.

    from tunesmith.huggingface import TunesmithCallback
    trainer = Trainer(model=model, args=args, ..., callbacks=[TunesmithCallback()])

After each evaluation (``eval_strategy`` "epoch" or "steps") it reports the evaluation's numbers (``eval_loss``,
``eval_accuracy`` ...; not its timings nor ``epoch``), optionally only ``metrics``, at step ``global_step`` (or
the epoch, rounded, with ``step="epoch"``). When tunesmith asks the trial to stop (an early stop by the pruner, a
timeout, a person), it sets ``control.should_training_stop`` at the next step end or evaluation, so the Trainer
ends cleanly: the script finishes normally, its last report standing. The objective is named as the Trainer
names it: ``objective: {metric: eval_loss}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sandbox.report import report, should_stop

try:
    from transformers import TrainerCallback
except ImportError as exc:
    raise ImportError("tunesmith.huggingface needs transformers: pip install 'transformers[torch]'") from exc

__all__ = ["TunesmithCallback"]

_SKIP_SUFFIXES = ("_runtime", "_per_second")


class TunesmithCallback(TrainerCallback):  # type: ignore[misc]
    """Reports each evaluation's metrics to tunesmith; stops training when asked (module docstring)."""

    def __init__(
        self, metrics: Sequence[str] | None = None, *, step: Literal["global_step", "epoch"] = "global_step"
    ) -> None:
        self.metrics = list(metrics) if metrics is not None else None
        self.step = step

    def _wanted(self, name: str) -> bool:
        if self.metrics is not None:
            return name in self.metrics
        return name != "epoch" and not name.endswith(_SKIP_SUFFIXES)

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: Mapping[str, Any] | None = None, **kw: Any
    ) -> None:
        values: dict[str, Any] = {
            k: float(v)
            for k, v in (metrics or {}).items()
            if self._wanted(k) and isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        }
        if values:
            step = state.global_step if self.step == "global_step" else round(state.epoch or 0)
            report(step=int(step), **values)
        if should_stop():
            control.should_training_stop = True

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if should_stop():
            control.should_training_stop = True
