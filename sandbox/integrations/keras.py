"""A Keras 3 callback for trials: what ``model.fit`` logs reaches tunesmith, and a stop reaches Keras.

    from tunesmith.keras import TunesmithCallback
    model.fit(x, y, validation_data=(xv, yv), epochs=20, callbacks=[TunesmithCallback()])

At the end of each epoch it reports the epoch's logs (``loss``, ``val_loss``, ``val_accuracy`` ... : every
scalar Keras computed), optionally only ``metrics``, at step ``epoch + 1``. When tunesmith asks the trial to
stop (an early stop by the pruner, a timeout, a person) it sets ``model.stop_training`` so Keras ends the fit
cleanly after the epoch: the script then finishes normally, its last report standing. Works with any Keras 3
backend (TensorFlow, JAX, PyTorch) and with ``tf.keras`` when only TensorFlow is installed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.report import report, should_stop

try:
    from keras.callbacks import Callback
except ImportError:  # TensorFlow without the standalone keras package
    try:
        from tensorflow.keras.callbacks import Callback  # type: ignore[no-redef,import-not-found,unused-ignore]
    except ImportError as exc:
        raise ImportError("tunesmith.keras needs Keras: pip install keras (or tensorflow)") from exc

__all__ = ["TunesmithCallback"]


def _scalar(value: Any) -> float | None:
    """``value`` as a finite float when it is one number (a Python or numpy number, a one-element tensor)."""
    try:
        number = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class TunesmithCallback(Callback):  # type: ignore[misc]
    """Reports each epoch's Keras logs to tunesmith; stops the fit when asked (module docstring)."""

    def __init__(self, metrics: Sequence[str] | None = None) -> None:
        super().__init__()
        self.metrics = list(metrics) if metrics is not None else None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        logs = logs or {}
        names = self.metrics if self.metrics is not None else list(logs)
        values: dict[str, Any] = {n: v for n in names if n in logs and (v := _scalar(logs[n])) is not None}
        if values:
            report(step=epoch + 1, **values)
        if should_stop():
            self.model.stop_training = True
