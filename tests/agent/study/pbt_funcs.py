"""Trainings for the Population Based Training tests: tiny, deterministic, checkpointing through the
trial-side helpers (run as function trials in a child process, so the helpers see the contract's variables)."""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

import tunesmith

STEPS = 8


def decaying_lr(params: dict[str, Any]) -> None:
    """A score that grows fastest when lr follows 0.1 * 0.6**step: a schedule beats every fixed lr."""
    step, score = 0, 0.0
    path = tunesmith.restore_from()
    if path is not None:
        with open(path, encoding="utf-8") as fh:
            state = json.load(fh)
        step, score = int(state["step"]), float(state["score"])
    lr = float(params["lr"])
    pause = float(params.get("pause", 0.0))
    for t in range(step + 1, int(params.get("steps", STEPS)) + 1):
        best = 0.1 * 0.6**t
        score += math.exp(-((math.log10(lr) - math.log10(best)) ** 2))
        with tunesmith.save_checkpoint(t) as out, open(out, "w", encoding="utf-8") as fh:
            json.dump({"step": t, "score": score, "lr": lr, "width": params.get("width")}, fh)
        tunesmith.report(step=t, score=score)
        if pause:
            time.sleep(pause)
        if t < int(params.get("steps", STEPS)) and tunesmith.should_stop():  # a stop after the last step is none
            return
    if os.environ.get("TUNESMITH_TRIAL_DIR") is None:
        print(score)


def no_checkpoint(params: dict[str, Any]) -> None:
    """Reports steps but never saves a checkpoint (PBT cannot continue it)."""
    for t in range(1, STEPS + 1):
        tunesmith.report(step=t, score=float(params["lr"]) * t)
        time.sleep(float(params.get("pause", 0.0)))
        if tunesmith.should_stop():
            return
