"""``TunesmithCallback`` with a real Hugging Face ``Trainer``: a study gets each evaluation's metrics as curves,
and a stop asked by tunesmith ends training at the next step."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sandbox.helpers import run_stopped, tune_lr_study

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
    session = tune_lr_study(tmp_path, SCRIPT, "eval_loss")
    for t in session.trials():
        curve = session.metrics(t.number)
        assert [pt.step for pt in curve] == [4, 8, 12]  # 64 samples / 16 per step: an evaluation every 4 steps
        assert set(curve[0].values) == {"eval_loss"}  # not the timings, not the epoch
        assert t.value == pytest.approx(curve[-1].values["eval_loss"])


def test_a_stop_ends_training_at_the_next_step(tmp_path: Path) -> None:
    assert "global_step 1\n" in run_stopped(tmp_path, SCRIPT)  # of 12
