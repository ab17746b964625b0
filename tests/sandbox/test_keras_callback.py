"""``TunesmithCallback`` with real Keras 3 (PyTorch backend, CPU): a study of a Keras script gets each epoch's
logs as curves, and a stop asked by tunesmith ends the fit after the epoch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.sandbox.helpers import run_stopped, tune_lr_study

os.environ.setdefault("KERAS_BACKEND", "torch")  # keras loads its backend on import: torch is here, TensorFlow not
pytest.importorskip("keras")

SCRIPT = """
import os
os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np
import tunesmith
from tunesmith.keras import TunesmithCallback

keras.utils.set_random_seed(0)
x = np.linspace(-1, 1, 64, dtype="float32").reshape(-1, 1)
y = 3 * x + 0.5
p = tunesmith.params()
model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=p.get("lr", 0.1)), loss="mse")
model.fit(x, y, validation_data=(x, y), epochs=4, batch_size=16, verbose=0, callbacks=[TunesmithCallback()])
"""


def test_a_keras_script_reports_each_epochs_logs(tmp_path: Path) -> None:
    session = tune_lr_study(tmp_path, SCRIPT, "val_loss")
    for t in session.trials():
        curve = session.metrics(t.number)
        assert [pt.step for pt in curve if "val_loss" in pt.values] == [1, 2, 3, 4]  # one report per epoch
        assert all("loss" in pt.values for pt in curve)  # the training loss too
        assert t.value == pytest.approx(curve[-1].values["val_loss"])


def test_a_stop_ends_the_fit_after_the_epoch(tmp_path: Path) -> None:
    run_stopped(tmp_path, SCRIPT)
    lines = [json.loads(x) for x in (tmp_path / "reports.jsonl").read_text().splitlines()]
    assert [ln["step"] for ln in lines] == [1] and "val_loss" in lines[0]  # stopped after epoch 1 of 4
