"""``TunesmithCallback`` with real PyTorch Lightning: a study of a Lightning script gets its logged metrics as
curves, and a stop asked by tunesmith ends the fit after the epoch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agent.core.records import TrialState
from agent.study.session import Session
from tests.conftest import run_cli

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
    (tmp_path / "train.py").write_text(SCRIPT)
    spec = {
        "objective": {"metric": "val_loss", "direction": "minimize"},
        "command": ["python", "train.py"],
        "space": {"lr": {"type": "float", "low": 0.01, "high": 0.5, "log": True}},
        "budget": {"max_trials": 2, "trial_timeout": "3m"},
        "strategy": "random",
        "seed": 0,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    res = run_cli("tune", str(tmp_path / "spec.yaml"), "--dir", str(tmp_path / "s"), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "warning" not in res.stdout  # the callback counts as reporting to tunesmith
    session = Session.open(tmp_path / "s", readonly=True)
    trials = session.trials()
    assert len(trials) == 2 and all(t.state is TrialState.COMPLETE for t in trials)
    for t in trials:
        curve = session.metrics(t.number)
        assert [pt.step for pt in curve if "val_loss" in pt.values] == [1, 2, 3, 4]  # one report per epoch
        assert t.value == pytest.approx(curve[-1].values["val_loss"])
    assert trials[0].value != trials[1].value  # each trial's lr reached the model


def test_a_stop_ends_the_fit_after_the_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    (tmp_path / "train.py").write_text(SCRIPT)
    (tmp_path / "STOP").write_text("")
    (tmp_path / "params.json").write_text(json.dumps({"lr": 0.1}))
    env = {
        "TUNESMITH_STOP_FILE": str(tmp_path / "STOP"),
        "TUNESMITH_REPORT_FILE": str(tmp_path / "reports.jsonl"),
        "TUNESMITH_PARAMS": str(tmp_path / "params.json"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run([sys.executable, "train.py"], cwd=tmp_path, env=env, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    lines = [json.loads(x) for x in (tmp_path / "reports.jsonl").read_text().splitlines()]
    assert [ln["step"] for ln in lines] == [1] and "val_loss" in lines[0]  # stopped after epoch 1 of 4
    assert (tmp_path / "STOP.seen").exists()  # and tunesmith is told the trial acted on it
