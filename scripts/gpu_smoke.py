"""GPU smoke check, run by ``scripts/gpu-smoke`` on a machine with an NVIDIA GPU.

1. Sharing and placement: a study of 2 PyTorch trials with ``gpus: [G]``, ``gpus_per_trial: 0.5`` and
   2 workers. Each trial trains a small MLP on ``cuda``, holds ``--mb`` MiB, and reports its
   ``CUDA_VISIBLE_DEVICES``, the devices torch sees and the memory it allocated. Checks: both complete,
   both saw exactly GPU G (as their only device), and they ran on it at the same time.
2. Memory release: a trial that allocates ``--mb`` MiB, ignores SIGTERM and hangs past its timeout.
   Checks: it ends TIMEOUT, and afterwards ``nvidia-smi`` lists none of the trials' processes and the
   GPU's used memory is back near its level before the study (within ``--slack`` MiB).

Prints every check; exit status 0 when all pass, 1 when one fails, 3 when the machine has no GPU.
``--record`` writes the outcome (or that no GPU was available) to BENCHMARKS.md with date and machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.benchlib import machine, write_section  # noqa: E402

TITLE = "GPU smoke check (issue 6)"

TRIAL = textwrap.dedent("""
    import json, os, signal, time
    import torch
    import tunesmith

    p = tunesmith.params()
    dev = torch.device("cuda")
    hold = torch.empty(int(p["mb"]) << 20, dtype=torch.uint8, device=dev)  # the trial's share of memory
    if p["mode"] == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only a kill of the whole tree frees the GPU
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x, y = torch.randn(512, 64, device=dev), torch.randint(0, 10, (512,), device=dev)
    start = time.time()
    step = 0
    while time.time() - start < float(p["seconds"]) or p["mode"] == "hang":
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        step += 1
        if step % 50 == 0:
            torch.cuda.synchronize()
            tunesmith.report(step=step, loss=float(loss), pid=os.getpid(), start=start, now=time.time(),
                             visible=float(os.environ.get("CUDA_VISIBLE_DEVICES", "-1").split(",")[0] or -1),
                             devices=torch.cuda.device_count(),
                             mem_mb=torch.cuda.memory_allocated() / 2**20)
        time.sleep(0.001)
