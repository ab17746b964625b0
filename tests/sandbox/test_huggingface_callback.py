"""``TunesmithCallback`` with a real Hugging Face ``Trainer``: a study gets each evaluation's metrics as curves,
and a stop asked by tunesmith ends training at the next step."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agent.core.records import TrialState
from agent.study.session import Session
from tests.conftest import run_cli

pytest.importorskip("transformers")
pytest.importorskip("accelerate")

SCRIPT = """
import torch
import tunesmith
from transformers import Trainer, TrainingArguments
from tunesmith.huggingface import TunesmithCallback

torch.manual_seed(0)


class Data(torch.utils.data.Dataset):
    def __init__(self, n):
        self.x = torch.linspace(-1, 1, n).unsqueeze(1)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "labels": 3 * self.x[i] + 0.5}


class Fit(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)

    def forward(self, x, labels=None):
        out = self.layer(x)
        return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}


args = TrainingArguments(
    output_dir="hf-out", num_train_epochs=3, eval_strategy="epoch", save_strategy="no", report_to=[],
    per_device_train_batch_size=16, learning_rate=tunesmith.params().get("lr", 0.1), use_cpu=True,
    logging_strategy="no", disable_tqdm=True,
)
data = {"train_dataset": Data(64), "eval_dataset": Data(32)}
trainer = Trainer(model=Fit(), args=args, callbacks=[TunesmithCallback()], **data)
trainer.train()
print("global_step", trainer.state.global_step)
"""


def test_a_trainer_script_reports_each_evaluation(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SCRIPT)
    spec = {
        "objective": {"metric": "eval_loss", "direction": "minimize"},
        "command": ["python", "train.py"],
        "space": {"lr": {"type": "float", "low": 0.01, "high": 0.5, "log": True}},
        "budget": {"max_trials": 2, "trial_timeout": "3m"},
        "strategy": "random",
        "seed": 0,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    res = run_cli("tune", str(tmp_path / "spec.yaml"), "--dir", str(tmp_path / "s"), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    session = Session.open(tmp_path / "s", readonly=True)
    trials = session.trials()
    assert len(trials) == 2 and all(t.state is TrialState.COMPLETE for t in trials)
    for t in trials:
        curve = session.metrics(t.number)
        assert [pt.step for pt in curve] == [4, 8, 12]  # 64 samples / 16 per step: an evaluation every 4 steps
        assert set(curve[0].values) == {"eval_loss"}  # not the timings, not the epoch
        assert t.value == pytest.approx(curve[-1].values["eval_loss"])
    assert trials[0].value != trials[1].value  # each trial's lr reached the Trainer


def test_a_stop_ends_training_at_the_next_step(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SCRIPT)
    (tmp_path / "STOP").write_text("")
    (tmp_path / "params.json").write_text(json.dumps({"lr": 0.1}))
    env = {
        "TUNESMITH_STOP_FILE": str(tmp_path / "STOP"),
        "TUNESMITH_REPORT_FILE": str(tmp_path / "reports.jsonl"),
        "TUNESMITH_PARAMS": str(tmp_path / "params.json"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    done = subprocess.run([sys.executable, "train.py"], cwd=tmp_path, env=env, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert "global_step 1\n" in done.stdout.decode()  # of 12
    assert (tmp_path / "STOP.seen").exists()
