"""The trial-side helper: report metrics from a training script. Standard library only.

    from tunesmith import report          # or: from sandbox.report import report
    for epoch in range(10):
        ...
        report(step=epoch, val_acc=acc, loss=loss)
        if should_stop():                  # tunesmith asked this trial to stop early
            break

Each call appends one JSON line to the file named by ``TUNESMITH_REPORT_FILE`` (inside the trial
folder) and, when no such file is set (the script runs outside tunesmith), prints a
``TUNESMITH_REPORT {json}`` line so the output stays readable. The last value of the objective is the
trial's result unless a report passes ``final=True``.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import Any

PREFIX = "TUNESMITH_REPORT "


def _clean(value: Any) -> Any:
    # numpy / torch scalars -> float; NaN and inf survive as strings JSON can carry.
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        f = float(value)
        return f if math.isfinite(f) else repr(f)
    raise TypeError(f"metric values must be numbers, got {type(value).__name__}")


def report(step: int | None = None, *, final: bool = False, **metrics: Any) -> None:
    """Record ``metrics`` (numbers) at ``step``. ``final=True`` marks the trial's result."""
    if not metrics:
        raise ValueError("report() needs at least one metric, e.g. report(step=1, val_acc=0.9)")
    line: dict[str, Any] = {k: _clean(v) for k, v in metrics.items()}
    if step is not None:
        line["step"] = int(step)
    if final:
        line["final"] = True
    line["_t"] = time.time()
    text = json.dumps(line, separators=(",", ":"))
    path = os.environ.get("TUNESMITH_REPORT_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    else:
        sys.stdout.write(PREFIX + text + "\n")
        sys.stdout.flush()


def should_stop() -> bool:
    """True once tunesmith has asked this trial to stop early (pruning)."""
    path = os.environ.get("TUNESMITH_STOP_FILE")
    return bool(path) and os.path.exists(path or "")


def params() -> dict[str, Any]:
    """The trial's parameters (from ``TUNESMITH_PARAMS``); empty outside tunesmith."""
    path = os.environ.get("TUNESMITH_PARAMS")
    if not path:
        return {}
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return dict(data)
