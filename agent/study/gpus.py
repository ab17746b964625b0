"""Local GPUs: finding them, and handing them out to trials (the engine's ``Resources``).

Discovery (``discover_gpus``) asks ``nvidia-smi`` first (no CUDA context, no heavy import), then torch
(``torch.cuda``, which also sees ROCm devices). When tunesmith itself runs under ``CUDA_VISIBLE_DEVICES``,
only those devices are used. Indices are the physical ones ``nvidia-smi`` shows; trials also get
``CUDA_DEVICE_ORDER=PCI_BUS_ID`` (sandbox/launch.py) so CUDA numbers the devices the same way.

Sharing (``GpuPool``), from the spec's ``gpus_per_trial`` f:

- 0 < f <= 1: each trial sees one GPU, and at most floor(1/f) trials share it (0.5: two per GPU,
  0.25: four). The share is a promise about memory and compute that the trials must keep; nothing
  enforces it.
- f a whole number > 1: each trial gets f GPUs of its own.

A trial's devices are released when its outcome arrives, i.e. after its whole process tree is gone
(the executor kills it on timeout or stop), so the next trial finds the memory free.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from agent.errors import ResourceError

SMI_QUERY = ("--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits")
SMI_TIMEOUT = 20.0


@dataclass(frozen=True)
class GpuInfo:
    index: int
    name: str = ""
    memory_mb: int | None = None
    uuid: str = ""


@dataclass(frozen=True)
class Discovery:
    """What ``discover_gpus`` found, and (when nothing) why, in words."""

    gpus: tuple[GpuInfo, ...]
    source: str  # nvidia-smi | torch | none
    problem: str | None = None


def _from_smi(smi: str, environ: Mapping[str, str]) -> tuple[list[GpuInfo] | None, str | None]:
    exe = shutil.which(smi, path=environ.get("PATH", os.defpath))
    if exe is None:
        return None, "nvidia-smi is not on PATH"
    try:
        done = subprocess.run(
            [exe, *SMI_QUERY], capture_output=True, text=True, timeout=SMI_TIMEOUT, env=dict(environ), check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"nvidia-smi could not run ({exc})"
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()
        return None, f"nvidia-smi failed: {first[0] if first else f'exit status {done.returncode}'}"
    gpus = []
    for line in done.stdout.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if not cells or not cells[0].isdigit():
            continue
        memory = cells[3] if len(cells) > 3 else ""
        gpus.append(
            GpuInfo(
                int(cells[0]),
                cells[2] if len(cells) > 2 else "",
                int(float(memory)) if memory.replace(".", "", 1).isdigit() else None,
                cells[1] if len(cells) > 1 else "",
            )
        )
    return gpus, None if gpus else "nvidia-smi lists no GPU"


def _from_torch() -> tuple[list[GpuInfo] | None, str | None]:
    try:
        import torch
    except ImportError:
        return None, "torch is not installed"
    try:
        if not torch.cuda.is_available():
            return None, "torch sees no CUDA/ROCm device"
        out = []
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            out.append(GpuInfo(i, props.name, int(props.total_memory) >> 20))
        return out, None
    except RuntimeError as exc:  # a broken driver surfaces here
        return None, f"torch.cuda failed: {exc}"


def _visible(environ: Mapping[str, str]) -> list[str] | None:
    value = environ.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip() and v.strip() != "-1"]


def discover_gpus(
    environ: Mapping[str, str] | None = None, *, smi: str = "nvidia-smi", torch_fallback: bool = True
) -> Discovery:
    """The GPUs this process may use (see module docstring); never raises."""
    env = os.environ if environ is None else environ
    visible = _visible(env)
    found, problem = _from_smi(smi, env)
    source = "nvidia-smi"
    if found is None and torch_fallback:
        found_t, problem_t = _from_torch()
        if found_t is not None:
            # torch numbers the devices it was allowed to see; map them back to physical indices
            if visible is not None and all(v.isdigit() for v in visible):
                found_t = [
                    GpuInfo(int(visible[g.index]), g.name, g.memory_mb) for g in found_t if g.index < len(visible)
                ]
            return Discovery(tuple(found_t), "torch")
        problem = f"{problem}; {problem_t}"
    if not found:
        return Discovery((), "none", problem or "no GPU found")
    if visible is not None:
        keep = [g for v in visible for g in found if v == str(g.index) or (v and g.uuid.startswith(v))]
        if not keep:
            return Discovery(
                (),
                source,
                f"CUDA_VISIBLE_DEVICES={env.get('CUDA_VISIBLE_DEVICES')!r} hides "
                f"every GPU nvidia-smi lists ({', '.join(str(g.index) for g in found)})",
            )
        found = keep
    return Discovery(tuple(found), source)


class GpuPool:
    """Hands out GPU indices to trials (the engine's ``Resources``). Thread-safe."""

    def __init__(self, devices: Sequence[int], per_trial: float) -> None:
        if not devices:
            raise ResourceError("no GPU to hand out; remove 'gpus' from the spec to run on CPU")
        if per_trial <= 0:
            raise ResourceError(f"gpus_per_trial must be > 0 when GPUs are used, got {per_trial:g}")
        if per_trial > 1 and not float(per_trial).is_integer():
            raise ResourceError(
                f"gpus_per_trial {per_trial:g}: use a fraction up to 1 (trials share a GPU) "
                "or a whole number (GPUs of its own), e.g. 0.5 or 2"
            )
        self.need = 1 if per_trial <= 1 else int(per_trial)
        self.per_gpu = max(1, math.floor(1 / per_trial + 1e-9)) if per_trial <= 1 else 1
        if self.need > len(devices):
            raise ResourceError(
                f"gpus_per_trial {per_trial:g} needs {self.need} GPUs per trial but only "
                f"{len(devices)} are available ({list(devices)}); lower gpus_per_trial"
            )
        self.devices = tuple(dict.fromkeys(int(d) for d in devices))
        self._load = dict.fromkeys(self.devices, 0)
        self._held: dict[int, tuple[int, ...]] = {}
        self._lock = threading.Lock()

    @property
    def slots(self) -> int:
        """Trials that can hold devices at the same time."""
        return len(self.devices) * self.per_gpu // self.need

    def acquire(self, number: int) -> tuple[int, ...] | None:
        """Devices for trial ``number`` (the least loaded first), or None when too few are free."""
        with self._lock:
            if number in self._held:
                return self._held[number]
            free = sorted(
                (d for d in self.devices if self._load[d] < self.per_gpu),
                key=lambda d: (self._load[d], self.devices.index(d)),
            )
            if len(free) < self.need:
                return None
            chosen = tuple(sorted(free[: self.need], key=self.devices.index))
            for d in chosen:
                self._load[d] += 1
            self._held[number] = chosen
            return chosen

    def release(self, number: int) -> None:
        with self._lock:
            for d in self._held.pop(number, ()):
                self._load[d] -= 1

    def available(self) -> int:
        """How many more trials could get their devices right now."""
        with self._lock:
            if self.need == 1:
                return sum(self.per_gpu - load for load in self._load.values())
            return sum(1 for load in self._load.values() if load == 0) // self.need

    def holding(self) -> dict[int, tuple[int, ...]]:
        with self._lock:
            return dict(self._held)


def gpu_pool(
    gpus: str | Sequence[int] | None, per_trial: float, discover: Callable[[], Discovery] = discover_gpus
) -> GpuPool | None:
    """The pool for a spec's ``gpus``/``gpus_per_trial``; None when the spec uses no GPU.

    ``gpus`` given with ``gpus_per_trial`` 0 means one GPU per trial; ``gpus_per_trial`` without ``gpus``
    means ``gpus: auto``. Raises ``ResourceError`` (one line, with the fix) when the GPUs are missing.
    """
    if gpus is None and per_trial == 0:
        return None
    found = discover()
    if not found.gpus:
        raise ResourceError(
            f"no GPU found ({found.problem}); install the NVIDIA driver or remove "
            "'gpus'/'gpus_per_trial' from the spec to run on CPU"
        )
    indices = [g.index for g in found.gpus]
    if gpus is None or gpus == "auto":
        devices = indices
    else:
        devices = [int(g) for g in gpus]
        missing = [d for d in devices if d not in indices]
        if missing:
            raise ResourceError(
                f"gpus {missing} not found; this machine has GPUs {indices} ({found.source}); "
                "fix 'gpus' in the spec or use gpus: auto"
            )
    return GpuPool(devices, per_trial or 1.0)