""")


def smi(*query: str) -> list[list[str]]:
    out = subprocess.run(
        ["nvidia-smi", *query, "--format=csv,noheader,nounits"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return [[c.strip() for c in line.split(",")] for line in out.splitlines() if line.strip()]


def used_mb(index: int) -> float:
    rows = smi(f"--id={index}", "--query-gpu=memory.used")
    return float(rows[0][0])


def compute_pids() -> set[int]:
    return {int(r[0]) for r in smi("--query-compute-apps=pid") if r and r[0].isdigit()}


def run_study(
    root: Path, name: str, gpu: int, mode: str, trials: int, mb: int, seconds: float, timeout: float | None
) -> Any:
    from agent.core.spec import load_spec
    from agent.study.session import Session

    (root / "train.py").write_text(TRIAL)
    spec = load_spec(
        {
            "name": name,
            "objective": {"metric": "loss", "direction": "minimize"},
            "command": ["python", "train.py"],
            "workdir": str(root),
            "space": {"jitter": {"type": "float", "low": 0.0, "high": 1.0}},
            "fixed": {"mb": mb, "seconds": seconds, "mode": mode},
            "budget": {"max_trials": trials, "trial_timeout": timeout},
            "strategy": "random",
            "seed": 0,
            "workers": trials,
            "gpus": [gpu],
            "gpus_per_trial": 0.5,
            "grace_period": 2.0,
        }
    )
    session = Session.create(spec, root / name)
    session.run()
    return session


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=1024, help="MiB each trial holds on the GPU")
    ap.add_argument("--seconds", type=float, default=8.0, help="how long each sharing trial trains")
    ap.add_argument("--slack", type=float, default=300.0, help="MiB of used memory tolerated after the study")
    ap.add_argument("--record", action="store_true", help="write the result to BENCHMARKS.md")
    args = ap.parse_args()
    from agent.study.gpus import discover_gpus

    found = discover_gpus()
    when = f"{time.strftime('%Y-%m-%d')}, {machine()}"
    if not found.gpus:
        print(f"no GPU on this machine: {found.problem}")
        if args.record:
            write_section(
                TITLE,
                f"Not run: no GPU was available ({when}; {found.problem}). Run "
                "`scripts/gpu-smoke --record` on a machine with an NVIDIA GPU.",
            )
        return 3
    gpu = found.gpus[0]
    checks: list[tuple[str, bool, str]] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        checks.append((name, ok, detail))
        print(f"[{'ok' if ok else 'FAIL'}] {name}" + (f": {detail}" if detail else ""), flush=True)

    from agent.core.records import TrialState

    baseline = used_mb(gpu.index)
    with tempfile.TemporaryDirectory() as tmp:
        shared = run_study(Path(tmp), "share", gpu.index, "ok", 2, args.mb, args.seconds, timeout=300)
        trials = shared.trials()
        check(
            "2 trials sharing one GPU complete",
            [t.state for t in trials] == [TrialState.COMPLETE] * 2,
            ", ".join(f"#{t.number} {t.state.value} {t.reason or ''}" for t in trials),
        )
        curves = [shared.metrics(t.number) for t in trials]
        seen = [{(p.values.get("visible"), p.values.get("devices")) for p in c} for c in curves]
        check(
            f"each trial saw only GPU {gpu.index} (CUDA_VISIBLE_DEVICES, torch.cuda.device_count() == 1)",
            all(s == {(float(gpu.index), 1.0)} for s in seen),
            str(seen),
        )
        spans = [(min(p.values["start"] for p in c), max(p.values["now"] for p in c)) for c in curves if c]
        overlap = len(spans) == 2 and max(a for a, _ in spans) < min(b for _, b in spans)
        check("the two trials ran on the GPU at the same time", overlap, str(spans))
        peak = max((p.values.get("mem_mb", 0.0) for c in curves for p in c), default=0.0)
        check(f"each trial held its {args.mb} MiB", peak >= args.mb, f"peak allocated {peak:.0f} MiB")
        pids = {int(p.values["pid"]) for c in curves for p in c}
        hung = run_study(Path(tmp), "hang", gpu.index, "hang", 1, args.mb, args.seconds, timeout=20)
        (t,) = hung.trials()
        check(
            "a trial hanging past its timeout (ignoring SIGTERM) ends TIMEOUT",
            t.state is TrialState.TIMEOUT,
            f"{t.state.value}: {t.reason}",
        )
        pids |= {int(p.values["pid"]) for p in hung.metrics(t.number)}
        time.sleep(2.0)  # the driver's bookkeeping of freed memory lags a moment behind the process exit
        left = pids & compute_pids()
        check("no trial process is left on the GPU", not left, f"trial pids {sorted(pids)}, still there {sorted(left)}")
        after = used_mb(gpu.index)
        check(
            "GPU memory is released",
            after <= baseline + args.slack,
            f"used {baseline:.0f} MiB before, {after:.0f} MiB after",
        )
    passed = all(ok for _, ok, _ in checks)
    if args.record:
        lines = [f"| {'pass' if ok else 'FAIL'} | {name} | {detail} |" for name, ok, detail in checks]
        write_section(
            TITLE,
            f"`scripts/gpu-smoke --record`, {when}, GPU {gpu.index}: {gpu.name} "
            f"({gpu.memory_mb} MiB). {'All checks passed.' if passed else 'SOME CHECKS FAILED.'}\n\n"
            "| result | check | detail |\n|---|---|---|\n" + "\n".join(lines),
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
