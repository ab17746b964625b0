"""A training where a learning-rate *schedule* matters: SGD on a noisy linear regression (numpy only).

Each epoch takes ``steps`` SGD steps of one sample each on y = x . w* + noise (20 dimensions, noise 1); the
reported ``val_loss`` is the excess risk ||w - w*||^2 (minimize). A large lr learns fast but stalls at a
noise floor proportional to lr; a small one is precise but slow, so a decaying lr beats every fixed one:
over 20 epochs of 100 steps, on the problems of seeds 0, 1, 2, the best of 25 fixed lrs (log grid) reaches
0.0196 / 0.0219 / 0.0283, and lr = 0.03 x 0.8^epoch 0.0116 / 0.0155 / 0.0106.
``pause`` seconds of sleep per epoch stand in for the compute of a real epoch (so a trial lasts long
enough to be paused and continued).

A trial script under tunesmith's contract: params from ``tunesmith.params()`` (lr, epochs, steps, pause), the
problem and the data stream from ``TUNESMITH_SEED``; it checkpoints every epoch and continues from
``tunesmith.restore_from()``, so Population Based Training can change lr mid-training.

    python scripts/schedule_task.py        # outside tunesmith: the default lr, printed reports
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tunesmith

DIM = 20


def main() -> None:
    p = {"lr": 0.01, "epochs": 20, "steps": 100, "pause": 0.0, **tunesmith.params()}
    seed = int(os.environ.get("TUNESMITH_SEED", "0"))
    w_star = np.random.default_rng(seed).normal(size=DIM)  # the problem: the same for every trial of a study
    rng = np.random.default_rng(seed + 1)  # the data stream
    w, start = np.zeros(DIM), 0
    path = tunesmith.restore_from()
    if path is not None:
        with open(path, encoding="utf-8") as fh:
            state = json.load(fh)
        w, start = np.array(state["w"]), int(state["epoch"])
        rng.bit_generator.state = state["rng"]
    lr, epochs = float(p["lr"]), int(p["epochs"])
    for epoch in range(start + 1, epochs + 1):
        for _ in range(int(p["steps"])):
            x = rng.normal(size=DIM)
            y = x @ w_star + rng.normal()
            w -= lr * (x @ w - y) * x
        time.sleep(float(p["pause"]))
        loss = float(np.sum((w - w_star) ** 2))
        if not np.isfinite(loss):
            loss = 1e6  # diverged: a large loss, so PBT replaces it
        with tunesmith.save_checkpoint(epoch) as out, open(out, "w", encoding="utf-8") as fh:
            json.dump({"w": w.tolist(), "epoch": epoch, "rng": rng.bit_generator.state}, fh)
        tunesmith.report(step=epoch, val_loss=loss)
        if loss >= 1e6:
            break
        if epoch < epochs and tunesmith.should_stop():
            break


if __name__ == "__main__":
    main()
