"""Objectives for the hybrid-loop tests (run by the in-process fake executor)."""

from __future__ import annotations

import math
from typing import Any


def objective(params: dict[str, Any]) -> float:
    """Best near lr=3e-3; batch sizes of 256 and more 'run out of memory'."""
    if params["batch_size"] >= 256:
        raise MemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")
    penalty = 0.02 if params["optimizer"] == "sgd" and params.get("momentum", 0.0) < 0.5 else 0.0
    return 0.95 - 0.05 * (math.log10(params["lr"]) + 2.5) ** 2 - 0.005 * params["batch_size"] / 64 - penalty
