"""Per-trial overhead of ``LocalExecutor`` on a no-op trial, against a bare ``subprocess.run``.

Run: ``.venv/bin/python tests/sandbox/bench_overhead.py [n]`` (not collected by pytest).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time

from sandbox.base import TrialOutcome, TrialRequest
from sandbox.local_executor import LocalExecutor


def main(n: int = 30) -> None:
    cmd = [sys.executable, "-c", "pass"]
    bare, local, latency = [], [], []
    with tempfile.TemporaryDirectory() as tmp, LocalExecutor(capacity=1) as ex:
        for i in range(n):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True)
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ex.submit(TrialRequest(str(i), {}, f"{tmp}/{i}", tmp, command=cmd))
            while not any(isinstance(e, TrialOutcome) for e in ex.wait(10)):
                pass
            local.append(time.perf_counter() - t0)
            with open(f"{tmp}/{i}/status.json") as fh:
                import json

                status = json.load(fh)
            # how long after the trial's end (as the supervisor saw it) the outcome was in our hands
            latency.append(time.time() - status["finished_at"])
    b, loc = statistics.median(bare) * 1e3, statistics.median(local) * 1e3
    print(
        f"bare subprocess.run: {b:.1f} ms  LocalExecutor: {loc:.1f} ms  overhead: {loc - b:.1f} ms "
        f"(median of {n}); outcome latency after supervisor status: "
        f"{statistics.median(latency) * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
