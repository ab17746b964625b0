"""``TunesmithCallback`` with real PyTorch Lightning: a study of a Lightning script gets its logged metrics as
curves, and a stop asked by tunesmith ends the fit after the epoch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sandbox.helpers import run_stopped, tune_lr_study

pytest.importorskip("lightning")

SCRIPT = """
import lightning as L
import torch
import tunesmith
from tunesmith.lightning import TunesmithCallback

torch.manual_seed(0)
x = torch.linspace(-1, 1, 64).unsqueeze(1)
y = 3 * x + 0.5


class Fit(L.LightningModule):
    def __init__(self, lr):
        super().__init__()
        self.lr, self.layer = lr, torch.nn.Linear(1, 1)

    def training_step(self, batch, _):
        return torch.nn.functional.mse_loss(self.layer(batch[0]), batch[1])

    def validation_step(self, batch, _):
        self.log("val_loss", torch.nn.functional.mse_loss(self.layer(batch[0]), batch[1]))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
p = tunesmith.params()
trainer = L.Trainer(
    max_epochs=4, callbacks=[TunesmithCallback()], logger=False, enable_checkpointing=False,
    enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
)
trainer.fit(Fit(p.get("lr", 0.1)), data, data)
"""


def test_a_lightning_script_reports_its_logged_metrics_per_epoch(tmp_path: Path) -> None:
    session = tune_lr_study(tmp_path, SCRIPT, "val_loss")
    for t in session.trials():
        curve = session.metrics(t.number)
        assert [pt.step for pt in curve if "val_loss" in pt.values] == [1, 2, 3, 4]  # one report per epoch
        assert t.value == pytest.approx(curve[-1].values["val_loss"])


def test_a_stop_ends_the_fit_after_the_epoch(tmp_path: Path) -> None:
    run_stopped(tmp_path, SCRIPT)
    lines = [json.loads(x) for x in (tmp_path / "reports.jsonl").read_text().splitlines()]
    assert [ln["step"] for ln in lines] == [1] and "val_loss" in lines[0]  # stopped after epoch 1 of 4
