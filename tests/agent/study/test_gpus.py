"""GPU discovery (a fake nvidia-smi on PATH) and the pool that hands GPUs to trials; no GPU needed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agent.errors import ResourceError
from agent.study.gpus import Discovery, GpuInfo, GpuPool, discover_gpus, gpu_pool

SMI_OUT = """0, GPU-aaaa-1111, NVIDIA H100 80GB HBM3, 81559
1, GPU-bbbb-2222, NVIDIA H100 80GB HBM3, 81559
2, GPU-cccc-3333, NVIDIA A10, 23028
"""


def fake_smi(tmp_path: Path, body: str = SMI_OUT, code: int = 0) -> dict[str, str]:
    """An environment whose PATH finds a fake nvidia-smi printing ``body`` and exiting ``code``."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    exe = bindir / "nvidia-smi"
    exe.write_text(f"#!/bin/sh\ncat <<'EOF'\n{body}EOF\nexit {code}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bindir}{os.pathsep}/usr/bin:/bin"}


def test_nvidia_smi_lists_the_gpus(tmp_path: Path) -> None:
    found = discover_gpus(fake_smi(tmp_path), torch_fallback=False)
    assert found.source == "nvidia-smi" and [g.index for g in found.gpus] == [0, 1, 2]
    assert found.gpus[2] == GpuInfo(2, "NVIDIA A10", 23028, "GPU-cccc-3333")


def test_cuda_visible_devices_of_tunesmith_limits_the_gpus(tmp_path: Path) -> None:
    env = fake_smi(tmp_path)
    assert [g.index for g in discover_gpus({**env, "CUDA_VISIBLE_DEVICES": "2,0"}, torch_fallback=False).gpus] == [2, 0]
    by_uuid = discover_gpus({**env, "CUDA_VISIBLE_DEVICES": "GPU-bbbb"}, torch_fallback=False)
    assert [g.index for g in by_uuid.gpus] == [1]
    hidden = discover_gpus({**env, "CUDA_VISIBLE_DEVICES": ""}, torch_fallback=False)
    assert hidden.gpus == () and "hides every GPU" in (hidden.problem or "")


def test_no_gpu_says_why(tmp_path: Path) -> None:
    none = discover_gpus({"PATH": str(tmp_path)}, torch_fallback=False)
    assert none.gpus == () and none.source == "none" and "nvidia-smi is not on PATH" in (none.problem or "")
    broken = discover_gpus(
        fake_smi(tmp_path, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", code=9),
        torch_fallback=False,
    )
    assert broken.gpus == () and "couldn't communicate with the NVIDIA driver" in (broken.problem or "")


def test_torch_fallback_on_a_cpu_build_finds_nothing(tmp_path: Path) -> None:
    found = discover_gpus({"PATH": str(tmp_path)})
    assert found.gpus == () and "torch" in (found.problem or "")


def test_fractions_share_a_gpu_least_loaded_first() -> None:
    pool = GpuPool([0, 1], per_trial=0.5)
    assert pool.slots == 4 and pool.available() == 4
    assert [pool.acquire(n) for n in range(4)] == [(0,), (1,), (0,), (1,)]
    assert pool.available() == 0 and pool.acquire(9) is None
    pool.release(1)
    assert pool.available() == 1 and pool.acquire(5) == (1,)
    assert pool.acquire(5) == (1,)  # idempotent for the same trial
    pool.release(5)
    pool.release(5)  # releasing twice is harmless
    assert pool.available() == 1


def test_whole_numbers_give_exclusive_gpus() -> None:
    pool = GpuPool([0, 1, 2, 3], per_trial=2)
    assert pool.slots == 2
    assert pool.acquire(0) == (0, 1) and pool.acquire(1) == (2, 3) and pool.acquire(2) is None
    pool.release(0)
    assert pool.available() == 1 and pool.acquire(2) == (0, 1)


def test_quarter_share_packs_four() -> None:
    pool = GpuPool([5], per_trial=0.25)
    assert pool.slots == 4 and {pool.acquire(n) for n in range(4)} == {(5,)} and pool.acquire(4) is None


@pytest.mark.parametrize(
    "devices, share, message",
    [
        ([0], 1.5, "use a fraction up to 1"),
        ([0], 2, "needs 2 GPUs per trial but only 1"),
        ([], 1, "no GPU to hand out"),
    ],
)
def test_bad_shares_fail_with_a_fix(devices: list[int], share: float, message: str) -> None:
    with pytest.raises(ResourceError, match=message):
        GpuPool(devices, per_trial=share)


def _found(*indices: int) -> Discovery:
    return Discovery(tuple(GpuInfo(i) for i in indices), "nvidia-smi")


def test_gpu_pool_from_the_spec_fields() -> None:
    assert gpu_pool(None, 0.0, discover=lambda: _found()) is None  # the spec uses no GPU
    auto = gpu_pool("auto", 0.0, discover=lambda: _found(0, 1))
    assert auto is not None and auto.devices == (0, 1) and auto.per_gpu == 1
    implied = gpu_pool(None, 0.5, discover=lambda: _found(0))
    assert implied is not None and implied.slots == 2
    listed = gpu_pool([1], 1.0, discover=lambda: _found(0, 1))
    assert listed is not None and listed.devices == (1,)


def test_missing_gpus_are_a_clear_error() -> None:
    with pytest.raises(ResourceError, match=r"no GPU found \(nvidia-smi is not on PATH\).*remove 'gpus'"):
        gpu_pool("auto", 1.0, discover=lambda: Discovery((), "none", "nvidia-smi is not on PATH"))
    with pytest.raises(ResourceError, match=r"gpus \[3\] not found; this machine has GPUs \[0, 1\]"):
        gpu_pool([0, 3], 1.0, discover=lambda: _found(0, 1))
