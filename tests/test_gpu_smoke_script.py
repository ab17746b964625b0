"""scripts/gpu-smoke on a machine without a usable GPU (slow: each run starts PyTorch)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.agent.study.test_gpus import fake_smi

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

SMI = """#!/bin/sh
case "$*" in
  *index,uuid*) echo "0, GPU-fake, Fake GPU, 1000" ;;
  *memory.used*) echo "3" ;;
  *compute-apps*) ;;
esac
"""


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "gpu-smoke"), "--seconds", "1", "--mb", "1"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_no_gpu_is_said_and_exits_3(tmp_path: Path) -> None:
    done = run({"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert done.returncode == 3, done.stderr
    assert "no GPU on this machine: nvidia-smi is not on PATH" in done.stdout


def test_a_gpu_that_cannot_run_cuda_fails_the_checks_loudly(tmp_path: Path) -> None:
    env = fake_smi(tmp_path)
    (tmp_path / "bin" / "nvidia-smi").write_text(SMI)
    done = run(env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[FAIL] 2 trials sharing one GPU complete" in done.stdout
    assert "[FAIL] a trial hanging past its timeout" in done.stdout
