"""The trivial objective of the throughput benchmark (kept alone so a trial imports almost nothing).

It returns when it started and ended, so every runner is timed the same way: trials per second from the
first function start to the last function end."""

from __future__ import annotations

import time
from typing import Any


def noop(params: dict[str, Any]) -> dict[str, float]:
    t0 = time.time()
    return {"objective": 1.0, "t0": t0, "t1": time.time()}
