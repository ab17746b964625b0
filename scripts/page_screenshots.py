"""Screenshots of the web page with a 40-trial study, at a laptop's and a phone's size, for the README.

    .venv/bin/python scripts/page_screenshots.py            # writes docs/page-1400x900.png, docs/page-390x844.png

Builds the study on the in-process fake executor (two workers, a learning curve per trial, some trials
failing, timing out or pruned), serves it with ``tunesmith serve`` and drives Debian's chromium through
Playwright (``/usr/bin/chromium``; never ``playwright install``). The browser tests build the same study
with ``build_study``.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SIZES = ((1400, 900), (390, 844))
STEPS = 8


def demo_trial(params: dict[str, Any]) -> dict[str, float]:
    """A made-up training run: val_acc rises over STEPS epochs, best near lr=3e-3 with adam and dropout 0.2;
    a large lr diverges (failed) and a deep net with a small batch runs out of time (timeout)."""
    from sandbox.fake import FakeTimeout, fake_report, fake_should_stop

    lr, depth, dropout, opt = params["lr"], params["depth"], params["dropout"], params["optimizer"]
    peak = 0.97 - 0.05 * abs(math.log10(lr / 3e-3)) - 0.15 * (dropout - 0.2) ** 2 - (0.02 if opt == "sgd" else 0.0)
    peak -= 0.004 * abs(depth - 4)
    acc = 0.1
    for step in range(STEPS):
        time.sleep(0.01 * depth)
        if fake_should_stop():
            break
        if lr > 0.05 and step == 2:
            raise RuntimeError("loss is NaN at epoch 2: the learning rate diverged")
        if depth >= 7 and params["batch"] == 32 and step == 5:
            raise FakeTimeout()
        acc = peak - (peak - 0.1) * math.exp(-(step + 1) / 2.5)
        fake_report(step=step, val_acc=acc, loss=1 - acc)
    return {"val_acc": acc, "loss": 1 - acc}


def build_study(root: Path, trials: int = 40, name: str = "mlp-demo") -> Path:
    """A finished ``trials``-trial study under ``root`` (its folder is returned), run on the fake executor."""
    from agent.core.spec import load_spec
    from agent.study.folder import default_dir
    from agent.study.session import Session
    from sandbox.fake import InProcessExecutor

    spec = load_spec(
        {
            "name": name,
            "task": "a made-up MLP on a made-up data set (for screenshots)",
            "objective": {"metric": "val_acc", "direction": "maximize"},
            "function": "scripts.page_screenshots:demo_trial",
            "space": {
                "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
                "depth": {"type": "int", "low": 1, "high": 8},
                "dropout": {"type": "float", "low": 0.0, "high": 0.5},
                "batch": {"choices": [32, 64, 128]},
                "optimizer": {"choices": ["adam", "sgd"]},
            },
            "default": {"lr": 1e-3, "depth": 3, "dropout": 0.1, "batch": 64, "optimizer": "adam"},
            "budget": {"max_trials": trials},
            "pruner": {"type": "median", "warmup_steps": 3},
            "strategy": "tpe",
            "seed": 3,
            "workers": 2,
        }
    )
    session = Session.create(spec, default_dir(name, root))
    try:
        session.run(executor=InProcessExecutor(capacity=2), tick=0.02)
    finally:
        session.close()
    return session.dir


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """``tunesmith serve --root ROOT`` on a free port; yields the link with the token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TUNESMITH_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.faces.cli", "serve", "--root", str(root), "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = re.search(r"open: (http://127\.0\.0\.1:\d+/\?token=\S+)", line)
            if m:
                yield m.group(1)
                return
        raise RuntimeError("tunesmith serve printed no link")
    finally:
        proc.terminate()
        proc.wait(60)


def shoot(link: str, study: str, out: Path) -> list[Path]:
    """One screenshot per size of the page showing ``study``; the paths written."""
    from playwright.sync_api import expect, sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for width, height in SIZES:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{link}#study={study}")
            expect(page.locator("#trials tbody tr")).to_have_count(40, timeout=30_000)
            expect(page.locator("#plot svg")).to_be_visible()
            page.wait_for_timeout(300)
            path = out / f"page-{width}x{height}.png"
            page.screenshot(path=str(path))
            written.append(path)
            page.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs (default: docs/)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "studies"
        study = build_study(root)
        with serve(root) as link:
            for path in shoot(link, study.name, args.out):
                print(f"wrote {path}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
