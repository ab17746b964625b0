"""A slow objective so a test can queue proposals while the study runs."""

from __future__ import annotations

import time
from typing import Any

from tests.agent.hybrid.trial_funcs import objective as fast


def objective(params: dict[str, Any]) -> float:
    time.sleep(0.15)
    return fast(params)
