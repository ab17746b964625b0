"""The real ``tunesmith eval`` end to end with worker processes and the progress bar (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evals.baselines import build
from tests.conftest import ROOT


@pytest.mark.slow
def test_eval_cli_with_workers_resumes_after_a_kill(tmp_path: Path) -> None:
    base = tmp_path / "baselines.json"
    build(["branin", "hartmann6"], 64, tmp_path / "bc", workers=1, command="test", path=base)
    out = tmp_path / "run"
    args = [
        sys.executable,
        "-m",
        "tunesmith.cli",
        "eval",
        "--problems",
        "branin,hartmann6",
        "--strategies",
        "auto,gp,tpe,random",
        "--seeds",
        "2",
        "--budget",
        "12,16",
        "--batch",
        "1,4",
        "--workers",
        "2",
        "--baselines",
        str(base),
        "--out",
        str(out),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    # interrupt the first run as soon as some units are stored, then resume
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    units = out / "units"
    try:
        for _ in range(1200):
            if proc.poll() is not None or (units.exists() and len(list(units.glob("*.json"))) >= 3):
                break
            time.sleep(0.5)
    finally:
        proc.kill()
        proc.wait()
    before = {p.name: p.stat().st_mtime for p in units.glob("*.json")}
    assert before
    res = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    assert "ETA" in res.stderr and "wrote" in res.stdout
    after = {p.name: p.stat().st_mtime for p in units.glob("*.json")}
    assert len(after) == 2 * 4 * 2 * 2 and all(after[k] == v for k, v in before.items())  # kept, not re-run
    first = json.loads(next(units.glob("branin__auto__s0__12x1.json")).read_text())
    assert first["evals"][0]["proposer"] == "default"
    assert (out / "report.md").exists() and (out / "plots" / "heatmap_4x4.png").exists()
