"""A PyTorch Lightning callback for trials: what Lightning logs reaches tunesmith, and a stop reaches Lightning.

    from tunesmith.lightning import TunesmithCallback
    trainer = L.Trainer(max_epochs=20, callbacks=[TunesmithCallback()])

After each validation run (not the sanity check) it reports the scalar metrics Lightning has collected
(``trainer.callback_metrics``: what ``self.log`` logged, e.g. ``val_loss``), optionally only ``metrics``, at step
``epoch + 1`` (or ``global_step`` with ``step="global_step"``, for several validations per epoch). When tunesmith
asks the trial to stop (an early stop by the pruner, a timeout, a person), it sets ``trainer.should_stop`` so
Lightning ends the fit cleanly after the epoch: the script then finishes normally, its last report standing.
Works with ``lightning`` (``lightning.pytorch``) or the older ``pytorch_lightning`` package, whichever is installed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from sandbox.report import report, should_stop

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # the package before its rename
    try:
        from pytorch_lightning.callbacks import Callback  # type: ignore[no-redef,assignment,unused-ignore]
    except ImportError as exc:
        raise ImportError(
            "tunesmith.lightning needs PyTorch Lightning: pip install lightning (or pytorch-lightning)"
        ) from exc

__all__ = ["TunesmithCallback"]


def _scalar(value: Any) -> float | None:
    """``value`` as a float when it is one number (a tensor of one element, a Python or numpy number)."""
    try:
        if hasattr(value, "numel") and value.numel() != 1:
            return None
        number = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class TunesmithCallback(Callback):  # type: ignore[misc]
    """Reports Lightning's logged metrics to tunesmith after each validation; stops the fit when asked (module
    docstring)."""

    def __init__(
        self, metrics: Sequence[str] | None = None, *, step: Literal["epoch", "global_step"] = "epoch"
    ) -> None:
        super().__init__()
        self.metrics = list(metrics) if metrics is not None else None
        self.step = step

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        names = self.metrics if self.metrics is not None else list(trainer.callback_metrics)
        values: dict[str, Any] = {
            n: v
            for n in names
            if n in trainer.callback_metrics and (v := _scalar(trainer.callback_metrics[n])) is not None
        }
        if values:
            step = trainer.current_epoch + 1 if self.step == "epoch" else trainer.global_step
            report(step=step, **values)
        if should_stop():
            trainer.should_stop = True
